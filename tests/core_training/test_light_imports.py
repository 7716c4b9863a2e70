"""Importing the core's light modules stays cheap: no transformers, no pretraining code (a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["core_training.modeling", "core_training.check", "core_training.cli"])
def test_module_imports_without_transformers_or_pretraining(module):
    code = (f"import sys, {module}; heavy = [m for m in ('transformers', 'torch', 'core_training.base.pretrain') "
            "if m in sys.modules]; print(','.join(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing {module} loaded {done.stdout.strip()}"


def test_the_shipped_base_path_is_one_constant():
    from core_training.base.pretrain import SHIPPED_BASE as written_by_pretrain
    from core_training.modeling import SHIPPED_BASE

    assert written_by_pretrain is SHIPPED_BASE and (SHIPPED_BASE / "config.json").is_file()
