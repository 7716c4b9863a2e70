"""Simulated expert annotators: the panel that labels preference pairs, and a held-out judge.

Both are built from the vertical's ``rubric`` (soft qualities, each dimension in [0, 1]) and its
rules (hard constraints). An annotator's score is its weighted rubric mean, minus ``strictness``
times the weighted fraction of applicable rules the response fails, plus seeded Gaussian noise::

    score = sum_d(w_d * rubric_d) / sum_d(w_d)
            - strictness * failed_rule_weight / applicable_rule_weight
            + noise * N(0, 1)

The noise is drawn from ``random.Random`` seeded by sha256 of (seed, example id, response), so it is
reproducible across processes (no reliance on ``hash()``). The panel (:func:`make_panel`) and the
judge (:func:`make_judge`) draw their weights from separate seeded streams, and the judge has no
noise: a policy trained on the panel's pairs is scored by an annotator it never saw.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from typing import Literal, Mapping, Sequence

from core_training.contract import Example, Vertical
from core_training.rewards import applies, check

Preference = Literal["a", "b", "tie"]


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from ``parts`` that is the same in every process (unlike ``hash()``).

    >>> stable_seed(1, "x") == stable_seed(1, "x") != stable_seed(2, "x")
    True
    """
    text = "\x1f".join(json.dumps(p, sort_keys=True, ensure_ascii=False, default=str) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def _example_key(example: Example) -> object:
    return example.get("id") or example.get("messages") or ""


def rubric_scores(vertical: Vertical, response: str, example: Example, dimensions) -> Mapping[str, float]:
    """``vertical.rubric(response, example)``, checked to score every one of ``dimensions``."""
    rubric = vertical.rubric(response, example)
    missing = [d for d in dimensions if d not in rubric]
    if missing:
        raise ValueError(f"{vertical.name} rubric gave no score for {missing}; it gave {sorted(rubric)}")
    return rubric


@dataclass(frozen=True)
class SimulatedAnnotator:
    """One simulated expert.

    Attributes:
        name: shown in logs and data cards.
        weights: rubric dimension -> weight (>= 0, not all zero).
        noise: standard deviation of the per-response Gaussian noise.
        strictness: how many rubric points a response loses for failing every applicable rule.
        seed: seeds the noise.
        vertical: supplies ``rubric`` and ``rules``.
        tie_margin: ``prefer`` calls a tie when the scores differ by less than this.
    """

    name: str
    weights: Mapping[str, float]
    noise: float
    strictness: float
    seed: int
    vertical: Vertical
    tie_margin: float = 0.02

    def __post_init__(self) -> None:
        if not self.weights or min(self.weights.values()) < 0 or sum(self.weights.values()) <= 0:
            raise ValueError(f"{self.name}: weights must be non-negative and not all zero, got {dict(self.weights)}")
        if self.noise < 0 or self.tie_margin < 0:
            raise ValueError(f"{self.name}: noise and tie_margin must be >= 0")

    def rubric_score(self, response: str, example: Example) -> float:
        """The weighted mean of the rubric dimensions, in [0, 1]."""
        rubric = rubric_scores(self.vertical, response, example, self.weights)
        total = sum(self.weights.values())
        return sum(w * float(rubric[d]) for d, w in self.weights.items()) / total

    def rule_failure(self, response: str, example: Example) -> float:
        """The rule-weighted fraction of applicable rules failed (errors count as failures), in [0, 1].

        Only the reward rules count: a held-out rule (``Rule.held_out``) must not shape preference data either.
        """
        weights = {rule.name: rule.weight for rule in self.vertical.reward_rules}
        results = check(self.vertical, response, example)
        applicable = {n: r for n, r in results.items() if applies(r) and n in weights}
        total = sum(weights[n] for n in applicable)
        return sum(weights[n] for n, r in applicable.items() if not r.passed) / total if total else 0.0

    def score(self, response: str, example: Example) -> float:
        """Rubric score minus the strictness-scaled rule penalty, plus seeded noise."""
        value = self.rubric_score(response, example) - self.strictness * self.rule_failure(response, example)
        if self.noise:
            rng = random.Random(stable_seed(self.seed, _example_key(example), response))
            value += self.noise * rng.gauss(0.0, 1.0)
        return value

    def prefer(self, a: str, b: str, example: Example) -> Preference:
        """``"a"`` or ``"b"``, whichever scores higher, or ``"tie"`` within ``tie_margin``."""
        delta = self.score(a, example) - self.score(b, example)
        if abs(delta) < self.tie_margin:
            return "tie"
        return "a" if delta > 0 else "b"


def make_panel(vertical: Vertical, n: int = 3, seed: int = 0) -> list[SimulatedAnnotator]:
    """``n`` annotators with different rubric weights, noise and strictness (from lenient to strict)."""
    rng = random.Random(stable_seed("panel", vertical.name, seed))
    panel = []
    for i in range(n):
        spread = i / (n - 1) if n > 1 else 0.5
        panel.append(
            SimulatedAnnotator(
                name=f"{vertical.name}-annotator-{i}",
                weights={d: rng.uniform(0.2, 1.0) for d in vertical.rubric_dimensions},
                noise=rng.uniform(0.03, 0.10),
                strictness=0.3 + 0.5 * spread + rng.uniform(-0.05, 0.05),
                seed=rng.randrange(2**31),
                vertical=vertical,
            )
        )
    return panel


def make_judge(vertical: Vertical, seed: int = 1234) -> SimulatedAnnotator:
    """The held-out judge: its own weights (a separate seeded stream from the panel's) and no noise."""
    rng = random.Random(stable_seed("judge", vertical.name, seed))
    return SimulatedAnnotator(
        name=f"{vertical.name}-judge",
        weights={d: rng.uniform(0.5, 1.0) for d in vertical.rubric_dimensions},
        noise=0.0,
        strictness=0.5,
        seed=seed,
        vertical=vertical,
    )


def judge_for(vertical: Vertical, eval_cfg):
    """The held-out judge ``eval_cfg`` (an :class:`~core_training.config.EvalConfig`) names: the rubric judge
    (``judge=rubric``, offline) or an LLM behind an OpenAI-compatible endpoint (``judge=endpoint``)."""
    if eval_cfg.judge == "endpoint":
        from core_training.llm_judge import endpoint_judge

        return endpoint_judge(vertical, eval_cfg)
    return make_judge(vertical, eval_cfg.judge_seed)


def majority_preference(panel: Sequence[SimulatedAnnotator], a: str, b: str, example: Example) -> Preference:
    """The panel's majority vote between ``a`` and ``b``; equal votes are a tie."""
    votes = [annotator.prefer(a, b, example) for annotator in panel]
    a_votes, b_votes = votes.count("a"), votes.count("b")
    return "a" if a_votes > b_votes else "b" if b_votes > a_votes else "tie"


def verdict_counts(judge: SimulatedAnnotator, new: Sequence[str], old: Sequence[str],
                   examples: Sequence[Example]) -> dict[str, int]:
    """How often ``judge`` prefers ``new`` (wins), ``old`` (losses) or neither (ties), example by example.

    The counts say what a win rate hides: 0.5 from 30 wins and 30 losses is not 0.5 from 60 ties
    (an unchanged answer is always a tie).
    """
    if not (len(new) == len(old) == len(examples)) or not examples:
        raise ValueError(f"need equal non-zero lengths: {len(new)} new, {len(old)} old, {len(examples)} examples")
    verdicts = [judge.prefer(n, o, ex) for n, o, ex in zip(new, old, examples)]
    return {"wins": verdicts.count("a"), "losses": verdicts.count("b"), "ties": verdicts.count("tie")}


def win_rate(judge: SimulatedAnnotator, new: Sequence[str], old: Sequence[str], examples: Sequence[Example]) -> float:
    """``(wins + 0.5 * ties) / n`` of ``new`` over ``old`` responses to the same examples."""
    return rate_of(verdict_counts(judge, new, old, examples))


def rate_of(counts: Mapping[str, int]) -> float:
    """The win rate ``(wins + 0.5 * ties) / n`` of :func:`verdict_counts`.

    >>> rate_of({"wins": 4, "losses": 7, "ties": 49})
    0.475
    """
    return (counts["wins"] + 0.5 * counts["ties"]) / sum(counts.values())


def sign_test_p(counts: Mapping[str, int]) -> float:
    """Two-sided exact sign test of wins against losses (ties dropped): how surprising the split is
    if the new policy were no better and no worse than the old one.

    A win rate of 0.525 from 3-0-57 and one from 33-30-0 are both "above 0.5"; this says how much
    either means. With 60 items, a change needs a lopsided split to count.

    >>> sign_test_p({"wins": 3, "losses": 0, "ties": 57})
    0.25
    >>> round(sign_test_p({"wins": 4, "losses": 12, "ties": 44}), 4)
    0.0768
    >>> sign_test_p({"wins": 0, "losses": 0, "ties": 60})
    1.0
    """
    wins, losses = counts["wins"], counts["losses"]
    n = wins + losses
    tail = sum(math.comb(n, k) for k in range(min(wins, losses) + 1)) / 2**n
    return min(1.0, 2 * tail)
