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
                                   "preference_problems", "graph_problems", "config_problems", "build_truth_problems"])
def test_conformance(vertical, check):
    assert getattr(conformance, check)(vertical) == []


def test_every_dataset_has_a_current_data_card(vertical):
    assert conformance.data_card_problems(vertical, conformance.cards_root_for(vertical, CARDS)) == []


def test_in_repo_verticals_are_all_registered():
    assert {"gaokao", "auto", "realestate"} <= set(NAMES)
