"""The real-estate knowledge graph: deterministic, the promised size, and internally consistent."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge_graphs.io import graph_from_json, graph_to_json
from knowledge_graphs.realestate import PRICE_SPREAD, build_realestate_graph
from verticals.realestate.kg import realestate_graph, realestate_index


@pytest.fixture(scope="module")
def graph():
    return realestate_graph()


def nodes(graph, kind):
    return {n: d for n, d in graph.nodes(data=True) if d["kind"] == kind}


def test_same_seed_same_graph_other_seed_other_prices():
    assert graph_to_json(build_realestate_graph(0)) == graph_to_json(build_realestate_graph(0))
    assert graph_to_json(build_realestate_graph(1)) != graph_to_json(build_realestate_graph(0))


def test_sizes(graph):
    kinds = Counter(d["kind"] for _, d in graph.nodes(data=True))
    assert kinds["city"] == 3 and kinds["xiaoqu"] == 40 and kinds["listing"] == 200
    assert kinds["school"] == 2 * 40 and kinds["station"] == 16  # every 小区 its own 小学 and 初中 campus
    assert sum("campus_of" not in d for d in nodes(graph, "school").values()) == 22


def test_json_round_trip_keeps_everything(graph):
    again = graph_from_json(graph_to_json(graph))
    assert dict(again.nodes(data=True)) == dict(graph.nodes(data=True))
    assert sorted(again.edges(data="kind")) == sorted(graph.edges(data="kind"))


def test_listing_price_is_area_times_xiaoqu_average(graph):
    for node, listing in nodes(graph, "listing").items():
        xiaoqu = graph.nodes[f"xiaoqu:{listing['xiaoqu']}"]
        unit = listing["total_price"] * 10000 / listing["area"]
        assert abs(unit / xiaoqu["avg_price"] - 1) <= PRICE_SPREAD + 0.01, node  # + rounding to 万
        assert graph.has_edge(f"xiaoqu:{listing['xiaoqu']}", node)
        assert 1 <= listing["floor"] <= listing["total_floors"]


def test_every_xiaoqu_has_one_primary_and_one_middle_school_of_its_city(graph):
    for node, xiaoqu in nodes(graph, "xiaoqu").items():
        schools = [graph.nodes[s] for s, _, kind in graph.in_edges(node, data="kind") if kind == "covers"]
        assert sorted(s["level"] for s in schools) == ["初中", "小学"], node
        assert all(s["city"] == xiaoqu["city"] for s in schools)
        assert 1 <= xiaoqu["green_ratio"] <= 100 and 1990 <= xiaoqu["year_built"] <= 2025


def test_primary_schools_cover_their_own_district_only(graph):
    for node, school in nodes(graph, "school").items():
        covered = [graph.nodes[x] for x in graph.successors(node)]
        assert covered, node
        if school["level"] == "小学":
            assert len({x["district"] for x in covered}) == 1, node


def test_exam_ranks_are_a_permutation_with_key_schools_first(graph):
    index = realestate_index()
    for city in index.cities:
        for level in ("小学", "初中"):
            schools = [s for s in index.schools.values() if s["city"] == city and s["level"] == level
                       and "campus_of" not in s]
            assert sorted(s["exam_rank"] for s in schools) == list(range(1, len(schools) + 1))
            by_rank = sorted(schools, key=lambda s: s["exam_rank"])
            keys = [s["key"] for s in by_rank]
            assert keys == sorted(keys, key=lambda k: k != "重点"), (city, level)


def test_each_campus_covers_one_xiaoqu_and_shares_its_schools_rank_and_offerings(graph):
    schools = nodes(graph, "school")
    by_code = {s["code"]: s for s in schools.values()}
    assert all(len(list(graph.successors(node))) == 1 for node in schools)
    campuses = [s for s in schools.values() if "campus_of" in s]
    assert len({s["code"] for s in schools.values()}) == len(schools) and len(campuses) == 80 - 22
    for campus in campuses:
        main = by_code[campus["campus_of"]]
        assert campus["name"].startswith(main["name"]) and campus["name"].endswith("校区")
        assert {k: campus[k] for k in ("city", "level", "key", "exam_rank", "activities")} == \
            {k: main[k] for k in ("city", "level", "key", "exam_rank", "activities")}


def test_metro_walks_and_lines_are_consistent(graph):
    for source, target, data in graph.edges(data=True):
        if data["kind"] == "near":
            assert 1 <= data["walk_minutes"] <= 30
            assert graph.nodes[source]["city"] == graph.nodes[target]["city"]
        if data["kind"] == "next_stop":
            assert data["line"] in graph.nodes[source]["lines"] and data["line"] in graph.nodes[target]["lines"]
    for node, station in nodes(graph, "station").items():
        assert station["transfer"] == (len(station["lines"]) > 1)
    assert all(realestate_index().near[x] for x in realestate_index().xiaoqu)


def test_pools_split_by_city(graph):
    pools = {x["city"]: x["pool"] for x in nodes(graph, "xiaoqu").values()}
    assert pools == {"杭州": "train", "苏州": "eval", "南京": "test"}
