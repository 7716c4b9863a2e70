"""The gaokao paraphrase eval: hand-written questions of 湖北 students (``paraphrase_questions.txt``).

They are written unlike the training templates: colloquial track and subject names (理科生, 物理方向,
理化生), a stated 位次 instead of a score (位次两万八左右), numbers in words (五百六十分), no year,
other word orders. 湖北 is the eval-pool province, so every candidate is an eval-pool university, unseen
in training. The pipeline reports them as ``paraphrase/...`` metrics.

>>> examples = load_paraphrase_set()
>>> len(examples) >= 30, examples[0]["id"], examples[0]["truth"]["province"]
(True, 'gk-para-0000', '湖北')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from verticals.gaokao.experts import write_gold_answer
from verticals.gaokao.profile import ProfileError
from verticals.gaokao.retriever import build_truth
from verticals.question_files import question_examples

QUESTIONS = Path(__file__).with_name("paraphrase_questions.txt")


@lru_cache(maxsize=1)
def load_paraphrase_set() -> list[dict]:
    """One example per question, gold answers from the most complete expert (全面)."""
    return question_examples("gk", QUESTIONS, build_truth, write_gold_answer, "全面", (ProfileError,))
