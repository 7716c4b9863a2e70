"""A real math verifier for primary-school answers: exact arithmetic with sympy, not string matching.

Text in the school notation (× ÷, ``\\frac{3}{4}``, mixed numbers ``2\\frac{1}{3}``, ``15%``, decimals,
unit annotations such as ``（元）``) is translated into a whitelisted sympy expression and compared as
exact rationals, so ``0.5``, ``\\frac{1}{2}`` and ``\\frac{2}{4}`` are the same number.

>>> value("(35+25)×4")
240
>>> value("\\\\frac{1}{2}+\\\\frac{1}{3}")
5/6
>>> value("2\\\\frac{1}{3}"), value("200×15%"), value("2.5×4")
(7/3, 30, 10)
>>> statement_problems("(12+8)×5=20×5=100（元）", None)
[]
>>> statement_problems("12×3=46", None)
['12×3 ≠ 46 (12×3 = 36)']
>>> work_problems("3x+5=20，3x=20-5=15，x=15÷3=5", 5)
[]
>>> work_problems("3x+5=20，x=6", 5)
['x=6 gives x = 6']
>>> statement_problems("17÷5=3……2", None)
[]
"""

from __future__ import annotations

import re
from fractions import Fraction

import sympy
from sympy.parsing.sympy_parser import implicit_multiplication, parse_expr, standard_transformations

X = sympy.Symbol("x")
UNIT_NOTE = re.compile(r"[（(][^\d()（）+\-×÷=.\\{}%x]*[）)]")  # （元） (平方米): annotations, not brackets
FRAC = re.compile(r"(\d+)?\\frac\{(\d+)\}\{(\d+)\}")
PERCENT = re.compile(r"(\d+(?:\.\d+)?)%")
ALLOWED = re.compile(r"[0-9.+\-*/() x]*")
TRANSFORMS = standard_transformations + (implicit_multiplication,)
REMAINDER = "……"
STATEMENT_SPLIT = re.compile(r"[，,；;\n]")


class MathError(ValueError):
    """Text that is not a readable expression in school notation."""


def strip_units(text: str) -> str:
    """Drop unit annotations like ``（元）`` and trailing unit words (``240元`` -> ``240``)."""
    text = UNIT_NOTE.sub("", text).strip()
    return re.sub(r"[^\d)}%x.]+$", "", text)


def to_sympy_text(text: str) -> str:
    """School notation -> the whitelisted expression sympy parses; MathError on anything else."""
    body = strip_units(text).replace(" ", "")
    body = body.replace("（", "(").replace("）", ")").replace("[", "(").replace("]", ")")
    body = FRAC.sub(lambda m: f"({m.group(1) or 0}+({m.group(2)})/({m.group(3)}))", body)
    body = PERCENT.sub(r"(\1/100)", body)
    body = body.replace("×", "*").replace("÷", "/")
    if not body or not ALLOWED.fullmatch(body):
        raise MathError(f"cannot read {text!r} as school arithmetic")
    return body


def parse(text: str) -> sympy.Expr:
    """The exact sympy expression of ``text`` (decimals become rationals)."""
    body = re.sub(r"\d+\.\d+", lambda m: f"({Fraction(m.group(0))})", to_sympy_text(text))
    try:
        return parse_expr(body, local_dict={"x": X}, transformations=TRANSFORMS, evaluate=True)
    except (SyntaxError, TypeError, ValueError, ZeroDivisionError, sympy.SympifyError) as error:
        raise MathError(f"cannot read {text!r} ({type(error).__name__})") from None


def value(text: str) -> sympy.Rational:
    """The exact value of an arithmetic expression (no unknowns)."""
    expr = parse(text)
    if expr.free_symbols or not expr.is_Rational:
        raise MathError(f"{text!r} is not a number")
    return expr


def remainder_problems(left: str, right: str) -> list[str]:
    """``a÷b=q……r``: q×b+r = a with 0 ≤ r < b."""
    match = re.fullmatch(r"(\d+)÷(\d+)", strip_units(left))
    parts = [strip_units(p) for p in right.split(REMAINDER)]
    if not match or len(parts) != 2 or not all(p.isdigit() for p in parts):
        return [f"cannot read {left}={right} as a division with remainder"]
    a, b = int(match.group(1)), int(match.group(2))
    q, r = int(parts[0]), int(parts[1])
    if q * b + r != a or not 0 <= r < b:
        return [f"{left}≠{right} ({a}÷{b} = {a // b}……{a % b})"]
    return []


def statement_problems(statement: str, unknown: sympy.Rational | None) -> list[str]:
    """Check one chain ``a=b=c``: neighbours without x are equal; an equation with x has x = ``unknown``."""
    parts = [p.strip() for p in statement.split("=")]
    if len(parts) < 2 or not all(parts):
        return [f"{statement!r} is not an equality"]
    problems = []
    for left, right in zip(parts, parts[1:]):
        if REMAINDER in right:
            problems += remainder_problems(left, right)
            continue
        try:
            a, b = parse(left), parse(right)
        except MathError as error:
            return [str(error)]
        if a.free_symbols or b.free_symbols:
            solutions = sympy.solve(sympy.Eq(a, b), X)
            if unknown is None or solutions != [unknown]:
                problems.append(f"{left}={right} gives x = {', '.join(map(str, solutions)) or 'nothing'}")
        elif sympy.simplify(a - b) != 0:
            problems.append(f"{left} ≠ {right} ({left} = {a})")
    return problems


def work_problems(work: str, unknown: sympy.Rational | None = None) -> list[str]:
    """Every statement of a 【算式】 body (separated by ，/；/newlines) holds exactly.

    ``unknown`` is the true value of x when the problem is an equation (or an answer uses one).
    """
    statements = [s.strip() for s in STATEMENT_SPLIT.split(work) if s.strip()]
    if not statements:
        return ["empty 算式"]
    problems = []
    for statement in statements:
        statement = re.sub(r"^解[:：]?", "", statement)
        if statement.startswith("设") and "=" not in statement:  # 设这个数为x: names the unknown
            continue
        problems += statement_problems(statement, unknown)
    return problems
