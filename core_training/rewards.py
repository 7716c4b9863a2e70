"""One rule, three uses: the app's guardrail, TRL reward functions, and evaluation metrics.

A vertical's rules are pure per-sample functions ``(response, example) -> RuleResult``. This module
runs them safely (:func:`apply_rule` never raises), turns them into batched TRL reward functions
(:func:`reward_functions`) and into metrics over a set of responses (:func:`score_responses`).

A result with ``score=None`` and ``passed=False`` means the rule itself failed (raised, or returned
something that is not a valid ``RuleResult``); it is counted as an error and as not passed.

>>> from core_training.contract import Rule, RuleResult
>>> def has_digit(response, example):
...     return RuleResult.ok() if any(c.isdigit() for c in response) else RuleResult.fail("no digit")
>>> apply_rule(Rule("has_digit", has_digit), "rank 42", {}).passed
True
>>> apply_rule(Rule("broken", lambda r, ex: 1 / 0), "x", {}).reason
'rule raised ZeroDivisionError: division by zero'

Fault isolation: a rule that raises, or overruns its time budget (``rewards.rule_time_budget_s``), fails
for that sample only: in RL it scores ``None`` (TRL leaves the sample out of that rule's reward), in
evaluation it counts as failed. :class:`RuleReward` counts the failures per rule, logs each with the
offending answer (truncated), and stops the stage with :class:`RuleFailureError` naming the rule once
the rule fails on more than ``rewards.max_rule_failure_rate`` of its answers.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Mapping, Sequence

from core_training.contract import Example, Rule, RuleResult, Vertical

logger = logging.getLogger(__name__)

# Keyword arguments TRL's GRPOTrainer passes to reward functions that are not dataset columns.
_TRL_NON_COLUMNS = frozenset(
    {"prompts", "completions", "completion_ids", "trainer_state", "log_extra", "log_metric", "environments"}
)


DEFAULT_RULE_TIME_BUDGET_S = 5.0  # RewardsConfig's default; evaluation and the app use it too


class RuleFailureError(RuntimeError):
    """A rule failed on more than the allowed share of its answers; the message names the rule."""


class _RuleTimeout(BaseException):
    """Raised inside a rule by the budget's alarm (a BaseException, so a rule's ``except Exception`` cannot
    swallow it)."""


_DEFAULT_BUDGET = object()


def apply_rule(rule: Rule, response: str, example: Example, budget_s: Any = _DEFAULT_BUDGET) -> RuleResult:
    """Run one rule; never raises. A raising, misbehaving or overrunning rule yields an error result.

    ``budget_s`` in seconds (None: no budget; left out: :data:`DEFAULT_RULE_TIME_BUDGET_S`) is enforced by an interval timer where the rule runs in a main thread
    on a platform that has one (the rule is interrupted), else checked after the rule returns.

    >>> import time
    >>> apply_rule(Rule("slow", lambda r, ex: time.sleep(1) or RuleResult.ok()), "x", {}, budget_s=0.05).reason
    'rule exceeded its time budget of 0.05 s'
    """
    budget_s = DEFAULT_RULE_TIME_BUDGET_S if budget_s is _DEFAULT_BUDGET else budget_s
    started = time.perf_counter()
    try:
        with _time_budget(budget_s):
            result = rule.fn(response, example)
    except _RuleTimeout:
        return _over_budget(budget_s)
    except Exception as exc:  # noqa: BLE001 - a broken rule must not stop training or the app
        return RuleResult(None, False, f"rule raised {type(exc).__name__}: {exc}")
    if budget_s is not None and time.perf_counter() - started > budget_s:
        return _over_budget(budget_s)
    if not isinstance(result, RuleResult):
        return RuleResult(None, False, f"rule returned {type(result).__name__}, not RuleResult")
    return result  # RuleResult itself refuses a score outside [0, 1] or passed != (score == 1)


def _over_budget(budget_s: float | None) -> RuleResult:
    return RuleResult(None, False, f"rule exceeded its time budget of {budget_s:g} s")


class _time_budget:
    """Interrupt the block after ``budget_s`` seconds with :class:`_RuleTimeout` (SIGALRM); a no-op outside
    the main thread, without ``setitimer``, or while an earlier alarm (e.g. a test timeout) is due sooner.
    The earlier alarm's handler and remaining time are restored afterwards."""

    def __init__(self, budget_s: float | None):
        self.budget_s, self.armed = budget_s, False

    def __enter__(self):
        usable = (self.budget_s is not None and hasattr(signal, "setitimer")
                  and threading.current_thread() is threading.main_thread())
        if not usable:
            return self
        self.began = time.monotonic()
        self.old_handler = signal.signal(signal.SIGALRM, _raise_timeout)
        self.old_delay, self.old_interval = signal.setitimer(signal.ITIMER_REAL, self.budget_s)
        if self.old_delay and self.old_delay <= self.budget_s:  # the earlier alarm is due first: leave it alone
            signal.setitimer(signal.ITIMER_REAL, self.old_delay, self.old_interval)
            signal.signal(signal.SIGALRM, self.old_handler)
            return self
        self.armed = True
        return self

    def __exit__(self, *exc) -> None:
        if not self.armed:
            return
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old_handler)
        if self.old_delay:
            left = max(self.old_delay - (time.monotonic() - self.began), 1e-3)
            signal.setitimer(signal.ITIMER_REAL, left, self.old_interval)


def _raise_timeout(signum, frame):
    raise _RuleTimeout()


def is_error(result: RuleResult) -> bool:
    """Whether ``result`` records a rule that raised or misbehaved (``score=None, passed=False``)."""
    return result.score is None and not result.passed


def applies(result: RuleResult) -> bool:
    """Whether the rule applied to the sample: it scored it, or it errored (which counts as a failure)."""
    return result.score is not None or is_error(result)


def check(vertical: Vertical, response: str, example: Example) -> dict[str, RuleResult]:
    """Every rule of ``vertical`` on one response, keyed by rule name (the app's guardrail badges)."""
    return {rule.name: apply_rule(rule, response, example) for rule in vertical.rules}


def all_passed(results: Mapping[str, RuleResult]) -> bool:
    """True when every rule passed; a rule that does not apply passes, an errored rule does not.

    >>> all_passed({"a": RuleResult.ok(), "b": RuleResult.skip("n/a")})
    True
    >>> all_passed({"a": RuleResult.ok(), "b": RuleResult(None, False, "rule raised KeyError")})
    False
    """
    return all(r.passed for r in results.values())


# --------------------------------------------------------------------------- dataset columns


def encode_example_columns(example: Example) -> dict[str, Any]:
    """Dataset columns for an example: ``truth`` becomes a JSON string (Arrow cannot hold free-form dicts).

    >>> encode_example_columns({"id": "x", "truth": {"城市": "北京"}})
    {'id': 'x', 'truth': '{"城市": "北京"}'}
    """
    columns = dict(example)
    if "truth" in columns:
        columns["truth"] = json.dumps(columns["truth"], ensure_ascii=False, sort_keys=True)
    return columns


def decode_example_row(row: Mapping[str, Any], prompt: Any = None) -> dict[str, Any]:
    """Rebuild an example dict from one dataset row (the inverse of :func:`encode_example_columns`).

    Args:
        row: the row's columns.
        prompt: the conversational prompt TRL passes; when the row has no ``messages`` column, the
            non-system turns of the prompt stand in for it.

    >>> decode_example_row({"id": "x", "truth": '{"rank": 3}'})
    {'id': 'x', 'truth': {'rank': 3}}
    """
    example = dict(row)
    if isinstance(example.get("truth"), str):
        try:
            example["truth"] = json.loads(example["truth"])
        except json.JSONDecodeError as exc:
            hint = "build rows with encode_example_columns"
            raise ValueError(f"truth column of row {example.get('id')!r} is not JSON; {hint}") from exc
    if "messages" not in example and _is_conversation(prompt):
        example["messages"] = [m for m in prompt if m.get("role") != "system"]
    return example


def _is_conversation(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(m, Mapping) and "role" in m for m in value)


def completion_text(completion: Any) -> str:
    """The assistant text of a TRL completion: a string, or a list of ``{"role", "content"}`` messages.

    >>> completion_text([{"role": "assistant", "content": "hello"}])
    'hello'
    """
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        content = message.get("content", "")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = "".join(p.get("text", "") for p in content if isinstance(p, Mapping))
        if message.get("role", "assistant") == "assistant":
            parts.append(str(content))
    return "\n".join(parts)


def _rows_from_columns(n: int, prompts: Sequence | None, columns: Mapping[str, Any]) -> list[dict[str, Any]]:
    def is_column(key: str, value: Any) -> bool:
        return key not in _TRL_NON_COLUMNS and isinstance(value, (list, tuple)) and len(value) == n

    lists = {k: v for k, v in columns.items() if is_column(k, v)}
    prompts = prompts if prompts is not None else [None] * n
    return [decode_example_row({k: v[i] for k, v in lists.items()}, prompts[i]) for i in range(n)]


# --------------------------------------------------------------------------- TRL reward functions


class RuleReward:
    """A TRL reward function for one rule: ``fn(completions, **columns) -> list[float | None]``.

    A class rather than a closure so it pickles whenever the rule does; ``__name__`` is
    ``"<vertical>/<rule>"`` so TRL logs ``rewards/<vertical>/<rule>/mean``. ``calls`` and ``failures``
    count this rule's answers and failures (raised or over budget) in the stage; ``limits`` (a
    :class:`~core_training.config.RewardsConfig`) sets the time budget and the failure rate that stops it.
    """

    def __init__(self, vertical_name: str, rule: Rule, limits=None) -> None:
        self.rule, self.limits = rule, limits
        self.__name__ = f"{vertical_name}/{rule.name}"
        self.calls = self.failures = 0

    def __call__(self, completions: Sequence[Any], prompts: Sequence | None = None, **kwargs: Any) -> list:
        rows = _rows_from_columns(len(completions), prompts, kwargs)
        budget = self.limits.rule_time_budget_s if self.limits else DEFAULT_RULE_TIME_BUDGET_S
        texts = [completion_text(c) for c in completions]
        results = [apply_rule(self.rule, text, row, budget) for text, row in zip(texts, rows)]
        errors = [(text, row, r) for text, row, r in zip(texts, rows, results) if is_error(r)]
        for text, row, result in errors[:3]:  # the offending inputs, a few per batch
            logger.warning("%s failed on example %r: %s; answer: %r", self.__name__, row.get("id"), result.reason,
                           text[:200])
        if callable(kwargs.get("log_metric")):
            kwargs["log_metric"](f"rule_errors/{self.__name__}", float(len(errors)))
        self.calls, self.failures = self.calls + len(results), self.failures + len(errors)
        self._stop_if_failing(errors[0][2].reason if errors else "")
        return [r.score for r in results]

    def _stop_if_failing(self, example_reason: str) -> None:
        limits = self.limits
        if limits is None or self.calls < limits.min_rule_calls:
            return
        if self.failures / self.calls > limits.max_rule_failure_rate:
            raise RuleFailureError(
                f"rule {self.__name__} failed on {self.failures} of {self.calls} answers, more than "
                f"rewards.max_rule_failure_rate={limits.max_rule_failure_rate:g} (e.g. {example_reason}); "
                f"fix the rule or raise rewards.rule_time_budget_s")

    def counts(self) -> dict[str, int]:
        """``{"calls": ..., "failures": ...}`` so far in this stage."""
        return {"calls": self.calls, "failures": self.failures}

    def __repr__(self) -> str:
        return f"RuleReward({self.__name__!r})"


def reward_functions(vertical: Vertical, weight: float = 1.0,
                     limits=None) -> tuple[list[Callable[..., list]], list[float]]:
    """One TRL reward function per rule, and its weight: ``rule.weight * weight`` for the rules that train,
    then 0.0 for each held-out rule (``Rule.held_out``).

    A held-out rule is scored on every rollout, so TRL logs ``rewards/<vertical>/<rule>/mean`` beside the
    rewards, but its weight of zero keeps it out of the advantage: it can show reward hacking without
    being hacked itself. Pass ``funcs`` as ``reward_funcs`` and ``weights`` as
    ``GRPOConfig(reward_weights=...)``. Scores of ``None`` (rule does not apply, or errored) stay
    ``None``; TRL ignores them. ``limits`` is the run's :class:`~core_training.config.RewardsConfig`
    (time budget, failure-rate stop); None keeps the default budget and never stops.
    """
    rules = [*vertical.reward_rules, *vertical.held_out_rules]
    funcs = [RuleReward(vertical.name, rule, limits) for rule in rules]
    return funcs, [0.0 if rule.held_out else rule.weight * weight for rule in rules]


# --------------------------------------------------------------------------- evaluation metrics


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def score_responses(vertical: Vertical, responses: Sequence[str], examples: Sequence[Example]) -> dict[str, float]:
    """Rule metrics over paired responses and examples.

    Returns:
        ``rule/<name>``: pass rate over the samples where the rule applies (an error counts as a
        failure; NaN if it never applies), for every rule, held-out ones included; ``all_rules_pass``:
        fraction of samples where every rule that trains passed; ``held_out_rules_pass``: the same for
        the held-out rules (only when the vertical has some); ``rule_errors``: number of errored rule
        runs; ``mean_reward``: mean over the training rules of the rule's mean score (NaN scores
        excluded, as in training). Every pass rate also gets its 95% bootstrap interval as
        ``<key>/ci_low`` and ``<key>/ci_high`` (:mod:`core_training.stats`).
    """
    from core_training.stats import with_ci

    if len(responses) != len(examples):
        raise ValueError(f"{len(responses)} responses but {len(examples)} examples")
    checks = [check(vertical, r, ex) for r, ex in zip(responses, examples)]
    metrics: dict[str, float] = {}
    rule_means = []
    for rule in vertical.rules:
        results = [c[rule.name] for c in checks]
        metrics.update(with_ci(f"rule/{rule.name}", [float(r.passed) for r in results if applies(r)]))
        scores = [r.score for r in results if r.score is not None]
        if scores and not rule.held_out:
            rule_means.append(_mean(scores))
    for key, rules in (("all_rules_pass", vertical.reward_rules), ("held_out_rules_pass", vertical.held_out_rules)):
        if rules or key == "all_rules_pass":
            metrics.update(with_ci(key, [float(all(c[r.name].passed for r in rules)) for c in checks]))
    metrics["rule_errors"] = sum(is_error(r) for c in checks for r in c.values())
    metrics["mean_reward"] = _mean(rule_means)
    return metrics


# --------------------------------------------------------------------------- rule-gated reward model


def gate_on_rules(rewards_per_func, gated: int = 0, measured_only: int = 0):
    """Clamp column ``gated`` (a learned reward) to the batch floor wherever a rule column failed.

    ``rewards_per_func`` is TRL's ``(completions, reward functions)`` tensor; every column but
    ``gated`` holds rule scores, where a passing rule scores 1.0, a failing one less, and NaN means
    the rule does not apply. The last ``measured_only`` columns are held-out rules (see
    :func:`reward_functions`): they never gate. A completion that breaks any rule gets the lowest learned reward in the
    batch, so the reward model can rank rule-abiding answers but can never pay for breaking a rule.
    Returns the gated tensor (a copy) and the mask of gated rows.

    >>> import torch
    >>> t = torch.tensor([[2.0, 1.0, float("nan")], [5.0, 0.0, 1.0], [-1.0, 1.0, 1.0]])
    >>> out, mask = gate_on_rules(t)
    >>> out[:, 0].tolist(), mask.tolist()
    ([2.0, -1.0, -1.0], [False, True, False])
    >>> gate_on_rules(t, measured_only=1)[1].tolist()  # the last column is a held-out rule
    [False, True, False]
    >>> gate_on_rules(torch.tensor([[2.0, 1.0, 0.0]]), measured_only=1)[1].tolist()
    [False]
    """
    import torch

    end = rewards_per_func.shape[1] - measured_only
    rules = torch.cat([rewards_per_func[:, :gated], rewards_per_func[:, gated + 1:end]], dim=1)
    failed = (torch.nan_to_num(rules, nan=1.0) < 1.0).any(dim=1)
    out = rewards_per_func.clone()
    learned = out[:, gated]
    floor = torch.nan_to_num(learned, nan=float("inf")).min()
    out[failed, gated] = floor
    return out, failed


# --------------------------------------------------------------------------- large batches

POOL_MIN_BATCH = 2048  # smaller batches are scored in this process: handing them over costs more than it saves
_POOLS: dict[int, ProcessPoolExecutor] = {}  # worker count -> the pool, made on first use and kept


def machine_processes() -> int:
    """How many cores this process may run on (``os.sched_getaffinity``; ``os.cpu_count`` where it is missing)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_batch(vertical: Vertical, responses: Sequence[str], examples: Sequence[Example],
                processes: int | None = None, min_batch: int = POOL_MIN_BATCH) -> list[dict[str, RuleResult]]:
    """``[check(vertical, r, ex) for r, ex in zip(responses, examples)]``, with large batches spread over processes.

    A batch of ``min_batch`` answers or more is cut into one contiguous slice per worker of a process pool
    (``processes`` workers, default :func:`machine_processes`; the pool is made once and kept); the results
    come back in order and are the same as in one process. Each worker runs every rule on its answers, so
    one parse per answer still serves all rules. A vertical that does not pickle (a rule written as a
    lambda) is scored in this process.

    >>> from core_training.contract import Rule, RuleResult, Vertical
    >>> toy = Vertical("toy", "", "", [Rule("short", lambda r, ex: RuleResult.ok())], retrieve=str,
    ...                rubric=None, rubric_dimensions=(), load_graph=None, load_cpt_corpus=None, load_chains=None,
    ...                load_rl_prompts=None, load_preferences=None, load_eval_set=None)
    >>> [r["short"].passed for r in check_batch(toy, ["a", "b"], [{}, {}], processes=2, min_batch=1)]
    [True, True]
    """
    if len(responses) != len(examples):
        raise ValueError(f"{len(responses)} responses but {len(examples)} examples")
    processes = processes or machine_processes()
    if processes < 2 or len(responses) < min_batch or not _pickles(vertical):
        return [check(vertical, r, ex) for r, ex in zip(responses, examples)]
    size = -(-len(responses) // processes)  # ceil: one slice per worker
    slices = [(vertical, list(responses[i:i + size]), list(examples[i:i + size]))
              for i in range(0, len(responses), size)]
    return [result for part in _pool(processes).map(_check_slice, slices) for result in part]


def _check_slice(args: tuple[Vertical, list[str], list[Example]]) -> list[dict[str, RuleResult]]:
    vertical, responses, examples = args
    return [check(vertical, r, ex) for r, ex in zip(responses, examples)]


def _pickles(vertical: Vertical) -> bool:
    try:
        pickle.dumps(vertical)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


def _pool(processes: int) -> ProcessPoolExecutor:
    """The kept pool of ``processes`` workers. Forked where the platform can: a worker then starts with the
    parent's graphs and indexes already loaded instead of importing and building them again."""
    if processes not in _POOLS:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _POOLS[processes] = ProcessPoolExecutor(max_workers=processes, mp_context=context)
    return _POOLS[processes]
