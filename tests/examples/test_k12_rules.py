"""k12 outside vertical: table-driven rule cases, the sympy verifier, hold-out, conformance, doctests."""

from __future__ import annotations

import doctest
import importlib

import pytest

from core_training.conformance import check_vertical
from core_training.rewards import all_passed, check

from vkit_k12 import VERTICAL
from vkit_k12.mathcheck import value, work_problems
from vkit_k12.problems import HELD_OUT
from vkit_k12.rules import DEMO, RULES
from vkit_k12.syllabus import allowed_methods

RULE = {r.name: r.fn for r in RULES}


def example(grade: int = 3, kind: str = "word", value_: str = "6", unit: str = "组", steps: int = 2) -> dict:
    return {"truth": {"grade": grade, "kind": kind, "template": "t", "value": value_, "unit": unit,
                      "allowed_methods": allowed_methods(grade), "steps": steps}}


CASES = [  # (rule, response, example, passes, reason contains)
    ("sections_in_order", "【算式】6×4=24\n【答案】24", example(2, "calc", "24", ""), True, "ok"),
    ("sections_in_order", "【答案】24\n【算式】6×4=24", example(2, "calc", "24", ""), False, "before"),
    ("sections_in_order", "【算式】\n【答案】24", example(2, "calc", "24", ""), False, "empty"),
    ("operator_signs", "【算式】6×4=24\n【答案】24", example(2, "calc", "24", ""), True, "ok"),
    ("operator_signs", "【算式】6*4=24\n【答案】24", example(2, "calc", "24", ""), False, "*"),
    ("operator_signs", "【算式】24/4=6\n【答案】6", example(2, "calc", "6", ""), False, "÷"),
    ("operator_signs", "【算式】6x4=24\n【答案】24", example(2, "calc", "24", ""), False, "letter x"),
    ("operator_signs", "【算式】2x+3=9，2x=6，x=3\n【答案】x=3", example(5, "equation", "3", ""), True, "ok"),
    ("fraction_notation", "【算式】\\frac{1}{2}+\\frac{1}{3}=\\frac{5}{6}\n【答案】\\frac{5}{6}",
     example(5, "calc", "5/6", ""), True, "ok"),
    ("fraction_notation", "【算式】\\frac{1}{4}+\\frac{1}{4}=\\frac{2}{4}\n【答案】\\frac{2}{4}",
     example(5, "calc", "1/2", ""), False, "lowest terms"),
    ("fraction_notation", "【算式】\\frac{3}{4}+\\frac{1}{4}=\\frac{4}{1}\n【答案】\\frac{4}{1}",
     example(5, "calc", "1", ""), False, "denominator"),
    ("fraction_notation", "【算式】6×4=24\n【答案】24", example(2, "calc", "24", ""), None, "no fraction"),
    ("work_is_correct", "【算式】(26+12)×5=38×5=190\n【答案】190", example(4, "calc", "190", ""), True, "ok"),
    ("work_is_correct", "【算式】(26+12)×5=26+60=86\n【答案】86", example(4, "calc", "190", ""), False, "≠"),
    ("work_is_correct", "【算式】59÷8=7……3\n【答案】7……3", example(2, "remainder", "7……3", ""), True, "ok"),
    ("work_is_correct", "【算式】59÷8=6……11\n【答案】6……11", example(2, "remainder", "7……3", ""), False, "7……3"),
    ("work_is_correct", "【算式】4x+22=54，4x=32，x=8\n【答案】x=8", example(5, "equation", "8", ""), True, "ok"),
    ("work_is_correct", "【算式】4x+22=54，4x=76，x=19\n【答案】x=19", example(5, "equation", "8", ""), False, "x ="),
    ("answer_correct", "【算式】3.1×9=27.9\n【答案】27.9", example(5, "calc", "279/10", ""), True, "ok"),
    ("answer_correct", "【算式】x\n【答案】\\frac{1}{2}", example(5, "calc", "1/2", ""), True, "ok"),
    ("answer_correct", "【算式】x\n【答案】0.5", example(5, "calc", "1/2", ""), True, "ok"),  # 0.5 = 1/2 exactly
    ("answer_correct", "【算式】x\n【答案】0.51", example(5, "calc", "1/2", ""), False, "≠"),
    ("answer_correct", "【算式】x\n【答案】7……3", example(2, "remainder", "7……3", ""), True, "ok"),
    ("answer_has_unit", "【算式】42÷7=6（组）\n【答案】6组", example(), True, "ok"),
    ("answer_has_unit", "【算式】42÷7=6（组）\n【答案】6", example(), False, "unit"),
    ("answer_has_unit", "【算式】6×4=24\n【答案】24", example(2, "calc", "24", ""), None, "no unit"),
    ("within_syllabus", "【算式】(33+9)÷7=42÷7=6（组）\n【答案】6组", example(), True, "ok"),
    ("within_syllabus", "【算式】设可以分成x组，7x=42，x=6（组）\n【答案】6组", example(), False, "方程"),
    ("within_syllabus", "【算式】设可以分成x组，7x=42，x=6（组）\n【答案】6组", example(5), True, "ok"),
    ("within_syllabus", "【算式】200×15%=30\n【答案】30", example(5, "calc", "30", ""), False, "百分数"),
    ("within_syllabus", "【算式】\\frac{1}{2}+\\frac{1}{2}=1\n【答案】1", example(2, "calc", "1", ""), False, "分数"),
]


@pytest.mark.parametrize(("rule", "response", "example_", "passes", "reason"), CASES)
def test_rule_cases(rule, response, example_, passes, reason):
    result = RULE[rule](response, example_)
    if passes is None:
        assert result.score is None and reason in result.reason
    else:
        assert result.passed is passes and reason in result.reason, result.reason


@pytest.mark.parametrize(("text", "expected"), [("(35+25)×4", 240), ("\\frac{1}{2}+\\frac{1}{3}", "5/6"),
                                                ("2\\frac{1}{3}", "7/3"), ("200×15%", 30), ("2.5×4", 10),
                                                ("（12+8）×5", 100), ("0.1+0.2", "3/10")])
def test_verifier_is_exact(text, expected):
    assert str(value(text)) == str(expected)


def test_verifier_rejects_code_and_garbage():
    assert work_problems("__import__('os')=1")
    assert work_problems("12×3=46") == ["12×3 ≠ 46 (12×3 = 36)"]


def test_eval_set_is_held_out_by_template():
    train = {ex["truth"]["template"] for ex in VERTICAL.load_chains() + VERTICAL.load_rl_prompts()}
    evals = {ex["truth"]["template"] for ex in VERTICAL.load_eval_set()}
    assert evals <= set(HELD_OUT) and not train & set(HELD_OUT)
    train_questions = {ex["messages"][0]["content"] for ex in VERTICAL.load_chains()}
    assert not train_questions & {ex["messages"][0]["content"] for ex in VERTICAL.load_eval_set()}


def test_every_hard_perturbation_is_caught():
    bad = VERTICAL.known_bad()
    assert len({ex["violates"] for ex in bad}) == 8
    assert not [ex["violates"] for ex in bad if all_passed(check(VERTICAL, ex["answer"], ex))]


def test_conformance():
    assert check_vertical(VERTICAL) == {name: [] for name in check_vertical(VERTICAL)}


def test_demo_passes_every_rule():
    assert all_passed(check(VERTICAL, "【算式】(33+9)÷7=42÷7=6（组）\n【答案】6组", DEMO))


@pytest.mark.parametrize("name", ["mathcheck", "syllabus", "problems", "answer", "rules", "retriever", "rubric", "data"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(f"vkit_k12.{name}"))
    assert result.failed == 0 and result.attempted > 0
