"""Checks on what a user hands ``vkit``, made before anything is written.

Each check raises :class:`InputError` with one line naming the file (and its line or field), which
the CLI prints as ``vkit: error: ...`` with exit status 2: an output path that is a file or lies
under one, a checkpoint whose ``config.json`` or safetensors are broken, and a preference-pairs file
that is not UTF-8 JSONL of well-formed pairs.

>>> with tempfile.TemporaryDirectory() as d:
...     path = Path(d) / "prefs.jsonl"
...     _ = path.write_text('{"id": "a", "messages": [{"role": "user", "content": "q"}], "chosen": "x", "rejected": "x"}\\n')
...     try:
...         read_preferences(path)
...     except InputError as err:
...         print(str(err).split(": ", 1)[1])
chosen and rejected are the same answer (nothing to prefer)
"""

from __future__ import annotations

import json
import struct
import tempfile
from pathlib import Path
from typing import Any

from core_training.io import JsonlError, read_jsonl

PAIR_KEYS = ("id", "messages", "chosen", "rejected")


class InputError(ValueError):
    """A user-supplied file or path is unusable; the message names it (and the line or field)."""


def check_output(path: str | Path, flag: str = "--output") -> None:
    """``path`` can be a run directory: it is one already, or it and its missing parents can be made.

    >>> check_output(__file__)
    Traceback (most recent call last):
    ...
    core_training.inputs.InputError: --output ...inputs.py: is a file, not a directory
    """
    path = Path(path)
    for parent in (path, *path.parents):
        if parent.exists():
            if not parent.is_dir():
                where = "is a file" if parent == path else f"lies under {parent}, which is a file"
                raise InputError(f"{flag} {path}: {where}, not a directory")
            return


def text_of(path: str | Path, what: str) -> str:
    """The UTF-8 text of ``path``; an InputError for a missing, unreadable, BOM-prefixed or non-UTF-8 file."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read the {what} ({err.strerror or err})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        raise InputError(f"{path}:1: starts with a byte-order mark; save the {what} as UTF-8 without BOM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: the {what} is not UTF-8 text (byte 0x{data[err.start]:02x}); "
                         f"is it UTF-16, GBK or binary?") from None


# --------------------------------------------------------------------------- checkpoints


def check_checkpoint(path: str | Path, what: str = "--base") -> None:
    """A checkpoint directory ``from_pretrained`` can load: a readable ``config.json`` naming a model
    type transformers knows, and complete safetensors files.

    Raises:
        InputError: naming the file at fault.
    """
    path = Path(path)
    config = _checkpoint_config(path / "config.json", what)
    _check_model_type(path / "config.json", config, what)
    for weights in sorted(path.glob("*.safetensors")):
        check_safetensors_file(weights, what)


def _checkpoint_config(file: Path, what: str) -> dict:
    text = text_of(file, f"{what} config")
    if not text.strip():
        raise InputError(f"{file}: {what} config is empty")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{file}:{err.lineno}: {what} config is not valid JSON ({err.msg})") from None
    if not isinstance(config, dict):
        raise InputError(f"{file}: {what} config must be a JSON object, got {type(config).__name__}")
    return config


def _check_model_type(file: Path, config: dict, what: str) -> None:
    from transformers import CONFIG_MAPPING

    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type:
        raise InputError(f"{file}: field model_type: missing; {what} config must name its model type")
    if model_type not in CONFIG_MAPPING:
        raise InputError(f"{file}: field model_type: {model_type!r} is not a model type this transformers knows "
                         f"(vkit never runs code shipped with a checkpoint)")


def check_safetensors_file(file: Path, what: str = "--base") -> None:
    """The file holds a whole safetensors header and every tensor byte its header promises.

    >>> with tempfile.TemporaryDirectory() as d:
    ...     bad = Path(d) / "model.safetensors"
    ...     _ = bad.write_bytes(b"\\x10")
    ...     check_safetensors_file(bad)
    Traceback (most recent call last):
    ...
    core_training.inputs.InputError: ...model.safetensors: --base weights are truncated (1 bytes, no header)
    """
    size = file.stat().st_size
    with open(file, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise InputError(f"{file}: {what} weights are truncated ({size} bytes, no header)")
        (header_len,) = struct.unpack("<Q", head)
        if 8 + header_len > size:
            raise InputError(f"{file}: {what} weights are truncated ({size} bytes; the header alone needs "
                             f"{8 + header_len})")
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise InputError(f"{file}: {what} weights are not safetensors (unreadable header)") from None
    ends = [t["data_offsets"][1] for k, t in header.items() if k != "__metadata__" and isinstance(t, dict)]
    needed = 8 + header_len + max(ends, default=0)
    if needed > size:
        raise InputError(f"{file}: {what} weights are truncated ({size} bytes; its tensors need {needed})")


# --------------------------------------------------------------------------- preference pairs


def read_preferences(path: str | Path) -> list[dict]:
    """The preference pairs of a JSONL file (e.g. an annotation export), every row checked.

    Raises:
        InputError: ``FILE:LINE: ...`` for a row that is not a well-formed pair; an empty file too
            (it would otherwise mean "use the vertical's own pairs").
    """
    text_of(path, "preferences file")
    try:
        rows = read_jsonl(path)
    except JsonlError as err:
        raise InputError(str(err)) from None
    if not rows:
        raise InputError(f"{path}: no preference pairs (the file is empty); drop --preferences to use the "
                         f"vertical's own pairs")
    lines = [n for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1) if line.strip()]
    for lineno, row in zip(lines, rows):
        problem = pair_problem(row)
        if problem:
            raise InputError(f"{path}:{lineno}: {problem}")
    return rows


def pair_problem(row: Any) -> str | None:
    """What is wrong with one preference row, or None.

    >>> pair_problem(3)
    'expected a JSON object, got int'
    >>> pair_problem({"id": "a", "messages": "hi", "chosen": "x", "rejected": "y"})
    'field messages: expected a list of {role, content} objects, got str'
    >>> pair_problem({"id": "a", "messages": [{"role": "user", "content": "q"}], "chosen": float("nan"), "rejected": "y"})
    'field chosen: expected a non-empty string, got float'
    """
    if not isinstance(row, dict):
        return f"expected a JSON object, got {type(row).__name__}"
    missing = [k for k in PAIR_KEYS if k not in row]
    if missing:
        return f"preference row lacks {missing}"
    messages = row["messages"]
    if not isinstance(messages, list) or not messages or not all(_is_message(m) for m in messages):
        return f"field messages: expected a list of {{role, content}} objects, got {_describe(messages)}"
    for key in ("chosen", "rejected"):
        if not isinstance(row[key], str) or not row[key].strip():
            return f"field {key}: expected a non-empty string, got {_describe(row[key])}"
    if row["chosen"].strip() == row["rejected"].strip():
        return "chosen and rejected are the same answer (nothing to prefer)"
    return None


def _is_message(message: Any) -> bool:
    return isinstance(message, dict) and isinstance(message.get("role"), str) and isinstance(message.get("content"), str)


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "an empty list" if not value else "a list with a malformed message"
    return type(value).__name__
