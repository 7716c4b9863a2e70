"""Run the ``>>>`` examples in the core modules' docstrings, so they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["config", "registry", "rewards", "judge", "io", "contract", "authoring", "base.corpus", "base.pretrain",
           "report", "trl_patches", "environment", "allocator", "onpolicy", "check", "rundir", "inputs", "modeling",
           "base.from_config", "lora_targets", "precision",
           "audit", "routing", "stage", "monitor", "moe", "launcher"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(f"core_training.{name}"), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
