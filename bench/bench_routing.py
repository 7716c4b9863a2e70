"""MoE routing agreement between rollout and training, with and without routing replay, and what it does to
the importance ratio: a short rlvr stage run twice from the same base and seed (``rlvr.routing_replay`` false,
then true), each in its own fresh process.

Printed per side, as means over the logged steps: ``routing/agreement`` (the share of the training forward's
own top-k expert choices that match the rollout's; its lowest layer too), ``routing/replaced`` (replay only:
the share of choices replay overrode), ``importance_ratio/std`` and ``importance_ratio/max`` (the policy's
ratio to the rollout policy over completion tokens) and TRL's ``clip_ratio/region_mean``. The ratio is
identically 1 unless rollouts are reused, so ``--num-iterations`` defaults to 2; ``--dtype bfloat16``
adds the numerical mismatch of cached generation against the full training forward.

    .venv/bin/python bench/bench_routing.py [--base PATH] [--vertical gaokao] [--steps 20] [--num-iterations 2]
                                            [--dtype float32|bfloat16] [--lr 5e-5] [--threads 2]

Start from a policy that earns some reward (e.g. ``--base RUN/sft``, the rlvr stage's own input): from a base
that earns none, GRPO's advantages are all zero, nothing moves and every number reads as perfect agreement.
Not a test: a measurement (docs/moe-rl.md says how to read it). Compare the two sides of one run only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

KEYS = ("routing/agreement", "routing/replaced", "importance_ratio/std", "importance_ratio/max",
        "clip_ratio/region_mean")


def run_side(args, replay: bool, out: Path) -> None:
    """Train one rlvr stage (in this process) with ``routing_replay=replay``; the rows land in ``out/metrics.jsonl``."""
    import torch

    from core_training.config import resolve_run_config
    from core_training.modeling import resolve_base
    from core_training.recipes import recipe
    from core_training.registry import get_vertical
    from core_training.stage import StageContext

    torch.set_num_threads(args.threads)
    vertical = get_vertical(args.vertical)
    over = [f"rlvr.max_steps={args.steps}", f"rlvr.save_steps={args.steps * 10}", "rlvr.logging_steps=1",
            f"rlvr.learning_rate={args.lr}", f"rlvr.num_iterations={args.num_iterations}",
            f"rlvr.routing_replay={str(replay).lower()}", f"model.dtype={args.dtype}", f"threads={args.threads}",
            *args.override]
    cfg = resolve_run_config(dict(vertical.config_overrides), cli_overrides=over)
    ctx = StageContext(cfg=cfg, vertical=vertical, stage="rlvr", input_path=resolve_base(args.base),
                       work_dir=out / "work", run_dir=out)
    recipe("rlvr").train(ctx)


def summarise(rows: list[dict]) -> dict:
    """Means of :data:`KEYS` over the rows that logged them, and the lowest per-layer agreement's mean."""
    out = {}
    for key in KEYS:
        values = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        if values:
            out[key] = sum(values) / len(values)
    layers = {k for r in rows for k in r if k.startswith("routing/layer_")}
    means = [sum(r[k] for r in rows if k in r) / sum(1 for r in rows if k in r) for k in layers]
    if means:
        out["routing/lowest_layer_agreement"] = min(means)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="checkpoint directory (default: the shipped tiny MoE base)")
    parser.add_argument("--vertical", default="gaokao")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--num-iterations", type=int, default=2, help="optimizer passes per batch of rollouts")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"])
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--override", action="append", default=[], help="more key=value config overrides")
    parser.add_argument("--side", choices=["off", "on"], help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        return run_side(args, args.side == "on", Path(args.out))
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in ("off", "on"):
            out = Path(tmp) / side
            cmd = [sys.executable, __file__, "--side", side, "--out", str(out), *(argv or sys.argv[1:])]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"replay {side} failed:\n{done.stderr[-3000:]}")
            rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
            results[f"replay {side}"] = summarise([r for r in rows if r.get("stage") == "rlvr"])
    print(f"rlvr {args.steps} steps, num_iterations {args.num_iterations}, {args.dtype}, base {args.base or 'shipped'}")
    for side, found in results.items():
        print(f"  {side:10s} " + "  ".join(f"{k}={v:.4f}" for k, v in found.items()))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
