"""The real CLI end to end: `vkit run gaokao --preset micro` in a subprocess, and kill -9 + resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


def _vkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "core_training.cli", *args]


def test_micro_run_end_to_end(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(_vkit("run", "gaokao", "--preset", "micro", "--output", str(out), "threads=1",
                                "rm.on_policy_prompts=5", "rm.on_policy_samples=3", "eval.judge_samples=2"),
                          capture_output=True, text=True, env=ENV, timeout=800)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert [s["stage"] for s in report["stages"]] == ["base", "cpt", "sft", "rlvr", "rm", "rlhf"]
    by_stage = {s["stage"]: s["metrics"] for s in report["stages"]}
    for stage in ("base", "cpt", "sft", "rlvr", "rlhf"):
        assert {"grounded/all_rules_pass", "closed_book/all_rules_pass", "perplexity"} <= set(by_stage[stage])
        assert "grounded/rule/structure_parses" in by_stage[stage]
        rubric = [by_stage[stage][f"grounded/rubric/{d}"] for d in ("accuracy", "wish_fit", "risk_warnings")]
        assert all(0.0 <= value <= 1.0 for value in rubric)
    rlhf = by_stage["rlhf"]
    counts = [rlhf[f"judge/{k}_vs_previous"] for k in ("wins", "losses", "ties")]
    rows = [json.loads(line) for line in (out / "rlhf" / "samples.jsonl").read_text().splitlines()]
    n_eval = sum(row["mode"] == "grounded" and row["set"] == "test" for row in rows)
    assert sum(counts) == n_eval > 0
    assert {row["set"] for row in rows} == {"test", "dev", "paraphrase"}  # every eval set, each judged on its own
    for name in ("dev", "paraphrase"):
        judged = [rlhf[f"{name}/judge/{k}_vs_previous"] for k in ("wins", "losses", "ties")]
        assert sum(judged) == sum(row["set"] == name for row in rows) > 0
        assert f"{name}/grounded/all_rules_pass" in rlhf and f"{name}/closed_book/all_rules_pass" not in rlhf
    assert rlhf["grounded/all_rules_pass/ci_low"] <= rlhf["grounded/all_rules_pass"] <= rlhf["grounded/all_rules_pass/ci_high"]
    assert "grounded/held_out_rules_pass" in rlhf and "grounded/rule/recommends_within_scope" in rlhf
    assert rlhf["judge_win_rate_vs_previous"] == pytest.approx((counts[0] + 0.5 * counts[2]) / n_eval)
    assert 0.0 < rlhf["judge/sign_test_p_vs_previous"] <= 1.0
    sampled = [rlhf[f"judge_sampled/{k}_vs_previous"] for k in ("wins", "losses", "ties")]
    assert sum(sampled) == 2 * n_eval  # eval.judge_samples answers per item from rlhf and from rlvr
    assert rlhf["judge_sampled/win_rate_vs_previous"] == pytest.approx((sampled[0] + 0.5 * sampled[2]) / (2 * n_eval))
    assert "rm/accuracy" in by_stage["rm"]
    pairs = [json.loads(line) for line in (out / "rm" / "on_policy_pairs.jsonl").read_text().splitlines()]
    assert pairs and (out / "rm" / "on_policy_pairs.md").is_file()  # the on-policy round's pairs and their card
    held_out = any(pair["split"] == "held_out" for pair in pairs)
    assert ("rm/on_policy_accuracy" in by_stage["rm"]) == held_out
    for name in ("report.md", "report.png", "metrics.jsonl", "config.json"):
        assert (out / name).is_file(), name
    for stage in ("cpt", "sft", "rlvr", "rm", "rlhf"):
        assert (out / stage / "config.json").is_file() and (out / stage / "vkit_stage.json").is_file()
    assert any((out / "tensorboard" / "sft").iterdir())
    assert "| sft |" in proc.stdout  # the stage table is printed
    import torch  # every stage says where it ran (results differ across CPUs), and report.md shows it
    assert {s["environment"]["torch"] for s in report["stages"]} == {torch.__version__}
    assert "Measured on: " in (out / "report.md").read_text(encoding="utf-8")


def _sft_steps(out: Path) -> list[int]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["step"] for r in rows if r["stage"] == "sft" and "loss" in r]


def test_kill_mid_stage_then_resume(tmp_path):
    out = tmp_path / "run"
    args = _vkit("run", "gaokao", "--preset", "micro", "--output", str(out), "--stages", "cpt,sft", "threads=1",
                 "sft.max_steps=40", "sft.save_steps=4")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    deadline = time.time() + 600
    # a checkpoint counts once its trainer_state.json is written (resume skips half-saved ones)
    while not list((out / ".work").glob("sft-*/checkpoint-8/trainer_state.json")) and time.time() < deadline:
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (out / "sft" / "vkit_stage.json").exists()  # an unfinished stage is never visible
    assert (out / "cpt" / "vkit_stage.json").exists()
    first = _sft_steps(out)

    again = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "[base] already finished" in again.stdout and "[cpt] already finished" in again.stdout
    resumed = _sft_steps(out)[len(first):]
    assert resumed and min(resumed) > 8  # continued from checkpoint-8 (or later), not from step 1
    assert max(resumed) == 40
    report = json.loads((out / "report.json").read_text())
    assert [s["stage"] for s in report["stages"]] == ["base", "cpt", "sft"]


def test_unknown_override_is_rejected_with_its_name(tmp_path):
    proc = subprocess.run(_vkit("run", "gaokao", "--output", str(tmp_path), "sft.lerning_rate=1"),
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 2
    assert "sft.lerning_rate" in proc.stderr and "learning_rate" in proc.stderr


def test_hub_id_base_gets_a_clear_error(tmp_path):
    proc = subprocess.run(_vkit("run", "gaokao", "--base", "Qwen/Qwen3-30B-A3B", "--output", str(tmp_path)),
                          capture_output=True, text=True, env=ENV, timeout=120)
    assert proc.returncode == 2
    assert "never downloads" in proc.stderr
