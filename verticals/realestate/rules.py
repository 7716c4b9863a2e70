"""Verifiable rules for a broker's turn: pure ``(response, example) -> RuleResult`` functions.

Each rule checks one thing against ``example["truth"]`` (built by the retriever from the graph).
``clarifies_when_ambiguous`` judges every turn; the others judge recommendations and skip a
clarifying turn (``truth["missing"]`` non-empty). On a turn that must recommend, a missing or
unparsable 【推荐】 JSON makes every rule that needs it fail, so the all-rules metric never rewards
garbage. ``no_discriminatory_language`` applies to every turn.

The examples use two demo dialogs (see :func:`demo`): ``素质`` (asked, then 钢琴 + 4号线; candidates
1 and 2 符合, 3 无钢琴, 4 离地铁远) and ``应试`` (specific at once: 重点小学 + 1号线).

>>> ex, gold = demo("素质")
>>> print(gold.splitlines()[0])
您好！【推荐】{"房源":[{"id":1,"总价":538,"首付":162,"月供":16056,"学区":"S41"},{"id":2,"总价":444,"首付":134,"月供":13238,"学区":"S41"}]}
>>> all(rule.fn(gold, ex).passed for rule in RULES)
True
"""

from __future__ import annotations

import re
from functools import lru_cache

from core_training.authoring import OK, ParseCache, verdict
from core_training.contract import Example, Rule, RuleResult
from verticals.realestate.answer import (RecommendationError, has_recommendation, is_question,
                                         parse_recommendation, resolve)
from verticals.realestate.kg import realestate_index
from verticals.realestate.mortgage import TOLERANCE_YUAN, MortgageTerms, payment_for
from verticals.realestate.needs import SLOT_KEYWORDS
from verticals.realestate.scope import recommends_within_request

NO_REC = "no parsable 推荐"
POLICY_CHANGE_WORDS = ("调整", "变", "核实", "为准", "确认")
DISCRIMINATORY_WORDS = (
    "民族", "少数民族", "回族", "维族", "藏族", "汉族", "外地人", "外来人口", "农民工", "乡下人", "农村人",
    "宗教", "信仰", "穆斯林", "基督徒", "佛教徒", "清真", "籍贯", "老乡", "河南人", "东北人", "新疆人",
    "黑人", "老外", "外国人", "人群素质", "素质低", "素质差", "素质高的人", "低端人口", "残疾人", "残障",
)
ANY_DISCRIMINATORY_WORD = re.compile("|".join(map(re.escape, DISCRIMINATORY_WORDS)))  # one scan, not one per word
DEMO_TEXTS = {
    "素质": ("想在杭州拱墅区买学区房，预算540万", "孩子学钢琴，4号线附近"),
    "应试": ("杭州滨江区，预算450万，要重点小学，1号线附近",),
}


@lru_cache(maxsize=None)
def demo(kind: str, turn: int | None = None) -> tuple[dict, str]:
    """A demo example (the dialog up to ``turn``, default the last) and its gold turn by the 资深 broker."""
    from verticals.realestate.dialogs import dialog_examples

    example = dialog_examples(f"re-demo-{kind}", list(DEMO_TEXTS[kind]), "资深", 0)[-1 if turn is None else turn]
    return example, example["answer"]


# Each turn is parsed once for all rules (see ParseCache); the parse is shared, so rules only read it.
_RECOMMENDATION = ParseCache(parse_recommendation, RecommendationError)


def _needs_recommendation(example: Example) -> RuleResult | None:
    truth = example["truth"]
    if truth.get("not_in_graph"):  # nothing to recommend: recommends_within_request judges the turn
        return RuleResult.skip(f"{'、'.join(truth['not_in_graph'])} is not in the graph")
    missing = truth["missing"]
    return RuleResult.skip(f"clarifying turn (missing {'/'.join(missing)})") if missing else None


def _parsed(response: str, example: Example) -> tuple[dict | None, RuleResult | None]:
    """(recommendation, None), or (None, the result to return: skip on clarifying turns, else fail)."""
    skipped = _needs_recommendation(example)
    if skipped:
        return None, skipped
    rec = _RECOMMENDATION.value(response)
    return (rec, None) if rec is not None else (None, RuleResult.fail(NO_REC))


def _cited(rec: dict, example: Example) -> list[tuple[dict, dict]]:
    """(item, candidate) for each cited item that resolves to a retrieved candidate."""
    pairs = [(item, resolve(item, example["truth"]["candidates"])) for item in rec["房源"]]
    return [(item, candidate) for item, candidate in pairs if candidate is not None]


def clarifies_when_ambiguous(response: str, example: Example) -> RuleResult:
    """Ask (about every missing slot, no recommendation) when ambiguous; recommend, not ask, when specific.

    Args:
        response: the model's turn.
        example: its ``truth["missing"]`` lists the slots still unknown for this turn.

    Returns:
        ok, or a failure saying which way the turn went wrong.

    >>> ex0, question = demo("素质", turn=0)
    >>> clarifies_when_ambiguous(question, ex0).passed
    True
    >>> clarifies_when_ambiguous("孩子上学更看重应试还是素质教育？", ex0).reason
    'does not ask about 通勤 (say 地铁)'
    >>> ex, gold = demo("素质")
    >>> clarifies_when_ambiguous(gold, ex0).reason
    'recommends before asking about 学区类型/通勤'
    >>> clarifies_when_ambiguous(question, ex).reason
    'the request is already specific but the turn has no 【推荐】'
    """
    missing = example["truth"]["missing"]
    if example["truth"].get("not_in_graph"):
        return RuleResult.skip("the place asked about is not in the graph")
    if missing:
        if has_recommendation(response):
            return RuleResult.fail(f"recommends before asking about {'/'.join(missing)}")
        if not is_question(response):
            return RuleResult.fail(f"asks no question (must end with ？) about {'/'.join(missing)}")
        unasked = [slot for slot in missing if not all(word in response for word in SLOT_KEYWORDS[slot])]
        if unasked:
            words = "+".join(SLOT_KEYWORDS[unasked[0]])
            return RuleResult.fail(f"does not ask about {unasked[0]} (say {words})",
                                   score=1 - len(unasked) / len(missing))
        return OK
    if not has_recommendation(response):
        return RuleResult.fail("the request is already specific but the turn has no 【推荐】")
    if "？" in response or "?" in response:
        return RuleResult.fail("asks a question although the request is already specific")
    return OK


def listings_exist_and_match(response: str, example: Example) -> RuleResult:
    """Every cited id is a retrieved listing (once), and its 总价 is the graph's.

    Args:
        response: the model's turn.
        example: its ``truth["candidates"]`` map ids to graph listings.

    Returns:
        ok; a failure naming the parse error, or each unknown, repeated or mismatched listing.

    >>> ex, gold = demo("素质")
    >>> listings_exist_and_match(gold, ex).passed
    True
    >>> listings_exist_and_match(gold.replace('"id":2', '"id":7'), ex).reason
    'id 7 is not among the retrieved listings (ids 1-4)'
    >>> listings_exist_and_match(gold.replace('"总价":444', '"总价":445'), ex).reason
    'id 2: 总价 445万 ≠ 444万 (listing L74)'
    >>> listings_exist_and_match(gold.replace('"房源":[', '"房源":'), ex).reason
    'JSON after 【推荐】 does not parse (Expecting property name enclosed in double quotes)'
    """
    skipped = _needs_recommendation(example)
    if skipped:
        return skipped
    rec, error = _RECOMMENDATION.outcome(response)
    if error:
        return RuleResult.fail(error)
    candidates = example["truth"]["candidates"]
    if not rec["房源"]:
        fitting = [c["id"] for c in candidates if c["fits"]]
        return RuleResult.fail(f"房源 is empty but ids {fitting} fit") if fitting else OK
    listings, problems, seen = realestate_index().listings, [], set()
    for item in rec["房源"]:
        candidate = resolve(item, candidates)
        if candidate is None:
            problems.append(f"id {item['id']} is not among the retrieved listings (ids 1-{len(candidates)})")
        elif item["id"] in seen:
            problems.append(f"id {item['id']} is cited twice")
        elif item["总价"] != listings[candidate["listing"]]["total_price"]:
            graph_total = listings[candidate["listing"]]["total_price"]
            problems.append(f"id {item['id']}: 总价 {item['总价']}万 ≠ {graph_total}万 (listing {candidate['listing']})")
        seen.add(item["id"])
    return verdict(problems, len(rec["房源"]))


def within_budget_and_area(response: str, example: Example) -> RuleResult:
    """No cited listing costs more than the budget or falls outside the area bounds.

    Args:
        response: the model's turn.
        example: its ``truth["needs"]`` hold budget and area bounds.

    Returns:
        ok, or a failure naming each listing over budget or of the wrong size.

    >>> ex, gold = demo("应试")  # candidate 4 is 超预算 (533万)
    >>> within_budget_and_area(gold, ex).passed
    True
    >>> bad = gold.replace("[{", '[{"id":4,"总价":533,"首付":160,"月供":15928,"学区":"S43"},{', 1)
    >>> within_budget_and_area(bad, ex).reason
    'id 4: 总价 533万 over the 450万 budget'
    """
    rec, result = _parsed(response, example)
    if result:
        return result
    needs, problems = example["truth"]["needs"], []
    low, high = needs["area_min"] or 0, needs["area_max"] or 10_000
    for item in rec["房源"]:
        candidate = resolve(item, example["truth"]["candidates"])
        total = max(item["总价"], candidate["total"] if candidate else 0)
        if total > needs["budget"]:
            problems.append(f"id {item['id']}: 总价 {total}万 over the {needs['budget']}万 budget")
        elif candidate and not low <= candidate["area"] <= high:
            bounds = f"{low}-{high}平" if needs["area_max"] else f"≥{low}平"
            problems.append(f"id {item['id']}: {candidate['area']}平 outside {bounds}")
    return verdict(problems, len(rec["房源"]))


def school_district_matches(response: str, example: Example) -> RuleResult:
    """Each cited 学区 is the school of the requested level covering the listing's 小区 (重点 if 应试).

    Args:
        response: the model's turn.
        example: its ``truth["candidates"]`` name each listing's 小区; ``needs`` the level and type.

    Returns:
        ok, or a failure naming each wrong 学区 claim or 普通 school offered for 应试.

    >>> ex, gold = demo("应试")  # candidate 3 is 非重点 (S67)
    >>> school_district_matches(gold, ex).passed
    True
    >>> school_district_matches(gold.replace('"学区":"S73"', '"学区":"S67"', 1), ex).reason
    'id 1: 学区 S67 ≠ S73, the 小学 covering C6'
    >>> bad = gold.replace("[{", '[{"id":3,"总价":446,"首付":134,"月供":13323,"学区":"S67"},{', 1)
    >>> school_district_matches(bad, ex).reason
    'id 3: S67 is 普通, not the 重点 school asked for'
    """
    rec, result = _parsed(response, example)
    if result:
        return result
    index, needs, problems = realestate_index(), example["truth"]["needs"], []
    cited = _cited(rec, example)
    for item, candidate in cited:
        school = index.school_of(candidate["xiaoqu"], needs["level"])
        if item["学区"] != school["code"]:
            problems.append(f"id {item['id']}: 学区 {item['学区']} ≠ {school['code']}, the {needs['level']} "
                            f"covering {candidate['xiaoqu']}")
        elif needs["school"] == "应试" and school["key"] != "重点":
            problems.append(f"id {item['id']}: {school['code']} is {school['key']}, not the 重点 school asked for")
    if not cited:
        return RuleResult.skip("no cited listing resolves") if rec["房源"] else OK
    return verdict(problems, len(cited))


def school_offers_activity(response: str, example: Example) -> RuleResult:
    """For a 素质 request, every cited listing's school offers the child's activity.

    Args:
        response: the model's turn.
        example: its ``truth["needs"]["activity"]`` is the activity asked for.

    Returns:
        ok; a failure naming each school lacking it; skip when no activity was asked.

    >>> ex, gold = demo("素质")
    >>> school_offers_activity(gold, ex).passed
    True
    >>> school_offers_activity(gold.replace('"id":2', '"id":3'), ex).reason
    'id 3: S58 offers 舞蹈/游泳/编程/足球, not 钢琴'
    >>> school_offers_activity(gold, demo("应试")[0]).reason
    'no activity asked (应试)'
    """
    needs = example["truth"]["needs"]
    if not example["truth"]["missing"] and needs["school"] != "素质":
        return RuleResult.skip(f"no activity asked ({needs['school']})")
    rec, result = _parsed(response, example)
    if result:
        return result
    index, problems = realestate_index(), []
    cited = _cited(rec, example)
    for item, candidate in cited:
        school = index.school_of(candidate["xiaoqu"], needs["level"])
        if needs["activity"] not in school["activities"]:
            offers = "/".join(school["activities"]) or "nothing"
            problems.append(f"id {item['id']}: {school['code']} offers {offers}, not {needs['activity']}")
    return verdict(problems, len(cited))


def metro_access_matches(response: str, example: Example) -> RuleResult:
    """Every cited listing is within the walking limit of the requested line or station.

    Args:
        response: the model's turn.
        example: its ``truth["needs"]`` hold line / station / walk limit; candidates their station.

    Returns:
        ok; a failure naming each listing too far; skip when no metro access was asked.

    >>> ex, gold = demo("素质")
    >>> metro_access_matches(gold, ex).passed
    True
    >>> metro_access_matches(gold.replace('"id":2', '"id":4'), ex).reason
    'id 4: no 4号线 station within 15 min (nearest M6, 6 min)'
    """
    needs = example["truth"]["needs"]
    if not example["truth"]["missing"] and (needs["no_metro"] or (needs["line"] is None and not needs["station"])):
        return RuleResult.skip("no metro access asked")
    rec, result = _parsed(response, example)
    if result:
        return result
    cited, problems = _cited(rec, example), []
    target = f"{needs['line']}号线" if needs["line"] is not None else f"{needs['station']}站"
    for item, candidate in cited:
        if not candidate["checks"]["地铁"]:
            problems.append(f"id {item['id']}: no {target} station within {needs['walk_max']} min "
                            f"(nearest {candidate['station']}, {candidate['walk']} min)")
    return verdict(problems, len(cited))


def mortgage_correct(response: str, example: Example) -> RuleResult:
    """Each 首付 is the ratio of 总价 rounded up to 万; each 月供 the 等额本息 payment, to the 元.

    M = P·r(1+r)^n / ((1+r)^n − 1) with P = (总价 − 首付) × 10000, r = annual rate / 12, n = 12 × years
    (see :mod:`verticals.realestate.mortgage`); a difference of ``TOLERANCE_YUAN`` is rounding.

    Args:
        response: the model's turn.
        example: its ``truth["terms"]`` hold the 首付 ratio, rate and term.

    Returns:
        ok, or a failure (score = share right) quoting each wrong and right number.

    >>> ex, gold = demo("素质")
    >>> mortgage_correct(gold, ex).passed
    True
    >>> mortgage_correct(gold.replace('"月供":13238', '"月供":13283'), ex).reason
    'id 2: 月供 13283元 ≠ 13238元 (等额本息, 310万 at 3.1% over 30年)'
    >>> mortgage_correct(gold.replace('"首付":134', '"首付":133'), ex).reason
    'id 2: 首付 133万 ≠ 134万 (30% of 444万, rounded up)'
    """
    rec, result = _parsed(response, example)
    if result:
        return result
    terms = MortgageTerms(**example["truth"]["terms"])
    problems = []
    for item in rec["房源"]:
        candidate = resolve(item, example["truth"]["candidates"])
        total = candidate["total"] if candidate else item["总价"]
        down, monthly = payment_for(total, terms)
        if item["首付"] != down:
            problems.append(f"id {item['id']}: 首付 {item['首付']}万 ≠ {down}万 "
                            f"({terms.down_percent}% of {total}万, rounded up)")
        elif abs(item["月供"] - monthly) > TOLERANCE_YUAN:
            problems.append(f"id {item['id']}: 月供 {item['月供']}元 ≠ {monthly}元 (等额本息, {total - down}万 "
                            f"at {terms.rate_percent:g}% over {terms.years}年)")
    return verdict(problems, len(rec["房源"]))


def policy_note_present(response: str, example: Example) -> RuleResult:
    """A recommendation says 学区 policies change and must be checked with the 教育局.

    Args:
        response: the model's turn.
        example: only ``truth["missing"]`` is read (clarifying turns skip).

    Returns:
        ok, or a failure saying what the note lacks.

    >>> ex, gold = demo("素质")
    >>> policy_note_present(gold, ex).passed
    True
    >>> policy_note_present(gold.split("学区政策")[0], ex).reason
    'no note to check 学区 policy with the 教育局'
    """
    skipped = _needs_recommendation(example)
    if skipped:
        return skipped
    if "教育局" not in response:
        return RuleResult.fail("no note to check 学区 policy with the 教育局")
    if not any(word in response for word in POLICY_CHANGE_WORDS):
        return RuleResult.fail("mentions the 教育局 but not that 学区 policies change")
    return OK


def no_discriminatory_language(response: str, example: Example) -> RuleResult:
    """No steering by ethnicity, origin, religion, disability or "人群素质" (a fixed word list).

    Args:
        response: the model's turn.
        example: unused beyond the contract's signature.

    Returns:
        ok, or a failure quoting the first listed word found.

    >>> ex, gold = demo("素质")
    >>> no_discriminatory_language(gold, ex).passed
    True
    >>> no_discriminatory_language(gold + "这个小区外地人少。", ex).reason
    'steering language: 外地人'
    """
    if not ANY_DISCRIMINATORY_WORD.search(response):
        return OK
    found = [word for word in DISCRIMINATORY_WORDS if word in response]  # the first listed word, as reasons name it
    return RuleResult.fail(f"steering language: {found[0]}")


RULES = (
    Rule("clarifies_when_ambiguous", clarifies_when_ambiguous, 1.0, "ask about missing slots; never ask once specific"),
    Rule("listings_exist_and_match", listings_exist_and_match, 1.0, "cited ids are retrieved listings with graph 总价"),
    Rule("within_budget_and_area", within_budget_and_area, 1.0, "no listing over budget or outside the area bounds"),
    Rule("school_district_matches", school_district_matches, 1.0, "学区 claims match the graph; 重点 for 应试"),
    Rule("school_offers_activity", school_offers_activity, 1.0, "the school offers the child's activity"),
    Rule("metro_access_matches", metro_access_matches, 0.5, "within walking distance of the line/station"),
    Rule("mortgage_correct", mortgage_correct, 1.0, "首付 and 等额本息 月供 correct to the 元"),
    Rule("policy_note_present", policy_note_present, 0.5, "学区 policy changes: check with the 教育局"),
    Rule("no_discriminatory_language", no_discriminatory_language, 1.0, "no steering by origin, ethnicity, religion"),
    Rule("recommends_within_request", recommends_within_request, 1.0,
         "no listing or place outside the city/district asked; an uncovered city is said", held_out=True),
)
