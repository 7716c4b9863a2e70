"""The K12 vertical as a real outside package: pip-install it, see `vkit verticals` list it, run it.

Installs ``examples/vkit-k12`` into the running environment (editable, no deps), like a customer would,
and uninstalls it afterwards unless it was installed before. The run takes ~40 s on 2 cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}


def _vkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "core_training.cli", *args]


@pytest.fixture
def installed_k12():
    """Install k12 for the test; leave the environment as it was found."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        distribution("vkit-k12")
        was_installed = True
    except PackageNotFoundError:
        was_installed = False
    yield
    if not was_installed:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "vkit-k12"], capture_output=True, timeout=300)


def test_pip_install_list_and_micro_run(tmp_path, installed_k12):
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "-e",
                          str(REPO / "examples" / "vkit-k12")], capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr[-2000:]
    listed = subprocess.run(_vkit("verticals"), capture_output=True, text=True, env=ENV, timeout=300, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert "k12" in listed.stdout and "entry point vkit-k12" in listed.stdout

    out = tmp_path / "run"  # on the shipped base, like `vkit run gaokao` in tests/core_training/test_pipeline.py
    run = subprocess.run(_vkit("run", "k12", "--preset", "micro", "--output", str(out), "threads=1"),
                         capture_output=True, text=True, env=ENV, timeout=1100, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert [s["stage"] for s in report["stages"]] == ["base", "cpt", "sft", "rlvr", "rm", "rlhf"]
    sft = next(s["metrics"] for s in report["stages"] if s["stage"] == "sft")
    assert {"grounded/rule/work_is_correct", "grounded/rule/within_syllabus", "grounded/all_rules_pass"} <= set(sft)
