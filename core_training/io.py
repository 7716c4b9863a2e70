"""Crash-safe file writes: a reader sees the old file or the new one, never half of either.

Single files are written to a temporary file in the same directory, fsynced, then moved into
place with ``os.replace``. Directories (checkpoints, exported datasets) are built under
``<path>.tmp-XXXX`` and renamed into place only once complete. JSONL logs are appended one
fsynced line at a time, and :func:`read_jsonl` names the file and line of any bad record.

>>> with tempfile.TemporaryDirectory() as d:
...     append_jsonl(Path(d) / "log.jsonl", {"step": 1})
...     append_jsonl(Path(d) / "log.jsonl", {"step": 2})
...     [row["step"] for row in read_jsonl(Path(d) / "log.jsonl")]
[1, 2]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator


class JsonlError(ValueError):
    """A line of a JSONL file is not a JSON object; the message names the file and line."""


def _fsync_dir(directory: Path) -> None:
    """Persist a rename; a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same dir, fsync, ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding) as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    """Write ``obj`` as UTF-8 JSON (non-ASCII kept readable) atomically, with a trailing newline."""
    atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=indent) + "\n")


def append_jsonl(path: str | Path, row: Any) -> None:
    """Append ``row`` as one JSON line, flushed and fsynced before returning."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, ensure_ascii=False) + "\n"
    with open(path, "a", encoding="utf-8") as f:
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def read_jsonl(path: str | Path) -> list[Any]:
    """All records of a JSONL file; blank lines are skipped.

    Raises:
        JsonlError: a line is not valid JSON; the message is ``<path>:<line>: ...``.
    """
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise JsonlError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
    return rows


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Build a directory under a temporary name and move it to ``path`` only if the block succeeds.

    An existing ``path`` is replaced only after the new directory is complete: it is first renamed
    aside to ``<path>.old-XXXX``, the new one is renamed in, then the old one is deleted. On an
    exception the temporary directory is removed and ``path`` is left untouched.

    Raises:
        NotADirectoryError: ``path`` exists and is a file.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     with atomic_dir(Path(d) / "ckpt") as tmp:
    ...         _ = (tmp / "weights.bin").write_bytes(b"0")
    ...     sorted(p.name for p in (Path(d) / "ckpt").iterdir())
    ['weights.bin']
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{path} exists and is not a directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f"{path.name}.tmp-"))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _swap_into_place(tmp, path)


def _swap_into_place(new: Path, path: Path) -> None:
    if not path.exists():
        os.replace(new, path)
        _fsync_dir(path.parent)
        return
    old = path.with_name(f"{path.name}.old-{uuid.uuid4().hex[:8]}")
    os.replace(path, old)  # a rename cannot overwrite a non-empty directory, so move the old one aside
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    _fsync_dir(path.parent)
    shutil.rmtree(old, ignore_errors=True)


def last_checkpoint(work_dir: Path) -> str | None:
    """The newest *complete* trainer checkpoint in ``work_dir``, or None.

    The Trainer writes ``trainer_state.json`` last (after weights, optimizer, scheduler and RNG), and
    removes the previous checkpoint only after that, so a run killed mid-save leaves a newer folder
    without it next to an older complete one: the complete one is where to resume.
    """
    ckpts = [p for p in work_dir.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    ckpts.sort(key=lambda p: int(p.name.rsplit("-", 1)[1]))
    return str(ckpts[-1]) if ckpts else None


def cache_dir() -> Path:
    """vkit's per-user cache: ``$VKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/vkit``, else ``~/.cache/vkit``."""
    if os.environ.get("VKIT_CACHE_DIR"):
        return Path(os.environ["VKIT_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vkit"


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's contents, cached by (resolved path, size, mtime in ns) in :func:`cache_dir`.

    A file rewritten in place gets a new modification time and is hashed again; an unchanged multi-GB
    checkpoint is read once. A cache that cannot be read or written is only a slower path.

    >>> import tempfile, hashlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = Path(d, "w.bin"); _ = f.write_bytes(b"abc")
    ...     file_sha256(f) == hashlib.sha256(b"abc").hexdigest()
    True
    """
    import hashlib

    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = cache_dir() / "file-sha256.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    if isinstance(cache, dict) and isinstance(cache.get(key), str):
        return cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    cache = {k: v for k, v in (cache.items() if isinstance(cache, dict) else []) if not k.startswith(f"{path}|")}
    cache[key] = digest.hexdigest()
    with contextlib.suppress(OSError):
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(cache_file, cache, indent=None)
    return cache[key]
