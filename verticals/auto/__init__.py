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

from core_training.authoring import dataset_loaders, sequence_overrides
from core_training.contract import Vertical
from verticals.auto import data
from verticals.auto.corpus import load_cpt_corpus
from verticals.auto.kg import auto_graph
from verticals.auto.retriever import retrieve
from verticals.auto.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.auto.rules import RULES

# Short on purpose: system prompt, facts (<= ~350 tokens) and answer (<= ~150) share one small window.
SYSTEM_PROMPT = "你是汽车参数顾问。只依据已知事实作答，用[编号]引用车型：先写【参数】JSON，再写一句【结论】。"

# Grounded prompt + answer run ~430 tokens on average and up to ~620 with the base tokenizer (facts up to
# ~340, answers up to ~190), so sequences get more room than the 512 default.
CONFIG_OVERRIDES = sequence_overrides(max_length=640, max_completion_length=224)
# Twice the updates at the same compute: 360 steps of 8 instead of 180 of 16. The short answers need many
# small steps to learn which 项 and unit go with which question (measured, sft only, grounded all-rules
# pass on the held-out series: 0.367 at 180 x 16, 0.767 at 360 x 8).
CONFIG_OVERRIDES["sft"].update(max_steps=360, per_device_batch_size=8)
# From the portable rebuild of the base (2026-12-04): sft 0.667 at lr 1e-3, 0.883 at 2e-3.
CONFIG_OVERRIDES["sft"]["learning_rate"] = 2e-3
# rlhf: more prompts in smaller groups (30 steps of 2 prompts x 4 completions instead of 20 of 2 x 8). From the
# same reward model (runs/auto/r11), judge win vs rlvr 0.517 against 0.492 at the default; a higher learning
# rate (4e-5: 0.458) or 30 steps of 8 completions at 3e-5 (0.475) drifted the use-case phrase instead.
CONFIG_OVERRIDES["rlhf"].update(max_steps=30, per_device_batch_size=8, num_generations=4)

VERTICAL = Vertical(
    name="auto",
    description="汽车参数顾问：查询配置参数、对比两款车、按预算与用途推荐车型，答案按编号引用检索到的配置。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
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
