"""Soft qualities a panel of car advisors judges, each scored in [0, 1].

* ``accuracy``: cited values, refs, comparison winners and recommended trims are right;
* ``clarity``: a short 结论 without filler that names each cited 项, in a short answer;
* ``directness``: the 结论 opens with the answer (the trim id, the winner, 推荐…), not a greeting;
* ``use_case_relevance``: spec/compare cite exactly what was asked (and a comparison names its winner);
  a recommendation cites the use case's 项, speaks to the use case and picks the best fitting trims.

>>> from verticals.auto.demo import RECOMMEND_ANSWER, RECOMMEND_EXAMPLE
>>> rubric(RECOMMEND_ANSWER, RECOMMEND_EXAMPLE)
{'accuracy': 1.0, 'clarity': 1.0, 'directness': 1.0, 'use_case_relevance': 1.0}
>>> from verticals.auto.experts import write_gold_answer
>>> rubric(write_gold_answer(RECOMMEND_EXAMPLE["truth"], "笼统"), RECOMMEND_EXAMPLE)["use_case_relevance"]
0.3
"""

from __future__ import annotations

import re

from core_training.contract import Example
from verticals.auto.answer import AnswerError, all_refs, parse_answer, resolve_in_graph, split_sections
from verticals.auto.citations import value_problem
from verticals.auto.rules import comparison_direction_correct, recommendation_within_budget
from verticals.auto.vocab import PREDICATES, USE_WORDS

RUBRIC_DIMENSIONS = ("accuracy", "clarity", "directness", "use_case_relevance")
FILLERS = ("您好", "根据已知事实", "供您参考", "供参考", "欢迎", "首先", "总的来说", "综上所述", "希望对您有帮助")
CONCLUSION_CHARS = (6, 60)
MAX_ANSWER_CHARS = 220
PREAMBLE_CHARS = 12  # a greeting this long before the answer leaves no directness


def rubric(response: str, example: Example) -> dict[str, float]:
    """Score ``response`` on every dimension of :data:`RUBRIC_DIMENSIONS` (0 where nothing parses)."""
    try:
        obj = parse_answer(response)
    except AnswerError:
        return {name: 0.0 for name in RUBRIC_DIMENSIONS}
    truth, prose = example["truth"], split_sections(response).get("结论", "")
    return {
        "accuracy": accuracy(response, obj, example),
        "clarity": clarity(response, obj, prose),
        "directness": directness(prose, truth),
        "use_case_relevance": use_case_relevance(obj, prose, truth),
    }


def accuracy(response: str, obj: dict, example: Example) -> float:
    """Share of right facts: each cited value, each ref, each comparison winner, each recommendation."""
    truth, candidates = example["truth"], example["truth"]["candidates"]
    right = [resolve_in_graph(r, candidates) is not None for r in all_refs(obj)]
    for item in obj["参数"]:
        for key, value in item["值"].items():
            found = resolve_in_graph(key, candidates)
            right.append(found is not None and value_problem(item, key, value, found) is None)
    for rule in (comparison_direction_correct, recommendation_within_budget):
        result = rule(response, example)
        if result.score is not None:
            right.append(result.passed)
    if truth["type"] == "recommend":
        picks = [resolve_in_graph(r, candidates) for r in obj["车型"]]
        right += [p is not None and p["energy"] in truth["energies"] and truth["body"] in (None, p["body"])
                  for p in picks]
    return round(sum(right) / len(right), 3) if right else 0.0


def clarity(response: str, obj: dict, prose: str) -> float:
    """A 结论 of readable length (0.25), no filler (0.25), each cited 项 named (0.25), short and unrepeated (0.25)."""
    low, high = CONCLUSION_CHARS
    score = 0.25 if low <= len(prose) <= high else 0.0
    score += 0.25 if not any(f in response for f in FILLERS) else 0.0
    named = [item["项"] in prose or (item["项"] == "指导价" and ("万" in prose or "预算" in prose)) for item in obj["参数"]]
    score += 0.25 if all(named) else 0.0
    sentences = [s for s in re.split(r"[。；]", prose) if s]
    score += 0.25 if len(response) <= MAX_ANSWER_CHARS and len(sentences) == len(set(sentences)) else 0.0
    return round(score, 3)


def directness(prose: str, truth: dict) -> float:
    """1 when the 结论 opens with the answer; less per character of preamble; ×0.6 when a comparison's
    winner is not the first trim named."""
    starts = [i for i in (prose.find("["), prose.find("推荐"), prose.find("预算内没有")) if i >= 0]
    preamble = min(starts) if starts else len(prose)
    score = max(0.0, 1 - preamble / PREAMBLE_CHARS)
    winners = [row["winner"] for row in truth.get("comparisons", []) if row["winner"]]
    first = re.search(r"\[(\d+)\]", prose)
    if winners and first and int(first.group(1)) != winners[0]:
        score *= 0.6
    return round(score, 3)


def use_case_relevance(obj: dict, prose: str, truth: dict) -> float:
    """How well the answer sticks to what was asked (see the module docstring)."""
    cited = {item["项"] for item in obj["参数"]}
    if truth["type"] == "recommend":
        if not truth["recommend"]:
            return 1.0 if not obj["车型"] else 0.0
        metric_cited = truth["metric"] == "指导价" or truth["metric"] in cited
        words = dict(USE_WORDS).get(truth["use"], ())
        use_named = truth["use"] is None or any(w in prose for w in words)
        picks = obj["车型"]
        best = sum(p in truth["recommend"] for p in picks) / len(picks) if picks else 0.0
        return round(0.4 * metric_cited + 0.3 * use_named + 0.3 * best, 3)
    asked = set(truth["items"])
    overlap = len(asked & cited) / len(asked | cited) if asked | cited else 1.0
    if truth["type"] == "spec":
        return round(overlap, 3)
    verdicts = [_winner_stated(row, prose) for row in truth["comparisons"] if row["winner"]]
    return round(0.7 * overlap + 0.3 * (all(verdicts) if verdicts else 1.0), 3)


def _winner_stated(row: dict, prose: str) -> bool:
    predicate = PREDICATES[(row["项"], row["better"])]
    return f"[{row['winner']}]{predicate}" in prose
