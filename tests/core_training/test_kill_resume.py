"""A run killed with SIGKILL at random moments and resumed each time ends byte-identical to an
unkilled run with the same seed: the report (timings aside), every stage's samples and every
stage's ``model.safetensors``; ``metrics.jsonl`` holds each step once, with the same values.

Each kill picks a stage at random (no stage twice before every stage once; the kills in run order)
and a moment within that stage's wall time in the unkilled run, counted from the line where the
resumed run starts the stage: it lands in training, evaluation or the stage's write.
``VKIT_KILL_RESUME_N`` sets how many kills (3 by default, as in CI); ``VKIT_KILL_RESUME_SEED`` picks
other moments (they are in every failure message).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(5400)]

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
KILLS = int(os.environ.get("VKIT_KILL_RESUME_N", "3"))
SEED = int(os.environ.get("VKIT_KILL_RESUME_SEED", "0"))
TIMING = ("runtime", "per_second", "step_time")  # metrics.jsonl keys that measure time, not training


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "core_training.cli", "run", "gaokao", "--preset", "micro", "--output", str(out),
            "threads=1", "seed=0"]


def _run_to_end(out: Path) -> float:
    started = time.time()
    proc = subprocess.run(_command(out), capture_output=True, text=True, env=ENV, timeout=3600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return time.time() - started


def _kill_during(out: Path, stage: str, seconds: float) -> bool:
    """Start the run, SIGKILL it (and its children) ``seconds`` after it starts ``stage``; False if it
    ended first (or had that stage finished already)."""
    proc = subprocess.Popen(_command(out), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**ENV, "PYTHONUNBUFFERED": "1"}, start_new_session=True)
    started = any(line.startswith(f"[{stage}] running") for line in proc.stdout)  # stops reading at that line
    if started:
        time.sleep(seconds)
    landed = started and proc.poll() is None
    if landed:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    return landed


def _report(out: Path) -> dict:
    """``report.json`` with the run directory written as ``RUN``, without the measurements of the attempt
    that ran a stage: wall times and the ``train/`` speed metrics (a stage resumed from its final
    checkpoint trains nothing, so it has none)."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8").replace(str(out), "RUN"))
    for row in report["stages"]:
        row.pop("wall_seconds")
        row["metrics"] = {k: v for k, v in row["metrics"].items() if not k.startswith("train/")}
    return report


def _metrics(out: Path) -> list[dict]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in row.items() if not any(t in k for t in TIMING)} for row in rows]


def _digests(out: Path, pattern: str) -> dict[str, str]:
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob(pattern))}


def test_killed_and_resumed_run_is_byte_identical_to_an_unkilled_one(tmp_path):
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    wall = _run_to_end(reference)
    rng = random.Random(SEED)
    rows = json.loads((reference / "report.json").read_text(encoding="utf-8"))["stages"]
    stage_wall = {row["stage"]: row["wall_seconds"] for row in rows}  # base, cpt, sft, rlvr, rm, rlhf
    names = list(stage_wall)  # each stage once before any twice
    picks = rng.sample(names, min(KILLS, len(names))) + [rng.choice(names) for _ in range(KILLS - len(names))]
    stages = sorted(picks, key=names.index)
    moments = [(stage, round(rng.uniform(0.0, stage_wall[stage]), 1)) for stage in stages]
    landed = [(stage, s) for stage, s in moments if _kill_during(killed, stage, s)]
    _run_to_end(killed)
    context = f"kills (stage, seconds into it) {moments}, landed {landed}; the unkilled run took {wall:.0f} s"
    print(context)  # shown with -s or -rA: how many kills landed, and when
    assert landed, context
    assert _report(killed) == _report(reference), context
    samples, weights = _digests(reference, "*/samples.jsonl"), _digests(reference, "*/model.safetensors")
    assert len(weights) == 5 and len(samples) == 6  # cpt, sft, rlvr, rm, rlhf (+ the base's samples)
    assert _digests(killed, "*/samples.jsonl") == samples, context
    assert _digests(killed, "*/model.safetensors") == weights, context
    assert _metrics(killed) == _metrics(reference), context  # each step once, the killed attempts' rows gone
    assert not list(killed.glob("*.tmp-*")) and not list(killed.glob("*.old-*")), context
