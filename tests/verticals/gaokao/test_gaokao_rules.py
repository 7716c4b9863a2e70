"""Table-driven tests for every gaokao rule: gold answers pass, known-bad answers fail for the stated reason.

Each case edits the hand-checked ``DEMO_ANSWER`` (see ``verticals.gaokao.rules``), whose 志愿表 is::

    {"位次":23759,"志愿":[{"id":1,"档":"冲","位次":19879},{"id":3,"档":"稳","位次":25030},
                        {"id":4,"档":"保","位次":30174}],"风险":["滑档","服从调剂"]}

Candidate 2 (京华政法大学 法学类组, needs 政治, 波动大) is the misfit the gold answer skips.
"""

from __future__ import annotations

import doctest

import pytest

import verticals.gaokao.rules as rules_module
from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE, NO_PLAN, RULES

GARBAGE = "我觉得你可以报考清华北大。"
CHOICES = '[{"id":1,"档":"冲","位次":19879},{"id":3,"档":"稳","位次":25030},{"id":4,"档":"保","位次":30174}]'


def edit(*pairs):
    """An answer with each (old, new) replacement applied to the demo answer."""
    answer = DEMO_ANSWER
    for old, new in pairs:
        assert old in answer, old
        answer = answer.replace(old, new)
    return answer


def with_choices(choices: str, risks: str = '["滑档","服从调剂"]') -> str:
    return edit((CHOICES, choices), ('["滑档","服从调剂"]', risks))


# (rule, case, answer, passes, reason fragment or None)
CASES = [
    ("structure_parses", "gold", DEMO_ANSWER, True, "ok"),
    ("structure_parses", "section renamed", edit(("【志愿表】", "【方案】")), False, "missing section 【志愿表】"),
    ("structure_parses", "sections swapped", edit(("【填报策略】", "【X】"), ("【风险提示】", "【填报策略】"), ("【X】", "【风险提示】")),
     False, "sections out of order"),
    ("structure_parses", "json broken", edit(('"位次":23759,', '"位次":23759,,')), False, "does not parse"),
    ("structure_parses", "key renamed", edit(('"风险"', '"risk"')), False, "lacks key 风险"),
    ("structure_parses", "unknown tier", edit(('"档":"冲"', '"档":"拼"')), False, "is not one of 冲/稳/保"),
    ("structure_parses", "rank as string", edit(('"位次":23759', '"位次":"23759"')), False, "位次 is not an integer"),
    ("structure_parses", "choice without id", edit(('"id":1,', "")), False, "needs an integer id or a 大学 name"),
    ("structure_parses", "garbage", GARBAGE, False, "missing section 【考生情况分析】"),
    ("rank_conversion_correct", "gold", DEMO_ANSWER, True, "ok"),
    ("rank_conversion_correct", "json rank wrong", edit(('"位次":23759', '"位次":23795')), False, "志愿表 位次 23795 ≠ 23759"),
    ("rank_conversion_correct", "analysis rank wrong", edit(("位次23759，", "位次23795，")), False,
     "【考生情况分析】 says 位次23795"),
    ("rank_conversion_correct", "garbage", GARBAGE, False, NO_PLAN),
    ("profile_matches_facts", "gold", DEMO_ANSWER, True, "ok"),
    ("profile_matches_facts", "full restatement, right", edit(("】位次", "】广东2025物理类598分，位次")), True, "ok"),
    ("profile_matches_facts", "another province", edit(("】位次", "】湖北位次")), False,
     "says 湖北 (the student is from 广东)"),
    ("profile_matches_facts", "wrong score", edit(("】位次", "】物理类621分，位次")), False, "says 621分 (the score is 598)"),
    ("profile_matches_facts", "wrong track", edit(("】位次", "】历史类位次")), False, "says 历史类 (the track is 物理类)"),
    ("profile_matches_facts", "wrong year", edit(("】位次", "】2024年位次")), False, "says 2024年 (the exam year is 2025)"),
    ("profile_matches_facts", "no analysis section", GARBAGE, True, "no 【考生情况分析】"),
    ("cited_ranks_match_graph", "gold", DEMO_ANSWER, True, "ok"),
    ("cited_ranks_match_graph", "digits swapped", edit(("25030", "25300")), False, "choice id 3: 位次 25300 ≠ 25030"),
    ("cited_ranks_match_graph", "one year instead of mean", edit(("19879", "20888")), False,
     "mean of 18883/19866/20888"),
    ("cited_ranks_match_graph", "closed-book name", edit(('"id":3', '"大学":"鹏城师范大学"')), True, "ok"),
    ("cited_ranks_match_graph", "nothing resolves", with_choices('[{"id":9,"档":"保","位次":30000}]'), True,
     "no choice refers to a retrieved candidate"),
    ("cited_ranks_match_graph", "garbage", GARBAGE, False, NO_PLAN),
    ("tier_matches_rank_margin", "gold", DEMO_ANSWER, True, "ok"),
    ("tier_matches_rank_margin", "reach called match", edit(('"档":"冲"', '"档":"稳"')), False,
     "choice id 1: tier 稳 but margin -16% → 冲"),
    ("tier_matches_rank_margin", "safety called match", edit(('"档":"保"', '"档":"稳"')), False,
     "choice id 4: tier 稳 but margin +27% → 保"),
    ("tier_matches_rank_margin", "closed-book unknown school", with_choices('[{"大学":"某某大学","档":"保","位次":23000}]'),
     False, "choice 某某大学: tier 保 but margin -3% → 稳"),
    ("tier_matches_rank_margin", "garbage", GARBAGE, False, NO_PLAN),
    ("has_safety_choice", "gold", DEMO_ANSWER, True, "ok"),
    ("has_safety_choice", "safety dropped", with_choices('[{"id":1,"档":"冲","位次":19879},{"id":3,"档":"稳","位次":25030}]'),
     False, "no 保 among 2 choices (冲/稳)"),
    ("has_safety_choice", "no choices", with_choices("[]"), False, "no 保 among 0 choices (none)"),
    ("has_safety_choice", "garbage", GARBAGE, False, NO_PLAN),
    ("tiers_ordered", "gold", DEMO_ANSWER, True, "ok"),
    ("tiers_ordered", "reversed", with_choices('[{"id":4,"档":"保","位次":30174},{"id":3,"档":"稳","位次":25030},'
                                               '{"id":1,"档":"冲","位次":19879}]'),
     False, "choice id 3 (稳) comes after a 保"),
    ("tiers_ordered", "garbage", GARBAGE, False, NO_PLAN),
    ("subject_requirements_met", "gold", DEMO_ANSWER, True, "ok"),
    ("subject_requirements_met", "misfit by id", edit(('{"id":3,', '{"id":2,"档":"稳","位次":24488},{"id":3,')), False,
     "choice id 2 (京华政法大学 法学类组) requires 政治; student has 物理、化学、生物"),
    ("subject_requirements_met", "misfit by name", edit(('{"id":3,', '{"大学":"京华政法大学","档":"稳","位次":24488},{"id":3,')),
     False, "choice 京华政法大学 (京华政法大学 法学类组) requires 政治"),
    ("subject_requirements_met", "garbage", GARBAGE, False, NO_PLAN),
    ("choices_exist", "gold", DEMO_ANSWER, True, "ok"),
    ("choices_exist", "id outside the list", edit(('"id":3', '"id":7')), False,
     "choice id 7 is not among the retrieved candidates (ids 1-4)"),
    ("choices_exist", "id twice", edit(('"id":3', '"id":1')), False, "choice id 1 is listed twice"),
    ("choices_exist", "invented university", edit(('"id":3', '"大学":"清北大学"')), False,
     "大学 清北大学 does not exist in the knowledge graph"),
    ("choices_exist", "name contradicts id", edit(('"id":1,', '"id":1,"大学":"京华师范大学",')), False,
     "choice id 1 names 京华师范大学 but the candidate is 鹏城财经大学"),
    ("choices_exist", "empty", with_choices("[]"), False, "志愿 is empty"),
    ("choices_exist", "garbage", GARBAGE, False, NO_PLAN),
    ("risk_warning_present", "gold", DEMO_ANSWER, True, "ok"),
    ("risk_warning_present", "no risks", edit(('["滑档","服从调剂"]', "[]")), False, "风险 is empty"),
    ("risk_warning_present", "unknown risk", edit(('"服从调剂"]', '"落榜"]')), False, "unknown risk 落榜"),
    ("risk_warning_present", "unexplained", edit(("服从调剂：或调到非计算机专业。", "")), False,
     "risk 服从调剂 listed but not explained"),
    ("risk_warning_present", "unfounded 大小年", edit(('"服从调剂"]', '"服从调剂","大小年"]'), ("专业。", "专业。大小年：1号波动大。")),
     False, "no chosen candidate is 波动大"),
    ("risk_warning_present", "garbage", GARBAGE, False, NO_PLAN),
    ("recommends_within_scope", "gold", DEMO_ANSWER, True, "ok"),
    ("recommends_within_scope", "a university not retrieved", edit(("拉开梯度。", "拉开梯度，可加报前海财经大学。")), False,
     "names 前海财经大学, which is not a retrieved candidate for 广东物理类"),
]
RULES_BY_NAME = {rule.name: rule for rule in RULES}


@pytest.mark.parametrize("rule_name, case, answer, passes, reason", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_rule_case(rule_name, case, answer, passes, reason):
    result = RULES_BY_NAME[rule_name].fn(answer, DEMO_EXAMPLE)
    assert result.passed is passes, result.reason
    assert reason in result.reason


def test_every_rule_has_cases_both_ways():
    for rule in RULES:
        outcomes = {passes for name, _, _, passes, _ in CASES if name == rule.name}
        assert outcomes == {True, False}, rule.name


def test_partial_credit_counts_right_choices():
    result = RULES_BY_NAME["cited_ranks_match_graph"].fn(edit(("25030", "25300")), DEMO_EXAMPLE)
    assert result.score == pytest.approx(2 / 3)


def test_skips_have_no_score():
    answer = with_choices('[{"id":9,"档":"保","位次":30000}]')
    assert RULES_BY_NAME["cited_ranks_match_graph"].fn(answer, DEMO_EXAMPLE).score is None


def test_founded_volatility_warning_passes():
    example = {**DEMO_EXAMPLE, "truth": {**DEMO_EXAMPLE["truth"], "candidates": [
        {**c, "volatile": c["id"] == 4} for c in DEMO_EXAMPLE["truth"]["candidates"]]}}
    answer = edit(('"服从调剂"]', '"服从调剂","大小年"]'), ("专业。", "专业。大小年：4号波动大。"))
    assert RULES_BY_NAME["risk_warning_present"].fn(answer, example).passed


def test_rules_module_doctests():
    assert doctest.testmod(rules_module).failed == 0
