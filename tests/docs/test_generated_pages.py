"""docs/configuration.md and docs/cli.md are what ``scripts/gen_docs.py`` makes from the code today."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_pages_are_current():
    env = {**os.environ, "COLUMNS": "40"}  # the generator must not depend on the terminal's width
    done = subprocess.run([sys.executable, "scripts/gen_docs.py", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr


def test_configuration_page_has_every_key_with_a_meaning():
    from core_training.config import RunConfig

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

    def keys(obj, prefix=""):
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            yield from keys(value, f"{prefix}{f.name}.") if dataclasses.is_dataclass(value) else [prefix + f.name]

    rows = {line.split(" | ")[0].strip("| `"): line for line in page.splitlines() if line.startswith("| `")}
    for key in keys(RunConfig()):
        assert key in rows, key
        assert not rows[key].rstrip().endswith("|  |"), f"{key} has no meaning: comment it in core_training/config.py"


def test_cli_page_shows_every_command():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in ("run", "eval", "check", "report", "verticals", "base pretrain"):
        assert f"## vkit {command}\n" in page
