"""realestate: an AI broker (经纪人) for 学区房 who asks before recommending.

A buyer writes a budget, a school need (应试, or 素质 with the child's activity), a commute and more,
over one or several turns. The retriever parses the dialog, tracks which required slots are still
missing, and once the request is specific lists numbered candidate listings with 首付 and 等额本息
月供 already computed, each marked ``符合`` or with the check it fails. The broker either asks about
the missing slots (a question ending in "？") or recommends the fitting listings in one 【推荐】 JSON
(see :mod:`verticals.realestate.answer`) with a note to check 学区 policy with the 教育局. Importing
this package is cheap: the graph and the datasets are built on first use and cached.

>>> VERTICAL.name, VERTICAL.multi_turn, [rule.name for rule in VERTICAL.rules][:2]
('realestate', True, ['clarifies_when_ambiguous', 'listings_exist_and_match'])
"""

from __future__ import annotations

from pathlib import Path

from core_training.authoring import config_file, dataset_loaders
from core_training.contract import Vertical
from verticals.realestate import data
from verticals.realestate.corpus import load_cpt_corpus
from verticals.realestate.kg import realestate_graph
from verticals.realestate.retriever import build_truth, retrieve
from verticals.realestate.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.realestate.rules import RULES

SYSTEM_PROMPT = (
    "你是学区房经纪人，只依据已知事实作答。进度末项为缺时，只问所缺各项，以？结尾；"
    "为已明确时，只推荐标符合的房源，写【推荐】JSON并说明理由，提醒学区政策以教育局为准。"
)
CONFIG_OVERRIDES = config_file(Path(__file__).with_name("config.yaml"))  # this vertical's settings
DATASET_NOTES = {
    "provenance": (
        "Generated, not collected: `knowledge_graphs/realestate.py` builds a consistent graph from seed 0 "
        "(杭州, 苏州 and 南京, 8 districts, 16 板块, 40 invented 小区, 200 listings priced at area × 小区 average ± 6%, "
        "22 schools with 重点/普通, exam rank and 素质 offerings, each opening a 校区 per further 小区 it covers (80 campuses, "
        "so the 杭州 answers cite 20 小学 codes, not 8), 学区 coverage, 16 metro stations with walking "
        "times). Dialogs come from `verticals/realestate/dialogs.py`: buyer families built around a listing, "
        "their needs said over one to three turns; facts from the same retriever the app uses; gold turns by "
        "four simulated brokers (all pass every rule); preference pairs ordered by the simulated panel "
        "(`core_training.judge.make_panel`)."),
    "splits": (
        "Multi-turn: an example is one assistant turn with the dialog before it. Held out by city, hence by "
        "小区, listing, school, station and family profile, in two splits: dev (`load_dev_set`, for choosing "
        "settings; the eval set the shipped settings were chosen on, unchanged) families all buy in 苏州, test "
        "(`load_eval_set`, never used to choose anything) families in 南京, generated after everything else from "
        "a random stream of their own, so the training data stayed byte-identical; every training split is in "
        "杭州, and the retriever lists only the buyer's city "
        "(tests/verticals/realestate/test_realestate_splits.py checks this and the unchanged digests)."),
    "intended_use": "Post-training and evaluating the realestate broker with vkit; demonstrations. Never real advice.",
    "limitations": (
        "Synthetic: 小区, schools, prices and walking times are invented. Real buyers also weigh floor, age, "
        "loans and family plans that this data models only loosely; 学区 rules here (one 小学 and one 初中 per "
        "小区) are simpler than real 划片 policy, which changes yearly."),
}

VERTICAL = Vertical(
    name="realestate",
    description="学区房经纪人：先问清预算、应试或素质（特长）、通勤，再按学区、地铁、预算推荐房源并算好首付和月供。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
    build_truth=build_truth,
    rubric=rubric,
    rubric_dimensions=RUBRIC_DIMENSIONS,
    load_graph=realestate_graph,
    load_cpt_corpus=load_cpt_corpus,
    **dataset_loaders(data),
    multi_turn=True,
    config_overrides=CONFIG_OVERRIDES,
    datasets_dir="data_cards/realestate",
    dataset_notes=DATASET_NOTES,
)
