"""Rules as guardrail, TRL reward functions and metrics, with hand-derived expectations.

The toy vertical (conftest.py) has mentions_rank (weight 2), short_enough (weight 1, half marks when
failing) and no_boom (weight 0.5, raises on "boom"). The four samples below give, per rule:

    sample                      mentions_rank   short_enough   no_boom
    1 "rank 3."   truth rank 3      1.0 pass       1.0 pass      1.0 pass
    2 long, says rank 5, rank 3     0.0 fail       0.5 fail      1.0 pass
    3 "boom"      no rank           None skip      1.0 pass      None ERROR
    4 "ok"        no rank           None skip      1.0 pass      1.0 pass
"""

from __future__ import annotations

import math
import pickle

import pytest

from core_training.contract import Rule, RuleResult
from core_training.rewards import (
    RuleReward,
    all_passed,
    apply_rule,
    check,
    completion_text,
    decode_example_row,
    encode_example_columns,
    is_error,
    reward_functions,
    score_responses,
)

RESPONSES = ["rank 3.", "I think it is rank 5 but it is long", "boom", "ok"]
EXAMPLES = [
    {"id": "e1", "truth": {"rank": 3}},
    {"id": "e2", "truth": {"rank": 3}},
    {"id": "e3", "truth": {}},
    {"id": "e4", "truth": {}},
]


def echo_rule(response: str, example: dict) -> RuleResult:
    return RuleResult(1.0, True, f"{example['id']}:{response}")


@pytest.mark.parametrize(
    ("fn", "expected"),
    [
        (lambda r, ex: RuleResult.ok(), RuleResult(1.0, True, "ok")),
        (lambda r, ex: RuleResult.skip("n/a"), RuleResult(None, True, "n/a")),
        (lambda r, ex: ex["missing"], RuleResult(None, False, "rule raised KeyError: 'missing'")),
        (lambda r, ex: True, RuleResult(None, False, "rule returned bool, not RuleResult")),
        (lambda r, ex: RuleResult(1.5, True, "x"),
         RuleResult(None, False, "rule raised ValueError: RuleResult(score=1.5): score must be in [0, 1] or None")),
        (lambda r, ex: RuleResult(0.75, True, "x"),
         RuleResult(None, False, "rule raised ValueError: RuleResult(score=0.75, passed=True): passed must be True "
                                 "exactly when score == 1.0")),
        (lambda r, ex: RuleResult.fail("x", score=1.0),
         RuleResult(None, False, "rule raised ValueError: RuleResult(score=1.0, passed=False): passed must be True "
                                 "exactly when score == 1.0")),
    ],
)
def test_apply_rule_never_raises(fn, expected):
    assert apply_rule(Rule("r", fn), "text", {}) == expected


@pytest.mark.parametrize("score", [0.0, 0.25, 0.999, 1.0])
def test_passed_means_score_one_in_reward_metric_and_badge(score):
    """One definition of "passed": the reward (score), the metric (pass rate) and the badge (passed) agree."""
    from core_training.rewards import gate_on_rules

    rule = Rule("graded", lambda r, ex: RuleResult(score, score == 1.0, "graded"))
    result = apply_rule(rule, "x", {})
    assert result.passed == (result.score == 1.0)
    import torch

    _, gated = gate_on_rules(torch.tensor([[0.0, result.score]]))  # the rlhf gate reads the score
    assert bool(gated[0]) == (not result.passed)


def test_check_and_all_passed(toy_vertical):
    results = [check(toy_vertical, r, ex) for r, ex in zip(RESPONSES, EXAMPLES)]
    assert [all_passed(r) for r in results] == [True, False, False, True]
    assert results[2]["no_boom"] == RuleResult(None, False, "rule raised ValueError: boom found")
    assert is_error(results[2]["no_boom"]) and not is_error(results[2]["mentions_rank"])


def test_score_responses_hand_derived(toy_vertical):
    metrics = score_responses(toy_vertical, RESPONSES, EXAMPLES)
    expected = {
        "rule/mentions_rank": 1 / 2,  # applies to samples 1 and 2
        "rule/short_enough": 3 / 4,
        "rule/no_boom": 3 / 4,  # the error in sample 3 counts as a failure
        "all_rules_pass": 2 / 4,
        "rule_errors": 1,
        "mean_reward": (0.5 + 0.875 + 1.0) / 3,  # rule means over non-None scores
    }
    assert {k: v for k, v in metrics.items() if not k.endswith(("/ci_low", "/ci_high"))} == pytest.approx(expected)
    for key in ("all_rules_pass", "rule/short_enough"):
        assert metrics[f"{key}/ci_low"] <= metrics[key] <= metrics[f"{key}/ci_high"]
    assert metrics["all_rules_pass/ci_low"] < metrics["all_rules_pass/ci_high"]  # 2 of 4 pass: a wide interval


def test_held_out_rules_are_measured_never_rewarded(toy_vertical):
    """A held-out rule has its own pass rate and its own ``held_out_rules_pass``, stays out of
    ``all_rules_pass`` and ``mean_reward``, and trains with weight 0 (TRL still logs it on rollouts)."""
    from dataclasses import replace

    from core_training.rewards import gate_on_rules

    says_ok = Rule("says_ok", lambda r, ex: RuleResult.ok() if "ok" in r else RuleResult.fail("no ok"), held_out=True)
    vertical = replace(toy_vertical, rules=(*toy_vertical.rules, says_ok))
    metrics = score_responses(vertical, RESPONSES, EXAMPLES)
    assert metrics["rule/says_ok"] == metrics["held_out_rules_pass"] == 1 / 4
    assert metrics["all_rules_pass"] == 2 / 4 and metrics["mean_reward"] == pytest.approx((0.5 + 0.875 + 1.0) / 3)
    assert "held_out_rules_pass" not in score_responses(toy_vertical, RESPONSES, EXAMPLES)
    funcs, weights = reward_functions(vertical, weight=2.0)
    assert [f.__name__ for f in funcs][-1] == "toy/says_ok" and weights == [4.0, 2.0, 1.0, 0.0]
    import torch

    rewards = torch.tensor([[5.0, 1.0, 1.0, 1.0, 0.0]])  # every training rule passes, the held-out one fails
    assert not gate_on_rules(rewards, measured_only=1)[1][0] and gate_on_rules(rewards)[1][0]


def test_score_responses_rule_that_never_applies_is_nan(toy_vertical):
    metrics = score_responses(toy_vertical, ["ok"], [{"id": "e", "truth": {}}])
    assert math.isnan(metrics["rule/mentions_rank"]) and metrics["mean_reward"] == 1.0


def test_score_responses_length_mismatch(toy_vertical):
    with pytest.raises(ValueError, match="2 responses but 1 examples"):
        score_responses(toy_vertical, ["a", "b"], EXAMPLES[:1])


def test_columns_round_trip():
    truth = {"省": "浙江", "rank": [1, 2]}
    example = {"id": "x", "messages": [{"role": "user", "content": "分数?"}], "truth": truth}
    columns = encode_example_columns(example)
    assert columns["truth"] == '{"rank": [1, 2], "省": "浙江"}' and example["truth"] is truth  # input untouched
    assert decode_example_row(columns) == example


def test_decode_rejects_truth_that_is_not_json():
    with pytest.raises(ValueError, match="truth column of row 'x' is not JSON"):
        decode_example_row({"id": "x", "truth": "plain text"})


def test_decode_uses_prompt_turns_when_messages_column_is_absent():
    prompt = [{"role": "system", "content": "sys"}, {"role": "user", "content": "q"}]
    assert decode_example_row({"truth": "{}"}, prompt) == {"truth": {}, "messages": [{"role": "user", "content": "q"}]}
    assert "messages" not in decode_example_row({"truth": "{}"}, "a plain prompt")


@pytest.mark.parametrize(
    ("completion", "text"),
    [
        ("plain", "plain"),
        ([{"role": "assistant", "content": "chat"}], "chat"),
        ([{"role": "assistant", "content": [{"type": "text", "text": "pa"}, {"type": "text", "text": "rt"}]}], "part"),
    ],
)
def test_completion_text(completion, text):
    assert completion_text(completion) == text


def _trl_kwargs(completions, logged):
    """What GRPOTrainer passes: prompts, completions, ids, every dataset column, and helpers."""
    rows = [encode_example_columns(ex) for ex in EXAMPLES]
    return dict(
        prompts=[[{"role": "user", "content": f"q{i}"}] for i in range(len(rows))],
        completions=completions,
        completion_ids=[[1, 2]] * len(rows),
        id=[r["id"] for r in rows],
        truth=[r["truth"] for r in rows],
        trainer_state=object(),
        log_extra=lambda column, values: None,
        log_metric=lambda name, value: logged.append((name, value)),
    )


def test_reward_functions_hand_derived(toy_vertical):
    funcs, weights = reward_functions(toy_vertical, weight=0.5)
    assert [f.__name__ for f in funcs] == ["toy/mentions_rank", "toy/short_enough", "toy/no_boom"]
    assert weights == [1.0, 0.5, 0.25]
    logged: list = []
    conversational = [[{"role": "assistant", "content": r}] for r in RESPONSES]
    outputs = [f(**_trl_kwargs(conversational, logged)) for f in funcs]
    assert outputs == [[1.0, 0.0, None, None], [1.0, 0.5, 1.0, 1.0], [1.0, 1.0, None, 1.0]]
    assert ("rule_errors/toy/no_boom", 1.0) in logged
    assert [f(**_trl_kwargs(RESPONSES, [])) for f in funcs] == outputs  # plain-string completions


def test_reward_function_rebuilds_each_row():
    seen = []
    fn = RuleReward("v", Rule("record", lambda r, ex: seen.append(ex) or RuleResult.ok()))
    fn(**_trl_kwargs(RESPONSES, []))
    assert seen[1] == {"id": "e2", "truth": {"rank": 3}, "messages": [{"role": "user", "content": "q1"}]}


def test_reward_function_pickles_when_its_rule_does():
    fn = pickle.loads(pickle.dumps(RuleReward("v", Rule("echo", echo_rule))))
    assert fn.__name__ == "v/echo" and fn(["a"], id=["e"]) == [1.0]



NAN = float("nan")


@pytest.mark.parametrize("rows, expected_rm, expected_gated", [
    # every rule passes (or does not apply): the reward model's scores stand
    ([[0.5, 1.0, NAN], [2.0, 1.0, 1.0]], [0.5, 2.0], [False, False]),
    # the best-scored completion broke a rule: it drops to the batch's lowest reward-model score
    ([[3.0, 0.0, 1.0], [1.0, 1.0, 1.0], [-2.0, 1.0, NAN]], [-2.0, 1.0, -2.0], [True, False, False]),
    # a partial rule score (0.5) is a failure too
    ([[1.0, 0.5], [0.0, 1.0]], [0.0, 0.0], [True, False]),
])
def test_gate_on_rules_floors_rule_breakers(rows, expected_rm, expected_gated):
    import torch

    from core_training.rewards import gate_on_rules

    table = torch.tensor(rows)
    out, gated = gate_on_rules(table)
    assert out[:, 0].tolist() == expected_rm
    assert gated.tolist() == expected_gated
    assert torch.equal(torch.nan_to_num(out[:, 1:], nan=-9), torch.nan_to_num(table[:, 1:], nan=-9))  # rules untouched
