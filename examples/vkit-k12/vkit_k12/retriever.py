"""Retriever: the problem's facts are its grade's syllabus, the methods allowed and those not yet learnt.

The writing norms (× ÷, fractions, units) are the same for every problem, so they sit in the system
prompt; the facts stay short for the small context window.

>>> print(retrieve("三年级：一本书21元，买5本要多少元？"))
年级：三年级
可用：加法、减法、乘法、除法、有余数除法、分数、小数
未学：方程、百分数、负数
>>> retrieve("一本书21元").startswith("无法检索")
True
"""

from __future__ import annotations

from vkit_k12.syllabus import GRADE_NAMES, METHODS, allowed_methods, syllabus_graph


def find_grade(text: str) -> int | None:
    """The grade named in ``text`` (一年级 ... 六年级, or 3年级), else None."""
    for grade, name in GRADE_NAMES.items():
        if name in text or f"{grade}年级" in text:
            return grade
    return None


def retrieve(user_text: str) -> str:
    """The grade's allowed methods and the ones not yet learnt."""
    grade = find_grade(user_text)
    if grade is None:
        return "无法检索：请写明年级，例如：三年级：一本书21元，买5本要多少元？"
    g = syllabus_graph()
    allowed = [g.nodes[m]["name"] for m in g.successors(f"grade:{grade}")]
    later = [m for m in METHODS if m not in allowed]
    return f"年级：{GRADE_NAMES[grade]}\n可用：{'、'.join(allowed)}\n未学：{'、'.join(later) or '无'}"


def build_truth(user_text: str) -> dict:
    """The facts a live question gives the rules: its grade and the methods allowed there ({} without a
    grade). The value of the problem is not among them: rules that need it are n/a in the app.

    >>> build_truth("三年级：一本书21元，买5本要多少元？")["grade"]
    3
    """
    grade = find_grade(user_text)
    return {} if grade is None else {"grade": grade, "allowed_methods": allowed_methods(grade)}
