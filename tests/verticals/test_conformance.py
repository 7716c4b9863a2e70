"""One conformance suite over every registered vertical (in-repo and installed entry points).

The checks live in :mod:`core_training.conformance` so outside packages and the scaffold's test run
exactly the same ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core_training import conformance
from core_training.registry import get_vertical, list_verticals

NAMES = [info.name for info in list_verticals()]
CARDS = Path(__file__).resolve().parents[2] / "data_cards"


@pytest.fixture(scope="module", params=NAMES)
def vertical(request):
    return get_vertical(request.param)


@pytest.mark.parametrize("check", ["eval_set_problems", "gold_answer_problems", "known_bad_problems",
                                   "preference_problems", "graph_problems", "config_problems", "build_truth_problems",
                                   "paraphrase_problems"])
def test_conformance(vertical, check):
    assert getattr(conformance, check)(vertical) == []


def test_every_dataset_has_a_current_data_card(vertical):
    assert conformance.data_card_problems(vertical, conformance.cards_root_for(vertical, CARDS)) == []


def test_in_repo_verticals_are_all_registered():
    assert {"gaokao", "auto", "realestate"} <= set(NAMES)


def test_paraphrase_check_can_fail(toy):
    """A paraphrase set that repeats a training question, or whose gold answer breaks a rule, is reported."""
    from dataclasses import replace

    chain = toy.load_chains()[0]
    bad = {**toy.load_eval_set()[0], "id": "p-1", "answer": "不知道"}
    problems = conformance.paraphrase_problems(replace(toy, load_paraphrase_set=lambda: [chain, bad]))
    assert any("p-1 fails" in p for p in problems) and any(f"{chain['id']} is a training question" in p for p in problems)
    assert conformance.paraphrase_problems(toy) == []  # no paraphrase set: nothing to check
