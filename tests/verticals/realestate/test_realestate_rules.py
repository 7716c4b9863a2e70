"""Table-driven tests for every realestate rule: gold turns pass, known-bad turns fail for the stated reason.

Three hand-checked dialogs (facts shown in ``verticals.realestate.rules`` and the retriever doctests):

* ``q``: "想在杭州拱墅区买学区房，预算540万" -> still missing 学区类型 and 通勤; the gold turn asks.
* ``s``: the same family after "孩子学钢琴，4号线附近": [1] and [2] 符合 (S41, 钢琴, 5 min to 4号线),
  [3] 无钢琴 (S58), [4] 离地铁远. Gold cites 1 (538万, 首付 162万 = ⌈161.4⌉, 月供 16056元) and 2 (444万,
  首付 134万 = ⌈133.2⌉, 月供 13238元).
* ``y``: "杭州滨江区，预算450万，要重点小学，1号线附近": [1] [2] 符合 (S73, 重点), [3] 非重点 (S67),
  [4] 超预算 (533万).
* ``n``: "杭州西湖区，预算480万，学区无所谓，我们开车，首付四成，利率3.5%，80平以上": [1] 符合 (467万,
  首付 187万 at 40%, 月供 12573元 at 3.5%), [2] 面积不符 (71平), [3] 超预算.
"""

from __future__ import annotations

import pytest

from core_training.contract import RuleResult
from verticals.realestate.dialogs import dialog_examples
from verticals.realestate.rules import NO_REC, RULES, demo

NO_METRO_TEXT = "杭州西湖区，预算480万，学区无所谓，我们开车，首付四成，利率3.5%，80平以上"
EXAMPLES = {
    "q": demo("素质", turn=0),
    "s": demo("素质"),
    "y": demo("应试"),
    "n": (lambda ex: (ex, ex["answer"]))(dialog_examples("re-test-n", [NO_METRO_TEXT], "资深", 0)[0]),
}
GARBAGE = "这几套都挺好，您看着办。"
ITEM_1 = '{"id":1,"总价":538,"首付":162,"月供":16056,"学区":"S41"}'
ITEM_2 = '{"id":2,"总价":444,"首付":134,"月供":13238,"学区":"S41"}'


def gold(key: str) -> str:
    return EXAMPLES[key][1]


def edit(key: str, *pairs: tuple[str, str]) -> str:
    """The gold turn of ``key`` with each (old, new) replacement applied (each must occur)."""
    answer = gold(key)
    for old, new in pairs:
        assert old in answer, old
        answer = answer.replace(old, new)
    return answer


def add_item(key: str, item: str) -> str:
    return edit(key, ('{"房源":[', '{"房源":[' + item + ","))


SKIP = None  # expected "passes" value for a rule that does not apply (score None, passed True)

# (rule, case, example, answer, passes (True / False / SKIP), reason fragment)
CASES = [
    ("clarifies_when_ambiguous", "gold question", "q", gold("q"), True, "ok"),
    ("clarifies_when_ambiguous", "forgets the commute", "q", "孩子上学更看重应试还是素质教育？", False,
     "does not ask about 通勤"),
    ("clarifies_when_ambiguous", "asks only about 素质", "q", "孩子要素质教育吗？需要靠近哪条地铁线？", False,
     "does not ask about 学区类型"),
    ("clarifies_when_ambiguous", "no question mark", "q", "请告诉我应试还是素质，以及地铁线。", False, "asks no question"),
    ("clarifies_when_ambiguous", "recommends too early", "q", gold("s"), False, "recommends before asking"),
    ("clarifies_when_ambiguous", "gold recommendation", "s", gold("s"), True, "ok"),
    ("clarifies_when_ambiguous", "gold specific at once", "y", gold("y"), True, "ok"),
    ("clarifies_when_ambiguous", "keeps asking", "s", gold("q"), False, "no 【推荐】"),
    ("clarifies_when_ambiguous", "question tacked on", "s", gold("s") + "需要帮您约看吗？", False,
     "asks a question although"),
    ("listings_exist_and_match", "gold", "s", gold("s"), True, "ok"),
    ("listings_exist_and_match", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("listings_exist_and_match", "unknown id", "s", edit("s", ('"id":2', '"id":7')), False,
     "id 7 is not among the retrieved listings (ids 1-4)"),
    ("listings_exist_and_match", "cited twice", "s", edit("s", ('"id":2', '"id":1')), False, "id 1 is cited twice"),
    ("listings_exist_and_match", "wrong total", "s", edit("s", ('"总价":444', '"总价":445')), False,
     "id 2: 总价 445万 ≠ 444万"),
    ("listings_exist_and_match", "broken json", "s", edit("s", ('"房源":[', '"房源":')), False, "does not parse"),
    ("listings_exist_and_match", "missing key", "s", edit("s", (',"首付":162', "")), False, "房源 item 1 lacks 首付"),
    ("listings_exist_and_match", "string price", "s", edit("s", ('"总价":444', '"总价":"444"')), False,
     "总价 has the wrong type"),
    ("listings_exist_and_match", "empty", "s", edit("s", (ITEM_1 + "," + ITEM_2, "")), False,
     "房源 is empty but ids [1, 2] fit"),
    ("listings_exist_and_match", "no recommendation", "s", GARBAGE, False, "no 【推荐】 section"),
    ("within_budget_and_area", "gold", "y", gold("y"), True, "ok"),
    ("within_budget_and_area", "over budget", "y", add_item("y", '{"id":4,"总价":533,"首付":160,"月供":15928,"学区":"S43"}'),
     False, "id 4: 总价 533万 over the 450万 budget"),
    ("within_budget_and_area", "over budget, price understated", "y",
     add_item("y", '{"id":4,"总价":440,"首付":132,"月供":13000,"学区":"S43"}'), False, "id 4: 总价 533万 over"),
    ("within_budget_and_area", "too small", "n", add_item("n", '{"id":2,"总价":421,"首付":169,"月供":11316,"学区":"S75"}'),
     False, "id 2: 71平 outside ≥80平"),
    ("within_budget_and_area", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("within_budget_and_area", "garbage", "y", GARBAGE, False, NO_REC),
    ("school_district_matches", "gold 应试", "y", gold("y"), True, "ok"),
    ("school_district_matches", "gold 素质", "s", gold("s"), True, "ok"),
    ("school_district_matches", "wrong school", "y", edit("y", ('"学区":"S73"}', '"学区":"S67"}')), False,
     "id 1: 学区 S67 ≠ S73, the 小学 covering"),
    ("school_district_matches", "普通 school for 应试", "y",
     add_item("y", '{"id":3,"总价":446,"首付":134,"月供":13323,"学区":"S67"}'), False, "id 3: S67 is 普通, not the 重点 school asked for"),
    ("school_district_matches", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("school_district_matches", "garbage", "y", GARBAGE, False, NO_REC),
    ("school_offers_activity", "gold", "s", gold("s"), True, "ok"),
    ("school_offers_activity", "school without 钢琴", "s",
     add_item("s", '{"id":3,"总价":533,"首付":160,"月供":15928,"学区":"S58"}'), False, "id 3: S58 offers 舞蹈/游泳/编程/足球, not 钢琴"),
    ("school_offers_activity", "应试 request", "y", gold("y"), SKIP, "no activity asked (应试)"),
    ("school_offers_activity", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("school_offers_activity", "garbage", "s", GARBAGE, False, NO_REC),
    ("metro_access_matches", "gold", "s", gold("s"), True, "ok"),
    ("metro_access_matches", "too far", "s", add_item("s", '{"id":4,"总价":489,"首付":147,"月供":14604,"学区":"S38"}'),
     False, "id 4: no 4号线 station within 15 min"),
    ("metro_access_matches", "no metro asked", "n", gold("n"), SKIP, "no metro access asked"),
    ("metro_access_matches", "garbage", "s", GARBAGE, False, NO_REC),
    ("mortgage_correct", "gold", "s", gold("s"), True, "ok"),
    ("mortgage_correct", "gold with stated terms", "n", gold("n"), True, "ok"),
    ("mortgage_correct", "off by one yuan is rounding", "s", edit("s", ('"月供":13238', '"月供":13239')), True, "ok"),
    ("mortgage_correct", "digits swapped", "s", edit("s", ('"月供":16056', '"月供":16065')), False,
     "id 1: 月供 16065元 ≠ 16056元"),
    ("mortgage_correct", "down payment rounded down", "s", edit("s", ('"首付":134', '"首付":133')), False,
     "id 2: 首付 133万 ≠ 134万 (30% of 444万, rounded up)"),
    ("mortgage_correct", "default terms instead of the buyer's", "n",
     edit("n", ('"首付":187', '"首付":141'), ('"月供":12573', '"月供":13914')), False, "首付 141万 ≠ 187万 (40% of 467万"),
    ("mortgage_correct", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("mortgage_correct", "garbage", "s", GARBAGE, False, NO_REC),
    ("policy_note_present", "gold", "s", gold("s"), True, "ok"),
    ("policy_note_present", "no note", "s", edit("s", ("学区政策会调整，请以教育局为准。", "")), False,
     "no note to check 学区 policy with the 教育局"),
    ("policy_note_present", "bureau without change", "s", edit("s", ("学区政策会调整，请以教育局为准。", "教育局很好。")),
     False, "mentions the 教育局 but not that 学区 policies change"),
    ("policy_note_present", "clarifying turn", "q", gold("q"), SKIP, "clarifying turn"),
    ("no_discriminatory_language", "gold", "s", gold("s"), True, "ok"),
    ("no_discriminatory_language", "gold question", "q", gold("q"), True, "ok"),
    ("no_discriminatory_language", "素质教育 is not 人群素质", "q", "更看重应试还是素质教育？", True, "ok"),
    ("no_discriminatory_language", "origin", "s", gold("s") + "这个小区外地人少。", False, "steering language: 外地人"),
    ("no_discriminatory_language", "ethnicity", "y", gold("y") + "附近少数民族不多。", False, "steering language: 民族"),
    ("no_discriminatory_language", "religion", "q", "您有宗教信仰吗？" + gold("q"), False, "steering language: 宗教"),
    ("recommends_within_request", "gold", "s", gold("s"), True, "ok"),
    ("recommends_within_request", "another city", "s", gold("s") + "苏州的房子更便宜。", False, "puts forward 苏州"),
    ("recommends_within_request", "another district", "y", gold("y") + "西湖区也有合适的。", False, "puts forward 西湖区"),
]


@pytest.mark.parametrize(("rule_name", "case", "key", "answer", "passes", "reason"), CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_rule_case(rule_name, case, key, answer, passes, reason):
    rule = next(r for r in RULES if r.name == rule_name)
    result = rule.fn(answer, EXAMPLES[key][0])
    assert isinstance(result, RuleResult)
    if passes is SKIP:
        assert result.score is None and result.passed, result
    else:
        assert result.passed is passes, result
        assert 0.0 <= result.score <= 1.0
    assert reason in result.reason, result.reason


def test_every_rule_has_cases_for_pass_and_fail():
    covered = {(c[0], c[4]) for c in CASES}
    for rule in RULES:
        assert (rule.name, True) in covered and (rule.name, False) in covered, rule.name


@pytest.mark.parametrize("key", sorted(EXAMPLES))
def test_gold_turns_pass_every_rule(key):
    example, answer = EXAMPLES[key]
    assert all(rule.fn(answer, example).passed for rule in RULES)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
@pytest.mark.parametrize("answer", ["", "？", "【推荐】", "【推荐】{}", '【推荐】{"房源":[1]}', "【推荐】[]" * 3])
def test_rules_never_raise_on_garbage(rule, answer):
    for example, _ in EXAMPLES.values():
        result = rule.fn(answer, example)
        assert result.score is None or 0.0 <= result.score <= 1.0


def test_every_rule_documents_a_runnable_example():
    for rule in RULES:
        assert rule.fn.__doc__ and ">>>" in rule.fn.__doc__ and "Args:" in rule.fn.__doc__, rule.name
