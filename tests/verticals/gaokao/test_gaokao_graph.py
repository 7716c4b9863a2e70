"""Consistency of the generated gaokao knowledge graph: tables, admissions, pools, I/O."""

from __future__ import annotations

import pytest

from knowledge_graphs.gaokao import DATA_YEARS, build_gaokao_graph, load_graph, rank_to_score, save_graph, score_to_rank
from knowledge_graphs.io import graph_to_json
from verticals.gaokao.kg import gaokao_graph, gaokao_index


@pytest.fixture(scope="module")
def graph():
    return gaokao_graph()


def nodes(graph, kind):
    return [data for _, data in graph.nodes(data=True) if data["kind"] == kind]


def admissions(graph):
    return [(g, p, d) for g, p, d in graph.edges(data=True) if d["kind"] == "admission"]


def test_same_seed_same_graph_and_other_seed_differs():
    assert graph_to_json(build_gaokao_graph(0)) == graph_to_json(build_gaokao_graph(0))
    assert graph_to_json(build_gaokao_graph(0)) != graph_to_json(build_gaokao_graph(1))


def test_sizes_are_in_the_planned_range(graph):
    assert sorted(d["pool"] for d in nodes(graph, "province")) == ["eval", "test", "train", "train", "train"]
    assert 90 <= len(nodes(graph, "university")) <= 120
    assert sorted(d["year"] for d in nodes(graph, "year")) == list(DATA_YEARS)
    assert {d["mode"] for d in nodes(graph, "province")} == {"3+1+2", "3+3"}


def test_university_names_are_unique_and_flags_nest(graph):
    universities = nodes(graph, "university")
    assert len({u["name"] for u in universities}) == len(universities)
    for u in universities:
        assert not u["is_985"] or u["is_211"]
        assert not u["is_211"] or u["is_double_first_class"]
        assert u["ownership"] in ("公办", "民办")


def test_higher_score_means_smaller_rank(graph):
    for table in nodes(graph, "score_table"):
        ranks = table["ranks"]
        assert ranks[0] >= 1
        assert all(a < b for a, b in zip(ranks, ranks[1:])), table["province"]
        assert 50_000 < ranks[-1] < 800_000  # realistic examinee counts


@pytest.mark.parametrize("score", [680, 600, 450, 200])
def test_score_and_rank_convert_back(graph, score):
    table = graph.nodes["score_table:广东:2025:物理类"]
    assert rank_to_score(table, score_to_rank(table, score)) == score


def test_score_outside_the_table_is_an_error(graph):
    table = graph.nodes["score_table:广东:2025:物理类"]
    with pytest.raises(ValueError):
        score_to_rank(table, table["max_score"] + 1)


def test_control_lines_are_ordered(graph):
    index = gaokao_index()
    for (province, year, track) in index.tables:
        lines = [index.batch_lines[(province, year, track, b)] for b in ("特殊类型招生控制线", "本科批", "专科批")]
        assert lines == sorted(lines, reverse=True)


def test_admission_ranks_come_from_the_score_tables(graph):
    edges = admissions(graph)
    assert len(edges) > 1500
    for _, province_id, record in edges:
        table = graph.nodes[f"score_table:{graph.nodes[province_id]['name']}:{record['year']}:{record['track']}"]
        assert record["min_rank"] == score_to_rank(table, record["min_score"])
        assert record["plan"] >= 2


def test_every_offered_group_has_every_year(graph):
    index = gaokao_index()
    for (province, track), group_ids in index.offers.items():
        for group_id in group_ids:
            assert all((group_id, province, track, year) in index.records for year in DATA_YEARS)


def test_tracks_follow_subject_requirements(graph):
    for group_id, province_id, record in admissions(graph):
        subjects, mode = graph.nodes[group_id]["subjects"], graph.nodes[province_id]["mode"]
        if mode == "3+1+2" and "物理" in subjects:
            assert record["track"] == "物理类"
        if mode == "3+1+2" and "历史" in subjects:
            assert record["track"] == "历史类"
        if mode == "3+3":
            assert record["track"] == "综合"


def test_universities_recruit_only_in_their_pool(graph):
    for group_id, province_id, _ in admissions(graph):
        university = graph.nodes[graph.nodes[group_id]["university"]]
        assert university["pool"] == graph.nodes[province_id]["pool"]


def test_some_groups_swing_between_years(graph):
    swings = [g for g in nodes(graph, "major_group") if g["volatility"] > 0]
    assert 0.05 < len(swings) / len(nodes(graph, "major_group")) < 0.3


def test_save_and_load_round_trip(graph, tmp_path):
    path = save_graph(graph, tmp_path / "gaokao.json")
    loaded = load_graph(path)
    assert loaded.is_multigraph() and loaded.is_directed()
    assert graph_to_json(loaded) == graph_to_json(graph)


def test_an_imported_graph_replaces_the_generated_one(tmp_path, monkeypatch):
    """`VKIT_GAOKAO_GRAPH=DIR` (a `vkit kg import` output) is the graph the vertical trains on."""
    from knowledge_graphs.io import save_graph
    from verticals.gaokao import kg

    generated = kg.gaokao_graph()
    save_graph(generated, tmp_path / "graph.json")
    monkeypatch.setenv(kg.GRAPH_ENV, str(tmp_path))
    kg.gaokao_graph.cache_clear()
    try:
        imported = kg.gaokao_graph()
        assert imported is not generated
        assert imported.number_of_nodes() == generated.number_of_nodes()
    finally:
        monkeypatch.delenv(kg.GRAPH_ENV)
        kg.gaokao_graph.cache_clear()
