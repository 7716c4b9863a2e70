"""The run report: ``report.json``, ``report.md``, ``report.png`` (stage table + training curves).

>>> summary_line({"stage": "sft", "wall_seconds": 12.0, "metrics": {"grounded/all_rules_pass": 0.9}})
'[sft] 12.0s  grounded/all_rules_pass=0.900'
"""

from __future__ import annotations

import math
from pathlib import Path

from core_training.io import atomic_write_json, atomic_write_text, read_jsonl

HEADLINE = ("closed_book/all_rules_pass", "grounded/all_rules_pass", "perplexity", "judge_win_rate_vs_previous",
            "judge_sampled/win_rate_vs_previous", "rm/accuracy", "rm/on_policy_accuracy", "train/tokens_per_second",
            "train/mfu")


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def summary_line(row: dict) -> str:
    shown = " ".join(f"{k}={_fmt(row['metrics'][k])}" for k in HEADLINE if k in row["metrics"])
    counts = judge_counts(row["metrics"])
    shown += f" (judge W-L-T {counts})" if counts else ""
    return f"[{row['stage']}] {row['wall_seconds']:.1f}s  {shown}"


def judge_counts(metrics: dict) -> str | None:
    """``"wins-losses-ties"`` of the judge comparison (with the sign test's p when measured), or None
    when the stage was not judged.

    >>> judge_counts({"judge/wins_vs_previous": 4, "judge/losses_vs_previous": 7, "judge/ties_vs_previous": 49})
    '4-7-49'
    >>> judge_counts({"judge/wins_vs_previous": 3, "judge/losses_vs_previous": 0, "judge/ties_vs_previous": 57,
    ...               "judge/sign_test_p_vs_previous": 0.25})
    '3-0-57, p=0.25'
    """
    keys = [f"judge/{k}_vs_previous" for k in ("wins", "losses", "ties")]
    if not all(k in metrics for k in keys):
        return None
    counts = "-".join(str(metrics[k]) for k in keys)
    p = metrics.get("judge/sign_test_p_vs_previous")
    return counts if p is None else f"{counts}, p={p:.2g}"


def stage_table(report: dict) -> str:
    """A Markdown table: one row per stage, the headline metrics, the judge's W-L-T, every grounded rule
    and every grounded rubric dimension.

    >>> print(stage_table({"stages": [{"stage": "sft", "wall_seconds": 9.0, "metrics": {
    ...     "grounded/all_rules_pass": 0.5, "grounded/rule/a": 1.0, "grounded/rubric/clarity": 0.75}}]}))
    | stage | wall s | grounded/all_rules_pass | rule:a | rubric:clarity |
    |---|---|---|---|---|
    | sft | 9 | 0.500 | 1.000 | 0.750 |
    """
    keys = {k for s in report["stages"] for k in s["metrics"] if not k.endswith(("/ci_low", "/ci_high"))}
    rules = sorted(k for k in keys if k.startswith("grounded/rule/"))  # intervals: eval_table
    rubric = sorted(k for k in keys if k.startswith("grounded/rubric/"))
    rows_metrics = [{**s["metrics"], "judge W-L-T": judge_counts(s["metrics"])} for s in report["stages"]]
    cols = [*HEADLINE, "judge W-L-T", *rules, *rubric]
    cols = [c for c in cols if any(m.get(c) is not None for m in rows_metrics)]
    names = [c.replace("grounded/rule/", "rule:").replace("grounded/rubric/", "rubric:") for c in cols]
    head = "| stage | wall s | " + " | ".join(names) + " |"
    sep = "|" + "---|" * (len(cols) + 2)
    rows = [f"| {s['stage']} | {s['wall_seconds']:.0f} | " + " | ".join(_fmt(m.get(c)) for c in cols) + " |"
            for s, m in zip(report["stages"], rows_metrics)]
    return "\n".join([head, sep, *rows])


EVAL_SET_COLUMNS = (("test", "grounded/all_rules_pass"), ("dev", "dev/grounded/all_rules_pass"),
                    ("paraphrase", "paraphrase/grounded/all_rules_pass"),
                    ("held-out rules (test)", "grounded/held_out_rules_pass"))


def with_interval(metrics: dict, key: str) -> str:
    """``0.850 [0.767, 0.933]``: a pass rate and its 95% bootstrap interval (``-`` when not measured).

    >>> with_interval({"a": 0.5, "a/ci_low": 0.25, "a/ci_high": 0.75}, "a"), with_interval({}, "a")
    ('0.500 [0.250, 0.750]', '-')
    """
    if metrics.get(key) is None:
        return "-"
    low, high = metrics.get(f"{key}/ci_low"), metrics.get(f"{key}/ci_high")
    return _fmt(metrics[key]) + (f" [{_fmt(low)}, {_fmt(high)}]" if low is not None and high is not None else "")


def eval_table(report: dict) -> str:
    """Grounded all-rules pass per stage on each eval set, with intervals: test (never used to choose
    anything), dev (used to choose settings), paraphrase, and the held-out rules; '' when only test exists."""
    cols = [(name, key) for name, key in EVAL_SET_COLUMNS
            if any(key in s["metrics"] for s in report["stages"])]
    if len(cols) < 2:
        return ""
    head = "| stage | " + " | ".join(f"{name} grounded pass [95% CI]" if "rules" not in name else name
                                      for name, _ in cols) + " |"
    rows = [f"| {s['stage']} | " + " | ".join(with_interval(s["metrics"], key) for _, key in cols) + " |"
            for s in report["stages"] if any(key in s["metrics"] for _, key in cols)]
    return "\n".join([head, "|" + "---|" * (len(cols) + 1), *rows])


def measured_on(report: dict) -> str:
    r"""Where the stages ran, one line per distinct machine (results differ across CPUs; see
    ``core_training.environment``); empty for records written before stages kept it.

    >>> env = {"cpu": "Xeon", "cpu_capability": "AVX512", "torch": "2.13.0", "trl": "1.16.0", "accelerator": "none"}
    >>> measured_on({"stages": [{"stage": "base", "environment": env}, {"stage": "sft", "environment": env}]})
    'Measured on: Xeon (AVX512), torch 2.13.0, trl 1.16.0, accelerator none (base, sft).\n\n'
    >>> measured_on({"stages": [{"stage": "base"}]})
    ''
    """
    from core_training.environment import summary

    groups: dict[str, list[str]] = {}
    for s in report["stages"]:
        if s.get("environment"):
            groups.setdefault(summary(s["environment"]), []).append(s["stage"])
    return "".join(f"Measured on: {env} ({', '.join(stages)}).\n\n" for env, stages in groups.items())


def write_report(run_dir: Path, report: dict) -> None:
    from core_training.audit import audit_section, with_audit

    report = with_audit(run_dir, report)  # the RL stages' reward-hacking audit: audit/* metrics and report["audit"]
    atomic_write_json(run_dir / "report.json", report)
    total = sum(s["wall_seconds"] for s in report["stages"])
    sets = eval_table(report)
    sets = f"Each eval set, with 95% bootstrap intervals:\n\n{sets}\n\n" if sets else ""
    md = (f"# vkit run: {report['vertical']}\n\nBase: `{report['base']}`. Total wall time {total:.0f} s.\n\n"
          f"{stage_table(report)}\n\n{sets}{measured_on(report)}![stages and training curves](report.png)\n")
    md += audit_section(report["audit"])
    atomic_write_text(run_dir / "report.md", md + health_section(run_dir, report))
    plot(run_dir, report)


def health_section(run_dir: Path, report: dict) -> str:
    """report.md's Health section from each trained stage's ``health.json`` (core_training/monitor.py):
    the signal that fired, where, the rollback and what to try, or "no signal fired" and what was watched;
    rule failures (raised or over budget) per rule. Empty when no stage has one.

    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     (Path(d) / "sft").mkdir()
    ...     _ = (Path(d) / "sft" / "health.json").write_text(json.dumps({"status": "healthy",
    ...         "watched": ["expert_load", "non_finite"], "rule_failures": {}}))
    ...     print(health_section(Path(d), {"config": {"stages": ["sft"]}, "stages": []}).strip())
    ## Health
    <BLANKLINE>
    - sft: no signal fired (watched: expert_load, non_finite)
    """
    import json

    stages = report.get("config", {}).get("stages") or [s["stage"] for s in report["stages"]]
    lines = []
    for stage in stages:
        path = run_dir / stage / "health.json"
        if not path.is_file():
            continue
        h = json.loads(path.read_text(encoding="utf-8"))
        if h["status"] == "healthy":
            lines.append(f"- {stage}: no signal fired (watched: {', '.join(h['watched'])})")
        else:
            where = f"step {h['rolled_back_to_step']}" if h.get("rolled_back_to_step") else "the stage's input"
            outcome = f"rolled back to {where}" if h["status"] == "rolled_back" else "retried at half the learning rate, healthy"
            lines.append(f"- {stage}: **{h['signal']}** fired at step {h['step']} ({h['detail']}); {outcome}. "
                         f"Try: {'; '.join(h['suggestions'])}.\n\n  ![{stage} health curves]({h['plot']})")
        failing = {rule: c for rule, c in h.get("rule_failures", {}).items() if c["failures"]}
        if failing:
            lines.append(f"  - {stage} rule failures (raised or over time budget): "
                         + ", ".join(f"{r} {c['failures']}/{c['calls']}" for r, c in failing.items()))
    return "\n## Health\n\n" + "\n".join(lines) + "\n" if lines else ""


def reward_curves(ax, rows: list[dict]) -> None:
    """Each rule's mean reward on the RL stages' rollouts by step (held-out rules too: they are logged at
    weight 0), so a stage that moves nothing, or a reward rising while a held-out rule falls, shows."""
    for stage in ("rlvr", "rlhf"):
        keys = sorted({k for r in rows if r.get("stage") == stage for k in r
                       if k.startswith("rewards/") and k.endswith("/mean")})
        for key in keys:
            pts = [(r["step"], r[key]) for r in rows if r.get("stage") == stage and isinstance(r.get(key), (int, float))]
            if pts:
                ax.plot(*zip(*pts), label=f"{stage} {key.split('/')[-2]}", linestyle="-" if stage == "rlvr" else "--")
    ax.set_title("rule rewards on RL rollouts")
    ax.set_xlabel("step")
    if ax.lines:
        ax.legend(fontsize=6)


def plot(run_dir: Path, report: dict) -> None:
    """Bar chart of the headline pass rates per stage, and the training loss curve of each stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(17, 4.5))
    stages = [s["stage"] for s in report["stages"]]
    for i, key in enumerate(("closed_book/all_rules_pass", "grounded/all_rules_pass")):
        vals = [s["metrics"].get(key, float("nan")) for s in report["stages"]]
        ax1.bar([x + i * 0.4 for x in range(len(stages))], vals, width=0.4, label=key)
    ax1.set_xticks([x + 0.2 for x in range(len(stages))], stages)
    ax1.set_ylim(0, 1)
    ax1.set_title("all-rules pass rate by stage")
    ax1.legend(fontsize=8)
    metrics_file = run_dir / "metrics.jsonl"
    rows = read_jsonl(metrics_file) if metrics_file.is_file() else []
    for stage in stages:
        pts = [(r["step"], r["loss"]) for r in rows if r.get("stage") == stage and isinstance(r.get("loss"), (int, float))]
        if pts:
            ax2.plot(*zip(*pts), label=stage)
    ax2.set_title("training loss")
    ax2.set_xlabel("step")
    if ax2.lines:
        ax2.legend(fontsize=8)
    reward_curves(ax3, rows)
    fig.tight_layout()
    tmp = run_dir / "report.png.tmp"
    fig.savefig(tmp, dpi=90, format="png")
    plt.close(fig)
    tmp.replace(run_dir / "report.png")
