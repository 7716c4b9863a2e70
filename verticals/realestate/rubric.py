"""Soft qualities a panel of senior brokers judges, each scored in [0, 1].

* ``accuracy``: a question covers every missing slot; a recommendation cites the fitting listings
  (all of them) with the right 总价/首付/月供/学区;
* ``needs_discovery``: asks when ambiguous and recommends when specific; a question echoes what is
  already known and does not ask about it again;
* ``clarity``: a warm opening, stated 按揭 terms (recommendations), a concise turn;
* ``fit_explanation``: each recommended listing gets its reason (学区 and metro); a question says why
  it asks.

>>> from verticals.realestate.brokers import write_turn
>>> from verticals.realestate.rules import demo
>>> ex, gold = demo("素质")
>>> rubric(gold, ex)
{'accuracy': 1.0, 'needs_discovery': 1.0, 'clarity': 1.0, 'fit_explanation': 1.0}
>>> rubric(write_turn(ex["truth"], "简洁"), ex)
{'accuracy': 1.0, 'needs_discovery': 1.0, 'clarity': 0.5, 'fit_explanation': 0.0}
"""

from __future__ import annotations

from core_training.contract import Example
from verticals.realestate.answer import (RecommendationError, TAG, has_recommendation, is_question,
                                         parse_recommendation, resolve)
from verticals.realestate.mortgage import TOLERANCE_YUAN, format_rate
from verticals.realestate.needs import SLOT_KEYWORDS, SLOTS

RUBRIC_DIMENSIONS = ("accuracy", "needs_discovery", "clarity", "fit_explanation")
GREETING_WORDS = ("您好", "好的", "明白", "理解", "感谢")
ASK_REASON_WORDS = ("差别", "筛", "确认", "方便", "以便")
MAX_QUESTION_CHARS = 70
MAX_RECOMMENDATION_CHARS = 260


def rubric(response: str, example: Example) -> dict[str, float]:
    """Score ``response`` on every dimension of :data:`RUBRIC_DIMENSIONS`."""
    if example["truth"]["missing"]:
        return _question_scores(response, example["truth"])
    return _recommendation_scores(response, example["truth"])


def _greets(text: str) -> bool:
    return any(text.startswith(word) for word in GREETING_WORDS)


def _question_scores(response: str, truth: dict) -> dict[str, float]:
    if has_recommendation(response):
        return {"accuracy": 0.0, "needs_discovery": 0.0, "clarity": 0.5, "fit_explanation": 0.0}
    missing = truth["missing"]
    asked = sum(all(word in response for word in SLOT_KEYWORDS[slot]) for slot in missing) / len(missing)
    known = [slot for slot in SLOTS if slot not in missing]
    reasked = any(all(word in response for word in SLOT_KEYWORDS[slot]) for slot in known if slot != "预算"
                  ) or ("预算" in known and "多少万" in response)
    echoed = _echoes_known(response, truth)
    return {
        "accuracy": round(asked * (1.0 if is_question(response) else 0.5), 3),
        "needs_discovery": 0.5 + 0.25 * echoed + 0.25 * (not reasked),
        "clarity": 0.4 + 0.3 * _greets(response) + 0.3 * (is_question(response) and len(response) <= MAX_QUESTION_CHARS),
        "fit_explanation": 1.0 if any(word in response for word in ASK_REASON_WORDS) else 0.5,
    }


def _echoes_known(response: str, truth: dict) -> bool:
    """Restates something the buyer already said (budget or activity); vacuously true if nothing is known."""
    needs = truth["needs"]
    said = [f"{needs['budget']}万"] if needs["budget"] is not None and "预算" not in truth["missing"] else []
    said += [needs["activity"]] if needs["activity"] and "特长" not in truth["missing"] else []
    return not said or any(word in response for word in said)


def _recommendation_scores(response: str, truth: dict) -> dict[str, float]:
    try:
        rec = parse_recommendation(response)
    except RecommendationError:
        return {name: 0.0 for name in RUBRIC_DIMENSIONS}
    fitting = [c for c in truth["candidates"] if c["fits"]]
    asks = "？" in response or "?" in response
    return {
        "accuracy": _accuracy(rec, truth, fitting),
        "needs_discovery": 0.3 if asks else 1.0,
        "clarity": _clarity(response, truth),
        "fit_explanation": _fit_explanation(response, rec, truth),
    }


def _accuracy(rec: dict, truth: dict, fitting: list[dict]) -> float:
    """Mean per-item correctness (fits, 总价, 首付, 月供, 学区) times the share of fitting listings cited."""
    if not rec["房源"]:
        return 0.0 if fitting else 1.0
    scores, cited_fitting = [], set()
    for item in rec["房源"]:
        c = resolve(item, truth["candidates"])
        if c is None:
            scores.append(0.0)
            continue
        right = [c["fits"], item["总价"] == c["total"], item["首付"] == c["down"],
                 abs(item["月供"] - c["monthly"]) <= TOLERANCE_YUAN, item["学区"] == c["school"]]
        scores.append(sum(right) / len(right))
        if c["fits"]:
            cited_fitting.add(c["id"])
    coverage = len(cited_fitting) / len(fitting) if fitting else 0.0
    return round(sum(scores) / len(scores) * coverage, 3)


def _clarity(response: str, truth: dict) -> float:
    t = truth["terms"]
    terms = (f"首付{t['down_percent']}%", f"{format_rate(t['rate_percent'])}%", f"{t['years']}年")
    states_terms = all(word in response for word in terms)
    return 0.3 + 0.2 * _greets(response) + 0.3 * states_terms + 0.2 * (len(response) <= MAX_RECOMMENDATION_CHARS)


def _fit_explanation(response: str, rec: dict, truth: dict) -> float:
    """Share of cited fitting listings whose reason names its 学区 and its metro access (or size)."""
    prose = response.split(TAG, 1)[1].split("}]}", 1)[-1]
    cited = [resolve(item, truth["candidates"]) for item in rec["房源"]]
    cited = [c for c in cited if c is not None and c["fits"]]
    if not cited:
        return 0.0
    explained = 0
    for c in cited:
        parts = [part.strip() for part in prose.replace("。", "；").split("；")]
        clause = next((part for part in parts if part.startswith(f"{c['id']}号")), "")
        explained += c["school"] in clause and any(w in clause for w in ("号线", "站", "平"))
    return round(explained / len(cited), 3)
