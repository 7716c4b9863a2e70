"""Perturbations of a gold answer: the "worse" side of preference pairs and the known-bad answers.

Each perturbation maps ``(answer, truth, rng)`` to a degraded answer, or ``None`` when it does not
apply to this example (e.g. no misfit candidate to add). Hard ones break a rule; soft ones only
lower the rubric.

>>> from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE
>>> import random
>>> bad = PERTURBATIONS["missing_safety"](DEMO_ANSWER, DEMO_EXAMPLE["truth"], random.Random(0))
>>> '"档":"保"' in bad
False
"""

from __future__ import annotations

import random
from typing import Callable

from core_training.authoring import compact_json
from verticals.gaokao.answer import parse_plan, render_answer, split_sections
from verticals.gaokao.experts import GENERIC_STRATEGIES, RISK_WARNINGS
from verticals.gaokao.vocab import PROVINCE_NAMES, TIERS

Perturbation = Callable[[str, dict, random.Random], "str | None"]


def _rebuild(answer: str, plan: dict | None = None, **sections: str) -> str:
    """Re-render ``answer`` with a new plan and/or replaced section bodies."""
    parts = split_sections(answer)
    return render_answer(sections.get("analysis", parts["考生情况分析"]), plan or parse_plan(answer),
                         sections.get("strategy", parts["填报策略"]), sections.get("warnings", parts["风险提示"]))


def wrong_tier(answer: str, truth: dict, rng: random.Random) -> str:
    plan = parse_plan(answer)
    choice = rng.choice(plan["志愿"])
    choice["档"] = rng.choice([t for t in TIERS if t != choice["档"]])
    return _rebuild(answer, plan)


def missing_safety(answer: str, truth: dict, rng: random.Random) -> str | None:
    plan = parse_plan(answer)
    plan["志愿"] = [c for c in plan["志愿"] if c["档"] != "保"]
    return _rebuild(answer, plan) if plan["志愿"] else None


def wrong_rank_digits(answer: str, truth: dict, rng: random.Random) -> str | None:
    digits = str(truth["rank"])
    i = rng.randrange(len(digits) - 1) if len(digits) > 1 else 0
    swapped = digits[:i] + digits[i + 1:i + 2] + digits[i] + digits[i + 2:]
    if swapped == digits:
        swapped = str(truth["rank"] + rng.choice((-100, 100, 1000)))
    return answer.replace(str(truth["rank"]), swapped)


def wrong_cited_rank(answer: str, truth: dict, rng: random.Random) -> str:
    """Cite one year's rank instead of the three-year mean (a classic slip)."""
    plan = parse_plan(answer)
    choice = rng.choice(plan["志愿"])
    candidate = next(c for c in truth["candidates"] if c["id"] == choice["id"])
    year_ranks = [r for r in candidate["ranks"] if r != choice["位次"]]
    choice["位次"] = rng.choice(year_ranks) if year_ranks else choice["位次"] + 37
    return _rebuild(answer, plan)


def include_misfit(answer: str, truth: dict, rng: random.Random) -> str | None:
    misfits = [c for c in truth["candidates"] if not c["subject_ok"]]
    if not misfits:
        return None
    plan = parse_plan(answer)
    added = {"id": misfits[0]["id"], "档": misfits[0]["tier"], "位次": misfits[0]["avg_rank"]}
    plan["志愿"] = sorted(plan["志愿"] + [added], key=lambda c: c["id"])
    return _rebuild(answer, plan)


def misordered(answer: str, truth: dict, rng: random.Random) -> str | None:
    plan = parse_plan(answer)
    if len({c["档"] for c in plan["志愿"]}) < 2:
        return None
    plan["志愿"].reverse()
    return _rebuild(answer, plan)


def nonexistent_choice(answer: str, truth: dict, rng: random.Random) -> str:
    plan = parse_plan(answer)
    plan["志愿"].insert(0, {"id": len(truth["candidates"]) + 1, "档": "冲", "位次": max(1, truth["rank"] // 2)})
    return _rebuild(answer, plan)


def unfounded_volatility(answer: str, truth: dict, rng: random.Random) -> str | None:
    plan = parse_plan(answer)
    chosen = {c["id"] for c in plan["志愿"]}
    if "大小年" in plan["风险"] or any(c["volatile"] for c in truth["candidates"] if c["id"] in chosen):
        return None
    plan["风险"].append("大小年")
    warning = RISK_WARNINGS["大小年"][0].format(ids=plan["志愿"][0]["id"])
    return _rebuild(answer, plan, warnings=split_sections(answer)["风险提示"] + warning)


def wrong_profile(answer: str, truth: dict, rng: random.Random) -> str:
    """Restate the student with another province and score (the echo a small model gets wrong); a student
    who stated a 位次 and no score gets another province only."""
    province = rng.choice([p for p in PROVINCE_NAMES if p != truth["province"]])
    if truth["score"] is None:
        return _rebuild(answer, analysis=f"{province}{truth['year']}{truth['track']}，位次{truth['rank']}。")
    score = truth["score"] + rng.choice((-200, -100, 100)) if truth["score"] > 250 else truth["score"] + 100
    body = f"{province}{truth['year']}{truth['track']}{score}分，位次{truth['rank']}。"
    return _rebuild(answer, analysis=body)


def broken_json(answer: str, truth: dict, rng: random.Random) -> str:
    plan_text = compact_json(parse_plan(answer))
    return answer.replace(plan_text, plan_text[: rng.randrange(10, len(plan_text) - 5)])


def missing_warnings(answer: str, truth: dict, rng: random.Random) -> str:
    return answer.split("【风险提示】")[0].rstrip()


def fewer_risks(answer: str, truth: dict, rng: random.Random) -> str | None:
    plan = parse_plan(answer)
    if len(plan["风险"]) < 2:
        return None
    plan["风险"] = ["滑档"]
    return _rebuild(answer, plan, warnings=RISK_WARNINGS["滑档"][0])


def generic_strategy(answer: str, truth: dict, rng: random.Random) -> str | None:
    if not (truth["wish_field"] or truth["wish_city"]):
        return None
    return _rebuild(answer, strategy=rng.choice(GENERIC_STRATEGIES))


HARD_PERTURBATIONS: dict[str, Perturbation] = {
    "wrong_tier": wrong_tier, "missing_safety": missing_safety, "wrong_rank_digits": wrong_rank_digits,
    "wrong_cited_rank": wrong_cited_rank, "include_misfit": include_misfit, "misordered": misordered,
    "nonexistent_choice": nonexistent_choice, "unfounded_volatility": unfounded_volatility,
    "broken_json": broken_json, "missing_warnings": missing_warnings, "wrong_profile": wrong_profile,
}
SOFT_PERTURBATIONS: dict[str, Perturbation] = {"fewer_risks": fewer_risks, "generic_strategy": generic_strategy}
PERTURBATIONS: dict[str, Perturbation] = {**HARD_PERTURBATIONS, **SOFT_PERTURBATIONS}
