"""The auto paraphrase eval: hand-written car questions about the held-out series (``paraphrase_questions.txt``).

They are written unlike the training templates: other word orders, colloquial 项 names (马力有多大,
能跑多远, 车重), numbers in words (预算十四万左右, 十三万五以内), no model year, needs (省油, 空间大,
加速快) instead of a use case. Specs and comparisons name only the 8 held-out (dev) series; every
recommendation has a held-out trim among its gold picks. The pipeline reports them as ``paraphrase/...``.

>>> examples = load_paraphrase_set()
>>> len(examples) >= 30, examples[0]["id"], examples[0]["truth"]["type"]
(True, 'auto-para-0000', 'spec')
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from verticals.auto.experts import write_gold_answer
from verticals.auto.query import QueryError
from verticals.auto.retriever import build_truth
from verticals.question_files import question_examples

QUESTIONS = Path(__file__).with_name("paraphrase_questions.txt")


@lru_cache(maxsize=1)
def load_paraphrase_set() -> list[dict]:
    """One example per question, gold answers from the most direct advisor (干练), as in the dev and test sets."""
    return question_examples("auto", QUESTIONS, build_truth, write_gold_answer, "干练", (QueryError,))
