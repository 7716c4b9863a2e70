"""The scope rule: an answer recommends only inside what the student asked about.

Held out (``Rule.held_out``): measured at every evaluation, never a reward. It catches the failure
this kit exists to prevent: advice about something the graph does not hold, made up to look helpful.

>>> from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE
>>> recommends_within_scope(DEMO_ANSWER, DEMO_EXAMPLE).passed
True
"""

from __future__ import annotations

import re

from core_training.contract import Example, RuleResult
from verticals.gaokao.kg import university_names

NOT_COVERED_WORDS = ("没有", "未覆盖", "无法", "不能", "不在", "暂不")
SENTENCE = re.compile(r"[^。！!；;\n]+")


_BY_FIRST: dict[str, tuple] = {}  # "names" -> (the name set they were read from, first character -> names)


def _names_starting_with(characters: set[str]) -> list[str]:
    """The university names whose first character is in ``characters``, longest first (ties by name).

    Names are grouped by first character once per graph, so a text is checked only for the few names
    that could be in it (a full-size graph has thousands).
    """
    names = university_names()
    cached = _BY_FIRST.get("names")
    if cached is None or cached[0] is not names:
        by_first: dict[str, list] = {}
        for order, name in enumerate(sorted(names, key=lambda name: (-len(name), name))):
            by_first.setdefault(name[0], []).append((order, name))
        cached = _BY_FIRST["names"] = (names, by_first)
    by_first = cached[1]
    return [name for _, name in sorted(item for char in characters & by_first.keys() for item in by_first[char])]


def recommends_within_scope(response: str, example: Example) -> RuleResult:
    """No university outside the retrieved candidates (they recruit in the student's province and
    科类), and a wished place the graph does not cover (``truth["not_in_graph"]``) is said to be not
    covered, and named only to say so.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` are the universities the answer may name.

    Returns:
        ok, or a failure naming the first university or place outside the request.

    >>> from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE
    >>> recommends_within_scope(DEMO_ANSWER + "也可考虑京华政法大学。", DEMO_EXAMPLE).passed
    True
    >>> recommends_within_scope(DEMO_ANSWER + "也可考虑前海财经大学。", DEMO_EXAMPLE).reason
    'names 前海财经大学, which is not a retrieved candidate for 广东物理类'
    >>> asked_suzhou = {"truth": {**DEMO_EXAMPLE["truth"], "not_in_graph": ["苏州"]}}
    >>> recommends_within_scope(DEMO_ANSWER + "苏州的学校也不错。", asked_suzhou).reason
    'recommends in 苏州, which the graph does not cover'
    >>> recommends_within_scope(DEMO_ANSWER, asked_suzhou).reason
    'does not say that 苏州 is not covered'
    >>> recommends_within_scope(DEMO_ANSWER + "图谱中没有苏州的院校。", asked_suzhou).passed
    True
    """
    truth = example["truth"]
    allowed = {c["university"] for c in truth["candidates"]}
    text = response
    for name in sorted(allowed, key=len, reverse=True):  # a candidate's name may contain another's
        text = text.replace(name, "#")
    for name in _names_starting_with(set(text)):
        if name not in allowed and name in text:
            return RuleResult.fail(f"names {name}, which is not a retrieved candidate for "
                                   f"{truth['province']}{truth['track']}")
    for place in truth.get("not_in_graph", ()):
        sentences = [sentence for sentence in SENTENCE.findall(response) if place in sentence]
        if any(not any(word in sentence for word in NOT_COVERED_WORDS) for sentence in sentences):
            return RuleResult.fail(f"recommends in {place}, which the graph does not cover")
        if not sentences:
            return RuleResult.fail(f"does not say that {place} is not covered")
    return RuleResult.ok()
