"""Shared fixtures for core tests: a toy vertical with three small rules, one of which can raise."""

from __future__ import annotations

import pytest

from core_training.contract import Rule, RuleResult, Vertical


def mentions_rank(response: str, example: dict) -> RuleResult:
    """Applies when the truth has a rank; passes when the response states it."""
    rank = example["truth"].get("rank")
    if rank is None:
        return RuleResult.skip("no rank asked")
    return RuleResult.ok() if str(rank) in response else RuleResult.fail(f"rank {rank} not mentioned")


def short_enough(response: str, example: dict) -> RuleResult:
    """Full marks up to 20 characters, half marks (a fail) beyond."""
    return RuleResult.ok() if len(response) <= 20 else RuleResult.fail("too long", score=0.5)


def no_boom(response: str, example: dict) -> RuleResult:
    """Raises on the word 'boom', to exercise error handling."""
    if "boom" in response:
        raise ValueError("boom found")
    return RuleResult.ok()


def toy_rubric(response: str, example: dict) -> dict[str, float]:
    return {"clarity": 1.0 if response.endswith(".") else 0.5, "empathy": 1.0 if "sorry" in response else 0.0}


def make_toy_vertical(name: str = "toy") -> Vertical:
    return Vertical(
        name=name,
        description="a toy vertical for core tests",
        system_prompt="You are a toy advisor.",
        rules=(
            Rule("mentions_rank", mentions_rank, weight=2.0),
            Rule("short_enough", short_enough, weight=1.0),
            Rule("no_boom", no_boom, weight=0.5),
        ),
        retrieve=lambda text: "",
        rubric=toy_rubric,
        rubric_dimensions=("clarity", "empathy"),
        load_graph=lambda: None,
        load_cpt_corpus=lambda: {"train": [], "eval": []},
        load_chains=lambda: [],
        load_rl_prompts=lambda: [],
        load_preferences=lambda: [],
        load_eval_set=lambda: [],
    )


@pytest.fixture
def toy_vertical() -> Vertical:
    return make_toy_vertical()
