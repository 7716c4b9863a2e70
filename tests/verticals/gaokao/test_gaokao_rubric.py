"""The gaokao rubric: gold from the most complete expert scores 1 everywhere, weaker ones less."""

from __future__ import annotations

import pytest

from verticals.gaokao import VERTICAL
from verticals.gaokao.experts import write_gold_answer
from verticals.gaokao.perturb import PERTURBATIONS
from verticals.gaokao.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE


@pytest.fixture(scope="module")
def examples():
    return VERTICAL.load_chains()[:200]


def test_dimensions_are_bounded(examples):
    for e in examples:
        scores = rubric(e["answer"], e)
        assert tuple(scores) == RUBRIC_DIMENSIONS
        assert all(0.0 <= v <= 1.0 for v in scores.values())


def test_complete_expert_is_perfect(examples):
    for e in examples:
        assert set(rubric(write_gold_answer(e["truth"], "全面"), e).values()) == {1.0}


@pytest.mark.parametrize("style, dimension", [("简洁", "risk_warnings"), ("务实", "wish_fit"), ("简洁", "wish_fit")])
def test_weaker_experts_lose_where_expected(style, dimension):
    assert rubric(write_gold_answer(DEMO_EXAMPLE["truth"], style), DEMO_EXAMPLE)[dimension] < 1.0


def test_garbage_scores_zero():
    assert set(rubric("随便报吧", DEMO_EXAMPLE).values()) == {0.0}


@pytest.mark.parametrize("name, dimension", [
    ("include_misfit", "tier_completeness"), ("missing_safety", "tier_completeness"),
    ("wrong_tier", "accuracy"), ("wrong_cited_rank", "accuracy"), ("fewer_risks", "risk_warnings"),
    ("generic_strategy", "wish_fit"),
])
def test_perturbations_lower_their_dimension(name, dimension):
    import random
    worse = PERTURBATIONS[name](DEMO_ANSWER, DEMO_EXAMPLE["truth"], random.Random(0))
    assert rubric(worse, DEMO_EXAMPLE)[dimension] < rubric(DEMO_ANSWER, DEMO_EXAMPLE)[dimension]
