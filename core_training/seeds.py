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
    from core_training.pipeline import run_pipeline

    for seed in seeds:
        log(f"[seeds] seed {seed} -> {output / f'seed-{seed}'}")
        run_pipeline(replace(cfg, seed=seed, output=str(output / f"seed-{seed}")), vertical, preferences=preferences)
    return summarize_dir(output, vertical, seeds)


def seed_dirs(output: Path, seeds: list[int] | None = None) -> dict[int, Path]:
    """``{seed: output/seed-<n>}`` for the given seeds, or for every ``seed-<n>`` holding a ``report.json``."""
    output = Path(output)
    if seeds is None:
        seeds = sorted(int(p.name.split("-", 1)[1]) for p in output.glob("seed-*")
                       if p.name.split("-", 1)[1].isdigit() and (p / "report.json").exists())
    return {seed: output / f"seed-{seed}" for seed in seeds}


def summarize_dir(output: Path, vertical, seeds: list[int] | None = None) -> dict:
    """(Re)write ``seeds.json`` and ``seeds.md`` for the seed runs under ``output``: the mean ± sd table and,
    per RL stage, its paired per-rule effect on the test items (:mod:`core_training.effects`)."""
    from core_training.effects import effects_table, stage_effects
    from core_training.checkpoints import load_json
    from core_training.io import atomic_write_json, atomic_write_text
    from core_training.pipeline import EVAL_SET_LOADERS

    dirs = seed_dirs(output, seeds)
    if not dirs:
        raise FileNotFoundError(f"{output}: no seed-<n>/report.json (run `vkit run V --seeds 0,1,2 --output {output}`)")
    summary = summarize_seeds({seed: load_json(d / "report.json") for seed, d in dirs.items()})
    parts = [f"# vkit run: {vertical.name}, {len(dirs)} seeds", "", seeds_table(summary)]
    held_out = {r.name for r in vertical.held_out_rules}
    for set_name in ("test", "dev"):
        loader = getattr(vertical, EVAL_SET_LOADERS[set_name])
        if loader is None:
            continue
        effects = stage_effects(vertical, dirs, list(loader()), set_name)
        summary.setdefault("effects", {})[set_name] = effects
        parts += ["", f"## What each stage changed ({set_name})", "", effects_table(effects, held_out)]
    atomic_write_json(Path(output) / "seeds.json", {"vertical": vertical.name, **summary})
    atomic_write_text(Path(output) / "seeds.md", "\n".join(parts) + "\n")
    return summary
