"""One runner per run directory; a resumed run starts clean (core_training/rundir.py and its use in
the pipeline): the lock, stale ``<stage>.tmp-*`` directories, metrics past the resumed checkpoint, a
corrupt stage record."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from core_training.rundir import RunLockedError, clean_stale_dirs, run_lock, trim_metrics

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
HOLD = "import sys, time; from pathlib import Path; from core_training.rundir import run_lock\n" \
       "with run_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(120)\n"


@pytest.fixture
def lock_holder(tmp_path):
    """A separate process holding the lock on ``tmp_path / "run"``; yields (run_dir, its pid)."""
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout.readline().strip() == "held"
    yield run_dir, proc.pid
    proc.kill()
    proc.wait()


def test_a_second_runner_is_refused_naming_the_holders_pid(lock_holder):
    run_dir, pid = lock_holder
    with pytest.raises(RunLockedError, match=rf"in use by vkit run \(pid {pid}\)"):
        with run_lock(run_dir):
            pass
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "run", "gaokao", "--preset", "micro",
                           "--output", str(run_dir)], capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"vkit: error: {run_dir}: in use by vkit run (pid {pid}); wait for it to finish or stop it, then rerun to resume")
    assert sorted(p.name for p in run_dir.iterdir()) == [".vkit.lock"]  # the refused runner wrote nothing


def test_the_lock_dies_with_its_holder(tmp_path):
    run_dir = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(run_dir)], stdout=subprocess.PIPE, text=True, env=ENV)
    assert proc.stdout.readline().strip() == "held"
    proc.kill()  # SIGKILL: no cleanup runs, the OS drops the lock
    proc.wait()
    with run_lock(run_dir) as lock_file:
        assert lock_file.read_text().strip() == str(os.getpid())


def test_stale_stage_dirs_are_removed_but_nothing_else(tmp_path):
    for name in ("sft.tmp-ab12", "rm.old-1234abcd", "sft"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.tmp-x.txt").write_text("a file, not a half-written stage")
    (tmp_path / "sft.tmp-ab12" / "model.safetensors").write_bytes(b"half")
    removed = clean_stale_dirs(tmp_path)
    assert sorted(removed) == ["rm.old-1234abcd", "sft.tmp-ab12"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.tmp-x.txt", "sft"]


def test_trim_metrics_drops_only_the_resumed_stages_later_rows(tmp_path):
    path = tmp_path / "metrics.jsonl"
    rows = [{"stage": "cpt", "step": 9}, {"stage": "sft", "step": 4}, {"stage": "sft", "step": 8},
            {"stage": "sft", "step": 12}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"stage": "sft", "st')  # cut by the kill
    assert trim_metrics(path, "sft", 8) == 2
    assert [json.loads(line) for line in path.read_text().splitlines()] == rows[:3]
    assert trim_metrics(path, "sft", 0) == 2  # no checkpoint: the stage starts over
    assert [json.loads(line) for line in path.read_text().splitlines()] == rows[:1]


def test_a_corrupt_stage_record_means_not_finished(tmp_path, capsys):
    from core_training.pipeline import STAGE_FILE, load_record

    (tmp_path / STAGE_FILE).write_bytes(b'{"stage": "sft", "key": "ab')
    assert load_record(tmp_path, "ab") is None
    err = capsys.readouterr().err
    assert f"{tmp_path / STAGE_FILE}: unreadable stage record" in err and "will run again" in err


def test_a_killed_micro_run_resumes_clean(tmp_path):
    """A kill leaves a half-written stage directory and extra metric rows; the rerun removes the one
    and drops the other (each step logged once), and a corrupt finished record is run again."""
    out = tmp_path / "run"
    args = [sys.executable, "-m", "core_training.cli", "run", "gaokao", "--preset", "micro", "--output", str(out),
            "--stages", "cpt", "threads=1", "cpt.save_steps=2"]
    first = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=600)
    assert first.returncode == 0, first.stderr[-2000:]
    (out / "cpt.tmp-dead").mkdir()
    (out / "cpt.tmp-dead" / "model.safetensors").write_bytes(b"half")  # what a kill mid-rename leaves
    (out / "cpt" / "vkit_stage.json").write_text('{"stage": "cpt", "ke')  # a record cut short
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    again = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=600)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "unreadable stage record" in again.stderr and "[cpt] running" in again.stdout
    assert not (out / "cpt.tmp-dead").exists()
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if r["stage"] == "cpt" and "loss" in r]
    assert steps == sorted(set(steps)) and steps  # each step once, although cpt ran twice
    assert len(rows) == len(logged)  # the final checkpoint was complete: no step was trained again
    assert json.loads((out / "cpt" / "vkit_stage.json").read_text())["stage"] == "cpt"
