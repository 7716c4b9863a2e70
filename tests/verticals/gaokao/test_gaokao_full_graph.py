"""The full-size gaokao graph: `vkit kg generate gaokao --size full` writes it where an import would, it loads
through ``VKIT_GAOKAO_GRAPH``, it has the shape of a real one, and the retriever's history index answers
exactly as a plain scan of every group does. Not timed: bench/bench_retrieval.py measures."""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest

from knowledge_graphs.cli import main as kg_main


@pytest.fixture(scope="module")
def full_graph_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("kg-full")
    assert kg_main(["generate", "gaokao", "--size", "full", "--out", str(out)]) == 0
    return out


@pytest.fixture
def kg(full_graph_dir, monkeypatch, imported_run):
    """``verticals.gaokao.kg`` on the full graph, loaded as an imported one (caches cleared before and after)."""
    from verticals.gaokao import kg

    monkeypatch.setenv(kg.GRAPH_ENV, str(full_graph_dir))
    imported_run.clear_caches("verticals.gaokao")
    yield kg
    monkeypatch.delenv(kg.GRAPH_ENV)
    imported_run.clear_caches("verticals.gaokao")


def test_the_full_graph_has_the_shape_of_a_real_one(kg):
    g = kg.gaokao_graph()
    assert g.graph["size"] == "full"
    kinds = Counter(d["kind"] for _, d in g.nodes(data=True))
    assert kinds["province"] == 31 and kinds["university"] >= 2_800 and kinds["year"] == 5
    assert kinds["major_group"] >= 2 * kinds["university"]
    admissions = [(u, v, d) for u, v, d in g.edges(data=True) if d["kind"] == "admission"]
    assert {d["year"] for _, _, d in admissions} == {2021, 2022, 2023, 2024, 2025}
    recruiting = defaultdict(set)  # university -> provinces it recruits in
    for group, province, _ in admissions:
        recruiting[g.nodes[group]["university"]].add(g.nodes[province]["name"])
    assert len(recruiting) == kinds["university"]  # every university admits somewhere
    assert {g.nodes[p]["name"] for _, p, _ in admissions} == {d["name"] for _, d in g.nodes(data=True)
                                                              if d["kind"] == "province"}
    pools = {d["pool"]: d["name"] for _, d in g.nodes(data=True) if d["kind"] == "province" and d["pool"] != "train"}
    for university, provinces in recruiting.items():  # evaluation held out by province and university
        pool = g.nodes[university]["pool"]
        assert provinces == {pools[pool]} if pool in pools else not provinces & set(pools.values())
    index = kg.gaokao_index()
    assert index.exam_years == (2024, 2025) and len(index.provinces) == 31


def _questions(index, count: int, seed: int = 0) -> list[str]:
    """Student questions over every province, 科类 and exam year, with scores across the table."""
    rng, subjects = random.Random(seed), {"历史类": "历史、政治、地理"}
    questions = []
    for _ in range(count):
        province = rng.choice(sorted(index.provinces))
        track = rng.choice(index.provinces[province]["tracks"])
        year = rng.choice(index.exam_years)
        wish = rng.choice(("想学计算机", "想学医学", "想去武汉", ""))
        questions.append(f"我是{province}考生，{year}年{track}，考了{rng.randint(430, 680)}分，"
                         f"选科{subjects.get(track, rng.choice(('物理、化学、生物', '物理、政治、地理')))}，{wish}")
    return questions


def test_indexed_retrieval_equals_the_plain_scan(kg, monkeypatch):
    from verticals.gaokao import retriever

    def plain_scan(profile, rank):  # every group of the province and 科类, no index
        return [row for row in retriever.all_groups(profile, rank) if retriever._margin_in_window(row["margin"])]

    questions = _questions(kg.gaokao_index(), 80)
    indexed = [(retriever.retrieve(q), retriever.build_truth(q)) for q in questions]
    monkeypatch.setattr(retriever, "selectable_rows", plain_scan)
    scanned = [(retriever.retrieve(q), retriever.build_truth(q)) for q in questions]
    assert indexed == scanned
    assert sum(len(truth["candidates"]) >= 3 for _, truth in indexed) > 60  # real lists, not empty ones
