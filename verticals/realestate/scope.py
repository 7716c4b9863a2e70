"""The scope rule: a broker's turn recommends only inside what the buyer asked about.

Held out (``Rule.held_out``): measured at every evaluation, never a reward. It catches the failure this
kit exists to prevent: a buyer asks about 北京, the graph holds 杭州, and the answer recommends 杭州
listings as if they were what was asked.

>>> from verticals.realestate.rules import demo
>>> recommends_within_request(*reversed(demo("素质"))).passed
True
"""

from __future__ import annotations

import re

from core_training.contract import Example, RuleResult
from verticals.places import places_named
from verticals.realestate.answer import has_recommendation
from verticals.realestate.kg import realestate_index

NOT_COVERED_WORDS = ("没有", "无法", "不能", "暂无", "未覆盖", "不在", "可以查询", "可查询")
SENTENCE = re.compile(r"[^。！!；;\n]+")


def recommends_within_request(response: str, example: Example) -> RuleResult:
    """For a place the graph does not hold (``truth["not_in_graph"]``): no 【推荐】, and the turn says the
    place is not covered. Otherwise: no other city, and no other district of the city when one was
    asked, is put forward (named outside a sentence saying it is not covered).

    Args:
        response: the broker's turn.
        example: its ``truth`` holds the city (and ``needs["district"]``) asked about.

    Returns:
        ok, or a failure naming the place outside the request.

    >>> beijing = {"truth": {"city": "北京", "not_in_graph": ["北京"], "needs": {"district": None}}}
    >>> recommends_within_request("目前没有北京的房源数据，无法推荐。可以查询的城市：杭州。", beijing).passed
    True
    >>> recommends_within_request('【推荐】{"房源":[{"id":1}]}杭州这套很合适。', beijing).reason
    'recommends listings although 北京 is not in the graph'
    >>> recommends_within_request("杭州滨江的房子也不错。", beijing).reason
    'does not say that 北京 is not covered'
    >>> hangzhou = {"truth": {"city": "杭州", "needs": {"district": "滨江区"}}}
    >>> recommends_within_request("滨江这两套都合适。", hangzhou).passed
    True
    >>> recommends_within_request("预算不够的话，苏州的房子更便宜。", hangzhou).reason
    'puts forward 苏州, but the buyer asked about 杭州滨江区'
    """
    truth = example["truth"]
    unknown = truth.get("not_in_graph")
    if unknown:
        if has_recommendation(response):
            return RuleResult.fail(f"recommends listings although {'、'.join(unknown)} is not in the graph")
        if not all(place in response for place in unknown):
            return RuleResult.fail(f"does not say that {'、'.join(unknown)} is not covered")
        return RuleResult.ok()
    for sentence in SENTENCE.findall(response):
        if any(word in sentence for word in NOT_COVERED_WORDS):
            continue
        elsewhere = _elsewhere(sentence, truth["city"], truth["needs"].get("district"))
        if elsewhere:
            return RuleResult.fail(f"puts forward {elsewhere}, but the buyer asked about "
                                   f"{truth['city']}{truth['needs'].get('district') or ''}")
    return RuleResult.ok()


def _elsewhere(sentence: str, city: str, district: str | None) -> str | None:
    """A city other than ``city``, or a district of ``city`` other than ``district``, named in ``sentence``."""
    other_cities = [p for p in places_named(sentence) + [c for c in realestate_index().cities if c in sentence]
                    if p != city]
    if other_cities:
        return other_cities[0]
    if district:
        others = [d for (c, d) in realestate_index().districts if c == city and d != district and d in sentence]
        return others[0] if others else None
    return None
