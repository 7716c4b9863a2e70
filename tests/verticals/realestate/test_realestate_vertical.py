"""The realestate ``VERTICAL``: contract fields, registry, cheap import, grounded prompts, rubric, doctests."""

from __future__ import annotations

import doctest
import importlib
import random

import pytest

from core_training.contract import Rule, Vertical
from core_training.data import prompt_messages, sft_messages
from core_training.registry import get_vertical
from verticals.realestate import VERTICAL
from verticals.realestate.brokers import BROKER_STYLES, write_turn
from verticals.realestate.perturb import PERTURBATIONS
from verticals.realestate.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.realestate.rules import demo

MODULES = ["verticals.realestate", *(f"verticals.realestate.{m}" for m in (
    "answer", "brokers", "corpus", "data", "dialogs", "kg", "mortgage", "needs", "perturb", "retriever", "rubric",
    "rules", "scope", "paraphrase")), "knowledge_graphs.realestate"]


def test_vertical_fields():
    assert isinstance(VERTICAL, Vertical) and VERTICAL.name == "realestate" and VERTICAL.multi_turn
    assert all(isinstance(rule, Rule) and rule.description for rule in VERTICAL.rules)
    names = [rule.name for rule in VERTICAL.rules]
    assert len(set(names)) == len(names) and {
        "clarifies_when_ambiguous", "listings_exist_and_match", "within_budget_and_area", "school_district_matches",
        "school_offers_activity", "mortgage_correct", "policy_note_present", "no_discriminatory_language"} <= set(names)
    assert tuple(VERTICAL.rubric_dimensions) == RUBRIC_DIMENSIONS == (
        "accuracy", "needs_discovery", "clarity", "fit_explanation")
    assert "教育局" in VERTICAL.system_prompt and len(VERTICAL.system_prompt) < 90


def test_registry_finds_it():
    assert get_vertical("realestate") is VERTICAL


def test_grounded_prompt_carries_the_facts_of_the_whole_dialog():
    example, answer = demo("素质")
    system = prompt_messages(VERTICAL, example)[0]["content"]
    assert system.startswith(VERTICAL.system_prompt) and "【已知事实】" in system
    assert "进度:缺学区类型,通勤→已明确" in system and "[2]符合 总价444万 首付134万 月供13238元 学区S41(" in system
    roles = [m["role"] for m in sft_messages(VERTICAL, example)]
    assert roles == ["system", "user", "assistant", "user", "assistant"]  # both broker turns are trained


def test_rubric_scores_in_range_and_ranks_brokers():
    for kind, turn in (("素质", 0), ("素质", None), ("应试", None)):
        example, _ = demo(kind, turn)
        scores = {style: rubric(write_turn(example["truth"], style), example) for style in BROKER_STYLES}
        assert all(set(s) == set(RUBRIC_DIMENSIONS) and all(0 <= v <= 1 for v in s.values()) for s in scores.values())
        totals = {style: sum(s.values()) for style, s in scores.items()}
        assert totals["资深"] == 4.0 and totals["简洁"] < min(totals["干练"], totals["热心"]) <= totals["资深"]


def test_rubric_punishes_perturbations():
    rng = random.Random(0)
    for kind, turn in (("素质", 0), ("素质", None), ("应试", None)):
        example, gold = demo(kind, turn)
        for name, perturb in PERTURBATIONS.items():
            bad = perturb(gold, example["truth"], rng)
            if bad is None or name in ("missing_policy_note", "steering"):  # rules, not the rubric, catch these
                continue
            assert sum(rubric(bad, example).values()) < sum(rubric(gold, example).values()), name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
