"""Rubric means reported beside the rule metrics, hand-derived on the toy vertical.

Toy rubric (conftest.py): clarity = 1 if the response ends with "." else 0.5; empathy = 1 if it says "sorry".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core_training.evaluate import rubric_means

RESPONSES = ["rank 3.", "sorry, rank 5", "boom", "ok"]
EXAMPLES = [{"id": f"e{i}", "truth": {"rank": 3}} for i in range(4)]


def test_rubric_means_hand_derived(toy_vertical):
    assert rubric_means(toy_vertical, RESPONSES, EXAMPLES) == pytest.approx(
        {"rubric/clarity": (1 + 0.5 + 0.5 + 0.5) / 4, "rubric/empathy": 1 / 4})


def test_rubric_means_of_nothing_is_empty(toy_vertical):
    assert rubric_means(toy_vertical, [], []) == {}


def test_rubric_means_reject_bad_input(toy_vertical):
    with pytest.raises(ValueError, match="2 responses but 1 examples"):
        rubric_means(toy_vertical, ["a", "b"], EXAMPLES[:1])
    lacking = replace(toy_vertical, rubric=lambda response, example: {"clarity": 1.0})
    with pytest.raises(ValueError, match=r"toy rubric gave no score for \['empathy'\]"):
        rubric_means(lacking, ["a"], EXAMPLES[:1])
