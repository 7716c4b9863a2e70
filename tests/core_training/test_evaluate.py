"""Rubric means reported beside the rule metrics, hand-derived on the toy vertical.

Toy rubric (conftest.py): clarity = 1 if the response ends with "." else 0.5; empathy = 1 if it says "sorry".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core_training.evaluate import rubric_means

RESPONSES = ["rank 3.", "sorry, rank 5", "boom", "ok"]
EXAMPLES = [{"id": f"e{i}", "truth": {"rank": 3}} for i in range(4)]


def test_rubric_means_hand_derived(toy_vertical):
    assert rubric_means(toy_vertical, RESPONSES, EXAMPLES) == pytest.approx(
        {"rubric/clarity": (1 + 0.5 + 0.5 + 0.5) / 4, "rubric/empathy": 1 / 4})


def test_rubric_means_of_nothing_is_empty(toy_vertical):
    assert rubric_means(toy_vertical, [], []) == {}


def test_rubric_means_reject_bad_input(toy_vertical):
    with pytest.raises(ValueError, match="2 responses but 1 examples"):
        rubric_means(toy_vertical, ["a", "b"], EXAMPLES[:1])
    lacking = replace(toy_vertical, rubric=lambda response, example: {"clarity": 1.0})
    with pytest.raises(ValueError, match=r"toy rubric gave no score for \['empathy'\]"):
        rubric_means(lacking, ["a"], EXAMPLES[:1])


def test_sampled_judge_ties_a_policy_with_itself_and_pairs_sample_by_sample(toy, tiny_base, monkeypatch):
    """The same policy against itself from the same seed: every sampled pair is identical, so all ties; and the
    judge sees sample i of one policy against sample i of the other, for k samples of every example."""
    import torch

    from core_training import judge as judge_module
    from core_training.evaluate import sampled_judge_counts
    from core_training.modeling import load_causal_lm, load_tokenizer

    policy = (load_causal_lm(tiny_base), load_tokenizer(tiny_base))
    examples = toy.load_eval_set()[:3]
    judge = judge_module.make_judge(toy)
    counts = sampled_judge_counts(judge, toy, examples, policy, policy, samples=2, max_new_tokens=12, batch_size=2)
    assert counts == {"wins": 0, "losses": 0, "ties": 6}

    seen = []
    monkeypatch.setattr(judge_module, "verdict_counts", lambda j, new, old, exs: seen.append((new, old, exs)) or {})
    torch.manual_seed(1)
    other = (load_causal_lm(tiny_base), policy[1])
    with torch.no_grad():
        for p in other[0].parameters():
            p.add_(0.5 * torch.randn_like(p))  # a different policy
    sampled_judge_counts(judge, toy, examples, other, policy, samples=2, max_new_tokens=12, batch_size=2)
    new, old, exs = seen[0]
    assert len(new) == len(old) == 6 and [e["id"] for e in exs] == [e["id"] for e in examples for _ in range(2)]
    assert new != old
