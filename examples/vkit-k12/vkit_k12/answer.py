"""The answer format: two sections, 【算式】 (the worked steps) then 【答案】 (the result).

::

    【算式】(12+8)×5=20×5=100（元）
    【答案】100元

>>> split_sections("【算式】6×4=24\\n【答案】24")
{'算式': '6×4=24', '答案': '24'}
>>> answer_parts("2\\\\frac{1}{3}千克"), answer_parts("x=8"), answer_parts("7……3")
(('2\\\\frac{1}{3}', '千克'), ('8', ''), ('7……3', ''))
"""

from __future__ import annotations

import re

from core_training.authoring import Sections

SECTIONS = ("算式", "答案")
FORMAT = Sections(SECTIONS)
split_sections = FORMAT.split  # title -> its text; the first occurrence of each title wins
section_titles = FORMAT.titles_in  # titles in the order they appear


def answer_parts(answer: str) -> tuple[str, str]:
    """(the number as written, the unit) of a 【答案】 body; a leading ``x=`` is dropped."""
    body = re.sub(r"^[xX]\s*=\s*", "", answer.strip().rstrip("。."))
    match = re.match(r"[-\d.\\{}frac…%]+", body)
    if not match:
        return body, ""
    return match.group(0), body[match.end():].strip()


def render(work: str, answer: str) -> str:
    return f"【算式】{work}\n【答案】{answer}"
