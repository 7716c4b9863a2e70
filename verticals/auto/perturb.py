"""Perturbations of a gold answer: the "worse" side of preference pairs and the known-bad answers.

Each hard perturbation maps ``(answer, truth, rng)`` to a degraded answer that breaks the rule named
in :data:`BREAKS`, or ``None`` when it does not apply (e.g. no over-budget candidate to pick). Soft
ones keep every rule passing and only lower the rubric.

>>> from verticals.auto.demo import COMPARE_ANSWER, COMPARE_EXAMPLE
>>> import random
>>> print(HARD_PERTURBATIONS["wrong_winner"](COMPARE_ANSWER, COMPARE_EXAMPLE["truth"], random.Random(0)))
【参数】{"车型":[1,2],"参数":[{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":1}]}
【结论】[2]加速更快，0-100占优。
"""

from __future__ import annotations

import random
import re
from typing import Callable

from core_training.authoring import compact_json
from verticals.auto.answer import parse_answer, render_answer, split_sections
from verticals.auto.citations import split_value
from verticals.auto.experts import CLOSINGS, GREETINGS, item_json

Perturbation = Callable[[str, dict, random.Random], "str | None"]
INVENTED_CARS = ("2025款 华晨飞云 Max", "2024款 远景星河 Pro", "2025款 天工T7 豪华型")


def _rebuild(answer: str, obj: dict | None = None, conclusion: str | None = None) -> str:
    return render_answer(obj or parse_answer(answer), conclusion if conclusion is not None else _prose(answer))


def _prose(answer: str) -> str:
    return split_sections(answer)["结论"]


def _bump(number: str) -> str:
    """A near miss of a number: the last digit moved by one (as a copying slip would)."""
    last = int(number[-1])
    return number[:-1] + str(last + 1 if last < 9 else last - 1)


def _numbers(obj: dict) -> list[tuple[dict, str, str, str]]:
    """(item, trim key, number as written, unit) of every numeric value with a unit, e.g. ``"385N·m"``."""
    found = []
    for item in obj["参数"]:
        for key, value in item["值"].items():
            parts = split_value(value) if isinstance(value, str) else (value, item.get("单位", ""))
            if parts and isinstance(parts[0], (int, float)) and parts[1]:
                found.append((item, key, value.removesuffix(parts[1]) if isinstance(value, str) else repr(value),
                              parts[1]))
    return found


def wrong_value(answer: str, truth: dict, rng: random.Random) -> str | None:
    obj = parse_answer(answer)
    numbers = _numbers(obj)
    if not numbers:
        return None
    item, key, number, unit = rng.choice(numbers)
    item["值"][key] = f"{_bump(number)}{unit}"
    return _rebuild(answer, obj)


def wrong_unit(answer: str, truth: dict, rng: random.Random) -> str | None:
    """kW relabelled as 马力 without converting, or another 项's unit."""
    obj = parse_answer(answer)
    numbers = _numbers(obj)
    if not numbers:
        return None
    item = rng.choice(numbers)[0]
    swaps = {"kW": "马力", "马力": "kW", "万": "元", "s": "min", "km": "mi", "kg": "t"}
    for _, key, number, unit in (n for n in numbers if n[0] is item):
        item["值"][key] = f"{number}{swaps.get(unit, 'kg')}"
    return _rebuild(answer, obj)


def wrong_prose_number(answer: str, truth: dict, rng: random.Random) -> str | None:
    """The 结论 restates a cited value with a slipped digit (the failure the number-free 结论 avoids)."""
    numbers = _numbers(parse_answer(answer))
    if not numbers:
        return None
    item, key, number, unit = rng.choice(numbers)
    space = " " if item["项"] == "0-100" else ""
    slipped = f"[{key}]{item['项']}{space}{_bump(number)}{unit}"
    return _rebuild(answer, conclusion=_prose(answer).rstrip("。") + f"，{slipped}。")


def unknown_id(answer: str, truth: dict, rng: random.Random) -> str:
    obj = parse_answer(answer)
    obj["车型"] = obj["车型"] + [len(truth["candidates"]) + 1 + rng.randrange(3)]
    return _rebuild(answer, obj)


def invented_car_in_prose(answer: str, truth: dict, rng: random.Random) -> str:
    return _rebuild(answer, conclusion=_prose(answer).rstrip("。") + f"，也可以看看{rng.choice(INVENTED_CARS)}。")


def unretrieved_series_in_prose(answer: str, truth: dict, rng: random.Random) -> str | None:
    from verticals.auto.kg import auto_index

    index, retrieved = auto_index(), {c["series"] for c in truth["candidates"]}
    # never a test series: its name must not reach training data (and the draws stay the ones made before it)
    others = sorted({s["name"] for sid, s in index.series.items() if sid not in index.test} - retrieved)
    return _rebuild(answer, conclusion=_prose(answer).rstrip("。") + f"，{rng.choice(others)}也不错。")


def drop_asked_item(answer: str, truth: dict, rng: random.Random) -> str | None:
    obj = parse_answer(answer)
    if truth["type"] == "recommend":
        obj["预算"] = obj["预算"] + rng.choice((2, 5, 10))
        return _rebuild(answer, obj)
    asked = [i for i in obj["参数"] if i["项"] in truth["items"]]
    if not asked or truth["comparisons"]:
        return None  # a compared 项 dropped breaks comparison_direction_correct too: keep failures apart
    obj["参数"].remove(rng.choice(asked))
    return _rebuild(answer, obj)


def wrong_winner(answer: str, truth: dict, rng: random.Random) -> str | None:
    """The JSON's 胜 flipped to the other trim (the prose left as it was)."""
    if truth["type"] != "compare" or not any(r["winner"] for r in truth["comparisons"]):
        return None
    obj = parse_answer(answer)
    for item in obj["参数"]:
        if item.get("胜") in (1, 2):
            item["胜"] = 3 - item["胜"]
    return _rebuild(answer, obj)


def _swap_pick(answer: str, truth: dict, rng: random.Random, tag: str) -> str | None:
    traps = [c["id"] for c in truth["candidates"] if c.get("tag") == tag]
    obj = parse_answer(answer)
    if truth["type"] != "recommend" or not traps or not obj["车型"]:
        return None
    picks = list(obj["车型"])
    picks[rng.randrange(len(picks))] = rng.choice(traps)
    picks = list(dict.fromkeys(picks))
    obj["车型"] = picks
    obj["参数"] = [item_json(truth, item["项"], picks) for item in obj["参数"]]
    prose = _prose(answer)
    named = "和".join(f"[{p}]" for p in picks)
    return _rebuild(answer, obj, re.sub(r"推荐(\[\d+\](和\[\d+\])*)", "推荐" + named, prose, count=1))


def over_budget_pick(answer: str, truth: dict, rng: random.Random) -> str | None:
    return _swap_pick(answer, truth, rng, "超预算")


def wrong_energy_pick(answer: str, truth: dict, rng: random.Random) -> str | None:
    return _swap_pick(answer, truth, rng, "不符能源")


def broken_json(answer: str, truth: dict, rng: random.Random) -> str:
    text = compact_json(parse_answer(answer))
    return answer.replace(text, text[: rng.randrange(10, len(text) - 5)])


def missing_conclusion(answer: str, truth: dict, rng: random.Random) -> str:
    return answer.split("【结论】")[0].rstrip()


def padded(answer: str, truth: dict, rng: random.Random) -> str:
    """Soft: a greeting, the same sentence twice, a closing line (clarity, directness drop)."""
    prose = _prose(answer)
    return _rebuild(answer, conclusion=rng.choice(GREETINGS) + prose + prose + rng.choice(CLOSINGS))


HARD_PERTURBATIONS: dict[str, Perturbation] = {
    "wrong_value": wrong_value, "wrong_unit": wrong_unit, "wrong_prose_number": wrong_prose_number,
    "unknown_id": unknown_id, "invented_car_in_prose": invented_car_in_prose,
    "unretrieved_series_in_prose": unretrieved_series_in_prose, "drop_asked_item": drop_asked_item,
    "wrong_winner": wrong_winner, "over_budget_pick": over_budget_pick, "wrong_energy_pick": wrong_energy_pick,
    "broken_json": broken_json, "missing_conclusion": missing_conclusion,
}
SOFT_PERTURBATIONS: dict[str, Perturbation] = {"padded": padded}
PERTURBATIONS: dict[str, Perturbation] = {**HARD_PERTURBATIONS, **SOFT_PERTURBATIONS}
BREAKS = {  # hard perturbation -> the rule it must break
    "wrong_value": "cited_values_match_graph", "wrong_unit": "cited_values_match_graph",
    "wrong_prose_number": "cited_values_match_graph", "unknown_id": "trim_exists",
    "invented_car_in_prose": "no_invented_trims", "unretrieved_series_in_prose": "no_invented_trims",
    "drop_asked_item": "answers_the_question", "wrong_winner": "comparison_direction_correct",
    "over_budget_pick": "recommendation_within_budget", "wrong_energy_pick": "recommendation_energy_matches",
    "broken_json": "structure_parses", "missing_conclusion": "structure_parses",
}
