"""gaokao on an imported graph with gaps (``VKIT_GAOKAO_GRAPH``): the messy tables in ``fixtures/gaps``.

The fixture is a 2026 一分一段 (广东, 湖北 held out) and 投档线 of 2022-2025 in which some 专业组 lack
a year, one has only 2022 (outside the three-year window), and plan cells are blank, ``-``, ``暂无``
or ``12人``. The vertical must take its exam years from the graph (2026, never in the generator),
skip missing years and say so in the facts, and write a missing plan as 未公布.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core_training.contract import DataError
from knowledge_graphs.importers import import_tables
from knowledge_graphs.io import save_graph
from verticals.graph_source import clear_caches

FIXTURES = Path(__file__).parent / "fixtures" / "gaps"
MAPPINGS = Path(__file__).resolve().parents[3] / "knowledge_graphs" / "mappings"
TABLES = [(FIXTURES / "universities.csv", MAPPINGS / "gaokao_universities.yaml"),
          (FIXTURES / "score_table.csv", FIXTURES / "score_table.yaml"),
          (FIXTURES / "admissions.csv", FIXTURES / "admissions.yaml")]
SMALL_SIZES = {"sft": 40, "rl": 8, "pref": 8, "eval": 8}


@pytest.fixture(scope="module")
def imported_dir(tmp_path_factory):
    graph, reports = import_tables("gaokao", TABLES)
    assert [sum(r.dropped.values()) for r in reports] == [0, 1, 1]  # the planted exact duplicates
    out = tmp_path_factory.mktemp("kg-gaokao-gaps")
    save_graph(graph, out / "graph.json")
    return out


@pytest.fixture
def on_imported(imported_dir, monkeypatch):
    """The vertical reads the imported graph through ``VKIT_GAOKAO_GRAPH`` (small dataset sizes)."""
    from verticals.gaokao import data

    monkeypatch.setenv("VKIT_GAOKAO_GRAPH", str(imported_dir))
    for split, size in SMALL_SIZES.items():
        monkeypatch.setitem(data.SIZES, split, size)
    clear_caches("verticals.gaokao")
    yield imported_dir
    monkeypatch.undo()
    clear_caches("verticals.gaokao")


def test_exam_years_come_from_the_graph(on_imported):
    from verticals.gaokao.kg import gaokao_index
    from verticals.gaokao.profile import ProfileError, parse_profile
    from verticals.gaokao.retriever import retrieve

    assert gaokao_index().exam_years == (2026,)  # the 2026 table and admissions of 2023-2025
    assert parse_profile("广东考生，物理类640分，物化生").year == 2026  # no year written: the latest
    with pytest.raises(ProfileError, match="暂只支持2026年"):
        parse_profile("广东2025年物理类640分，物化生")
    assert "暂只支持2026年" in retrieve("广东2025年物理类640分，物化生")


def test_missing_years_are_skipped_and_said_so_in_the_facts(on_imported):
    from verticals.gaokao.kg import gaokao_index
    from verticals.gaokao.retriever import build_truth, retrieve

    question = "广东考生，2026年物理类，590分，选了物生政，想学机械"
    facts = retrieve(question)  # raised KeyError before: 珠江师范大学 has no 2024 record
    lines = facts.splitlines()
    assert lines[1] == "候选（2023-2025最低位次均值）："
    gap_line = next(line for line in lines if "珠江师范大学" in line)
    assert gap_line.endswith("缺2024年")
    assert "另有1个专业组2023-2025无录取记录，未列入候选。" in lines  # 潮汐职业大学: only 2022
    candidate = next(c for c in build_truth(question)["candidates"] if c["university"] == "珠江师范大学")
    records = gaokao_index().records
    ranks = [records[(candidate["group_id"], "广东", "物理类", year)]["min_rank"] for year in (2023, 2025)]
    assert candidate["missing_years"] == [2024] and candidate["ranks"] == ranks
    assert candidate["avg_rank"] == round(sum(ranks) / 2)  # the mean of the years it has
    assert f"均{candidate['avg_rank']}" in gap_line
    complete = [c for c in build_truth(question)["candidates"] if c["university"] == "海岱财经大学"]
    assert complete and all("missing_years" not in c and len(c["ranks"]) == 3 for c in complete)


def test_corpus_writes_a_missing_plan_as_unpublished(on_imported):
    from verticals.gaokao.corpus import load_cpt_corpus

    corpus = load_cpt_corpus()
    texts = corpus["train"] + corpus["eval"]
    assert not [t for t in texts if "None" in t]
    assert any("招生计划未公布" in t for t in texts) and any("计划招生" in t for t in texts)
    tier_texts = [t for t in texts if "属于" in t]
    assert tier_texts and all("2026" in t for t in tier_texts)  # the graph's exam year, not a fixed 2025
    assert any("（缺2024年）" in t for t in tier_texts)
    assert any(t.startswith("广东2026年物理类一分一段：") for t in texts)  # a table of 10-point rows


def test_datasets_build_from_the_gappy_graph(on_imported):
    from core_training.pipeline import data_fingerprint
    from core_training.rewards import all_passed, check
    from verticals.gaokao import VERTICAL

    datasets = {name: getattr(VERTICAL, f"load_{name}")() for name in ("chains", "rl_prompts", "eval_set", "preferences")}
    assert {name: len(rows) for name, rows in datasets.items()} == {
        "chains": 40, "rl_prompts": 8, "eval_set": 8, "preferences": 8}
    assert all(all_passed(check(VERTICAL, ex["answer"], ex)) for ex in datasets["eval_set"] + datasets["chains"])
    assert all(ex["truth"]["province"] == "湖北" and ex["truth"]["year"] == 2026 for ex in datasets["eval_set"])
    assert any(c.get("missing_years") for ex in datasets["chains"] for c in ex["truth"]["candidates"])
    assert len(data_fingerprint(VERTICAL, None)) == 64


def test_a_graph_too_small_for_the_sizes_names_what_is_missing(on_imported, monkeypatch):
    from verticals.gaokao import data

    monkeypatch.setattr(data, "DRAWS_PER_QUESTION", 1)
    with pytest.raises(DataError, match=r"usable sft questions after 40 draws from 广东.*专业组 recruiting per "
                                        r"province and 科类: \{'广东 物理类': 13\}"):
        data.load_chains()


def test_a_graph_without_an_eval_province_holds_out_universities_or_says_why_not(tmp_path, monkeypatch):
    from verticals.gaokao import data

    monkeypatch.setattr(data, "DRAWS_PER_QUESTION", 1)
    graph, _ = import_tables("gaokao", TABLES)
    for _, node in graph.nodes(data=True):
        if node["kind"] == "province":
            node["pool"] = "train"
    save_graph(graph, tmp_path / "graph.json")
    monkeypatch.setenv("VKIT_GAOKAO_GRAPH", str(tmp_path / "graph.json"))
    clear_caches("verticals.gaokao")
    try:
        with pytest.raises(DataError, match="usable sft questions.*Held out by university.*options.eval_provinces"):
            data.load_eval_set()
    finally:
        monkeypatch.delenv("VKIT_GAOKAO_GRAPH")
        clear_caches("verticals.gaokao")


def test_env_var_naming_nothing_or_another_vertical_is_a_clear_error(tmp_path, monkeypatch, imported_dir):
    from verticals.gaokao import kg

    monkeypatch.setenv("VKIT_GAOKAO_GRAPH", str(tmp_path / "nowhere"))
    clear_caches("verticals.gaokao")
    try:
        with pytest.raises(DataError, match="VKIT_GAOKAO_GRAPH=.*nowhere: no graph there"):
            kg.gaokao_graph()
        monkeypatch.setenv("VKIT_AUTO_GRAPH", str(imported_dir))
        from verticals.graph_source import graph_from_env

        with pytest.raises(DataError, match="the graph there is for 'gaokao', not 'auto'"):
            graph_from_env("VKIT_AUTO_GRAPH", "auto")
    finally:
        monkeypatch.undo()
        clear_caches("verticals.gaokao")
