"""Checking what an answer cites: a JSON value against the graph, and the numbers its prose states.

A value is right when it equals the trim's graph value in an accepted unit (最大功率 may be given in
马力 = round(kW × 1.36)). A number-with-unit in the 结论 is right when some cited trim has it (in
that unit class), or it is the budget, or a compared gap.

>>> item = {"项": "最大功率", "值": {"1": "204马力"}}
>>> value_problem(item, "1", "204马力", {"params": {"最大功率": 150}}) is None
True
>>> value_problem(item, "1", "150马力", {"params": {"最大功率": 150}})
'[1] 最大功率: 150马力 ≠ 204马力'
>>> value_problem(item, "1", "150kg", {"params": {"最大功率": 150}})
"[1] 最大功率: unit 'kg' is not kW or 马力"
>>> value_problem({"项": "最大功率", "单位": "kW"}, "1", 150, {"params": {"最大功率": 150}}) is None  # 单位 key
True
>>> prose_numbers("[2]0-100 6.5s，快1.4s，油耗5.2L/100km")
[('s', 6.5, '6.5s'), ('s', 1.4, '1.4s'), ('L/100km', 5.2, '5.2L/100km')]
"""

from __future__ import annotations

import re

from core_training.contract import Example
from verticals.auto.answer import all_refs, prose_ids, resolve_in_graph
from verticals.auto.vocab import HP_UNITS, PARAMS, hp_of, same_value

PROSE_NUMBER = re.compile(r"(\d+(?:\.\d+)?)\s*(L/100km|N·m|N\.m|Nm|牛·米|牛米|kW|千瓦|马力|PS|匹|万元|万|km|公里|mm|毫米|"
                          r"kg|公斤|千克|L|升|s|秒|座)(?![a-zA-Z])")
DIMENSIONS = re.compile(r"[×xX*]")  # "4755×1915×1695" is one value
ACCELERATION = re.compile(r"0-100(?:\s*km/h)?")  # the 项 name, not a number of the prose
VALUE_WITH_UNIT = re.compile(r"^\s*(\d+(?:\.\d+)?(?:\s*[×xX*]\s*\d+(?:\.\d+)?)*)\s*(\S*)\s*$")
UNIT_CLASS = {"L/100km": "L/100km", "N·m": "N·m", "N.m": "N·m", "Nm": "N·m", "牛·米": "N·m", "牛米": "N·m",
              "kW": "kW", "千瓦": "kW", "马力": "马力", "PS": "马力", "匹": "马力", "万元": "万", "万": "万",
              "km": "km", "公里": "km", "mm": "mm", "毫米": "mm", "kg": "kg", "公斤": "kg", "千克": "kg",
              "L": "L", "升": "L", "s": "s", "秒": "s", "座": "座"}
ITEM_CLASSES = {"指导价": ("万",), "排量": ("L",), "最大功率": ("kW",), "最大扭矩": ("N·m",), "0-100": ("s",),
                "油耗": ("L/100km", "L"), "续航": ("km",), "长宽高": ("mm",), "轴距": ("mm",), "整备质量": ("kg",),
                "座位": ("座",)}




def split_value(text: str) -> tuple[float | str, str] | None:
    """``"385N·m"`` -> ``(385, "N·m")``, ``"4755×1915×1695mm"`` -> ``("4755×1915×1695", "mm")``; None
    when the text does not start with a number.

    >>> split_value("5.6L/100km"), split_value("204 马力"), split_value("前驱")
    ((5.6, 'L/100km'), (204, '马力'), None)
    """
    match = VALUE_WITH_UNIT.match(text)
    if match is None:
        return None
    number, unit = match.groups()
    if DIMENSIONS.search(number):
        return number, unit
    return (float(number) if "." in number else int(number)), unit


def value_problem(item: dict, key: str, value, candidate: dict) -> str | None:
    """Why one cited value is wrong, or None when it is right.

    The unit is written with the value (``"385N·m"``, as the facts show it) or, for a bare number, as
    the item's ``单位``. Text values (变速箱, 驱动) have no unit.
    """
    name, unit, label = item["项"], item.get("单位", ""), f"[{key}] {item['项']}"
    param = PARAMS.get(name)
    if param is None:
        return f"unknown 项 {name!r}"
    if isinstance(value, str) and param.unit and split_value(value) is not None:
        value, unit = split_value(value)
    if name not in candidate["params"]:
        return f"{label}: the trim has no {name}"
    expected = candidate["params"][name]
    if name == "最大功率" and unit in HP_UNITS:
        expected, unit_ok = hp_of(expected), True
    else:
        unit_ok = unit in param.units
    if not unit_ok:
        return f"{label}: unit {unit!r} is not {param.unit}" + (" or 马力" if name == "最大功率" else "")
    if not same_value(value, expected):
        return f"{label}: {value}{unit} ≠ {expected}{unit}"
    return None


def allowed_prose_numbers(obj: dict, prose: str, example: Example) -> set[tuple[str, float]]:
    """(unit class, value) pairs the 结论 may state: values of the trims it cites, budget, gaps."""
    truth, candidates = example["truth"], example["truth"]["candidates"]
    refs = all_refs(obj) + prose_ids(prose)
    allowed = set()
    for ref in refs:
        found = resolve_in_graph(ref, candidates)
        for item, value in (found or {"params": {}})["params"].items():
            numbers = [float(v) for v in str(value).split("×")] if item == "长宽高" else [value]
            for unit_class in ITEM_CLASSES.get(item, ()):
                allowed.update((unit_class, float(n)) for n in numbers)
            if item == "最大功率":
                allowed.add(("马力", float(hp_of(value))))
    if truth.get("budget") is not None:
        allowed.add(("万", float(truth["budget"])))
    for row in truth.get("comparisons", []):
        allowed.add((UNIT_CLASS.get(row["unit"], row["unit"]), float(row["gap"])))
    return allowed


def prose_numbers(prose: str) -> list[tuple[str, float, str]]:
    """(unit class, value, as written) of every number-with-unit in prose (``0-100`` itself skipped)."""
    text = ACCELERATION.sub(" ", prose)
    return [(UNIT_CLASS[u], float(n), f"{n}{u}") for n, u in PROSE_NUMBER.findall(text)]
