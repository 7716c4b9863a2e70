"""Writing norms and a real math check, as pure ``(response, example) -> RuleResult`` rules.

``example["truth"]`` holds the problem's ``grade``, ``kind`` (calc/word/remainder/equation), exact
``value`` (``"104"``, ``"5/6"``, ``"7……3"``), ``unit`` and ``allowed_methods``. The examples below
use ``DEMO`` (a grade-3 word problem) and its gold answer ``GOLD``:

>>> print(GOLD)
【算式】(33+9)÷7=42÷7=6（组）
【答案】6组
>>> all(rule.fn(GOLD, DEMO).passed for rule in RULES)
True
"""

from __future__ import annotations

import re
from fractions import Fraction

from core_training.authoring import verdict
from core_training.contract import Example, Rule, RuleResult

from vkit_k12.answer import SECTIONS, answer_parts, section_titles, split_sections
from vkit_k12.mathcheck import FRAC, MathError, value, work_problems
from vkit_k12.syllabus import GRADE_NAMES, allowed_methods, methods_used

DEMO = {"id": "k12-demo", "messages": [{"role": "user", "content": "三年级：学校有33名男生和9名女生，每7人一组，可以分成多少组？"}],
        "truth": {"grade": 3, "kind": "word", "template": "word_groups", "value": "6", "unit": "组",
                  "allowed_methods": allowed_methods(3), "steps": 2}}
GOLD = "【算式】(33+9)÷7=42÷7=6（组）\n【答案】6组"
NO_SECTIONS = "missing 【算式】 or 【答案】"


def sections_in_order(response: str, example: Example) -> RuleResult:
    """【算式】 then 【答案】, both present and non-empty.

    >>> sections_in_order(GOLD, DEMO).passed
    True
    >>> sections_in_order("【答案】6组", DEMO).reason
    'missing section 【算式】'
    """
    titles, parts = section_titles(response), split_sections(response)
    for title in SECTIONS:
        if title not in titles:
            return RuleResult.fail(f"missing section 【{title}】")
        if not parts[title]:
            return RuleResult.fail(f"section 【{title}】 is empty")
    if titles.index("算式") > titles.index("答案"):
        return RuleResult.fail("【答案】 comes before 【算式】")
    return RuleResult.ok()


def operator_signs(response: str, example: Example) -> RuleResult:
    """Multiplication is written ×, division ÷: never ``*``, ``/`` or a letter x between numbers.

    >>> operator_signs(GOLD, DEMO).passed
    True
    >>> operator_signs(GOLD.replace("÷", "/"), DEMO).reason
    'uses / for division or a fraction: write ÷, or \\\\frac{a}{b} for a fraction'
    >>> operator_signs("【算式】7*5=35（岁）", DEMO).reason
    'uses * for multiplication: write ×'
    """
    if "*" in response:
        return RuleResult.fail("uses * for multiplication: write ×")
    if "/" in response:
        return RuleResult.fail("uses / for division or a fraction: write ÷, or \\frac{a}{b} for a fraction")
    if re.search(r"\d\s*[xX]\s*\d", response):
        return RuleResult.fail("uses the letter x for multiplication: write ×")
    return RuleResult.ok()


def fraction_notation(response: str, example: Example) -> RuleResult:
    """Fractions are ``\\frac{分子}{分母}`` with a denominator above 1; the result is in lowest terms.

    >>> example = {"truth": {**DEMO["truth"], "kind": "calc", "value": "5/6", "unit": ""}}
    >>> fraction_notation("【算式】\\\\frac{1}{2}+\\\\frac{1}{3}=\\\\frac{5}{6}\\n【答案】\\\\frac{5}{6}", example).passed
    True
    >>> fraction_notation("【算式】\\\\frac{1}{2}+\\\\frac{1}{3}=\\\\frac{10}{12}\\n【答案】\\\\frac{10}{12}", example).reason
    '\\\\frac{10}{12} is not in lowest terms: write \\\\frac{5}{6}'
    """
    parts = split_sections(response)
    if "\\frac" not in response:
        return RuleResult.skip("no fraction")
    for match in re.finditer(r"\\frac(?!\{\d+\}\{\d+\})", response):
        return RuleResult.fail(f"malformed fraction near {response[match.start():match.start() + 12]!r}")
    final = [statement.split("=")[-1] for statement in re.split(r"[，,；;\n]", parts.get("算式", "")) if "=" in statement]
    results = final[-1:] + [answer_parts(parts.get("答案", ""))[0]]
    for text in results:
        for whole, top, bottom in FRAC.findall(text):
            number = Fraction(int(top), int(bottom)) if int(bottom) else None
            if number is None or int(bottom) < 2:
                return RuleResult.fail(f"\\frac{{{top}}}{{{bottom}}}: a denominator must be 2 or more")
            if number.denominator != int(bottom):
                return RuleResult.fail(f"\\frac{{{top}}}{{{bottom}}} is not in lowest terms: "
                                       f"write \\frac{{{number.numerator}}}{{{number.denominator}}}")
            if whole and int(top) >= int(bottom):
                return RuleResult.fail(f"{whole}\\frac{{{top}}}{{{bottom}}}: the fraction part of a mixed number must be proper")
    return RuleResult.ok()


def _truth_value(truth: dict):
    return None if truth["kind"] == "remainder" else value(truth["value"].replace("/", "÷"))


def work_is_correct(response: str, example: Example) -> RuleResult:
    """Every equality in 【算式】 holds exactly (sympy); an equation's steps keep the true solution.

    >>> work_is_correct(GOLD, DEMO).passed
    True
    >>> work_is_correct(GOLD.replace("42÷7", "43÷7"), DEMO).reason.split("; ")[0]
    '(33+9)÷7 ≠ 43÷7 ((33+9)÷7 = 6)'
    """
    work = split_sections(response).get("算式")
    if not work:
        return RuleResult.fail(NO_SECTIONS)
    problems = work_problems(work, _truth_value(example["truth"]))
    return verdict(problems[:3])


def answer_correct(response: str, example: Example) -> RuleResult:
    """【答案】 equals the true result (exact comparison: ``0.5`` = ``\\frac{1}{2}``; ``商……余数`` compared as such).

    >>> answer_correct(GOLD, DEMO).passed
    True
    >>> answer_correct(GOLD.replace("【答案】6组", "【答案】7组"), DEMO).reason
    '答案 7 ≠ 6'
    """
    truth, answer = example["truth"], split_sections(response).get("答案")
    if not answer:
        return RuleResult.fail(NO_SECTIONS)
    number, _ = answer_parts(answer)
    if truth["kind"] == "remainder":
        ok = [p.strip() for p in number.split("……")] == truth["value"].split("……")
        return RuleResult.ok() if ok else RuleResult.fail(f"答案 {number} ≠ {truth['value']}")
    try:
        got = value(number)
    except MathError as error:
        return RuleResult.fail(str(error))
    want = _truth_value(truth)
    return RuleResult.ok() if got == want else RuleResult.fail(f"答案 {number} ≠ {want}")


def answer_has_unit(response: str, example: Example) -> RuleResult:
    """A word problem's 【答案】 names its unit (``6组``, not ``6``).

    >>> answer_has_unit(GOLD, DEMO).passed
    True
    >>> answer_has_unit(GOLD.replace("【答案】6组", "【答案】6"), DEMO).reason
    '答案 lacks the unit 组'
    """
    unit = example["truth"]["unit"]
    if not unit:
        return RuleResult.skip("no unit asked")
    answer = split_sections(response).get("答案")
    if not answer:
        return RuleResult.fail(NO_SECTIONS)
    return RuleResult.ok() if answer_parts(answer)[1].startswith(unit) else RuleResult.fail(f"答案 lacks the unit {unit}")


def within_syllabus(response: str, example: Example) -> RuleResult:
    """Only methods of the student's grade: no 方程 (x, 设) before grade 5, no 百分数 before grade 6...

    >>> within_syllabus(GOLD, DEMO).passed
    True
    >>> within_syllabus("【算式】设可以分成x组，7x=33+9，x=6（组）\\n【答案】6组", DEMO).reason
    '三年级 has not learnt 方程 (allowed: 加法、减法、乘法、除法、有余数除法、分数、小数)'
    """
    truth = example["truth"]
    parts = split_sections(response)
    used = methods_used(parts.get("算式", "") + "\n" + parts.get("答案", ""))
    beyond = [m for m in used if m not in truth["allowed_methods"]]
    if beyond:
        return RuleResult.fail(f"{GRADE_NAMES[truth['grade']]} has not learnt {'、'.join(beyond)} "
                               f"(allowed: {'、'.join(truth['allowed_methods'])})")
    return RuleResult.ok()


RULES = (
    Rule("sections_in_order", sections_in_order, 1.0, "【算式】 then 【答案】"),
    Rule("operator_signs", operator_signs, 1.0, "× and ÷, never * / or x between numbers"),
    Rule("fraction_notation", fraction_notation, 1.0, "\\frac{a}{b}, results in lowest terms"),
    Rule("work_is_correct", work_is_correct, 1.0, "every equality in 【算式】 holds (sympy)"),
    Rule("answer_correct", answer_correct, 1.0, "【答案】 equals the true result (sympy)"),
    Rule("answer_has_unit", answer_has_unit, 0.5, "word problems answer with their unit"),
    Rule("within_syllabus", within_syllabus, 1.0, "no method beyond the student's grade"),
)
