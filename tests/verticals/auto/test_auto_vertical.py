"""The auto ``VERTICAL`` object: contract fields, registry, cheap import, and the doctests of the package."""

from __future__ import annotations

import doctest
import importlib

import pytest

from core_training.config import resolve_run_config
from core_training.contract import Rule, Vertical
from core_training.data import prompt_messages
from core_training.registry import get_vertical
from verticals.auto import VERTICAL
from verticals.auto.rubric import RUBRIC_DIMENSIONS

MODULES = [f"verticals.auto.{m}" for m in ("answer", "citations", "corpus", "data", "demo", "experts", "kg", "perturb",
                                            "query", "questions", "retriever", "rubric", "rules", "vocab")]
MODULES += [f"verticals.auto.{m}" for m in ("names", "paraphrase", "scope")]
MODULES += ["verticals.auto", "knowledge_graphs.auto"]


def test_registered_as_auto():
    assert get_vertical("auto") is VERTICAL


def test_vertical_fields():
    assert isinstance(VERTICAL, Vertical) and VERTICAL.name == "auto"
    assert all(isinstance(rule, Rule) and rule.description and rule.fn.__doc__ for rule in VERTICAL.rules)
    assert len({rule.name for rule in VERTICAL.rules}) == len(VERTICAL.rules) == 10
    assert [rule.name for rule in VERTICAL.held_out_rules] == ["stays_on_asked_cars"]
    assert tuple(VERTICAL.rubric_dimensions) == RUBRIC_DIMENSIONS
    assert "【参数】" in VERTICAL.system_prompt and len(VERTICAL.system_prompt) < 60
    assert VERTICAL.rule("recommendation_within_budget").weight == 2.0


def test_config_overrides_resolve():
    cfg = resolve_run_config(dict(VERTICAL.config_overrides), cli_overrides=["vertical=auto"])
    assert cfg.sft.max_length == 640 and cfg.rlvr.max_completion_length == 224


def test_grounded_prompt_carries_the_retrieved_facts():
    example = VERTICAL.load_eval_set()[0]
    system = prompt_messages(VERTICAL, example, "grounded")[0]["content"]
    first = example["truth"]["candidates"][0]
    assert system.startswith(VERTICAL.system_prompt) and f"[1] {first['name']}" in system


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
