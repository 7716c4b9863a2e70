"""Speed of the rules: answers/s per vertical on one core, vkit (one parse per answer) vs the naive path.

For each vertical (gaokao, auto, realestate) every rule runs on every answer, through
``core_training.rewards.check``, on one core:

* ``gold``: the vertical's gold answers (eval set, RL prompts, SFT chains);
* ``model``: stand-ins for a policy's answers, since no model runs here: the vertical's ``known_bad``
  answers and every perturbation of ``verticals/<v>/perturb.py`` applied to the gold answers.

``vkit`` shares one parse of an answer across its rules (``core_training.authoring.ParseCache``); ``naive``
is the same code with the cache off (``parse_caching(False)``), so every rule parses the answer itself,
as the rules did before. Caches are cleared before each pass: every pass scores answers it has not seen,
as each RL step does. Each number is the best of ``--repeats`` passes (CPU time of this process).
``pool`` scores all answers with ``check_batch`` over a process pool of every core this process may use.

The RL-step share: the seconds the rules take for one rlvr step's completions (``per_device_batch_size``)
over the seconds of that step, read from a run's ``report.json`` (``--report``; rlvr wall seconds over
its steps, which include its evaluation, so the share is a lower bound). Without a report it is not printed.
At GPU scale a GRPO step scores thousands of completions: ``--completions`` (default 4096) prints the
seconds the rules would take for that many model answers, on one core and on the pool.

    .venv/bin/python bench/bench_rules.py [--verticals gaokao,auto,realestate] [--limit 400] [--repeats 3]
                                          [--report docs/results/2026-12-03-gaokao.json] [--completions 4096]

Not a test: a measurement. Numbers depend on the machine; compare only within one run.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

TARGET = 20_000  # answers/s per core, on gold and on model answers (issue 27)


def answers_per_second(vertical, pairs, repeats: int, cached: bool) -> float:
    """Best-of-``repeats`` answers/s of every rule on every pair, in this process, caches cleared each pass."""
    from core_training.authoring import clear_parse_caches, parse_caching
    from core_training.rewards import check

    best = 0.0
    with parse_caching(cached):
        for _ in range(repeats):
            clear_parse_caches()
            start = time.process_time()
            for response, example in pairs:
                check(vertical, response, example)
            best = max(best, len(pairs) / max(time.process_time() - start, 1e-9))
    return best


def pool_answers_per_second(vertical, pairs) -> tuple[float, int]:
    """Answers/s (wall clock) of ``check_batch`` over every core, and the number of workers."""
    from core_training.authoring import clear_parse_caches
    from core_training.rewards import check_batch, machine_processes

    responses, examples = [r for r, _ in pairs], [ex for _, ex in pairs]
    processes = machine_processes()
    check_batch(vertical, responses[:processes], examples[:processes], processes=processes, min_batch=1)  # start
    clear_parse_caches()
    start = time.perf_counter()
    check_batch(vertical, responses, examples, processes=processes, min_batch=1)
    return len(pairs) / (time.perf_counter() - start), processes


def rl_step(report: Path | None) -> tuple[float, int] | None:
    """(seconds per rlvr step, completions per step) from a run's report.json, or None."""
    if report is None:
        return None
    data = json.loads(report.read_text(encoding="utf-8"))
    stage = next((s for s in data["stages"] if s["stage"] == "rlvr"), None)
    if stage is None:
        raise SystemExit(f"{report}: no rlvr stage in the report")
    config = data["config"]["rlvr"]
    return stage["wall_seconds"] / config["max_steps"], config["per_device_batch_size"]


def bench_vertical(name: str, limit: int | None, repeats: int, step: tuple[float, int] | None,
                   completions: int) -> list[str]:
    from core_training.registry import get_vertical
    from verticals.answer_samples import answer_samples

    vertical, samples = get_vertical(name), answer_samples(name, limit=limit)
    sets = {"gold": samples["gold"], "model": samples["known_bad"] + samples["perturbed"]}
    lines, rates = [], {}
    for kind, pairs in sets.items():
        vkit = answers_per_second(vertical, pairs, repeats, cached=True)
        naive = answers_per_second(vertical, pairs, repeats, cached=False)
        rates[kind] = (vkit, naive)
        mark = "ok" if vkit >= TARGET else "BELOW"
        line = (f"{name:11s} {kind:6s} {len(pairs):6d}  vkit {vkit:8,.0f}/s  naive {naive:8,.0f}/s  "
                f"x{vkit / naive:4.2f}  target {TARGET:,}/s per core: {mark}")
        if step is not None:
            seconds, completions = step
            line += f"  rlvr step share {completions / vkit / seconds:.4%} ({completions} completions, {seconds:.1f} s)"
        lines.append(line)
    pool, processes = pool_answers_per_second(vertical, sets["model"])
    lines.append(f"{name:11s} model  pool of {processes}: {pool:8,.0f}/s wall ({pool / processes:,.0f}/s per core)")
    vkit, naive = rates["model"]
    lines.append(f"{name:11s} a step of {completions:,} completions: rules take {completions / vkit:.2f} s on one core "
                 f"(naive {completions / naive:.2f} s), {completions / pool:.2f} s on the pool")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verticals", default="gaokao,auto,realestate")
    parser.add_argument("--limit", type=int, default=400, help="gold answers per vertical (perturbed: ~10x)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report", type=Path, default=None, help="a run's report.json, for the rlvr step share")
    parser.add_argument("--completions", type=int, default=4096, help="completions of a GPU-scale GRPO step")
    args = parser.parse_args()
    from core_training.environment import cpu_model

    print(f"rules on one core; CPU: {cpu_model()}")
    step = rl_step(args.report)
    for name in args.verticals.split(","):
        for line in bench_vertical(name, args.limit, args.repeats, step, args.completions):
            print(line, flush=True)


if __name__ == "__main__":
    main()
