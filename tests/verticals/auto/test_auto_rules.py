"""Table-driven tests for every auto rule: gold answers pass, known-bad answers fail for the stated reason.

Cases edit the two hand-checked demo answers of ``verticals.auto.rules``::

    COMPARE   【参数】{"车型":[1,2],"参数":[{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":2}]}
              【结论】[2]加速更快，0-100占优。
    RECOMMEND 【参数】{"车型":[2,3],"预算":20,"参数":[{"项":"指导价","值":{"2":"15.88万","3":"15.38万"}},
                                                   {"项":"续航","值":{"2":"560km","3":"485km"}}]}
              【结论】推荐[2]和[3]：都在预算内，[2]续航最长，适合通勤。

In the recommendation, [1] is over budget (23.68万) and [4] is a 混动 (the user asked 纯电).
"""

from __future__ import annotations

import copy

import pytest

from verticals.auto.demo import COMPARE_ANSWER, COMPARE_EXAMPLE, RECOMMEND_ANSWER, RECOMMEND_EXAMPLE
from verticals.auto.rules import NO_JSON, RULES

GARBAGE = "星驰逐风挺好的，买它。"
RULE = {rule.name: rule for rule in RULES}
C, R = COMPARE_EXAMPLE, RECOMMEND_EXAMPLE


def edit(answer: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in answer, old
        answer = answer.replace(old, new)
    return answer


def c(*pairs):
    return edit(COMPARE_ANSWER, *pairs)


def r(*pairs):
    return edit(RECOMMEND_ANSWER, *pairs)


def hp_example():
    """The comparison asked in 马力: values must be round(kW * 1.36)."""
    example = copy.deepcopy(C)
    example["truth"].update(items=["最大功率"], hp=True, comparisons=[
        {"项": "最大功率", "better": "higher", "unit": "马力", "values": {"1": 163, "2": 265}, "winner": 2, "gap": 102}])
    return example


HP_ANSWER = ('【参数】{"车型":[1,2],"参数":[{"项":"最大功率","值":{"1":163,"2":265},"单位":"马力","胜":2}]}\n'
             "【结论】[2]动力更强，最大功率为265马力（195kW），高102马力。")  # the accepted 单位-key form
HP_TEXT_ANSWER = ('【参数】{"车型":[1,2],"参数":[{"项":"最大功率","值":{"1":"163马力","2":"265马力"},"胜":2}]}\n'
                  "【结论】[2]动力更强，最大功率占优。")  # the gold form: the unit written with the value

# (rule, case, answer, example, passes, reason fragment)
CASES = [
    ("structure_parses", "gold compare", COMPARE_ANSWER, C, True, "ok"),
    ("structure_parses", "gold recommend", RECOMMEND_ANSWER, R, True, "ok"),
    ("structure_parses", "conclusion missing", COMPARE_ANSWER.split("\n")[0], C, False, "missing section 【结论】"),
    ("structure_parses", "sections swapped", "【结论】好。\n" + COMPARE_ANSWER.split("\n")[0], C, False,
     "sections must be 【参数】【结论】 once each"),
    ("structure_parses", "json broken", c(('"胜":2}]}', '"胜":2}]')), C, False, "does not parse"),
    ("structure_parses", "key renamed", c(('"车型"', '"cars"')), C, False, "lacks key 车型"),
    ("structure_parses", "value not a map", c(('{"1":"7.9s","2":"6.5s"}', '"7.9s"')), C, False, "值 is not an object"),
    ("structure_parses", "winner as float", c(('"胜":2', '"胜":2.5')), C, False, "胜 is not a trim id"),
    ("structure_parses", "budget as text", r(('"预算":20', '"预算":"20万"')), R, False, "预算 is not a number"),
    ("structure_parses", "json in conclusion", c(("【结论】", '【结论】{"胜":2}')), C, False, "without JSON"),
    ("structure_parses", "garbage", GARBAGE, C, False, "missing section 【参数】"),
    ("cited_values_match_graph", "gold compare", COMPARE_ANSWER, C, True, "ok"),
    ("cited_values_match_graph", "gold recommend", RECOMMEND_ANSWER, R, True, "ok"),
    ("cited_values_match_graph", "hp conversion right", HP_ANSWER, hp_example(), True, "ok"),
    ("cited_values_match_graph", "json digit slip", c(('"2":"6.5s"', '"2":"6.6s"')), C, False, "[2] 0-100: 6.6s ≠ 6.5s"),
    ("cited_values_match_graph", "bare numbers, unit in 单位", c(('{"1":"7.9s","2":"6.5s"}', '{"1":7.9,"2":6.5},"单位":"s"')),
     C, True, "ok"),
    ("cited_values_match_graph", "bare numbers, no unit", c(('{"1":"7.9s","2":"6.5s"}', '{"1":7.9,"2":6.5}')), C, False,
     "unit '' is not s"),
    ("cited_values_match_graph", "hp in the value", HP_TEXT_ANSWER, hp_example(), True, "ok"),
    ("cited_values_match_graph", "kW value written as 马力", edit(HP_TEXT_ANSWER, ('"163马力"', '"120马力"')), hp_example(),
     False, "[1] 最大功率: 120马力 ≠ 163马力"),
    ("cited_values_match_graph", "kW called 马力", edit(HP_ANSWER, ('163', '120')), hp_example(), False,
     "[1] 最大功率: 120马力 ≠ 163马力"),
    ("cited_values_match_graph", "wrong unit", c(('"2":"6.5s"', '"2":"6.5min"')), C, False, "unit 'min' is not s"),
    ("cited_values_match_graph", "unknown item", c(('"0-100"', '"百米加速"')), C, False, "unknown 项 '百米加速'"),
    ("cited_values_match_graph", "item the trim lacks", r(('"项":"续航"', '"项":"油耗"'), ('"560km"', '"5.6L/100km"')),
     R, False, "[2] 油耗: the trim has no 油耗"),
    ("cited_values_match_graph", "prose value slip", c(("占优。", "占优，0-100为6.3s。")), C, False, "结论 states 6.3s"),
    ("cited_values_match_graph", "prose gap wrong", c(("占优。", "占优，快1.5s。")), C, False, "结论 states 1.5s"),
    ("cited_values_match_graph", "prose price of uncited trim", r(("适合通勤", "比[1]的23.68万便宜")), R, True, "ok"),
    ("cited_values_match_graph", "prose hp right", c(("占优。", "占优，0-100为6.5s，快1.4s，[2]约265马力。")), C, True, "ok"),
    ("cited_values_match_graph", "nothing cited", c(('{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":2}', "")),
     C, False, "no parameter value cited"),
    ("cited_values_match_graph", "garbage", GARBAGE, C, False, NO_JSON),
    ("trim_exists", "gold", COMPARE_ANSWER, C, True, "ok"),
    ("trim_exists", "id out of range", c(('"车型":[1,2]', '"车型":[1,2,6]')), C, False, "id 6 is not a retrieved trim"),
    ("trim_exists", "value key out of range", c(('"2":"6.5s"', '"5":"6.5s"')), C, False, "id 5 is not a retrieved trim"),
    ("trim_exists", "closed-book name of a graph trim", c(('"车型":[1,2]', '"车型":[1,"2024款 星驰逐风 PHEV 豪华型"]')),
     C, True, "ok"),
    ("trim_exists", "invented name", c(('"车型":[1,2]', '"车型":[1,"2025款 星驰逐风 GT"]')), C, False,
     "no trim named '2025款 星驰逐风 GT' in the graph"),
    ("trim_exists", "garbage", GARBAGE, C, False, NO_JSON),
    ("no_invented_trims", "gold", RECOMMEND_ANSWER, R, True, "ok"),
    ("no_invented_trims", "prose id out of range", r(("适合通勤", "不如[9]")), R, False, "[9] is not a retrieved trim"),
    ("no_invented_trims", "invented car", r(("适合通勤", "也可看2024款 远景星河 Pro")), R, False, "names no series"),
    ("no_invented_trims", "real but unretrieved series", r(("适合通勤", "松韵也不错")), R, False,
     "names 松韵, which is not among the retrieved trims"),
    ("no_invented_trims", "retrieved series named", r(("适合通勤", "浪花也可以")), R, True, "ok"),
    ("no_invented_trims", "garbage", GARBAGE, R, False, NO_JSON),
    ("answers_the_question", "gold compare", COMPARE_ANSWER, C, True, "ok"),
    ("answers_the_question", "gold recommend", RECOMMEND_ANSWER, R, True, "ok"),
    ("answers_the_question", "asked trim missing", c(('"车型":[1,2]', '"车型":[2]')), C, False, "车型 lacks [1]"),
    ("answers_the_question", "asked item missing for one trim", c(('"1":"7.9s",', "")), C, False,
     "no 0-100 cited for [1]"),
    ("answers_the_question", "budget misread", r(('"预算":20', '"预算":2')), R, False, "预算 2 ≠ the asked 20万"),
    ("answers_the_question", "budget dropped", r(('"预算":20,', "")), R, False, "预算 None ≠ the asked 20万"),
    ("answers_the_question", "garbage", GARBAGE, C, False, NO_JSON),
    ("comparison_direction_correct", "gold", COMPARE_ANSWER, C, True, "ok"),
    ("comparison_direction_correct", "winner flipped", c(('"胜":2', '"胜":1')), C, False,
     "0-100: 胜 is [1], but [2] wins"),
    ("comparison_direction_correct", "tie claimed", c(('"胜":2', '"胜":0')), C, False, "胜 is [0], but [2] wins"),
    ("comparison_direction_correct", "winner missing", c((',"胜":2', "")), C, False, "no 胜 given for 0-100"),
    ("comparison_direction_correct", "prose contradicts", c(("[2]加速更快", "[1]加速更快")), C, False,
     "结论 says [1]加速更快"),
    ("comparison_direction_correct", "hp comparison", HP_ANSWER, hp_example(), True, "ok"),
    ("comparison_direction_correct", "not a comparison", RECOMMEND_ANSWER, R, True, "not a comparison"),
    ("comparison_direction_correct", "garbage", GARBAGE, C, False, NO_JSON),
    ("recommendation_within_budget", "gold", RECOMMEND_ANSWER, R, True, "ok"),
    ("recommendation_within_budget", "over-budget pick", r(('"车型":[2,3]', '"车型":[1,3]')), R, False,
     "[1] costs 23.68万, over the 20万 budget"),
    ("recommendation_within_budget", "nothing recommended", r(('"车型":[2,3]', '"车型":[]')), R, False,
     "no retrieved trim recommended, though [2], [3] fit"),
    ("recommendation_within_budget", "not a recommendation", COMPARE_ANSWER, C, True, "not a recommendation"),
    ("recommendation_within_budget", "garbage", GARBAGE, R, False, NO_JSON),
    ("recommendation_energy_matches", "gold", RECOMMEND_ANSWER, R, True, "ok"),
    ("recommendation_energy_matches", "hybrid for a 纯电 buyer", r(('"车型":[2,3]', '"车型":[2,4]')), R, False,
     "[4] is 混动, not 纯电"),
    ("recommendation_energy_matches", "garbage", GARBAGE, R, False, NO_JSON),
    ("recommendation_body_matches", "gold", RECOMMEND_ANSWER, R, True, "ok"),
    ("recommendation_body_matches", "closed-book sedan", r(('"车型":[2,3]', '"车型":[2,"2024款 星驰逐风 PHEV 豪华型"]')), R,
     False, "is a 轿车, not a SUV"),
    ("recommendation_body_matches", "garbage", GARBAGE, R, False, NO_JSON),
    ("stays_on_asked_cars", "gold", COMPARE_ANSWER, C, True, "ok"),
    ("stays_on_asked_cars", "a trim not asked about", c(('"车型":[1,2]', '"车型":[1,3]')), C, False,
     "cites [3], which the question did not ask about"),
    ("stays_on_asked_cars", "a model outside the graph", c(("占优。", "占优，卡罗拉更快。")), C, False,
     "talks about 卡罗拉, which is not in the graph"),
]


@pytest.mark.parametrize(("rule", "case", "answer", "example", "passes", "reason"), CASES,
                         ids=[f"{rule}-{case}" for rule, case, *_ in CASES])
def test_rule_table(rule, case, answer, example, passes, reason):
    result = RULE[rule].fn(answer, example)
    assert result.passed is passes, result.reason
    assert reason in result.reason
    assert result.score is None or 0.0 <= result.score <= 1.0


def test_every_rule_has_cases_and_a_failing_case():
    failing = {rule for rule, _, _, _, passes, _ in CASES if not passes}
    assert failing == set(RULE)


def test_skips_where_a_rule_does_not_apply():
    no_energy = copy.deepcopy(R)
    no_energy["truth"].update(energy=None, energies=["燃油", "混动", "纯电"], body=None)
    assert RULE["recommendation_energy_matches"].fn(RECOMMEND_ANSWER, no_energy).score is None
    assert RULE["recommendation_body_matches"].fn(RECOMMEND_ANSWER, no_energy).score is None
    for name in ("recommendation_within_budget", "recommendation_energy_matches", "recommendation_body_matches"):
        assert RULE[name].fn(COMPARE_ANSWER, C).score is None


def test_garbage_fails_every_rule_that_applies():
    for example in (C, R):
        for rule in RULES:
            result = rule.fn(GARBAGE, example)
            assert result.score is None or not result.passed, rule.name


def test_partial_scores_count_right_values():
    two_wrong = c(('"1":"7.9s"', '"1":"7.7s"'), ('"2":"6.5s"', '"2":"6.4s"'), ("占优。", "占优，0-100为6.5s，快1.4s。"))
    assert RULE["cited_values_match_graph"].fn(two_wrong, C).score == pytest.approx(1 - 2 / 4)


def test_nothing_fits_nothing_recommended_passes():
    empty = copy.deepcopy(R)
    empty["truth"].update(recommend=[], candidates=[c_ for c_ in R["truth"]["candidates"] if c_["tag"] != "符合"])
    answer = '【参数】{"车型":[],"预算":20,"参数":[]}\n【结论】预算内没有符合要求的车型，建议提高预算或放宽条件。'
    assert all(rule.fn(answer, empty).passed for rule in RULES)
