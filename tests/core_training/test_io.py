"""Atomic writes, fsynced JSONL appends, line-numbered JSONL errors and all-or-nothing directories."""

from __future__ import annotations

import os

import pytest

from core_training.io import JsonlError, append_jsonl, atomic_dir, atomic_write_json, atomic_write_text, read_jsonl


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir())


def test_atomic_write_text_creates_and_replaces_without_temp_files(tmp_path):
    path = tmp_path / "sub" / "a.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text(encoding="utf-8") == "two" and _leftovers(path.parent) == ["a.txt"]


def test_atomic_write_text_failure_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_text(path, "new")
    assert path.read_text(encoding="utf-8") == "old" and _leftovers(tmp_path) == ["a.txt"]


def test_atomic_write_json_keeps_unicode_readable(tmp_path):
    atomic_write_json(tmp_path / "m.json", {"城市": "北京", "n": 1})
    assert (tmp_path / "m.json").read_text(encoding="utf-8") == '{\n  "城市": "北京",\n  "n": 1\n}\n'


def test_append_and_read_jsonl(tmp_path):
    path = tmp_path / "logs" / "metrics.jsonl"
    append_jsonl(path, {"step": 1, "note": "é"})
    append_jsonl(path, {"step": 2})
    assert path.read_text(encoding="utf-8") == '{"step": 1, "note": "é"}\n{"step": 2}\n'
    assert read_jsonl(path) == [{"step": 1, "note": "é"}, {"step": 2}]


def test_read_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2\n', encoding="utf-8")
    with pytest.raises(JsonlError, match=r"bad\.jsonl:3: invalid JSON"):
        read_jsonl(path)


def test_atomic_dir_creates(tmp_path):
    with atomic_dir(tmp_path / "ckpt") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith("ckpt.tmp-")
        (tmp / "w.bin").write_bytes(b"1")
        assert not (tmp_path / "ckpt").exists()  # not visible until complete
    assert _leftovers(tmp_path) == ["ckpt"] and (tmp_path / "ckpt" / "w.bin").read_bytes() == b"1"


def test_atomic_dir_replaces_existing_only_when_complete(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "old.bin").write_bytes(b"0")
    with atomic_dir(target) as tmp:
        (tmp / "new.bin").write_bytes(b"1")
        assert _leftovers(target) == ["old.bin"]
    assert _leftovers(target) == ["new.bin"] and _leftovers(tmp_path) == ["ckpt"]


def test_atomic_dir_failure_leaves_existing_untouched(tmp_path):
    target = tmp_path / "ckpt"
    target.mkdir()
    (target / "old.bin").write_bytes(b"0")
    with pytest.raises(RuntimeError, match="training crashed"):
        with atomic_dir(target) as tmp:
            (tmp / "partial.bin").write_bytes(b"1")
            raise RuntimeError("training crashed")
    assert _leftovers(target) == ["old.bin"] and _leftovers(tmp_path) == ["ckpt"]


def test_atomic_dir_refuses_to_replace_a_file(tmp_path):
    (tmp_path / "ckpt").write_text("not a dir")
    with pytest.raises(NotADirectoryError):
        with atomic_dir(tmp_path / "ckpt"):
            pass


def test_last_checkpoint_skips_one_killed_mid_save(tmp_path):
    from core_training.io import last_checkpoint

    assert last_checkpoint(tmp_path) is None
    for step in (4, 12):
        (tmp_path / f"checkpoint-{step}").mkdir()
        (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text("{}")
    (tmp_path / "checkpoint-16").mkdir()  # weights written, killed before trainer_state.json
    (tmp_path / "checkpoint-16" / "model.safetensors").write_bytes(b"x")
    assert last_checkpoint(tmp_path) == str(tmp_path / "checkpoint-12")  # 12 > 4 numerically, 16 incomplete
