"""A held-out rule never shapes the simulated panel's preferences (preference data is a reward source)."""

from __future__ import annotations

import dataclasses

from core_training.contract import Rule, RuleResult
from core_training.judge import make_panel


def _always_fails(response, example):
    """A held-out rule every answer fails.

    >>> _always_fails("答案：1", {}).passed
    False
    """
    return RuleResult.fail("never passes")


def test_held_out_rules_do_not_count_in_the_panel(toy):
    example = toy.load_eval_set()[0]
    with_held_out = dataclasses.replace(toy, rules=(*toy.rules, Rule("scope", _always_fails, 5.0, "x", held_out=True)))
    with_reward = dataclasses.replace(toy, rules=(*toy.rules, Rule("scope", _always_fails, 5.0, "x")))
    answer = example["answer"]
    assert all(a.rule_failure(answer, example) == 0.0 for a in make_panel(with_held_out))
    assert all(a.rule_failure(answer, example) > 0.0 for a in make_panel(with_reward))
