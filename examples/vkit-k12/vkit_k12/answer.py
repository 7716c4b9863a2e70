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

SECTIONS = ("算式", "答案")
SECTION_PATTERN = re.compile("【(" + "|".join(SECTIONS) + ")】")


def split_sections(text: str) -> dict[str, str]:
    """Section title -> its text up to the next title; the first occurrence of each title wins."""
    sections: dict[str, str] = {}
    matches = list(SECTION_PATTERN.finditer(text))
    for match, following in zip(matches, matches[1:] + [None]):
        end = following.start() if following else len(text)
        sections.setdefault(match.group(1), text[match.end():end].strip())
    return sections


def section_titles(text: str) -> list[str]:
    return [m.group(1) for m in SECTION_PATTERN.finditer(text)]


def answer_parts(answer: str) -> tuple[str, str]:
    """(the number as written, the unit) of a 【答案】 body; a leading ``x=`` is dropped."""
    body = re.sub(r"^[xX]\s*=\s*", "", answer.strip().rstrip("。."))
    match = re.match(r"[-\d.\\{}frac…%]+", body)
    if not match:
        return body, ""
    return match.group(0), body[match.end():].strip()


def render(work: str, answer: str) -> str:
    return f"【算式】{work}\n【答案】{answer}"
