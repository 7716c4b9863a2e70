"""The retriever on free text typed in an app: names, typos, short forms, budgets; and the fact lines."""

from __future__ import annotations

import json

import pytest

from verticals.auto.kg import auto_index
from verticals.auto.query import QueryError, parse_budget, parse_query
from verticals.auto.retriever import build_truth, retrieve


def names(query):
    index = auto_index()
    return [[index.trims[t]["full_name"] for t in m.trims] for m in query.mentions]


# (text, kind, trims named per mention (first trim of each), items)
SPEC_AND_COMPARE = [
    ("2024款 星驰逐风 1.5T 舒适型的最大功率是多少？", "spec", ["2024款 星驰逐风 1.5T 舒适型"], ("最大功率",)),
    ("星驰逐风2024款1.5t舒适型 功率多少", "spec", ["2024款 星驰逐风 1.5T 舒适型"], ("最大功率",)),
    ("２４款　星驰逐风　１．５Ｔ　舒适型，扭矩？", "spec", ["2024款 星驰逐风 1.5T 舒适型"], ("最大扭矩",)),  # full-width
    ("星驰逐凤 PHEV豪华版 油耗多少", "spec", ["2024款 星驰逐风 PHEV 豪华型"], ("油耗",)),  # typo + short form
    ("逐风1.5T舒适形的百公里加速", "spec", ["2024款 星驰逐风 1.5T 舒适型"], ("0-100",)),  # typo in the trim
    ("23款逐风1.5T精英型多重", "spec", ["2023款 星驰逐风 1.5T 精英型"], ("整备质量",)),
    ("北斗长续航的续航和价格", "spec", ["2025款 北辰北斗 EV 长续航版"], ("续航", "指导价")),
    ("赤焰 四驱性能版 是四驱吗", "spec", ["2024款 曜石赤焰 EV 四驱性能版"], ("驱动",)),
    ("24款逐风1.5T舒适型和2024款松韵1.5T舒适型哪个加速更快？", "compare",
     ["2024款 星驰逐风 1.5T 舒适型", "2024款 松原松韵 1.5T 舒适型"], ("0-100",)),
    ("青霄Max vs 潮汐Max，谁更贵、谁更重", "compare", ["2024款 云岚青霄 Max", "2025款 极岸潮汐 Max"],
     ("指导价", "整备质量")),
]


@pytest.mark.parametrize(("text", "kind", "first_trims", "items"), SPEC_AND_COMPARE,
                         ids=[c[0] for c in SPEC_AND_COMPARE])
def test_reads_cars_and_items_from_free_text(text, kind, first_trims, items):
    query = parse_query(text)
    assert query.kind == kind
    assert [n[0] for n in names(query)] == first_trims
    assert query.items == items


def test_series_only_lists_every_trim_of_the_newest_year():
    query = parse_query("逐风多少马力")
    assert query.hp and len(query.mentions[0].trims) == 3
    assert {auto_index().trims[t]["year"] for t in query.mentions[0].trims} == {2024}


def test_comparison_directions():
    assert parse_query("逐风PHEV和松韵PHEV哪个更贵").directions == (("指导价", "higher"),)
    assert parse_query("逐风PHEV和松韵PHEV哪个更便宜，哪个动力更强").directions == (
        ("指导价", "lower"), ("最大功率", "higher"))
    assert parse_query("逐风PHEV和松韵PHEV比一比").directions == (("指导价", "lower"), ("最大功率", "higher"))


@pytest.mark.parametrize(("text", "budget"), [
    ("预算20万", 20.0), ("15-20万的车", 20.0), ("二十五万以内", 25.0), ("预算18", 18.0), ("30w左右", 30.0),
    ("12.5万，家用", 12.5), ("开了3万公里的车", None), ("十万", 10.0),
])
def test_budget(text, budget):
    assert parse_budget(text) == budget


@pytest.mark.parametrize(("text", "energy", "body", "use"), [
    ("预算 20 万，想买纯电 SUV，通勤为主，推荐哪款？", "纯电", "SUV", "通勤"),
    ("15万左右的插混轿车，一家人出行", "混动", "轿车", "家用"),
    ("预算30万 新能源MPV 经常自驾", "新能源", "MPV", "长途"),
    ("12万的燃油车，追求驾驶乐趣", "燃油", None, "性能"),
    ("预算25万推荐一台车", None, None, None),
])
def test_recommendation_needs(text, energy, body, use):
    query = parse_query(text)
    assert (query.kind, query.energy, query.body, query.use) == ("recommend", energy, body, use)


def test_unusable_text_explains_itself():
    with pytest.raises(QueryError):
        parse_query("你好，在吗？")
    assert retrieve("你好，在吗？").startswith("无法检索：")
    assert retrieve("预算999万买车").startswith("无法检索：预算999万不在2-300万之间")


def test_spec_facts_list_the_asked_parameters_then_price():
    facts = retrieve("2024款 星驰逐风 1.5T 舒适型的油耗和最大功率是多少？").splitlines()
    assert facts[0] == "问：参数查询 油耗、最大功率"
    line = facts[1]
    assert line.startswith("[1] 2024款 星驰逐风 1.5T 舒适型 燃油轿车 油耗")
    assert line.index("油耗") < line.index("最大功率") < line.index("kW") < line.index("指导价")
    for unasked in ("最大扭矩", "0-100", "长宽高", "轴距", "整备质量", "座位", "驱动", "马力"):
        assert unasked not in line


def test_power_is_shown_in_the_unit_the_question_asked_in():
    kw_line = retrieve("2024款 星驰逐风 1.5T 舒适型的功率是多少？").splitlines()[1]
    hp_line = retrieve("2024款 星驰逐风 1.5T 舒适型有多少马力？").splitlines()[1]
    kw = int(kw_line.split("最大功率")[1].split("kW")[0])
    assert f"最大功率{kw}kW" in kw_line and "马力" not in kw_line
    assert f"最大功率{round(kw * 1.36)}马力" in hp_line and "kW" not in hp_line


def test_compare_facts_give_the_winner_and_gap():
    truth = build_truth("24款逐风1.5T舒适型和2024款松韵1.5T舒适型哪个加速更快？")
    (row,) = truth["comparisons"]
    a, b = (c["params"]["0-100"] for c in truth["candidates"])
    assert row["winner"] == (1 if a < b else 2) and row["gap"] == pytest.approx(abs(a - b))
    last = retrieve("24款逐风1.5T舒适型和2024款松韵1.5T舒适型哪个加速更快？").splitlines()[-1]
    assert last.startswith("比较0-100：[1]") and f"[{row['winner']}]加速更快" in last


def test_year_that_does_not_exist_is_noted():
    facts = retrieve("2025款星驰逐风 1.5T 舒适型的价格")
    assert "注：星驰逐风没有2025款，以下为2024款。" in facts


def test_recommendation_lists_fits_then_traps_each_ranked_by_the_use_case():
    truth = build_truth("预算 20 万，想买纯电 SUV，通勤为主，推荐哪款？")
    tags = [c["tag"] for c in truth["candidates"]]
    assert truth["metric"] == "续航" and {"符合", "超预算", "不符能源"} <= set(tags)
    fitting = [c for c in truth["candidates"] if c["tag"] == "符合"]
    assert tags == sorted(tags, key=lambda tag: tag != "符合")  # fits first, then the misses
    for group in (fitting, [c for c in truth["candidates"] if c["tag"] != "符合"]):
        ranges = [c["params"]["续航"] for c in group]
        assert ranges == sorted(ranges, reverse=True)
    assert truth["recommend"] == [c["id"] for c in fitting][:2] == [1, 2]
    for c in truth["candidates"]:
        assert c["body"] == "SUV"
        assert (c["tag"] == "超预算") == (c["params"]["指导价"] > 20)
        assert (c["tag"] == "不符能源") == (c["energy"] != "纯电")
    lines = retrieve("预算 20 万，想买纯电 SUV，通勤为主，推荐哪款？").splitlines()
    assert lines[0] == "需求：预算20万 纯电 SUV 通勤，按续航从高到低"
    assert [line.split()[-1] for line in lines[1:]] == tags


def test_truth_is_json_and_repeatable():
    text = "预算15万，家用轿车"
    assert json.loads(json.dumps(build_truth(text), ensure_ascii=False)) == build_truth(text)
