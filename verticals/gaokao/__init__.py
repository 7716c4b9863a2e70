"""gaokao: a 高考志愿填报 (college-application) advisor vertical.

A student writes province, year, 科类, score, 选科 and a wish; the retriever converts the score to a
位次 and lists bracketing candidate 专业组 by id; the advisor answers in four sections with one
machine-checkable JSON 志愿表 (see :mod:`verticals.gaokao.answer`). Importing this package is cheap:
the graph and the datasets are built on first use and cached.

>>> VERTICAL.name, [rule.name for rule in VERTICAL.rules][:2]
('gaokao', ['structure_parses', 'rank_conversion_correct'])
"""

from __future__ import annotations

from pathlib import Path

from core_training.authoring import config_file, dataset_loaders
from core_training.contract import Vertical
from verticals.gaokao import data
from verticals.gaokao.corpus import load_cpt_corpus
from verticals.gaokao.kg import gaokao_graph
from verticals.gaokao.retriever import build_truth, retrieve
from verticals.gaokao.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.gaokao.rules import RULES

# Short on purpose: system prompt, facts, question and answer share one small context window.
SYSTEM_PROMPT = "你是资深高考志愿填报顾问。依据事实作答，分考生情况分析、志愿表（JSON）、填报策略、风险提示四部分。"
CONFIG_OVERRIDES = config_file(Path(__file__).with_name("config.yaml"))  # this vertical's settings

VERTICAL = Vertical(
    name="gaokao",
    description="高考志愿填报顾问：一分一段换算位次，按近三年录取位次给出冲稳保志愿表并提示滑档、大小年等风险。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
    build_truth=build_truth,
    rubric=rubric,
    rubric_dimensions=RUBRIC_DIMENSIONS,
    load_graph=gaokao_graph,
    load_cpt_corpus=load_cpt_corpus,
    **dataset_loaders(data),
    config_overrides=CONFIG_OVERRIDES,
    datasets_dir="data_cards/gaokao",
    dataset_notes={
        "provenance": (
            "Generated, not collected: `knowledge_graphs/gaokao.py` builds a realistic, internally consistent "
            "graph from seed 0 (5 provinces, 108 invented universities, 245 专业组, 一分一段 tables 2021-2025, "
            "admission records whose ranks follow the score tables, with 大小年 swings). Chains, RL prompts, eval "
            "items and preference pairs come from `verticals/gaokao/data.py`: student profiles drawn from a seeded "
            "generator, candidates from the same retriever the app uses, gold answers written by four simulated "
            "experts (all pass every rule), preference pairs ordered by a simulated expert panel "
            "(`core_training.judge.make_panel`)."),
        "splits": (
            "Held out by student profile, province AND university, in two splits. dev (`load_dev_set`, for choosing "
            "settings; the eval set the shipped settings were chosen on, unchanged): students of 湖北, where only the "
            "26 eval-pool universities recruit. test (`load_eval_set`, never used to choose anything): students of "
            "安徽, where only the 26 test-pool universities recruit, generated from a random stream of their own "
            "after everything else, so the training data stayed byte-identical. Training data never mentions 湖北, "
            "安徽 or a held-out university, and dev and test share none "
            "(tests/verticals/gaokao/test_gaokao_splits.py checks this and the unchanged digests)."),
        "limitations": (
            "Synthetic: universities, ranks and plans are invented. Real 志愿 advice also weighs city, cost, "
            "career and family factors that this data does not model; 冲/稳/保 thresholds (-5%, +10%) are one "
            "convention among several."),
        "intended_use": "Post-training and evaluating the gaokao advisor with vkit; demonstrations. Never real advice.",
    },
)
