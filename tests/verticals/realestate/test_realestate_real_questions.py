"""Questions as buyers write them: numbers in words, a 首付 amount and a 月供 ceiling, a city the graph
does not hold (said, never replaced); the scope rule; the paraphrase eval set."""

from __future__ import annotations

import pytest

from verticals.realestate.brokers import write_turn
from verticals.realestate.mortgage import MortgageTerms, affordable_loan_wan, payment_for
from verticals.realestate.kg import realestate_index
from verticals.realestate.needs import parse_needs
from verticals.realestate.paraphrase import load_paraphrase_set
from verticals.realestate.retriever import build_truth, retrieve
from verticals.realestate.rules import RULES, demo
from verticals.realestate.scope import recommends_within_request

# text -> (city, unknown city, district, budget, school, 首付 amount, 月供 ceiling)
SLOT_CASES = [
    ("想在北京海淀买个学区房，预算600万以内", (None, "北京", None, 600, None, None, None)),
    ("海淀的学区房，预算八百万", (None, "北京", None, 800, None, None, None)),
    ("上海浦东，预算五百万，要重点小学", (None, "上海", None, 500, "应试", None, None)),
    ("首付150万，月供能接受1.5万，苏州园区，要重点小学", ("苏州", None, "工业园区", 150 + affordable_loan_wan(15000, 3.1, 30),
                                                "应试", 150, 15000)),
    ("苏州姑苏区，首付一百二十万，月供一万二以内，预算四百万", ("苏州", None, "姑苏区", 400, None, 120, 12000)),
    ("预算三百八十万，苏州，孩子学钢琴", ("苏州", None, None, 380, "素质", None, None)),
    ("苏州的房子，月供不超过8千，首付有80万", ("苏州", None, None, 80 + affordable_loan_wan(8000, 3.1, 30), None, 80, 8000)),
    ("杭州滨江区，预算500万，1号线附近", ("杭州", None, "滨江区", 500, None, None, None)),
    ("苏州园区，娃要上好一点的小学，预算四百万", ("苏州", None, "工业园区", 400, "应试", None, None)),
    ("苏州园区，预算五百五十万，要重点", ("苏州", None, "工业园区", 550, "应试", None, None)),
    ("苏州姑苏区，学校无所谓，预算三百五十万", ("苏州", None, "姑苏区", 350, "不限", None, None)),
]


def test_lines_and_walks_in_words():
    n = parse_needs("苏州园区，预算五百万，要重点小学，一号线附近，步行十分钟以内")
    assert (n.line, n.walk_max, n.budget) == (1, 10, 500)


@pytest.mark.parametrize("text, activity, no_metro", [
    ("孩子喜欢跳舞，苏州，预算450万", "舞蹈", False),
    ("苏州，孩子爱踢足球，不要求地铁", "足球", True),
    ("苏州，孩子在学画画，开车接送", "美术", True),
])
def test_colloquial_activities_and_commutes(text, activity, no_metro):
    n = parse_needs(text)
    assert (n.school, n.activity, n.no_metro) == ("素质", activity, no_metro)


@pytest.mark.parametrize("text, expected", SLOT_CASES)
def test_slots_of_real_phrasings(text, expected):
    n = parse_needs(text)
    assert (n.city, n.unknown_city, n.district, n.budget, n.school, n.terms.down_wan, n.terms.monthly_max) == expected


def test_a_city_not_in_the_graph_is_said_and_never_replaced():
    text = "想在北京海淀买个学区房，预算600万以内"
    truth, facts = build_truth(text), retrieve(text)
    assert truth["not_in_graph"] == ["北京"] and truth["candidates"] == [] and truth["city"] == "北京"
    assert "未覆盖:图谱中没有北京的房源" in facts
    assert "杭州" not in facts.splitlines()[0] and "需求:北京(未覆盖)" in facts


@pytest.mark.parametrize("text, unknown", [
    ("杭州萧山区的学区房，预算400万，重点小学，1号线", "萧山区"),
    ("杭州市上城区买房", "上城区"),
    ("杭州滨江区，预算500万", None),
    ("杭州的学区房，预算400万", None),  # 学区 is no district
    ("杭州市区买房，预算500万", None),
])
def test_a_district_the_graph_lacks_is_said(text, unknown):
    truth = build_truth(text)
    assert parse_needs(text).unknown_district == unknown
    if unknown:
        assert truth["not_in_graph"] == ["杭州" + unknown] and truth["candidates"] == []
        assert truth["covered"] == [d for (c, d) in realestate_index().districts if c == "杭州"]
        assert f"未覆盖:图谱中没有杭州{unknown}的房源" in retrieve(text)
        answer = write_turn(truth, "资深")
        assert all(rule.fn(answer, {"truth": truth}).passed for rule in RULES)
    else:
        assert "not_in_graph" not in truth


def test_the_gold_turn_for_an_uncovered_city_passes_every_rule():
    truth = build_truth("想在北京海淀买个学区房，预算600万以内")
    answer = write_turn(truth, "资深")
    assert "【推荐】" not in answer and "北京" in answer
    results = {rule.name: rule.fn(answer, {"truth": truth}) for rule in RULES}
    assert all(r.passed for r in results.values()), results
    assert results["recommends_within_request"].score == 1.0


def test_stated_down_payment_and_monthly_ceiling_enter_the_loan_maths():
    truth = build_truth("苏州，首付150万，月供能接受1.5万，要重点小学，不坐地铁")
    assert truth["terms"]["down_wan"] == 150 and truth["terms"]["monthly_max"] == 15000
    terms = MortgageTerms(**truth["terms"])
    for c in truth["candidates"]:
        assert (c["down"], c["monthly"]) == payment_for(c["total"], terms)
        assert c["checks"]["月供"] == (c["monthly"] <= 15000)
        assert c["checks"]["首付"] == (c["down"] <= 150)
    fitting = [c for c in truth["candidates"] if c["fits"]]
    assert fitting and all(c["down"] == 150 and c["monthly"] <= 15000 for c in fitting)
    assert "首付150万(不低于30%)" in retrieve("苏州，首付150万，月供能接受1.5万，要重点小学，不坐地铁")


def test_unstated_amounts_leave_the_terms_as_before():
    truth = build_truth("杭州滨江区，预算520万，孩子学游泳，1号线附近")
    assert set(truth["terms"]) == {"down_percent", "rate_percent", "years", "stated"}
    assert all(set(c["checks"]) == {"预算", "面积", "学区", "特长", "地铁"} for c in truth["candidates"])


_EXAMPLE, _GOLD = demo("素质")
BEIJING = {"truth": build_truth("想在北京海淀买个学区房，预算600万以内")}
SCOPE_CASES = [  # (answer, example, passes)
    (_GOLD, _EXAMPLE, True),
    (_GOLD + "另外苏州的房子更便宜，也可以看看。", _EXAMPLE, False),
    (_GOLD + "上海的学区房就别考虑了，我们没有数据。", _EXAMPLE, True),  # named only to say it is not covered
    (write_turn(BEIJING["truth"], "简洁"), BEIJING, True),
    ('【推荐】{"房源":[{"id":1,"总价":500,"首付":150,"月供":14000,"学区":"S1"}]}杭州这套合适。', BEIJING, False),
    ("杭州滨江有几套不错的，欢迎约看。", BEIJING, False),
]


@pytest.mark.parametrize("answer, example, passes", SCOPE_CASES)
def test_scope_rule(answer, example, passes):
    assert recommends_within_request(answer, example).passed is passes


def test_scope_rule_is_held_out():
    assert next(r for r in RULES if r.name == "recommends_within_request").held_out


def test_paraphrase_set_is_built_from_the_question_file():
    examples = load_paraphrase_set()
    assert len(examples) >= 30
    assert len({ex["id"] for ex in examples}) == len(examples)
    texts = [ex["messages"][0]["content"] for ex in examples]
    assert len(set(texts)) == len(texts)
    eval_cities = {c for c, d in realestate_index().cities.items() if d["pool"] == "eval"}
    kinds = {bool(ex["truth"]["missing"]) for ex in examples}
    assert kinds == {True, False}  # clarifying turns and recommendations
    for ex in examples:
        assert ex["truth"]["city"] in eval_cities
        assert {k: v for k, v in ex["truth"].items() if k != "expert"} == build_truth(ex["messages"][0]["content"])


def test_paraphrase_recommendations_each_have_a_fitting_listing():
    recommending = [ex for ex in load_paraphrase_set() if not ex["truth"]["missing"]]
    assert sum(any(c["fits"] for c in ex["truth"]["candidates"]) for ex in recommending) == len(recommending)
