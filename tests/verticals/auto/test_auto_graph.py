"""The car-spec knowledge graph: size, determinism, schema, and numbers that hang together."""

from __future__ import annotations

import statistics
from collections import defaultdict

import pytest

from knowledge_graphs.auto import build_auto_graph, kw_to_ps
from knowledge_graphs.io import graph_from_json, graph_to_json
from verticals.auto.kg import HELD_OUT_SERIES, auto_graph, auto_index


@pytest.fixture(scope="module")
def trims():
    return [d for _, d in auto_graph().nodes(data=True) if d["kind"] == "trim"]


def test_size_matches_the_brief(trims):
    index = auto_index()
    assert len(index.brands) == 15 + 2 and len(index.series) == 40 + 6  # + the test split's brands and series
    assert 160 <= len(trims) <= 200


def test_deterministic_and_seeded():
    assert graph_to_json(build_auto_graph(0)) == graph_to_json(build_auto_graph(0))
    assert graph_to_json(build_auto_graph(1)) != graph_to_json(build_auto_graph(0))


def test_round_trips_through_json_io():
    g = auto_graph()
    h = graph_from_json(graph_to_json(g))
    assert dict(h.nodes(data=True)) == dict(g.nodes(data=True)) and set(h.edges) == set(g.edges)


def test_edges_link_brand_series_trim():
    g = auto_graph()
    for node, data in g.nodes(data=True):
        if data["kind"] == "trim":
            (parent,) = g.predecessors(node)
            assert parent == data["series"] and g.nodes[parent]["kind"] == "series"
        if data["kind"] == "series":
            assert list(g.predecessors(node)) == [data["brand"]]


def test_names_are_unique_and_well_formed(trims):
    names = [t["full_name"] for t in trims]
    assert len(names) == len(set(names))
    for t in trims:
        assert t["full_name"] == f"{t['year']}款 {t['brand_name']}{t['series_name']} {t['trim_name']}"
    series_names = [s["name"] for s in auto_index().series.values()]
    assert len(series_names) == len(set(series_names))


def test_energy_fields_are_consistent(trims):
    for t in trims:
        assert t["power_ps"] == kw_to_ps(t["power_kw"]) == round(t["power_kw"] * 1.36)
        if t["energy"] == "纯电":
            assert t["displacement"] is None and t["fuel"] is None and t["range_km"] and t["transmission"] == "单速"
        elif t["energy"] == "燃油":
            assert t["displacement"] and t["fuel"] and t["range_km"] is None
        else:
            assert t["displacement"] and t["fuel"] and 40 <= t["range_km"] <= 300


def test_values_are_plausible(trims):
    for t in trims:
        assert 3 <= t["price"] <= (200 if t["brand_name"] in ("瀚宸", "曦穹") else 80) and f"{t['price']:.2f}".endswith("8")
        assert 2.9 <= t["accel"] <= 15 and 40 <= t["power_kw"] <= 450 and t["torque"] > t["power_kw"]
        assert t["wheelbase"] < t["length"] and t["width"] < t["length"] / 2
        assert t["seats"] == 7 if t["body"] == "MPV" else t["seats"] in (5, 6, 7)
        assert t["drive"] in ("前驱", "后驱", "四驱")


def test_acceleration_follows_power_to_weight(trims):
    by_energy = defaultdict(list)
    for t in trims:
        by_energy[t["energy"], t["drive"] == "四驱", t["engine"] == "1.5L"].append(t)
    for group in by_energy.values():
        ranked = sorted(group, key=lambda t: t["weight"] / t["power_kw"])
        assert all(a["accel"] <= b["accel"] for a, b in zip(ranked, ranked[1:]))


def test_price_rises_with_class_and_trim_level(trims):
    means = [statistics.mean(t["price"] for t in trims if t["size_class"] == c) for c in ("A0", "A", "B", "C")]
    assert means == sorted(means)
    groups = defaultdict(list)
    for t in trims:
        groups[t["series"], t["year"], t["energy"]].append(t)
    for group in groups.values():
        ranked = sorted(group, key=lambda t: t["level"])
        assert all(a["price"] < b["price"] for a, b in zip(ranked, ranked[1:]))


def test_held_out_series_span_bodies_and_energies():
    index = auto_index()
    held = [index.series[s] for s in index.held_out]
    assert sorted(s["name"] for s in held) == sorted(HELD_OUT_SERIES)
    assert {s["body"] for s in held} == {"轿车", "SUV", "MPV"}
    assert {e for s in held for e in s["energies"]} == {"燃油", "混动", "纯电"}
