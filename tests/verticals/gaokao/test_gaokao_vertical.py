"""The gaokao ``VERTICAL`` object: contract fields, cheap import, doctests of the package."""

from __future__ import annotations

import doctest
import importlib

import pytest

from core_training.contract import Rule, Vertical
from verticals.gaokao import VERTICAL
from verticals.gaokao.rubric import RUBRIC_DIMENSIONS

MODULES = ["answer", "corpus", "data", "experts", "kg", "paraphrase", "perturb", "profile", "retriever", "rubric", "rules",
           "scope", "vocab"]


def test_vertical_fields():
    assert isinstance(VERTICAL, Vertical) and VERTICAL.name == "gaokao"
    assert all(isinstance(rule, Rule) and rule.description for rule in VERTICAL.rules)
    assert len({rule.name for rule in VERTICAL.rules}) == len(VERTICAL.rules) >= 9
    assert tuple(VERTICAL.rubric_dimensions) == RUBRIC_DIMENSIONS
    assert "志愿表" in VERTICAL.system_prompt and len(VERTICAL.system_prompt) < 80
    assert VERTICAL.rule("has_safety_choice").name == "has_safety_choice"


def test_graph_loads():
    graph = VERTICAL.load_graph()
    assert graph.number_of_nodes() > 300 and graph is VERTICAL.load_graph()


def test_retrieve_is_the_grounding_for_the_gold_answer():
    example = VERTICAL.load_eval_set()[0]
    facts = VERTICAL.retrieve(example["messages"][0]["content"])
    assert f"位次{example['truth']['rank']}" in facts


@pytest.mark.parametrize("name", MODULES)
def test_module_doctests(name):
    module = importlib.import_module(f"verticals.gaokao.{name}")
    assert doctest.testmod(module).failed == 0
