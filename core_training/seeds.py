"""`vkit run V --seeds 0,1,2`: the same run under several seeds, and the mean ± sd of each stage's numbers.

Each seed is an ordinary run in ``OUTPUT/seed-<n>/`` (resumable like any run); ``OUTPUT/seeds.json`` and
``OUTPUT/seeds.md`` summarise them: per stage, the mean and sample standard deviation over seeds of the
test pass rates (the bars), the dev and paraphrase pass rates beside them, the held-out rules, the judge
and the reward model.

>>> r = lambda g: {"stages": [{"stage": "sft", "wall_seconds": 10.0, "metrics": {"grounded/all_rules_pass": g}}]}
>>> s = summarize_seeds({0: r(0.8), 1: r(0.9), 2: r(1.0)})
>>> s["stages"]["sft"]["grounded/all_rules_pass"]["mean"], s["stages"]["sft"]["grounded/all_rules_pass"]["sd"]
(0.9, 0.1)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core_training.stats import mean_sd

SEED_KEYS = ("grounded/all_rules_pass", "dev/grounded/all_rules_pass", "paraphrase/grounded/all_rules_pass",
             "closed_book/all_rules_pass", "grounded/held_out_rules_pass", "judge_win_rate_vs_previous",
             "dev/judge_win_rate_vs_previous", "rm/accuracy", "perplexity")


def summarize_seeds(reports: dict[int, dict]) -> dict:
    """``{"seeds", "stages": {stage: {key: {"mean", "sd", "values"}}}, "total_seconds": {...}}``."""
    stages: dict[str, dict] = {}
    for seed, report in sorted(reports.items()):
        for row in report["stages"]:
            for key in SEED_KEYS:
                if row["metrics"].get(key) is not None:
                    stages.setdefault(row["stage"], {}).setdefault(key, {"values": []})["values"].append(
                        row["metrics"][key])
    for by_key in stages.values():
        for entry in by_key.values():
            entry["mean"], entry["sd"] = mean_sd(entry["values"])
    totals = [sum(s["wall_seconds"] for s in r["stages"]) for _, r in sorted(reports.items())]
    mean, sd = mean_sd(totals)
    return {"seeds": sorted(reports), "stages": stages, "total_seconds": {"values": totals, "mean": mean, "sd": sd}}


def seeds_table(summary: dict) -> str:
    """Markdown: one row per stage, ``mean ± sd`` per key that any stage has."""
    keys = [k for k in SEED_KEYS if any(k in by_key for by_key in summary["stages"].values())]
    head = "| stage | " + " | ".join(keys) + " |"
    rows = []
    for stage, by_key in summary["stages"].items():
        cells = [f"{by_key[k]['mean']:.3f} ± {by_key[k]['sd']:.3f}" if k in by_key else "-" for k in keys]
        rows.append(f"| {stage} | " + " | ".join(cells) + " |")
    total = summary["total_seconds"]
    return "\n".join([f"Seeds {', '.join(map(str, summary['seeds']))}: mean ± sd over seeds "
                      f"(total wall time {total['mean']:.0f} ± {total['sd']:.0f} s).", "",
                      head, "|" + "---|" * (len(keys) + 1), *rows])


def run_seeds(cfg, vertical, seeds: list[int], output: Path, preferences=None, log=print) -> dict:
    """Run ``cfg`` once per seed into ``output/seed-<n>`` and write ``seeds.json`` and ``seeds.md`` there."""
    from core_training.io import atomic_write_json, atomic_write_text
    from core_training.pipeline import run_pipeline

    reports = {}
    for seed in seeds:
        log(f"[seeds] seed {seed} -> {output / f'seed-{seed}'}")
        reports[seed] = run_pipeline(replace(cfg, seed=seed, output=str(output / f"seed-{seed}")), vertical,
                                     preferences=preferences)
    summary = summarize_seeds(reports)
    atomic_write_json(output / "seeds.json", {"vertical": vertical.name, **summary})
    atomic_write_text(output / "seeds.md", f"# vkit run: {vertical.name}, {len(seeds)} seeds\n\n{seeds_table(summary)}\n")
    return summary
