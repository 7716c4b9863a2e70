"""auto: a car-spec advisor vertical (参数查询, 车型对比, 购车推荐).

A user names a trim ("2024款 星驰逐风 1.5T 舒适型的最大功率是多少？"), two trims to compare, or a
budget with energy/body/use-case needs. The retriever parses the free text, looks the trims up in the
knowledge graph (brands -> series -> trims) and lists them as numbered fact lines, with comparison
winners and fit tags already worked out; the advisor answers with one JSON block that cites trims by
id (see :mod:`verticals.auto.answer`) and a one-sentence conclusion. Importing this package is cheap:
the graph and the datasets are built on first use and cached.

>>> VERTICAL.name, [rule.name for rule in VERTICAL.rules][:3]
('auto', ['structure_parses', 'cited_values_match_graph', 'trim_exists'])
"""

from __future__ import annotations

from pathlib import Path

from core_training.authoring import config_file, dataset_loaders
from core_training.contract import Vertical
from verticals.auto import data
from verticals.auto.corpus import load_cpt_corpus
from verticals.auto.kg import auto_graph
from verticals.auto.retriever import build_truth, retrieve
from verticals.auto.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.auto.rules import RULES

# Short on purpose: system prompt, facts (<= ~350 tokens) and answer (<= ~150) share one small window.
SYSTEM_PROMPT = "你是汽车参数顾问。只依据已知事实作答，用[编号]引用车型：先写【参数】JSON，再写一句【结论】。"

CONFIG_OVERRIDES = config_file(Path(__file__).with_name("config.yaml"))  # this vertical's settings

VERTICAL = Vertical(
    name="auto",
    description="汽车参数顾问：查询配置参数、对比两款车、按预算与用途推荐车型，答案按编号引用检索到的配置。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
    build_truth=build_truth,
    rubric=rubric,
    rubric_dimensions=RUBRIC_DIMENSIONS,
    load_graph=auto_graph,
    load_cpt_corpus=load_cpt_corpus,
    **dataset_loaders(data),
    config_overrides=CONFIG_OVERRIDES,
    datasets_dir="data_cards/auto",
    dataset_notes={
        "provenance": (
            "Generated, not collected: `knowledge_graphs/auto.py` builds an internally consistent car catalogue "
            "from seed 0 (17 invented brands, 46 series, 195 trims of 2023-2025款; price follows class, brand tier, "
            "energy and trim level, 0-100 follows power-to-weight, 马力 = round(kW x 1.36)). Questions come from "
            "`verticals/auto/questions.py` and are kept only when the retriever reads them back as written; truth "
            "comes from that same retriever; gold answers are written by four simulated advisors (all pass every "
            "rule, they differ in directness, clarity and use-case relevance); preference pairs are ordered by a "
            "simulated panel (`core_training.judge.make_panel`)."),
        "splits": (
            "Held out by series, in two splits. dev (`load_dev_set`, for choosing settings; the eval set the shipped "
            "settings were chosen on, unchanged): 8 of the first 40 series (凌云, 澄空, 立夏, 长庚, 松涛, 浪花, 黑曜, "
            "晨曦), also the CPT eval split. test (`load_eval_set`, never used to choose anything): 6 series of two "
            "超豪华 brands (瀚宸 鎏金/翡翠/青铜, 曦穹 琉璃/珊瑚/琥珀), generated after everything else from a random "
            "stream of their own, in no corpus; every test trim costs over 75万, so no training or dev "
            "recommendation (budgets up to 60万) lists one, and test recommendations have budgets of 175-240万. "
            "Training questions name only training trims, and a training recommendation is kept only if none of "
            "its candidates is held out; dev/test spec and compare questions name only their split's trims, every "
            "dev/test recommendation recommends at least one, and no test example lists a trim of another split "
            "(tests/verticals/auto/test_auto_splits.py, with the unchanged training digests)."),
        "limitations": (
            "Synthetic: brands, trims and numbers are invented. The retriever gives comparison winners and "
            "符合/超预算/不符能源 tags, fitting trims listed first (a design choice for a ~4M-parameter model); real advice also weighs "
            "reliability, dealers, incentives and taste, which this data does not model."),
        "intended_use": (
            "Post-training and evaluating the car-spec advisor with vkit; demonstrations. Not buying advice."),
    },
)
