"""The retriever on free text: slot parsing, progress per turn, candidates and their verdicts."""

from __future__ import annotations

import pytest

from verticals.realestate.kg import realestate_index
from verticals.realestate.mortgage import MortgageTerms, payment_for
from verticals.realestate.needs import parse_needs, parse_turns
from verticals.realestate.retriever import build_truth, format_facts, retrieve

# (text, expected attributes of the parsed Needs)
PARSE_CASES = [
    ("想在杭州滨江区买学区房，预算500万，孩子学钢琴，1号线附近，90平以上",
     dict(city="杭州", district="滨江区", budget=500, school="素质", activity="钢琴", line=1, area_min=90)),
    ("苏州园区，400万以内，孩子上初中，应试为主，我们开车", dict(city="苏州", district="工业园区", budget=400,
                                                  school="应试", level="初中", no_metro=True)),
    ("在古荡站附近，步行10分钟内，要重点小学，总价600万以内", dict(city="杭州", station="M2", walk_max=10,
                                                     school="应试", level="小学", budget=600)),
    ("月收入3万，首付150万，预算300w，80-100平", dict(budget=300, area_min=80, area_max=100)),
    ("预算400万，后来想想预算可以加到450万", dict(budget=450)),
    ("孩子学游泳，上班坐2号线，后来改成4号线", dict(school="素质", activity="游泳", line=4)),
    ("学区无所谓，不坐地铁", dict(school="不限", no_metro=True, line=None)),
    ("你好", dict(city=None, budget=None, school=None, line=None, station=None, no_metro=False)),
]
TERMS_CASES = [
    ("预算500万", MortgageTerms()),
    ("首付四成，利率3.5%，贷25年", MortgageTerms(40, 3.5, 25, True)),
    ("首付35%", MortgageTerms(35, 3.1, 30, True)),
    ("贷款20年", MortgageTerms(30, 3.1, 20, True)),
]
MISSING_CASES = [
    ("想买学区房，预算500万", ["学区类型", "通勤"]),
    ("想在杭州给孩子买学区房，看重素质教育", ["预算", "特长", "通勤"]),
    ("预算600万，孩子学舞蹈，2号线附近", []),
    ("预算600万，要重点小学，开车", []),
    ("你好", ["预算", "学区类型", "通勤"]),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_needs(text, expected):
    needs = parse_needs(text)
    assert {key: getattr(needs, key) for key in expected} == expected


@pytest.mark.parametrize(("text", "terms"), TERMS_CASES)
def test_parse_mortgage_terms(text, terms):
    assert parse_needs(text).terms == terms


@pytest.mark.parametrize(("text", "missing"), MISSING_CASES)
def test_missing_slots(text, missing):
    assert parse_needs(text).missing() == missing


def test_turns_are_read_cumulatively():
    states = [t.missing() for t in parse_turns("想买学区房，预算450万\n看重素质教育\n孩子学钢琴，2号线附近")]
    assert states == [["学区类型", "通勤"], ["特长", "通勤"], []]


def test_ambiguous_request_lists_no_listing_and_says_what_is_missing():
    facts = retrieve("想在杭州买学区房，预算500万")
    assert facts.splitlines()[-1] == "进度:缺学区类型,通勤" and "[1]" not in facts
    assert build_truth("想在杭州买学区房，预算500万")["candidates"] == []


def test_progress_line_shows_every_turn():
    facts = retrieve("想买学区房，预算450万\n素质教育，孩子学钢琴，地铁2号线附近")
    assert "进度:缺学区类型,通勤→已明确" in facts.splitlines()


@pytest.mark.parametrize("text", [
    "杭州滨江区，预算520万，孩子学游泳，1号线附近",
    "想买学区房，预算450万\n素质教育，孩子学钢琴，地铁2号线附近",
    "苏州，预算400万，应试为主，1号线",
    "杭州，预算380万，学区无所谓，开车，首付四成，90平以上",
    "预算700万，要重点初中，在大关站附近，步行10分钟内",
])
def test_candidates_are_checked_against_the_graph(text):
    truth, index = build_truth(text), realestate_index()
    needs, terms = truth["needs"], truth["terms"]
    ids = [c["id"] for c in truth["candidates"]]
    assert ids == list(range(1, len(ids) + 1)) and ids
    for c in truth["candidates"]:
        listing = index.listings[c["listing"]]
        school = index.school_of(listing["xiaoqu"], needs["level"])
        assert index.xiaoqu[listing["xiaoqu"]]["city"] == truth["city"]
        assert (c["total"], c["area"], c["school"]) == (listing["total_price"], listing["area"], school["code"])
        assert (c["down"], c["monthly"]) == payment_for(c["total"], MortgageTerms(**terms))
        fits_budget = c["total"] <= needs["budget"]
        fits_school = {"应试": school["key"] == "重点", "素质": needs["activity"] in school["activities"]}.get(
            needs["school"], True)
        def serves(sid):
            return sid == needs["station"] if needs["station"] else needs["line"] in index.stations[sid]["lines"]

        near_ok = needs["no_metro"] or any(w <= needs["walk_max"] and serves(sid) for sid, w in index.near[listing["xiaoqu"]])
        fits_area = (needs["area_min"] or 0) <= c["area"] <= (needs["area_max"] or 10_000)
        assert c["fits"] == (fits_budget and fits_school and near_ok and fits_area), c
        assert c["fits"] == (c["verdict"] == "符合")
        if not c["fits"]:
            assert sum(not ok for ok in c["checks"].values()) == 1  # a near miss fails exactly one check
    assert any(c["fits"] for c in truth["candidates"]) and not all(c["fits"] for c in truth["candidates"])


def test_candidate_line_carries_the_numbers_in_json_order():
    truth = build_truth("杭州滨江区，预算520万，孩子学游泳，1号线附近")
    lines = retrieve("杭州滨江区，预算520万，孩子学游泳，1号线附近").splitlines()[3:]
    for c, line in zip(truth["candidates"], lines):
        assert line.startswith(f"[{c['id']}]{c['verdict']} 总价{c['total']}万 首付{c['down']}万 月供{c['monthly']}元 "
                               f"学区{c['school']}(")


def test_facts_are_compact():
    longest = max((retrieve(t) for t, _ in PARSE_CASES), key=len)
    assert len(longest) < 420  # characters; about 350 tokens of the digit/CJK-splitting base tokenizer


def test_no_fitting_listing_is_said_plainly():
    truth = build_truth("杭州，预算150万，要重点小学，5号线附近")
    assert not any(c["fits"] for c in truth["candidates"])
    assert format_facts(truth).endswith("无完全符合的房源，请说明原因并建议放宽条件")
