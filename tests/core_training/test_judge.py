"""Simulated annotators and the held-out judge, with hand-derived scores on the toy vertical.

Toy rubric: clarity = 1 if the response ends with "." else 0.5; empathy = 1 if it says "sorry".
Rules (weights): mentions_rank 2, short_enough 1, no_boom 0.5 (raises on "boom": counts as failed).
"""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from core_training.judge import (SimulatedAnnotator, make_judge, make_panel, majority_preference, sign_test_p,
                                 stable_seed, verdict_counts, win_rate)

REPO = Path(__file__).resolve().parents[2]
RANK3 = {"id": "e1", "truth": {"rank": 3}}
NO_RANK = {"id": "e2", "truth": {}}


@pytest.fixture
def annotator(toy_vertical) -> SimulatedAnnotator:
    weights = {"clarity": 3.0, "empathy": 1.0}
    return SimulatedAnnotator("a", weights, noise=0.0, strictness=0.4, seed=0, vertical=toy_vertical)


@pytest.mark.parametrize(
    ("response", "example", "expected"),
    [
        ("sorry, rank 3.", RANK3, (3 * 1 + 1 * 1) / 4),  # every rule passes: no penalty
        ("rank 5.", RANK3, 3 / 4 - 0.4 * 2 / 3.5),  # fails mentions_rank: 2 of 3.5 rule weight
        ("boom", NO_RANK, 1.5 / 4 - 0.4 * 0.5 / 1.5),  # mentions_rank skips; no_boom errors: 0.5 of 1.5
        ("ok", NO_RANK, 1.5 / 4),
    ],
)
def test_score_hand_derived(annotator, response, example, expected):
    assert annotator.score(response, example) == pytest.approx(expected)


def test_prefer(annotator):
    assert annotator.prefer("sorry, rank 3.", "rank 5.", RANK3) == "a"
    assert annotator.prefer("rank 5.", "sorry, rank 3.", RANK3) == "b"
    assert annotator.prefer("ok", "fine", NO_RANK) == "tie"  # equal scores
    assert annotator.prefer("sorry, rank 3.", "rank 3.", RANK3) == "a"  # 1.0 vs 0.75
    assert replace(annotator, tie_margin=0.5).prefer("sorry, rank 3.", "rank 3.", RANK3) == "tie"


def test_noise_is_seeded_by_text_not_by_hash(annotator):
    noisy = replace(annotator, noise=0.1, seed=7)
    expected = 1.0 + 0.1 * random.Random(stable_seed(7, "e1", "sorry, rank 3.")).gauss(0.0, 1.0)
    assert noisy.score("sorry, rank 3.", RANK3) == pytest.approx(expected)
    assert noisy.score("sorry, rank 3.", RANK3) != replace(noisy, seed=8).score("sorry, rank 3.", RANK3)


def test_stable_seed_is_the_same_in_another_process():
    code = "from core_training.judge import stable_seed; print(stable_seed(7, 'e1', '答案'))"
    env = {"PYTHONHASHSEED": "123", "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert int(out.stdout) == stable_seed(7, "e1", "答案")


def test_rubric_missing_a_dimension_is_an_error(annotator):
    with pytest.raises(ValueError, match=r"toy rubric gave no score for \['tone'\]"):
        replace(annotator, weights={"tone": 1.0}).score("x", NO_RANK)


@pytest.mark.parametrize("weights", [{}, {"clarity": 0.0}, {"clarity": -1.0, "empathy": 2.0}])
def test_invalid_weights(annotator, weights):
    with pytest.raises(ValueError, match="weights must be non-negative"):
        replace(annotator, weights=weights)


def test_panel_members_differ_and_are_reproducible(toy_vertical):
    panel = make_panel(toy_vertical, n=3, seed=0)
    assert len({a.name for a in panel}) == 3
    assert len({tuple(a.weights.values()) for a in panel}) == 3 and len({a.noise for a in panel}) == 3
    assert [a.strictness for a in panel] == sorted(a.strictness for a in panel)  # lenient to strict
    assert all(a.noise > 0 and set(a.weights) == {"clarity", "empathy"} for a in panel)
    assert make_panel(toy_vertical, n=3, seed=0) == panel and make_panel(toy_vertical, n=3, seed=1) != panel


def test_judge_is_noiseless_distinct_from_panel_and_reproducible(toy_vertical):
    judge = make_judge(toy_vertical)
    assert judge.noise == 0.0 and judge == make_judge(toy_vertical, seed=1234)
    assert all(judge.weights != a.weights for a in make_panel(toy_vertical, seed=1234))
    assert make_judge(toy_vertical, seed=1) != judge


def test_majority_preference(annotator):
    lenient = replace(annotator, strictness=0.0, weights={"clarity": 1.0, "empathy": 0.0})
    panel = [annotator, annotator, lenient]
    assert majority_preference(panel, "sorry, rank 3.", "rank 5.", RANK3) == "a"  # lenient: 1.0 vs 1.0 -> tie
    assert majority_preference([annotator, lenient], "ok.", "ok", NO_RANK) == "a"
    empathic = replace(annotator, weights={"empathy": 1.0})
    assert majority_preference([annotator, empathic], "ok.", "sorry", NO_RANK) == "tie"  # one vote each


def test_win_rate_hand_derived(annotator):
    new = ["sorry, rank 3.", "ok", "rank 5."]
    old = ["rank 5.", "fine", "sorry, rank 3."]
    assert win_rate(annotator, new, old, [RANK3, NO_RANK, RANK3]) == pytest.approx((1 + 0.5) / 3)  # win, tie, loss
    assert win_rate(annotator, old[:1], new[:1], [RANK3]) == 0.0
    with pytest.raises(ValueError, match="equal non-zero lengths"):
        win_rate(annotator, new, old[:2], [RANK3] * 3)


def test_verdict_counts_split_the_win_rate(annotator):
    new = ["sorry, rank 3.", "ok", "rank 5."]
    old = ["rank 5.", "fine", "sorry, rank 3."]
    assert verdict_counts(annotator, new, old, [RANK3, NO_RANK, RANK3]) == {"wins": 1, "losses": 1, "ties": 1}
    assert verdict_counts(annotator, new, new, [RANK3, NO_RANK, RANK3]) == {"wins": 0, "losses": 0, "ties": 3}
    with pytest.raises(ValueError, match="equal non-zero lengths"):
        verdict_counts(annotator, new, old, [RANK3])


def _brute_force_sign_test(wins: int, losses: int) -> float:
    """P(a split at least as lopsided as this one) over all 2**n win/loss sequences of a fair coin."""
    n = wins + losses
    extreme = abs(wins - losses)
    hits = sum(abs(2 * bin(seq).count("1") - n) >= extreme for seq in range(2**n))
    return hits / 2**n


@pytest.mark.parametrize("wins, losses", [(0, 0), (1, 0), (3, 0), (2, 2), (5, 1), (1, 7), (4, 12), (9, 7)])
def test_sign_test_is_the_exact_binomial_tail(wins, losses):
    p = sign_test_p({"wins": wins, "losses": losses, "ties": 11})
    assert p == pytest.approx(_brute_force_sign_test(wins, losses))
    assert p == sign_test_p({"wins": losses, "losses": wins, "ties": 0})  # symmetric, ties ignored


def test_sign_test_needs_a_lopsided_split():
    assert sign_test_p({"wins": 3, "losses": 0, "ties": 57}) == 0.25  # a published gaokao rlhf split: not significant
    assert sign_test_p({"wins": 12, "losses": 2, "ties": 46}) < 0.05 < sign_test_p({"wins": 9, "losses": 4, "ties": 47})
