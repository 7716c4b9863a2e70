"""The scope rule: a car answer stays on the cars that were asked about.

Held out (``Rule.held_out``): measured at every evaluation, never a reward. It catches answers that
swap the car asked about for another one, and answers about a model the graph does not hold (asked
about 卡罗拉, the graph has none, and the answer quotes its 油耗 anyway).

>>> from verticals.auto.demo import COMPARE_ANSWER, COMPARE_EXAMPLE
>>> stays_on_asked_cars(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
True
"""

from __future__ import annotations

import re

from core_training.contract import Example, RuleResult
from verticals.auto.answer import cached_answer
from verticals.auto.kg import auto_index
from verticals.auto.names import uncovered_models
from verticals.auto.vocab import normalize

NOT_COVERED_WORDS = ("没有", "无法", "不能", "暂无", "未覆盖", "不在")
SENTENCE = re.compile(r"[^。！!；;\n]+")


def stays_on_asked_cars(response: str, example: Example) -> RuleResult:
    """A spec or comparison cites only the trims asked about (``truth["targets"]``); a model the graph
    does not hold is named only to say so, and, when the question named one (``truth["not_in_graph"]``),
    the answer says it is not covered.

    Args:
        response: the model's answer.
        example: its ``truth`` holds the question type, ``targets`` and any ``not_in_graph`` models.

    Returns:
        ok, or a failure naming the car outside the question; a skip when nothing is cited and nothing
        is out of scope (an unparsable answer is structure_parses' to fail).

    >>> from verticals.auto.demo import COMPARE_ANSWER, COMPARE_EXAMPLE
    >>> stays_on_asked_cars(COMPARE_ANSWER.replace('"车型":[1,2]', '"车型":[1,3]'), COMPARE_EXAMPLE).reason
    'cites [3], which the question did not ask about'
    >>> stays_on_asked_cars(COMPARE_ANSWER + "卡罗拉更省油。", COMPARE_EXAMPLE).reason
    'talks about 卡罗拉, which is not in the graph'
    >>> corolla = {"truth": {**COMPARE_EXAMPLE["truth"], "not_in_graph": ["卡罗拉"]}}
    >>> stays_on_asked_cars(COMPARE_ANSWER, corolla).reason
    'does not say that 卡罗拉 is not covered'
    >>> stays_on_asked_cars(COMPARE_ANSWER + "图谱中没有卡罗拉的数据。", corolla).passed
    True
    """
    truth = example["truth"]
    cited = (cached_answer.value(response) or {}).get("车型", [])
    if truth["type"] in ("spec", "compare"):
        outside = [i for i in cited if i not in truth["targets"]]
        if outside:
            return RuleResult.fail(f"cites [{outside[0]}], which the question did not ask about")
    for sentence in SENTENCE.findall(response):
        if any(word in sentence for word in NOT_COVERED_WORDS):
            continue
        named = uncovered_models(normalize(sentence), auto_index().series)
        if named:
            return RuleResult.fail(f"talks about {named[0]}, which is not in the graph")
    unsaid = [model for model in truth.get("not_in_graph", ()) if model not in response]
    if unsaid:
        return RuleResult.fail(f"does not say that {unsaid[0]} is not covered")
    return RuleResult.ok() if cited else RuleResult.skip("no car cited")
