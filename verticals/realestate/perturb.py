"""Perturbations of a gold turn: the "worse" side of preference pairs and the known-bad answers.

Each perturbation maps ``(answer, truth, rng)`` to a degraded turn, or ``None`` when it does not
apply (e.g. no over-budget candidate to add, or a recommendation perturbation on a question turn).
Every one breaks a rule; :data:`BREAKS` names the rule it must break.

>>> import random
>>> from verticals.realestate.rules import demo
>>> ex, gold = demo("素质")
>>> bad = PERTURBATIONS["missing_activity"](gold, ex["truth"], random.Random(0))
>>> bad.count('"id"') == gold.count('"id"') + 1
True
>>> PERTURBATIONS["recommend_before_asking"](gold, ex["truth"], random.Random(0)) is None
True
"""

from __future__ import annotations

import random
from typing import Callable

from verticals.realestate.answer import item_for, parse_recommendation, recommendation_json
from verticals.realestate.brokers import POLICY_NOTES, write_question
from verticals.realestate.kg import realestate_index

Perturbation = Callable[[str, dict, random.Random], "str | None"]


def _items(answer: str) -> list[dict]:
    return parse_recommendation(answer)["房源"]


def _replace_items(answer: str, items: list[dict]) -> str:
    return answer.replace(recommendation_json(_items(answer)), recommendation_json(items))


def _recommends(truth: dict) -> bool:
    return not truth["missing"]


def _add_misfit(verdict_prefix: str) -> Perturbation:
    """Cite (in listing order) a candidate whose verdict starts with ``verdict_prefix``."""
    def perturb(answer: str, truth: dict, rng: random.Random) -> str | None:
        misfits = [c for c in truth["candidates"] if c["verdict"].startswith(verdict_prefix)]
        if not _recommends(truth) or not misfits:
            return None
        items = sorted(_items(answer) + [item_for(misfits[0])], key=lambda item: item["id"])
        return _replace_items(answer, items)
    perturb.__name__ = f"add_{verdict_prefix}"
    return perturb


def _change_one(key: str, change: Callable[[int, random.Random], int]) -> Perturbation:
    def perturb(answer: str, truth: dict, rng: random.Random) -> str | None:
        if not _recommends(truth) or not _items(answer):
            return None
        items = _items(answer)
        item = rng.choice(items)
        item[key] = change(item[key], rng)
        return _replace_items(answer, items)
    perturb.__name__ = f"change_{key}"
    return perturb


def _swap_digits(value: int, rng: random.Random) -> int:
    digits = str(value)
    for i in rng.sample(range(len(digits) - 1), len(digits) - 1):
        if digits[i] != digits[i + 1]:
            return int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    return value + rng.choice((-300, 300))


def wrong_school(answer: str, truth: dict, rng: random.Random) -> str | None:
    if not _recommends(truth) or not _items(answer):
        return None
    items = _items(answer)
    item = rng.choice(items)
    others = sorted(set(_non_test_schools()) - {item["学区"]}, key=lambda s: int(s[1:]))
    item["学区"] = rng.choice(others)
    return _replace_items(answer, items)


def _non_test_schools() -> list[str]:
    """Codes of the schools outside test-pool cities: a wrong school drawn for training data never names a
    test-city school (and the draws are the ones made before the test city existed)."""
    index = realestate_index()
    return [code for code, school in index.schools.items() if index.cities[school["city"]].get("pool") != "test"]


def nonexistent_listing(answer: str, truth: dict, rng: random.Random) -> str | None:
    if not _recommends(truth) or not _items(answer):
        return None
    fake = {**_items(answer)[0], "id": len(truth["candidates"]) + 1}
    return _replace_items(answer, _items(answer) + [fake])


def broken_json(answer: str, truth: dict, rng: random.Random) -> str | None:
    if not _recommends(truth):
        return None
    text = recommendation_json(_items(answer))
    return answer.replace(text, text[: rng.randrange(8, len(text) - 3)])


def missing_policy_note(answer: str, truth: dict, rng: random.Random) -> str | None:
    if not _recommends(truth):
        return None
    for note in POLICY_NOTES:
        answer = answer.replace(note, "")
    return answer


def ask_when_specific(answer: str, truth: dict, rng: random.Random) -> str | None:
    """Keep asking although everything is known (the opposite slip of recommending too early)."""
    if not _recommends(truth):
        return None
    return write_question(["学区类型", "通勤"], truth["needs"], "资深", rng.randrange(4))


def recommend_before_asking(answer: str, truth: dict, rng: random.Random) -> str | None:
    """Recommend a made-up listing while slots are still missing."""
    if _recommends(truth):
        return None
    total = truth["needs"]["budget"] or 500
    item = {"id": 1, "总价": total - 10, "首付": -(-(total - 10) * 3 // 10), "月供": 12000 + rng.randrange(4000),
            "学区": "S" + str(rng.randint(1, 16))}
    return f"您好！【推荐】{recommendation_json([item])}\n这套很合适，建议尽快看房。{POLICY_NOTES[0]}"


def skip_a_slot(answer: str, truth: dict, rng: random.Random) -> str | None:
    """Ask about all missing slots but one (or state instead of asking when only one is missing)."""
    missing = truth["missing"]
    if not missing:
        return None
    if len(missing) == 1:
        return answer.replace("？", "。")
    dropped = rng.choice(missing)
    kept = [slot for slot in missing if slot != dropped]
    return write_question(kept, truth["needs"], "资深", rng.randrange(4))


def steering(answer: str, truth: dict, rng: random.Random) -> str:
    """Add a steering remark about who the neighbours are."""
    remark = rng.choice(("这边外地人少，邻居素质高的人多。", "附近少数民族不多，环境单纯。", "这个小区老外多，氛围好。"))
    return answer + remark


PERTURBATIONS: dict[str, Perturbation] = {
    "over_budget": _add_misfit("超预算"),
    "wrong_area": _add_misfit("面积不符"),
    "missing_activity": _add_misfit("无"),
    "non_key_school": _add_misfit("非重点"),
    "far_from_metro": _add_misfit("离地铁远"),
    "wrong_monthly": _change_one("月供", _swap_digits),
    "wrong_down_payment": _change_one("首付", lambda v, rng: v + rng.choice((-2, -1, 1, 3))),
    "wrong_total": _change_one("总价", lambda v, rng: v + rng.choice((-10, 10, 20))),
    "wrong_school": wrong_school,
    "nonexistent_listing": nonexistent_listing,
    "broken_json": broken_json,
    "missing_policy_note": missing_policy_note,
    "ask_when_specific": ask_when_specific,
    "recommend_before_asking": recommend_before_asking,
    "skip_a_slot": skip_a_slot,
    "steering": steering,
}
BREAKS = {  # perturbation -> the rule it must break
    "over_budget": "within_budget_and_area", "wrong_area": "within_budget_and_area",
    "missing_activity": "school_offers_activity", "non_key_school": "school_district_matches",
    "far_from_metro": "metro_access_matches", "wrong_monthly": "mortgage_correct",
    "wrong_down_payment": "mortgage_correct", "wrong_total": "listings_exist_and_match",
    "wrong_school": "school_district_matches", "nonexistent_listing": "listings_exist_and_match",
    "broken_json": "listings_exist_and_match", "missing_policy_note": "policy_note_present",
    "ask_when_specific": "clarifies_when_ambiguous", "recommend_before_asking": "clarifies_when_ambiguous",
    "skip_a_slot": "clarifies_when_ambiguous", "steering": "no_discriminatory_language",
}
