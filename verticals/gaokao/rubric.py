"""Soft qualities a 志愿填报 expert panel judges, each scored in [0, 1].

* ``accuracy``: the 位次 and each choice's cited rank and tier are right;
* ``tier_completeness``: every candidate whose 选科 fits is used, across all tiers, and no misfit;
* ``risk_warnings``: the relevant risks (see ``truth["relevant_risks"]``) are listed and explained;
* ``wish_fit``: the 填报策略 speaks to the student's wish (city / major);
* ``clarity``: sections in order, a short concrete strategy, one explained sentence per risk.

>>> from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE
>>> rubric(DEMO_ANSWER, DEMO_EXAMPLE)
{'accuracy': 1.0, 'tier_completeness': 1.0, 'risk_warnings': 1.0, 'wish_fit': 1.0, 'clarity': 1.0}
>>> from verticals.gaokao.experts import write_gold_answer
>>> rubric(write_gold_answer(DEMO_EXAMPLE["truth"], "简洁"), DEMO_EXAMPLE)["risk_warnings"]
0.5
"""

from __future__ import annotations

from core_training.contract import Example
from verticals.gaokao.answer import PlanError, parse_plan, resolve_choice, section_titles, split_sections
from verticals.gaokao.vocab import SECTIONS, tier_for_margin

RUBRIC_DIMENSIONS = ("accuracy", "tier_completeness", "risk_warnings", "wish_fit", "clarity")
MAX_ANSWER_CHARS = 400
STRATEGY_CHARS = (6, 40)


def rubric(response: str, example: Example) -> dict[str, float]:
    """Score ``response`` on every dimension of :data:`RUBRIC_DIMENSIONS` (0 where nothing parses)."""
    try:
        plan = parse_plan(response)
    except PlanError:
        return {name: 0.0 for name in RUBRIC_DIMENSIONS}
    truth, sections = example["truth"], split_sections(response)
    return {
        "accuracy": accuracy(plan, truth),
        "tier_completeness": tier_completeness(plan, truth),
        "risk_warnings": risk_coverage(plan, truth, sections.get("风险提示", "")),
        "wish_fit": wish_fit(truth, sections.get("填报策略", "")),
        "clarity": clarity(response, plan, sections),
    }


def accuracy(plan: dict, truth: dict) -> float:
    """Share of right facts: the 位次, then per choice its cited rank and its tier."""
    right = [plan["位次"] == truth["rank"]]
    for choice in plan["志愿"]:
        candidate = resolve_choice(choice, truth["candidates"])
        right.append(candidate is not None and choice["位次"] == candidate["avg_rank"])
        right.append(candidate is not None and choice["档"] == tier_for_margin(candidate["margin"]))
    return round(sum(right) / len(right), 3)


def tier_completeness(plan: dict, truth: dict) -> float:
    """70% coverage of fitting candidates, 30% coverage of their tiers, minus 0.5 per misfit chosen."""
    fitting = [c for c in truth["candidates"] if c["subject_ok"]]
    chosen = [resolve_choice(choice, truth["candidates"]) for choice in plan["志愿"]]
    chosen_ids = {c["id"] for c in chosen if c is not None}
    if not fitting:
        return 1.0 if not chosen_ids else 0.0
    covered = sum(c["id"] in chosen_ids for c in fitting) / len(fitting)
    tiers = {c["tier"] for c in fitting}
    tiers_used = {choice["档"] for choice in plan["志愿"]} & tiers
    misfits = sum(1 for c in chosen if c is not None and not c["subject_ok"])
    return round(max(0.0, 0.7 * covered + 0.3 * len(tiers_used) / len(tiers) - 0.5 * misfits), 3)


def risk_coverage(plan: dict, truth: dict, warnings: str) -> float:
    """Share of relevant risks listed and explained, minus 0.25 per listed risk that does not apply."""
    relevant = set(truth["relevant_risks"])
    listed = {risk for risk in plan["风险"] if risk in warnings}
    unfounded = set(plan["风险"]) - relevant - {"退档"}
    return round(max(0.0, len(relevant & listed) / len(relevant) - 0.25 * len(unfounded)), 3)


def wish_fit(truth: dict, strategy: str) -> float:
    """1 without a wish; else 0.2 plus 0.8 times the share of wishes the strategy mentions."""
    wishes = [w for w in (truth["wish_field"], truth["wish_city"]) if w]
    if not wishes:
        return 1.0
    return round(0.2 + 0.8 * sum(w in strategy for w in wishes) / len(wishes), 3)


def clarity(response: str, plan: dict, sections: dict[str, str]) -> float:
    """Sections in order (0.4), strategy of a readable length (0.2), risks as 风险：说明 (0.2), brevity (0.2)."""
    titles = [t for t in section_titles(response) if t in SECTIONS]
    score = 0.4 if titles == list(SECTIONS) else 0.0
    low, high = STRATEGY_CHARS
    score += 0.2 if low <= len(sections.get("填报策略", "")) <= high else 0.0
    warnings = sections.get("风险提示", "")
    score += 0.2 if plan["风险"] and all(f"{risk}：" in warnings for risk in plan["风险"]) else 0.0
    lines = [line for line in response.splitlines() if line.strip()]
    score += 0.2 if len(response) <= MAX_ANSWER_CHARS and len(lines) == len(set(lines)) else 0.0
    return round(score, 3)


def panel_score(response: str, example: Example, rules) -> float:
    """The simulated expert panel's overall judgement: mean rule pass rate (weighted) + mean rubric score."""
    results = [(rule.weight, rule.fn(response, example)) for rule in rules]
    applicable = [(w, r) for w, r in results if r.score is not None]
    rule_part = sum(w * r.passed for w, r in applicable) / sum(w for w, _ in applicable)
    scores = rubric(response, example)
    return round(rule_part + sum(scores.values()) / len(scores), 4)
