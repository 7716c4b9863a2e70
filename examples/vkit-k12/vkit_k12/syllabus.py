"""The syllabus as a tiny knowledge graph: grades, the methods each allows, and the writing norms.

Methods are the ones a written answer reveals (a ``×`` is 乘法, a ``\\frac`` is 分数, an ``x`` or ``设``
is 方程...). A grade allows every method introduced in it or before (人教版 order, simplified)::

    grade:3 --allows--> method:分数        method:方程 first_grade=5

>>> allowed_methods(3)
['加法', '减法', '乘法', '除法', '有余数除法', '分数', '小数']
>>> methods_used("【算式】设这个数为x，3x=36，x=12")
['乘法', '方程']
>>> methods_used("(12+8)×5=20×5=100"), methods_used("17÷5=3……2")
(['加法', '乘法'], ['除法', '有余数除法'])
"""

from __future__ import annotations

import re
from functools import lru_cache

import networkx as nx

GRADE_NAMES = {1: "一年级", 2: "二年级", 3: "三年级", 4: "四年级", 5: "五年级", 6: "六年级"}
METHODS = {  # name -> (first grade, description)
    "加法": (1, "100以内及多位数加法"),
    "减法": (1, "100以内及多位数减法"),
    "乘法": (2, "表内乘法，多位数乘法"),
    "除法": (2, "表内除法，除数是一位数、两位数的除法"),
    "有余数除法": (2, "商和余数写成 商……余数，余数小于除数"),
    "分数": (3, "分数写成\\frac{分子}{分母}，结果化成最简分数"),
    "小数": (3, "小数加减，五年级起小数乘除"),
    "方程": (5, "简易方程：用字母x表示未知数"),
    "百分数": (6, "百分数写成15%，计算时化成分数或小数"),
    "负数": (6, "负数的认识"),
}
NORMS = "乘号写×，除号写÷，不用*和/；分数写\\frac{分子}{分母}并化成最简；应用题算式后注单位，答案写单位。"


def allowed_methods(grade: int) -> list[str]:
    """Methods a student of ``grade`` may use, in teaching order."""
    return [m for m, (first, _) in METHODS.items() if first <= grade]


@lru_cache(maxsize=1)
def syllabus_graph() -> nx.DiGraph:
    """grade:<n> and method:<name> nodes; ``allows`` edges from each grade to its methods."""
    g = nx.DiGraph(name="k12")
    for name, (first, description) in METHODS.items():
        g.add_node(f"method:{name}", kind="method", name=name, first_grade=first, description=description)
    for grade, grade_name in GRADE_NAMES.items():
        g.add_node(f"grade:{grade}", kind="grade", grade=grade, name=grade_name)
        for method in allowed_methods(grade):
            g.add_edge(f"grade:{grade}", f"method:{method}", kind="allows")
    return g


DETECTORS = (
    ("加法", re.compile(r"\d\)?\s*\+|\}\s*\+")),
    ("减法", re.compile(r"[\d)}]\s*-")),
    ("乘法", re.compile(r"×|\d\s*[xX]\s*\(|\d[xX]")),
    ("除法", re.compile(r"÷")),
    ("有余数除法", re.compile(r"……")),
    ("分数", re.compile(r"\\frac")),
    ("小数", re.compile(r"\d\.\d")),
    ("方程", re.compile(r"设|方程|(?<![a-zA-Z\\])x(?![a-zA-Z])")),
    ("百分数", re.compile(r"%")),
    ("负数", re.compile(r"(?:^|[=(（，,\s])-\d")),
)


def methods_used(text: str) -> list[str]:
    """Methods an answer uses, in teaching order (``\\frac`` commands are not mistaken for an x)."""
    body = text.replace("\\frac", "\\FRAC")
    found = {name for name, pattern in DETECTORS if pattern.search(body if name != "分数" else text)}
    return [m for m in METHODS if m in found]
