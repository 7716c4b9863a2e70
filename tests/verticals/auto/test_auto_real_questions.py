"""Car questions as people write them: real model names in a portal's naming (``fixtures/real_names.csv``,
imported with `vkit kg import`), aliases and typos (rapidfuzz), needs that set the ranking, models the
graph does not hold (said, never swapped for another); the scope rule; the paraphrase eval set."""

from __future__ import annotations

from pathlib import Path

import pytest

from verticals.auto.names import core_names, match_spans, series_keys, uncovered_models

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def real_graph(tmp_path_factory):
    """The import directory of ``fixtures/real_names.csv`` (东风日产-轩逸, 卡罗拉, Model Y, 秦PLUS DM-i/EV, 朗逸)."""
    from tests.verticals.conftest import vkit

    out = tmp_path_factory.mktemp("real_names") / "kg"
    proc = vkit("kg", "import", "auto", "--source", FIXTURES / "real_names.csv", "--mapping",
                FIXTURES / "real_names.yaml", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture
def on_real_graph(real_graph, monkeypatch, imported_run):
    monkeypatch.setenv("VKIT_AUTO_GRAPH", str(real_graph))
    imported_run.clear_caches("verticals.auto")
    yield
    monkeypatch.undo()
    imported_run.clear_caches("verticals.auto")


# question -> (series named, in order; the trim name when one trim is pinned down)
NAME_CASES = [
    ("轩逸和卡罗拉哪个更省油", (["东风日产-轩逸", "卡罗拉"], None)),
    ("Model Y后驱版多少钱", (["Model Y"], "后轮驱动版")),
    ("秦PLUS DM-i的续航是多少", (["秦PLUS DM-i"], None)),
    ("秦plus ev续航多少", (["秦PLUS EV"], None)),
    ("modly长续航版的零百加速", (["Model Y"], "长续航全轮驱动版")),  # one typo
    ("sylphy油耗多少", (["东风日产-轩逸"], None)),  # an alias of the alias file
    ("特斯拉modely和朗逸比哪个贵", (["Model Y", "朗逸"], None)),
]


@pytest.mark.parametrize("text, expected", NAME_CASES)
def test_real_model_names_resolve_to_the_graph(on_real_graph, text, expected):
    from verticals.auto.kg import auto_index
    from verticals.auto.query import parse_query

    index, query = auto_index(), parse_query(text)
    assert [index.series[m.series]["name"] for m in query.mentions] == expected[0]
    if expected[1]:
        assert [index.trims[t]["trim_name"] for t in query.mentions[0].trims] == [expected[1]]
    assert query.unknown == ()


def test_a_model_the_imported_graph_lacks_is_said(on_real_graph):
    from verticals.auto.retriever import build_truth, retrieve

    truth = build_truth("凯美瑞和轩逸哪个贵")
    assert truth["not_in_graph"] == ["凯美瑞"] and {c["series"] for c in truth["candidates"]} == {"东风日产-轩逸"}
    assert "未覆盖：图谱中没有凯美瑞的数据" in retrieve("凯美瑞和轩逸哪个贵")


def test_a_need_sets_the_ranking(on_real_graph):
    from verticals.auto.retriever import build_truth

    truth = build_truth("预算十二万，想买个省油的轿车")
    assert truth["metric"] == "油耗" and truth["budget"] == 12
    fuel = [c["params"]["油耗"] for c in truth["candidates"] if c["tag"] == "符合"]
    assert fuel == sorted(fuel)


@pytest.mark.parametrize("text, metric", [
    ("预算15万，想买个省油的轿车", "油耗"), ("预算20万，想要空间大的SUV", "轴距"), ("预算20万，纯电，续航长一点", "续航"),
    ("预算25万，加速快的车", "0-100"), ("预算20万，纯电SUV，通勤为主", "续航"), ("预算15万，纯电，省油", "续航"),
])
def test_needs_map_to_the_attribute_they_mean(text, metric):
    from verticals.auto.retriever import build_truth

    assert build_truth(text)["metric"] == metric


@pytest.mark.parametrize("text, message", [
    ("轩逸和卡罗拉哪个更省油", "图谱中没有轩逸、卡罗拉的数据"),
    ("Model Y后驱版多少钱", "图谱中没有Model Y的数据"),
    ("这车怎么样", "没有识别到车型，也没有识别到预算"),
])
def test_on_the_generated_graph_real_models_are_said_to_be_missing(text, message):
    from verticals.auto.retriever import retrieve

    assert retrieve(text).startswith("无法检索：") and message in retrieve(text)


def test_name_helpers():
    assert core_names("东风日产-轩逸", "日产") == ["东风日产", "轩逸"]
    assert core_names("秦PLUS DM-i", "比亚迪") == ["秦plus"]
    keys = series_keys({"a": {"name": "秦PLUS DM-i", "brand_name": "比亚迪"}, "b": {"name": "秦PLUS EV", "brand_name": "比亚迪"}})
    assert "秦plus" not in keys  # shared by two series: names neither
    assert match_spans("madely", {"modely": "s"}, [False] * 6) == [(0, 6, "s")]  # one substitution
    assert match_spans("abcd", {"wxyz": "s"}, [False] * 4) == []
    assert uncovered_models("卡罗拉", {}) == ["卡罗拉"]


def test_scope_rule_cases():
    from verticals.auto.demo import COMPARE_ANSWER, COMPARE_EXAMPLE, RECOMMEND_ANSWER, RECOMMEND_EXAMPLE
    from verticals.auto.rules import RULES
    from verticals.auto.scope import stays_on_asked_cars

    corolla = {"truth": {**COMPARE_EXAMPLE["truth"], "not_in_graph": ["卡罗拉"]}}
    cases = [
        (COMPARE_ANSWER, COMPARE_EXAMPLE, True),
        (RECOMMEND_ANSWER, RECOMMEND_EXAMPLE, True),
        (COMPARE_ANSWER.replace('"车型":[1,2]', '"车型":[1,3]'), COMPARE_EXAMPLE, False),
        (COMPARE_ANSWER + "不过卡罗拉更省油。", COMPARE_EXAMPLE, False),
        (COMPARE_ANSWER + "卡罗拉不在图谱中，无法比较。", COMPARE_EXAMPLE, True),
        (COMPARE_ANSWER, corolla, False),
        (COMPARE_ANSWER + "图谱中没有卡罗拉的数据，无法评价。", corolla, True),
    ]
    for answer, example, passes in cases:
        assert stays_on_asked_cars(answer, example).passed is passes, answer
    assert next(r for r in RULES if r.name == "stays_on_asked_cars").held_out


def test_paraphrase_set_is_about_the_held_out_series():
    from verticals.auto.kg import auto_index
    from verticals.auto.paraphrase import load_paraphrase_set
    from verticals.auto.retriever import build_truth

    index, examples = auto_index(), load_paraphrase_set()
    assert len(examples) >= 30
    assert len({ex["id"] for ex in examples}) == len(examples)
    assert {ex["truth"]["type"] for ex in examples} == {"spec", "compare", "recommend"}
    for ex in examples:
        truth = ex["truth"]
        assert {k: v for k, v in truth.items() if k != "expert"} == build_truth(ex["messages"][0]["content"])
        if truth["type"] == "recommend":
            picks = [c for c in truth["candidates"] if c["id"] in truth["recommend"]]
            assert any(index.is_held_out(c["trim"]) for c in picks), ex["id"]
        else:
            assert all(index.is_held_out(c["trim"]) for c in truth["candidates"]), ex["id"]
