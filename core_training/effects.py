"""What each stage changed: paired per-rule differences on the test items, pooled over seeds, with intervals.

A stage's pass rate and its interval say how good it is; whether RL *earned its place* is a different
question: did the stage change anything, and which rules moved? The same test items are answered by every
stage of every seed (``<stage>/samples.jsonl``), so the change is measured item by item. For one rule and one
pair of stages (``sft -> rlvr``), each item gets its difference in pass (-1, 0 or 1) per seed, averaged over
the seeds (a rubric dimension: the change in its score); the effect is the mean over items, and its 95% interval is a bootstrap over items (the seeds of one
item stay together). An interval that excludes 0 is a change; one that straddles 0 is not evidence of any.

Beside it, the stage's own training signal from ``metrics.jsonl``: each rule's reward at the first and last
logged step, ``frac_reward_zero_std`` (groups whose completions all scored alike and so teach nothing), and the
entropy. A stage that moves nothing shows why here (no reward variance, a reward already at 1, a flat curve).

>>> before = {0: {"a": {"x": True, "all_rules": False}, "b": {"x": False, "all_rules": False}}}
>>> after = {0: {"a": {"x": True, "all_rules": True}, "b": {"x": True, "all_rules": True}}}
>>> e = paired_effect(before, after, "all_rules")
>>> e["delta"], e["n"]
(1.0, 2)
>>> paired_effect(before, after, "x")["delta"]
0.5
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Mapping

from core_training.stats import bootstrap_ci

ALL, HELD_OUT = "all_rules", "held_out_rules"
# item id -> {rule or ALL/HELD_OUT: passed (None where the rule does not apply), "rubric/<d>": score}
ItemPasses = dict[str, dict[str, bool | float | None]]


def item_passes(vertical, examples: list, responses: Mapping[str, str]) -> ItemPasses:
    """Re-check each answer (rules are pure functions, so this reproduces the run's own verdicts)."""
    from core_training.judge import rubric_scores
    from core_training.rewards import applies, check

    out: ItemPasses = {}
    for ex in examples:
        if ex["id"] not in responses:
            continue
        results = check(vertical, responses[ex["id"]], ex)
        row: dict[str, bool | None] = {name: (r.passed if applies(r) else None) for name, r in results.items()}
        row[ALL] = all(results[r.name].passed for r in vertical.reward_rules)
        if vertical.held_out_rules:
            row[HELD_OUT] = all(results[r.name].passed for r in vertical.held_out_rules)
        if vertical.rubric_dimensions:  # the qualities rules do not pay for (what rlhf's reward model weighs)
            scores = rubric_scores(vertical, responses[ex["id"]], ex, vertical.rubric_dimensions)
            row.update({f"rubric/{d}": float(scores[d]) for d in vertical.rubric_dimensions})
        out[ex["id"]] = row
    return out


def read_responses(stage_dir: Path, set_name: str = "test", mode: str = "grounded") -> dict[str, str]:
    """``{item id: answer}`` from a stage's ``samples.jsonl`` ({} when the stage has none)."""
    path = Path(stage_dir) / "samples.jsonl"
    if not path.exists():
        return {}
    rows = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return {r["id"]: r["response"] for r in rows if r.get("set", "test") == set_name and r["mode"] == mode}


def paired_effect(before: Mapping[int, ItemPasses], after: Mapping[int, ItemPasses], key: str) -> dict:
    """The mean per-item change in ``key``'s pass (``after - before``) over items, each item's change averaged
    over the seeds that have it in both; ``{"delta", "ci_low", "ci_high", "n", "before", "after"}``."""
    per_item: dict[str, list[float]] = {}
    befores, afters = [], []
    for seed, items in before.items():
        for item, row in items.items():
            b, a = row.get(key), after.get(seed, {}).get(item, {}).get(key)
            if b is None or a is None:
                continue
            per_item.setdefault(item, []).append(float(a) - float(b))
            befores.append(float(b))
            afters.append(float(a))
    diffs = [sum(d) / len(d) for d in per_item.values()]
    if not diffs:
        return {"delta": math.nan, "ci_low": math.nan, "ci_high": math.nan, "n": 0, "before": math.nan,
                "after": math.nan}
    low, high = bootstrap_ci(diffs)
    return {"delta": sum(diffs) / len(diffs), "ci_low": low, "ci_high": high, "n": len(diffs),
            "before": sum(befores) / len(befores), "after": sum(afters) / len(afters)}


def training_signal(metrics_path: Path, stage: str) -> dict:
    """Per rule, the logged reward at the first and last logged step of ``stage``, and the mean
    ``frac_reward_zero_std`` and entropy over its steps (an empty dict when the stage logged no rewards)."""
    path = Path(metrics_path)
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if r.get("stage") == stage and "reward" in r]
    if not rows:
        return {}
    first, last = rows[0], rows[-1]
    rules = {k.split("/")[-2]: (first[k], last[k]) for k in first if k.startswith("rewards/") and k.endswith("/mean")
             and k in last}

    def mean_of(key: str) -> float:
        values = [r[key] for r in rows if r.get(key) is not None]
        return sum(values) / len(values) if values else math.nan

    return {"steps": (first["step"], last["step"]), "reward": (first["reward"], last["reward"]), "rules": rules,
            "frac_reward_zero_std": mean_of("frac_reward_zero_std"), "entropy": mean_of("entropy")}


def run_item_passes(vertical, run_dir: Path, stages: list[str], examples: list, set_name: str = "test",
                    mode: str = "grounded") -> dict[str, ItemPasses]:
    """``{stage: item passes}`` for the stages of one run that answered ``set_name``."""
    found = {}
    for stage in stages:
        responses = read_responses(Path(run_dir) / stage, set_name, mode)
        if responses:
            found[stage] = item_passes(vertical, examples, responses)
    return found


def stage_effects(vertical, run_dirs: Mapping[int, Path], examples: list, set_name: str = "test",
                  mode: str = "grounded") -> dict:
    """Each stage's effect against the stage before it (and rlhf against sft), pooled over the seeds'
    run directories; ``{"set", "mode", "seeds", "pairs": {"sft->rlvr": {rule: effect}}, "signal": {...}}``."""
    order = ["sft", "rlvr", "rlhf", "dpo"]
    per_seed = {seed: run_item_passes(vertical, d, order, examples, set_name, mode) for seed, d in run_dirs.items()}
    stages = [s for s in order if all(s in by_stage for by_stage in per_seed.values())]
    pairs = list(zip(stages, stages[1:]))
    if len(stages) > 2:
        pairs.append((stages[0], stages[-1]))
    keys = ([ALL] + ([HELD_OUT] if vertical.held_out_rules else []) + [r.name for r in vertical.rules]
            + [f"rubric/{d}" for d in vertical.rubric_dimensions])
    effects = {}
    for a, b in pairs:
        before = {seed: by_stage[a] for seed, by_stage in per_seed.items()}
        after = {seed: by_stage[b] for seed, by_stage in per_seed.items()}
        effects[f"{a}->{b}"] = {k: paired_effect(before, after, k) for k in keys}
    signal = {stage: {seed: training_signal(Path(d) / "metrics.jsonl", stage) for seed, d in run_dirs.items()}
              for stage in ("rlvr", "rlhf") if stage in stages}
    return {"set": set_name, "mode": mode, "seeds": sorted(run_dirs), "pairs": effects, "signal": signal}


def _cell(e: dict) -> str:
    if not e["n"]:
        return "-"
    mark = " *" if e["ci_low"] > 0 or e["ci_high"] < 0 else ""
    return f"{e['before']:.3f} → {e['after']:.3f} ({e['delta']:+.3f} [{e['ci_low']:+.3f}, {e['ci_high']:+.3f}]){mark}"


def effects_table(effects: dict, held_out: set[str] = frozenset()) -> str:
    """Markdown: one row per rule, one column per stage pair (``*``: the interval excludes 0)."""
    pairs = list(effects["pairs"])
    if not pairs:
        return "No two stages to compare."
    keys = list(effects["pairs"][pairs[0]])
    head = (f"Per-item change in pass rate (rubric rows: in mean score) on `{effects['set']}` ({effects['mode']}), seeds "
            f"{', '.join(map(str, effects['seeds']))}: before → after (change [95% interval over items]); "
            "`*` where the interval excludes 0. Held-out rules are never rewarded.")
    rows = ["| rule | " + " | ".join(pairs) + " |", "|---|" + "---|" * len(pairs)]
    for k in keys:
        label = f"{k} (held out)" if k in held_out else k
        rows.append(f"| {label} | " + " | ".join(_cell(effects["pairs"][p][k]) for p in pairs) + " |")
    signal = ["", signal_table(effects["signal"])] if effects["set"] == "test" else []
    return "\n".join([head, "", *rows, *signal])


def signal_table(signal: dict) -> str:
    """Markdown: per RL stage and seed, the reward at the first → last logged step, the mean
    ``frac_reward_zero_std`` and entropy."""
    rows = ["| stage | seed | steps | reward first → last | frac_reward_zero_std | entropy |",
            "|---|---|---|---|---|---|"]
    for stage, by_seed in signal.items():
        for seed, s in sorted(by_seed.items()):
            if s:
                rows.append(f"| {stage} | {seed} | {s['steps'][0]}-{s['steps'][1]} | {s['reward'][0]:.3f} → "
                            f"{s['reward'][1]:.3f} | {s['frac_reward_zero_std']:.2f} | {s['entropy']:.3f} |")
    return "Training signal (from metrics.jsonl):\n\n" + "\n".join(rows)
