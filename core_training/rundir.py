"""One runner per run directory, and a clean slate for a resumed stage.

``vkit run`` holds :func:`run_lock` on ``RUN/.vkit.lock`` for its whole life: a second runner on the
same directory is refused with a line naming the holder's PID (the OS drops the lock when the holder
dies, even by SIGKILL, so a killed run never leaves a stale lock). Holding it, the runner may tidy
what a killed attempt left behind: :func:`clean_stale_dirs` removes half-written ``<stage>.tmp-*`` /
``<stage>.old-*`` directories (see :func:`core_training.io.atomic_dir`), and :func:`trim_metrics`
drops the ``metrics.jsonl`` rows a stage logged past the checkpoint it resumes from, so a resumed run
logs each step once.

>>> with tempfile.TemporaryDirectory() as d:
...     with run_lock(Path(d)):
...         try:
...             with run_lock(Path(d)):
...                 pass
...         except RunLockedError as err:
...             print(f"in use by vkit run (pid {os.getpid()})" in str(err))
True
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from core_training.io import atomic_write_text

LOCK_FILE = ".vkit.lock"
STALE_PATTERNS = ("*.tmp-*", "*.old-*")


class RunLockedError(RuntimeError):
    """Another process holds the run directory's lock; the message names its PID."""


def _holder(lock_path: Path) -> str:
    try:
        pid = lock_path.read_text(encoding="utf-8").strip()
    except OSError:
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "pid unknown"


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[Path]:
    """Hold an exclusive lock on ``run_dir`` (created if missing) for the ``with`` block.

    Raises:
        RunLockedError: another process holds it (``RUN: in use by vkit run (pid N); ...``).
    """
    import fcntl

    run_dir.mkdir(parents=True, exist_ok=True)
    lock_path = run_dir / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLockedError(f"{run_dir}: in use by vkit run ({_holder(lock_path)}); wait for it to finish "
                                 f"or stop it, then rerun to resume") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield lock_path
    finally:
        os.close(fd)  # releases the lock; the file stays (removing it would race a waiting runner)


def clean_stale_dirs(run_dir: Path, log=None) -> list[str]:
    """Remove the ``*.tmp-*`` / ``*.old-*`` directories a killed stage write left in ``run_dir``.

    Only call it while holding :func:`run_lock`: a live writer's temporary directory looks the same.
    Returns the names removed.
    """
    removed = []
    for pattern in STALE_PATTERNS:
        for path in sorted(run_dir.glob(pattern)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
    if removed and log:
        log(f"removed {len(removed)} half-written directories left by an interrupted run: {', '.join(removed)}")
    return removed


def checkpoint_step(checkpoint: str | Path | None) -> int:
    """The trainer step of a ``checkpoint-N`` directory (0 for None: the stage starts over).

    >>> checkpoint_step("runs/x/.work/sft-ab/checkpoint-8"), checkpoint_step(None)
    (8, 0)
    """
    return int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else 0


def trim_metrics(metrics_file: Path, stage: str, resume_step: int) -> int:
    """Drop ``stage``'s rows logged after ``resume_step`` (a killed attempt's, about to be redone).

    Returns how many rows were dropped; the file is rewritten atomically, and only when needed.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "metrics.jsonl"
    ...     _ = path.write_text('{"stage": "cpt", "step": 9}\\n{"stage": "sft", "step": 4}\\n{"stage": "sft", "step": 6}\\n')
    ...     trim_metrics(path, "sft", 4), [json.loads(x)["step"] for x in path.read_text().splitlines()]
    (1, [9, 4])
    """
    if not metrics_file.is_file():
        return 0
    lines = metrics_file.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not _logged_after(line, stage, resume_step)]
    if len(kept) != len(lines):
        atomic_write_text(metrics_file, "".join(kept))
    return len(lines) - len(kept)


def _logged_after(line: str, stage: str, step: int) -> bool:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        return line.strip() != ""  # a line cut short by the kill
    return isinstance(row, dict) and row.get("stage") == stage and int(row.get("step", 0)) > step


def read_stage_file(path: Path) -> dict | None:
    """The record in a ``vkit_stage.json``; None, with a warning on stderr, if it is unreadable (a
    corrupt record means the stage is not finished: it is run again)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError(f"expected a JSON object, got {type(record).__name__}")
        return record
    except (OSError, UnicodeDecodeError, ValueError) as err:
        print(f"vkit: warning: {path}: unreadable stage record ({err}); the stage will run again", file=sys.stderr)
        return None
