"""gaokao: a 高考志愿填报 (college-application) advisor vertical.

A student writes province, year, 科类, score, 选科 and a wish; the retriever converts the score to a
位次 and lists bracketing candidate 专业组 by id; the advisor answers in four sections with one
machine-checkable JSON 志愿表 (see :mod:`verticals.gaokao.answer`). Importing this package is cheap:
the graph and the datasets are built on first use and cached.

>>> VERTICAL.name, [rule.name for rule in VERTICAL.rules][:2]
('gaokao', ['structure_parses', 'rank_conversion_correct'])
"""

from __future__ import annotations

from core_training.contract import Vertical
from verticals.gaokao.corpus import load_cpt_corpus
from verticals.gaokao.data import known_bad, load_chains, load_eval_set, load_preferences, load_rl_prompts
from verticals.gaokao.kg import gaokao_graph
from verticals.gaokao.retriever import retrieve
from verticals.gaokao.rubric import RUBRIC_DIMENSIONS, rubric
from verticals.gaokao.rules import RULES

# Short on purpose: system prompt, facts, question and answer share one small context window.
SYSTEM_PROMPT = "你是资深高考志愿填报顾问。依据事实作答，分考生情况分析、志愿表（JSON）、填报策略、风险提示四部分。"
# Grounded prompt + answer run ~500 tokens (max ~640 with the base tokenizer; the 志愿表 JSON alone is
# ~130), so sequences get a little more room than the 512 default and completions more than 200.
CONFIG_OVERRIDES = {
    "sft": {"max_length": 704}, "rm": {"max_length": 704}, "dpo": {"max_length": 704},
    "rlvr": {"max_completion_length": 256}, "rlhf": {"max_completion_length": 256},
}

VERTICAL = Vertical(
    name="gaokao",
    description="高考志愿填报顾问：一分一段换算位次，按近三年录取位次给出冲稳保志愿表并提示滑档、大小年等风险。",
    system_prompt=SYSTEM_PROMPT,
    rules=RULES,
    retrieve=retrieve,
    rubric=rubric,
    rubric_dimensions=RUBRIC_DIMENSIONS,
    load_graph=gaokao_graph,
    load_cpt_corpus=load_cpt_corpus,
    load_chains=load_chains,
    load_rl_prompts=load_rl_prompts,
    load_preferences=load_preferences,
    load_eval_set=load_eval_set,
    known_bad=known_bad,
    config_overrides=CONFIG_OVERRIDES,
    datasets_dir="data_cards/gaokao",
)
