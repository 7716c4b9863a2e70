"""Shared car-spec vocabulary: the parameters (项) with units and directions, and the words users type.

One place for what the retriever, the gold-answer writers, the rules and the rubric agree on. A 项 is
spelled the same in the retrieved facts and in the answer's JSON, so the model copies it verbatim.

>>> PARAMS["最大功率"].unit, PARAMS["0-100"].better
('kW', 'lower')
>>> normalize(" 2024款 星驰逐风 1.5T 舒适型 ")
'2024款星驰逐风1.5t舒适型'
>>> format_number(12.0), format_number(0.8), format_number(520)
('12', '0.8', '520')
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    """One parameter as the facts and the answer name it.

    Attributes:
        item: the 项 name, e.g. ``"最大功率"``.
        attr: the trim attribute in the graph (``长宽高`` joins three).
        unit: the canonical unit written after the value (``""`` for text values).
        units: every accepted spelling of the unit.
        better: ``"higher"``/``"lower"`` when a comparison has a natural winner, else None.
        decimals: digits after the point when printed (0 for integers and texts).
    """

    item: str
    attr: str
    unit: str
    units: tuple[str, ...]
    better: str | None
    decimals: int = 0


PARAMS = {p.item: p for p in (
    Param("指导价", "price", "万", ("万", "万元"), "lower", 2),
    Param("排量", "displacement", "L", ("L", "升"), "higher", 1),
    Param("最大功率", "power_kw", "kW", ("kW", "千瓦"), "higher"),
    Param("最大扭矩", "torque", "N·m", ("N·m", "Nm", "N.m", "牛·米", "牛米"), "higher"),
    Param("变速箱", "transmission", "", ("",), None),
    Param("0-100", "accel", "s", ("s", "秒"), "lower", 1),
    Param("油耗", "fuel", "L/100km", ("L/100km", "L", "升"), "lower", 1),
    Param("续航", "range_km", "km", ("km", "公里"), "higher"),
    Param("长宽高", "length", "mm", ("mm", "毫米"), None),
    Param("轴距", "wheelbase", "mm", ("mm", "毫米"), "higher"),
    Param("整备质量", "weight", "kg", ("kg", "公斤", "千克"), "lower"),
    Param("座位", "seats", "座", ("座", "个", "人"), "higher"),
    Param("驱动", "drive", "", ("",), None),
)}
HP_UNITS = ("马力", "PS", "匹")  # 最大功率 may be cited in 马力 = round(kW * 1.36)

ENERGIES = ("燃油", "混动", "纯电")
NEW_ENERGY = "新能源"  # 纯电 or 混动
BODIES = ("轿车", "SUV", "MPV")
USES = ("通勤", "家用", "长途", "性能")

# Which 项 the user asks about; the first matching pattern of each group wins. Order matters: 马力
# before 功率, 百公里加速 before 百公里油耗's 油耗.
ITEM_WORDS = (
    ("最大功率", ("马力", "匹")), ("最大功率", ("功率", "动力", "千瓦")), ("最大扭矩", ("扭矩", "扭力")),
    ("0-100", ("0-100", "零百", "百公里加速", "破百", "加速")), ("油耗", ("油耗", "省油", "费油")),
    ("续航", ("续航", "里程", "跑多远")), ("指导价", ("指导价", "价格", "多少钱", "售价", "报价", "便宜", "贵")),
    ("排量", ("排量",)), ("变速箱", ("变速箱", "变速器", "波箱")), ("长宽高", ("长宽高", "尺寸")),
    ("轴距", ("轴距", "空间", "宽敞")), ("整备质量", ("整备质量", "车重", "重量", "多重", "更轻", "更重")),
    ("座位", ("座位", "几座", "座椅", "几个座")), ("驱动", ("驱动", "四驱", "两驱", "前驱", "后驱")),
)
# Comparison words -> (项, which value wins). Checked before ITEM_WORDS' natural direction.
DIRECTION_WORDS = (
    ("更贵", "指导价", "higher"), ("价格更高", "指导价", "higher"),
    ("更便宜", "指导价", "lower"), ("更实惠", "指导价", "lower"), ("价格更低", "指导价", "lower"),
    ("更重", "整备质量", "higher"), ("更轻", "整备质量", "lower"),
)
# How an answer states the winner, per (项, better).
PREDICATES = {
    ("0-100", "lower"): "加速更快", ("最大功率", "higher"): "动力更强",
    ("最大扭矩", "higher"): "扭矩更大", ("油耗", "lower"): "更省油",
    ("续航", "higher"): "续航更长", ("指导价", "lower"): "更便宜",
    ("指导价", "higher"): "更贵", ("轴距", "higher"): "空间更大",
    ("整备质量", "lower"): "更轻", ("整备质量", "higher"): "更重",
    ("座位", "higher"): "座位更多", ("排量", "higher"): "排量更大",
}
ENERGY_WORDS = (  # checked in this order: 油电 is 混动, not 燃油
    (NEW_ENERGY, ("新能源",)), ("混动", ("混动", "插混", "phev", "油电", "增程")),
    ("纯电", ("纯电", "电动", "电车", "ev")), ("燃油", ("燃油", "油车", "汽油")),
)
BODY_WORDS = (("SUV", ("suv",)), ("MPV", ("mpv", "商务车", "保姆车")), ("轿车", ("轿车", "三厢", "sedan")))
# Needs that name what a recommendation should rank by (省油 ranks by 油耗, not by the use case's 项).
NEED_WORDS = (
    ("油耗", ("省油", "油耗低", "油耗小", "不费油", "烧油少")), ("轴距", ("空间大", "宽敞", "大空间", "后排大", "空间要大")),
    ("续航", ("续航长", "续航久", "跑得远", "续航要长")), ("0-100", ("加速快", "动力强", "动力好", "推背感")),
)
USE_WORDS = (
    ("通勤", ("通勤", "上下班", "代步", "上班")), ("家用", ("家用", "带娃", "一家", "家庭", "孩子", "全家")),
    ("长途", ("长途", "自驾", "跑高速", "出远门")), ("性能", ("性能", "驾驶乐趣", "操控", "推背", "开得爽")),
)


def energies_allowed(energy: str | None) -> tuple[str, ...]:
    """The energy types a stated preference admits (all when none is stated).

    >>> energies_allowed("新能源"), energies_allowed(None)
    (('混动', '纯电'), ('燃油', '混动', '纯电'))
    """
    if energy is None:
        return ENERGIES
    return ("混动", "纯电") if energy == NEW_ENERGY else (energy,)


def use_metric(use: str | None, energy: str | None) -> str:
    """The 项 a recommendation ranks by for a use case: the one a buyer with that use cares about.

    >>> use_metric("通勤", "纯电"), use_metric("通勤", "燃油"), use_metric("家用", None), use_metric(None, "混动")
    ('续航', '油耗', '轴距', '指导价')
    """
    if use == "性能":
        return "0-100"
    if use == "家用":
        return "轴距"
    if use in ("通勤", "长途"):
        if energy in ("纯电", NEW_ENERGY):
            return "续航"
        if energy in ("燃油", "混动"):
            return "油耗"
    return "指导价"


def param_values(trim: dict) -> dict[str, float | int | str]:
    """项 -> value of one trim node's attributes; parameters the trim lacks (e.g. 纯电 油耗, or a field an
    imported table leaves unknown) are left out; 长宽高 needs all three.

    >>> param_values({"length": 4600, "width": 1850, "height": None, "price": 15.98})
    {'指导价': 15.98}
    """
    values = {}
    for item, param in PARAMS.items():
        value = trim.get(param.attr)
        if item == "长宽高":
            sizes = [trim.get(k) for k in ("length", "width", "height")]
            value = None if None in sizes else "×".join(map(str, sizes))
        if value is not None:
            values[item] = value
    return values


def hp_of(kw: int) -> int:
    """马力 of a power in kW, by the graph's own conversion (imported late: the graph module loads networkx).

    >>> hp_of(150)
    204
    """
    from knowledge_graphs.auto import kw_to_ps

    return kw_to_ps(kw)


WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Matching form of free text: NFKC (full-width to ASCII), lower case, no whitespace."""
    return WHITESPACE.sub("", unicodedata.normalize("NFKC", text)).lower()


def format_number(value: float | int) -> str:
    """A budget or a gap as facts and answers print it: no trailing zeros, at most two decimals."""
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def format_value(item: str, value: float | int | str) -> str:
    """A parameter value as facts print it, with the 项's decimals (``6.0`` s, ``10.88`` 万).

    >>> format_value("0-100", 6.0), format_value("指导价", 10.88), format_value("座位", 5)
    ('6.0', '10.88', '5')
    """
    decimals = PARAMS[item].decimals
    return f"{value:.{decimals}f}" if decimals and not isinstance(value, str) else str(value)


def value_text(item: str, value: float | int | str, unit: str | None = None) -> str:
    """A value with its unit, as the facts print it and the answer cites it (``unit`` overrides the 项's).

    >>> value_text("最大扭矩", 385), value_text("0-100", 6.0), value_text("最大功率", 204, "马力"), value_text("驱动", "前驱")
    ('385N·m', '6.0s', '204马力', '前驱')
    """
    return f"{format_value(item, value)}{PARAMS[item].unit if unit is None else unit}"


def same_value(a: object, b: object) -> bool:
    """Numbers equal to two decimals, or texts equal after normalising (×/x/* alike).

    >>> same_value(7.9, 7.90), same_value("4720×1830×1460", "4720x1830x1460"), same_value(150, 151)
    (True, True, False)
    """
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 0.005
    if isinstance(a, str) and isinstance(b, str):
        return normalize(a).replace("x", "×").replace("*", "×") == normalize(b).replace("x", "×").replace("*", "×")
    return False
