"""Fault isolation of rules (core_training/rewards.py): a rule that raises or overruns its time budget fails for
that sample only (``None`` in RL, failed in evaluation), is counted per rule and logged with the answer,
and past ``rewards.max_rule_failure_rate`` the stage stops with one line naming the rule."""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pytest

from core_training.config import RewardsConfig
from core_training.contract import Rule, RuleResult
from core_training.rewards import RuleFailureError, RuleReward, apply_rule, is_error, score_responses


def raises_on_boom(response: str, example) -> RuleResult:
    if "boom" in response:
        raise ValueError("boom found")
    return RuleResult.ok()


def slow_on_wait(response: str, example) -> RuleResult:
    if "wait" in response:
        time.sleep(2.0)
    return RuleResult.ok()


def _call(fn: RuleReward, answers: list[str]) -> list:
    return fn(answers, prompts=None, id=[f"q{i}" for i in range(len(answers))])


def test_a_raising_rule_scores_none_for_that_sample_only_and_is_counted(caplog):
    fn = RuleReward("toy", Rule("raises_on_boom", raises_on_boom), RewardsConfig(min_rule_calls=100))
    with caplog.at_level(logging.WARNING, logger="core_training.rewards"):
        scores = _call(fn, ["fine", "boom " + "x" * 500, "also fine"])
    assert scores == [1.0, None, 1.0]
    assert fn.counts() == {"calls": 3, "failures": 1}
    logged = caplog.records[0].getMessage()
    assert "toy/raises_on_boom failed on example 'q1'" in logged and "boom found" in logged
    assert "boom " + "x" * 195 in logged and "x" * 300 not in logged  # the offending answer, truncated


def test_a_slow_rule_is_cut_at_its_budget():
    fn = RuleReward("toy", Rule("slow_on_wait", slow_on_wait), RewardsConfig(rule_time_budget_s=0.2, min_rule_calls=100))
    started = time.perf_counter()
    scores = _call(fn, ["wait", "quick"])
    assert time.perf_counter() - started < 1.5  # interrupted, not waited out
    assert scores == [None, 1.0] and fn.counts() == {"calls": 2, "failures": 1}


def test_a_budget_without_an_alarm_is_still_enforced_after_the_rule_returns():
    """Outside the main thread no alarm can interrupt the rule; its result is refused when it ran too long."""
    import threading

    out = []
    worker = threading.Thread(target=lambda: out.append(apply_rule(Rule("slow", slow_on_wait), "wait", {}, budget_s=0.1)))
    worker.start()
    worker.join()
    assert is_error(out[0]) and "time budget of 0.1 s" in out[0].reason


def test_the_time_budget_leaves_an_earlier_alarm_running():
    """pytest-timeout (and anyone else) may have an alarm set: the budget restores it afterwards."""
    import signal

    if not hasattr(signal, "setitimer"):
        pytest.skip("no interval timers here")
    previous = signal.signal(signal.SIGALRM, lambda *a: None)
    signal.setitimer(signal.ITIMER_REAL, 30.0)
    try:
        apply_rule(Rule("quick", lambda r, ex: RuleResult.ok()), "x", {}, budget_s=1.0)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25.0 < remaining <= 30.0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_evaluation_counts_a_raising_or_slow_rule_as_failed(toy_vertical, monkeypatch):
    vertical = replace(toy_vertical, rules=(Rule("raises_on_boom", raises_on_boom), Rule("slow_on_wait", slow_on_wait)))
    monkeypatch.setattr("core_training.rewards.DEFAULT_RULE_TIME_BUDGET_S", 0.2)  # evaluation uses the default budget
    metrics = score_responses(vertical, ["boom", "wait", "fine"], [{"truth": {}}] * 3)
    assert metrics["rule/raises_on_boom"] == pytest.approx(2 / 3)
    assert metrics["rule/slow_on_wait"] == pytest.approx(2 / 3)
    assert metrics["rule_errors"] == 2


def test_past_the_failure_rate_the_stage_stops_naming_the_rule():
    limits = RewardsConfig(max_rule_failure_rate=0.25, min_rule_calls=4)
    fn = RuleReward("toy", Rule("raises_on_boom", raises_on_boom), limits)
    assert _call(fn, ["boom", "fine"]) == [None, 1.0]  # 1 of 2: too few answers to judge yet
    with pytest.raises(RuleFailureError) as caught:
        _call(fn, ["fine", "boom"])  # 2 of 4 > 0.25
    message = str(caught.value)
    assert "rule toy/raises_on_boom failed on 2 of 4 answers" in message and "max_rule_failure_rate=0.25" in message
    assert "\n" not in message
    from core_training.cli import user_errors

    assert isinstance(caught.value, user_errors())  # the CLI prints it as one `vkit: error:` line, exit 2


def test_below_the_failure_rate_training_goes_on():
    fn = RuleReward("toy", Rule("raises_on_boom", raises_on_boom), RewardsConfig(max_rule_failure_rate=0.5, min_rule_calls=4))
    assert _call(fn, ["boom", "fine", "fine", "fine", "boom", "fine"]) == [None, 1.0, 1.0, 1.0, None, 1.0]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_stage_with_a_flaky_rule_trains_and_reports_the_failures(toy, tiny_base, tmp_path, read_metrics):
    """A real rlvr stage: the raising rule's samples score None, training finishes, the stage's health.json
    (and so report.md's Health section) counts the failures per rule."""
    import json

    from core_training.config import resolve_run_config
    from core_training.recipes import recipe
    from core_training.stage import StageContext

    def raises_on_odd_length(response: str, example) -> RuleResult:
        if len(response) % 2:
            raise ValueError("odd length")
        return RuleResult.ok()

    flaky = replace(toy, rules=(*toy.rules, Rule("raises_on_odd_length", raises_on_odd_length)))
    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1",
                                                            "rewards.max_rule_failure_rate=1.0"])
    ctx = StageContext(cfg=cfg, vertical=flaky, stage="rlvr", input_path=tiny_base, work_dir=tmp_path / ".work",
                       run_dir=tmp_path)
    recipe("rlvr").train(ctx)
    health = json.loads(ctx.extra["artifacts"]["health.json"])
    counts = health["rule_failures"]["toy/raises_on_odd_length"]
    assert 0 < counts["failures"] < counts["calls"]  # some answers failed, the others were scored
    assert health["rule_failures"]["toy/number_copied"]["failures"] == 0
    logged = [r for r in read_metrics(tmp_path, "rlvr") if "rule_errors/toy/raises_on_odd_length" in r]
    assert logged and sum(r["rule_errors/toy/raises_on_odd_length"] for r in logged) > 0
    from core_training.pipeline import rule_failure_metrics  # the counts a report.json stage row carries

    metrics = rule_failure_metrics(ctx.extra["artifacts"]["health.json"])
    assert metrics["train/rule_failures/toy/raises_on_odd_length"] == counts["failures"]
    assert metrics["train/rule_calls/toy/raises_on_odd_length"] == counts["calls"]
