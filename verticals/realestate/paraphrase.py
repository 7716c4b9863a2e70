"""The realestate paraphrase eval: hand-written buyers' questions about 苏州 (``paraphrase_questions.txt``).

They are written unlike the training templates: other word orders, colloquial forms (娃要上重点小学,
孩子喜欢跳舞, 学校无所谓), numbers in words (预算四百五十万), a 首付 amount and a 月供 ceiling instead of a
budget, and missing slots the broker must ask about. 苏州 is the eval-pool city, so every listing, 小区
and school a turn can cite is unseen in training. Each question is one user turn; the gold turn is the
most thorough broker's (资深): a question about the missing slots, or a recommendation. The pipeline
reports them as ``paraphrase/...`` metrics.

>>> examples = load_paraphrase_set()
>>> len(examples) >= 30, examples[0]["id"], examples[0]["truth"]["city"]
(True, 're-para-0000', '苏州')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from verticals.question_files import question_examples
from verticals.realestate.brokers import write_turn
from verticals.realestate.retriever import build_truth

QUESTIONS = Path(__file__).with_name("paraphrase_questions.txt")


@lru_cache(maxsize=1)
def load_paraphrase_set() -> list[dict]:
    """One single-turn example per question; ``build_truth`` never raises (unknown slots show as missing)."""
    return question_examples("re", QUESTIONS, build_truth, write_turn, "资深")
