"""k12: a primary-school math tutor that writes the way teachers require, checked by a real math verifier.

An outside vertical (its own pip package, registered under the ``vkit.verticals`` entry point group)::

    pip install -e examples/vkit-k12 && vkit run k12 --preset micro

A student question names the grade (``三年级：一本书21元，买5本要多少元？``); the retriever returns that
grade's allowed methods and the writing norms; the answer is two short sections::

    【算式】21×5=105（元）
    【答案】105元

Rules (:mod:`vkit_k12.rules`) check the norms (× ÷, ``\\frac{a}{b}`` in lowest terms, units, no method
beyond the grade such as 方程 before grade 5) and, with sympy, that every equality and the answer are right.

>>> VERTICAL.name, [rule.name for rule in VERTICAL.rules][:3]
('k12', ['sections_in_order', 'operator_signs', 'fraction_notation'])
"""

from __future__ import annotations

from pathlib import Path

from core_training.authoring import dataset_loaders, sequence_overrides
from core_training.contract import Vertical

from vkit_k12 import data
from vkit_k12.retriever import build_truth, retrieve
from vkit_k12.rubric import RUBRIC_DIMENSIONS, rubric
from vkit_k12.rules import RULES
from vkit_k12.syllabus import syllabus_graph

SYSTEM_PROMPT = "你是小学数学老师。按年级可用的方法解题，先写【算式】（乘号×、除号÷、分数\\frac{}{}、注明单位），再写【答案】。"
CARDS = Path(__file__).resolve().parent / "data_cards" / "k12"
# Short answers: completions rarely pass 60 tokens, prompts 200.
CONFIG_OVERRIDES = sequence_overrides(max_completion_length=96)

VERTICAL = Vertical(
    name="k12",
    description="小学数学辅导：按年级大纲列式解题，× ÷ 与分数书写规范，sympy 验算每一步和答案。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
    build_truth=build_truth,
    rubric=rubric,
    rubric_dimensions=RUBRIC_DIMENSIONS,
    load_graph=syllabus_graph,
    **dataset_loaders(data),
    config_overrides=CONFIG_OVERRIDES,
    datasets_dir=str(CARDS),
    dataset_notes={
        "provenance": (
            "Generated, not collected: 29 problem templates (vkit_k12/problems.py) draw numbers from a seeded "
            "generator; the worked 算式 and 答案 are written by code in the notation teachers require and verified "
            "with sympy. The knowledge graph is the syllabus: grades 1-6 and the methods each allows."),
        "splits": (
            "Held out by template: the eval set uses only the 8 templates in HELD_OUT (calculations and word "
            "problems across the syllabus stages); training data never uses them."),
        "limitations": (
            "Synthetic and narrow: fixed templates, 人教版-like syllabus order simplified to method names; "
            "method detection reads the written answer (×, ÷, \\frac, x, %...), so it cannot see a method used "
            "only in the head."),
        "intended_use": "Post-training and evaluating the k12 tutor with vkit; a template for outside verticals.",
    },
)
