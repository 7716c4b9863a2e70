"""CPU bf16 against fp32 for vkit's sft stage: tokens/s of ``model.precision=bf16`` (bf16 autocast) and ``fp32``.

Each precision runs the real sft recipe in its own fresh process, one after the other, on the same base
(the shipped one unless --base), data (gaokao unless --vertical) and steps; the first ``--warmup`` steps
are left out of the timing. Prints one JSON line per precision and the bf16/fp32 ratio, with the CPU and
the ISA PyTorch dispatches to (bf16 pays off only where the CPU has bf16 matrix units: AVX-512 BF16, AMX).
The faster one is the candidate for the CPU default of ``model.precision``.

    .venv/bin/python bench/bench_precision.py --steps 20 [--warmup 3] [--threads 2] [--base PATH]

Not a test: a measurement. Time it on a quiet machine; compare only within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PRECISIONS = ("fp32", "bf16")


class StepClock:
    """Seconds and input tokens of the steps after the warmup, from the trainer's own token count."""

    def __init__(self, warmup: int):
        from transformers import TrainerCallback

        clock = self

        class Callback(TrainerCallback):
            def on_step_end(self, args, state, control, **kwargs):
                clock.tick(state)

        self.warmup, self.callback, self.marks = warmup, Callback(), []

    def tick(self, state) -> None:
        self.marks.append((time.perf_counter(), int(state.num_input_tokens_seen or 0)))

    def result(self) -> dict:
        (t0, n0), (t1, n1) = self.marks[self.warmup - 1] if self.warmup else self.marks[0], self.marks[-1]
        steps = len(self.marks) - max(self.warmup, 1)
        return {"steps_timed": steps, "seconds": round(t1 - t0, 3), "tokens": n1 - n0,
                "tokens_per_second": round((n1 - n0) / (t1 - t0), 1), "seconds_per_step": round((t1 - t0) / steps, 4)}


def measure(precision: str, steps: int, warmup: int, threads: int, base: str | None, vertical: str) -> dict:
    """Train ``steps`` sft steps at ``precision`` in this process; the timing of the steps after ``warmup``."""
    import torch

    from core_training.config import resolve_run_config
    from core_training.environment import describe
    from core_training.modeling import resolve_base
    from core_training.recipes import recipe
    from core_training.registry import get_vertical
    from core_training.stage import StageContext

    torch.set_num_threads(threads)
    v = get_vertical(vertical)
    over = [f"sft.max_steps={steps}", f"sft.save_steps={steps * 10}", "sft.logging_steps=1", f"threads={threads}",
            f"model.precision={precision}"]
    cfg = resolve_run_config(dict(v.config_overrides), cli_overrides=over)
    clock = StepClock(warmup)
    with tempfile.TemporaryDirectory() as out:
        ctx = StageContext(cfg=cfg, vertical=v, stage="sft", input_path=resolve_base(base), work_dir=Path(out) / "w",
                           run_dir=Path(out), extra={"callbacks": [clock.callback]})
        recipe("sft").train(ctx)
    env = describe()
    return {"precision": precision, **clock.result(), "cpu": env.get("cpu"), "isa": torch.backends.cpu.get_cpu_capability(),
            "threads": threads}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--base")
    ap.add_argument("--vertical", default="gaokao")
    ap.add_argument("--one", choices=PRECISIONS, help=argparse.SUPPRESS)  # internal: one precision in this process
    a = ap.parse_args()
    if a.steps <= a.warmup:
        ap.error("--steps must exceed --warmup")
    if a.one:
        print("RESULT " + json.dumps(measure(a.one, a.steps, a.warmup, a.threads, a.base, a.vertical)))
        return 0
    results = {}
    for precision in PRECISIONS:
        cmd = [sys.executable, __file__, "--one", precision, "--steps", str(a.steps), "--warmup", str(a.warmup),
               "--threads", str(a.threads), "--vertical", a.vertical, *(["--base", a.base] if a.base else [])]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        results[precision] = json.loads(line.removeprefix("RESULT "))
        print(json.dumps(results[precision], ensure_ascii=False))
    ratio = results["bf16"]["tokens_per_second"] / results["fp32"]["tokens_per_second"]
    print(f"bf16/fp32 sft tokens/s: {ratio:.2f}  ({'bf16' if ratio > 1 else 'fp32'} is faster here)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
