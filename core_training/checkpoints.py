"""Which checkpoint a path means: a checkpoint directory itself, or the policy a `vkit run` directory finished.

A run directory holds the run's resolved config as ``config.json`` too, so "has a config.json" does not
make a checkpoint: a model's config names its ``model_type``. The apps (the advisor, the loop) and
``vkit export`` resolve paths here and nowhere else.

>>> import tempfile, json
>>> with tempfile.TemporaryDirectory() as d:
...     _ = Path(d, "config.json").write_text(json.dumps({"vertical": "gaokao", "seed": 0}))
...     is_checkpoint(Path(d)), policy_checkpoint(Path(d))
(False, None)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The stage a run's advisor answers with: the last policy stage in this order that the run finished.
POLICY_PREFERENCE = ("rlhf", "dpo", "rlvr", "sft", "cpt")


def load_json(path: str | Path) -> Any:
    """The JSON value in ``path`` (UTF-8)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def is_checkpoint(path: Path) -> bool:
    """Whether ``path`` is a model checkpoint: its ``config.json`` names a ``model_type``."""
    try:
        config = load_json(Path(path) / "config.json")
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and isinstance(config.get("model_type"), str)


def run_policy(run_dir: Path) -> tuple[Path, str] | None:
    """``(checkpoint, stage)``: the last policy stage (rlhf, else dpo, rlvr, sft, cpt) that ``run_dir``'s
    ``report.json`` lists and whose checkpoint is there; None for anything else."""
    try:
        report = load_json(Path(run_dir) / "report.json")
    except (OSError, ValueError):
        return None
    stages = {row.get("stage") for row in report.get("stages", [])} if isinstance(report, dict) else set()
    for stage in POLICY_PREFERENCE:
        if stage in stages and is_checkpoint(Path(run_dir) / stage):
            return Path(run_dir) / stage, stage
    return None


def policy_checkpoint(path: Path) -> Path | None:
    """The checkpoint ``path`` stands for: itself if it is one, else its run's policy, else None."""
    path = Path(path)
    if is_checkpoint(path):
        return path
    found = run_policy(path)
    return found[0] if found else None
