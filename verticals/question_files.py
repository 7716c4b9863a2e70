"""Hand-written question files (a vertical's paraphrase eval) read into examples of the usual shape.

A question file holds one user question per line; blank lines and lines starting with ``#`` are
skipped. Each question becomes ``{"id", "messages", "answer", "truth"}``: the truth from the vertical's
own ``build_truth`` (the code the retriever and the app use), the gold answer from its expert writer.
A question the vertical cannot read is an error naming the file and line, never a silent skip.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "questions.txt"
>>> _ = path.write_text("# a comment\\n\\n2加3等于几？\\n三加四呢\\n", encoding="utf-8")
>>> read_questions(path)
[(3, '2加3等于几？'), (4, '三加四呢')]
>>> def truth_of(text):
...     if "加" not in text or not text[0].isdigit():
...         raise ValueError("没有识别到算式")
...     return {"sum": int(text[0]) + int(text[2])}
>>> question_examples("k", path, truth_of, lambda truth, style, variant: str(truth["sum"]), "老师")
Traceback (most recent call last):
...
core_training.contract.DataError: questions.txt:4: 没有识别到算式 (三加四呢)
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Mapping

from core_training.authoring import user_example
from core_training.contract import DataError


def read_questions(path: Path) -> list[tuple[int, str]]:
    """(line number, question) of every non-blank, non-comment line of ``path``."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [(number, line.strip()) for number, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]


def question_examples(prefix: str, path: Path, build_truth: Callable[[str], Mapping],
                      write_answer: Callable[..., str], style: str,
                      errors: tuple[type[Exception], ...] = (ValueError,)) -> list[dict]:
    """One example per question of ``path``, with id ``{prefix}-para-{i:04d}``.

    Raises:
        DataError: a question ``build_truth`` rejects (one of ``errors``); the message names file and line.
    """
    examples = []
    for number, (line, text) in enumerate(read_questions(path)):
        try:
            truth = build_truth(text)
        except errors as error:
            raise DataError(f"{Path(path).name}:{line}: {error} ({text})") from error
        examples.append(user_example(f"{prefix}-para-{number:04d}", text, {**truth, "expert": style},
                                     answer=write_answer(truth, style, variant=number)))
    return examples
