"""Problem templates: question text, the worked 算式 a teacher writes, the answer and its unit.

Each template draws its numbers from a seeded ``random.Random`` and returns a :class:`Problem`. The
worked steps are written out (``(12+8)×5=20×5=100（元）``) so the model learns the norm, and the
numbers are chosen so the method stays inside the template's grade (a grade-3 fraction sum is
already in lowest terms: 约分 comes in grade 5). ``HELD_OUT`` templates appear only in the eval set.

>>> import random
>>> p = TEMPLATES["word_price"](random.Random(1))
>>> p.question, p.work, p.answer
('一本书16元，买3本要多少元？', '16×3=48（元）', '48元')
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from typing import Callable


@dataclass(frozen=True)
class Problem:
    template: str
    grade: int  # the lowest grade whose methods the worked answer needs
    kind: str  # calc | word | remainder | equation
    question: str
    work: str  # 【算式】 body
    answer: str  # 【答案】 body
    value: str  # the exact answer: "104", "5/6", "3……2"
    unit: str = ""


def frac(f: Fraction) -> str:
    """School notation of a rational: ``7``, ``\\frac{5}{6}``, ``2.5`` is never produced here.

    >>> frac(Fraction(5, 6)), frac(Fraction(4, 1))
    ('\\\\frac{5}{6}', '4')
    """
    return str(f.numerator) if f.denominator == 1 else f"\\frac{{{f.numerator}}}{{{f.denominator}}}"


def dec(f: Fraction) -> str:
    """A terminating decimal without trailing zeros: ``Fraction(21, 2)`` -> ``10.5``."""
    text = f"{float(f):.4f}".rstrip("0").rstrip(".")
    return text


def _word(template: str, grade: int, question: str, steps: list[str], result, unit: str) -> Problem:
    value = result if isinstance(result, str) else str(result)
    shown = result if isinstance(result, str) else (dec(result) if isinstance(result, Fraction) and result.denominator != 1
                                                    else str(result))
    work = "，".join(f"{s}（{unit}）" for s in steps)
    return Problem(template, grade, "word", question, work, f"{shown}{unit}", value, unit)


def _calc(template: str, grade: int, question: str, chain: list[str], value: str, shown: str | None = None) -> Problem:
    return Problem(template, grade, "calc", f"计算：{question}", "=".join(chain), shown or chain[-1], value)


# --------------------------------------------------------------------------- calculations


def calc_add(rng: random.Random) -> Problem:
    a, b = rng.randint(12, 68), rng.randint(11, 30)
    return _calc("calc_add", 1, f"{a}+{b}", [f"{a}+{b}", str(a + b)], str(a + b))


def calc_sub(rng: random.Random) -> Problem:
    a = rng.randint(40, 99)
    b = rng.randint(11, a - 5)
    return _calc("calc_sub", 1, f"{a}-{b}", [f"{a}-{b}", str(a - b)], str(a - b))


def calc_times_table(rng: random.Random) -> Problem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _calc("calc_times_table", 2, f"{a}×{b}", [f"{a}×{b}", str(a * b)], str(a * b))


def calc_divide(rng: random.Random) -> Problem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _calc("calc_divide", 2, f"{a * b}÷{a}", [f"{a * b}÷{a}", str(b)], str(b))


def calc_remainder(rng: random.Random) -> Problem:
    b = rng.randint(3, 9)
    q, r = rng.randint(2, 9), rng.randint(1, b - 1)
    n = q * b + r
    problem = _calc("calc_remainder", 2, f"{n}÷{b}", [f"{n}÷{b}", f"{q}……{r}"], f"{q}……{r}")
    return Problem(problem.template, 2, "remainder", problem.question, problem.work, problem.answer, problem.value)


def calc_two_digit_times(rng: random.Random) -> Problem:
    a, b = rng.randint(12, 98), rng.randint(3, 9)
    return _calc("calc_two_digit_times", 3, f"{a}×{b}", [f"{a}×{b}", str(a * b)], str(a * b))


def calc_same_denominator(rng: random.Random) -> Problem:
    while True:
        d = rng.randint(5, 12)
        a, b = rng.randint(1, d - 2), rng.randint(1, d - 2)
        if a + b < d and gcd(a + b, d) == 1:
            break
    total = Fraction(a + b, d)
    chain = [f"\\frac{{{a}}}{{{d}}}+\\frac{{{b}}}{{{d}}}", frac(total)]
    return _calc("calc_same_denominator", 3, chain[0], chain, str(total))


def calc_bracket_first(rng: random.Random) -> Problem:
    a, b, c = rng.randint(12, 45), rng.randint(11, 40), rng.randint(2, 9)
    chain = [f"({a}+{b})×{c}", f"{a + b}×{c}", str((a + b) * c)]
    return _calc("calc_bracket_first", 4, chain[0], chain, chain[-1])


def calc_times_before_minus(rng: random.Random) -> Problem:
    b, c = rng.randint(3, 9), rng.randint(3, 9)
    a = rng.randint(b * c + 5, 150)
    chain = [f"{a}-{b}×{c}", f"{a}-{b * c}", str(a - b * c)]
    return _calc("calc_times_before_minus", 4, chain[0], chain, chain[-1])


def calc_divide_then_add(rng: random.Random) -> Problem:
    b, q, c = rng.randint(3, 9), rng.randint(4, 20), rng.randint(10, 60)
    chain = [f"{b * q}÷{b}+{c}", f"{q}+{c}", str(q + c)]
    return _calc("calc_divide_then_add", 4, chain[0], chain, chain[-1])


def calc_decimal_add(rng: random.Random) -> Problem:
    a, b = Fraction(rng.randint(11, 99), 10), Fraction(rng.randint(101, 999), 100)
    chain = [f"{dec(a)}+{dec(b)}", dec(a + b)]
    return _calc("calc_decimal_add", 4, chain[0], chain, str(a + b))


def calc_decimal_times(rng: random.Random) -> Problem:
    a, b = Fraction(rng.randint(11, 49), 10), rng.randint(2, 9)
    chain = [f"{dec(a)}×{b}", dec(a * b)]
    return _calc("calc_decimal_times", 5, chain[0], chain, str(a * b))


def calc_unlike_denominators(rng: random.Random) -> Problem:
    b, d = rng.sample([2, 3, 4, 5, 6, 7], 2)
    a, c = rng.choice([n for n in range(1, b) if gcd(n, b) == 1]), rng.choice([n for n in range(1, d) if gcd(n, d) == 1])
    lcm = b * d // gcd(b, d)
    total = Fraction(a, b) + Fraction(c, d)
    chain = [f"\\frac{{{a}}}{{{b}}}+\\frac{{{c}}}{{{d}}}",
             f"\\frac{{{a * lcm // b}}}{{{lcm}}}+\\frac{{{c * lcm // d}}}{{{lcm}}}", frac(total)]
    if total.denominator != lcm:  # 约分 shown as its own step
        chain.insert(2, f"\\frac{{{a * lcm // b + c * lcm // d}}}{{{lcm}}}")
    return _calc("calc_unlike_denominators", 5, chain[0], chain, str(total))


def calc_fraction_times(rng: random.Random) -> Problem:
    b, d = rng.randint(2, 9), rng.randint(2, 9)
    a, c = rng.choice([n for n in range(1, b) if gcd(n, b) == 1]), rng.choice([n for n in range(1, d) if gcd(n, d) == 1])
    product = Fraction(a, b) * Fraction(c, d)
    chain = [f"\\frac{{{a}}}{{{b}}}×\\frac{{{c}}}{{{d}}}", frac(product)]
    return _calc("calc_fraction_times", 6, chain[0], chain, str(product))


def calc_percent(rng: random.Random) -> Problem:
    base, p = rng.choice([40, 60, 80, 120, 200, 300, 500]), rng.choice([5, 10, 15, 20, 25, 30, 45])
    result = Fraction(base * p, 100)
    chain = [f"{base}×{p}%", dec(result) if result.denominator != 1 else str(result)]
    return _calc("calc_percent", 6, chain[0], chain, str(result))


def equation(rng: random.Random) -> Problem:
    a, x, b = rng.randint(2, 9), rng.randint(2, 15), rng.randint(3, 30)
    c = a * x + b
    work = f"{a}x+{b}={c}，{a}x={c}-{b}={c - b}，x={c - b}÷{a}={x}"
    return Problem("equation", 5, "equation", f"解方程：{a}x+{b}={c}", work, f"x={x}", str(x))


# --------------------------------------------------------------------------- word problems


def word_boxes(rng: random.Random) -> Problem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _word("word_boxes", 2, f"每盒有{a}支铅笔，{b}盒一共有多少支？", [f"{a}×{b}={a * b}"], a * b, "支")


def word_share(rng: random.Random) -> Problem:
    a, b = rng.randint(2, 9), rng.randint(2, 9)
    return _word("word_share", 2, f"{a * b}个苹果平均分给{a}个小朋友，每人分几个？", [f"{a * b}÷{a}={b}"], b, "个")


def word_balloons(rng: random.Random) -> Problem:
    a = rng.randint(20, 60)
    b, c = rng.randint(5, a - 5), rng.randint(5, 30)
    return _word("word_balloons", 1, f"有{a}个气球，飞走了{b}个，又买来{c}个，现在有多少个？",
                 [f"{a}-{b}+{c}={a - b}+{c}={a - b + c}"], a - b + c, "个")


def word_price(rng: random.Random) -> Problem:
    a, b = rng.randint(12, 39), rng.randint(2, 9)
    return _word("word_price", 3, f"一本书{a}元，买{b}本要多少元？", [f"{a}×{b}={a * b}"], a * b, "元")


def word_groups(rng: random.Random) -> Problem:
    c, groups = rng.randint(3, 9), rng.randint(6, 15)
    a = rng.randint(c, c * groups - c)
    b = c * groups - a
    return _word("word_groups", 3, f"学校有{a}名男生和{b}名女生，每{c}人一组，可以分成多少组？",
                 [f"({a}+{b})÷{c}={a + b}÷{c}={groups}"], groups, "组")


def word_change(rng: random.Random) -> Problem:
    b, c = rng.randint(2, 5), rng.randint(6, 15)
    a = rng.choice([50, 100]) if b * c < 50 else 100
    return _word("word_change", 3, f"小明有{a}元，买了{b}个{c}元的文具盒，还剩多少元？",
                 [f"{a}-{b}×{c}={a}-{b * c}={a - b * c}"], a - b * c, "元")


def word_age(rng: random.Random) -> Problem:
    a, b = rng.randint(5, 9), rng.randint(3, 5)
    return _word("word_age", 3, f"小红{a}岁，妈妈的年龄是小红的{b}倍，妈妈多少岁？", [f"{a}×{b}={a * b}"], a * b, "岁")


def word_speed(rng: random.Random) -> Problem:
    a, b = rng.randint(45, 95), rng.randint(12, 25)
    return _word("word_speed", 4, f"一辆汽车每小时行{a}千米，{b}小时行多少千米？", [f"{a}×{b}={a * b}"], a * b, "千米")


def word_orchard(rng: random.Random) -> Problem:
    a, b = rng.randint(120, 400), rng.randint(20, 90)
    return _word("word_orchard", 4, f"果园有苹果树{a}棵，梨树比苹果树多{b}棵，两种树一共多少棵？",
                 [f"{a}+{b}={a + b}", f"{a}+{a + b}={2 * a + b}"], 2 * a + b, "棵")


def word_outfit(rng: random.Random) -> Problem:
    a, b, c = rng.randint(80, 150), rng.randint(10, 40), rng.randint(2, 5)
    return _word("word_outfit", 4, f"一件上衣{a}元，一条裤子比上衣便宜{b}元，买{c}套要多少元？",
                 [f"{a}-{b}={a - b}", f"({a}+{a - b})×{c}={2 * a - b}×{c}={(2 * a - b) * c}"], (2 * a - b) * c, "元")


def word_area(rng: random.Random) -> Problem:
    a, b = Fraction(rng.randint(25, 95), 10), rng.randint(3, 9)
    return _word("word_area", 5, f"一块长方形菜地长{dec(a)}米，宽{b}米，面积是多少平方米？",
                 [f"{dec(a)}×{b}={dec(a * b)}"], a * b, "平方米")


def word_reading(rng: random.Random) -> Problem:
    pages, p = rng.choice([(120, 15), (120, 25), (160, 25), (200, 15), (200, 30), (240, 25), (300, 20), (300, 40)])
    result = Fraction(pages * p, 100)
    return _word("word_reading", 6, f"一本书{pages}页，第一天看了全书的{p}%，第一天看了多少页？",
                 [f"{pages}×{p}%={dec(result)}"], result, "页")


def word_oil(rng: random.Random) -> Problem:
    c = rng.randint(3, 8)
    b, a = rng.choice([n for n in range(1, c) if gcd(n, c) == 1]), c * rng.randint(3, 12)
    result = Fraction(a * b, c)
    return _word("word_oil", 6, f"一桶油{a}千克，用去了\\frac{{{b}}}{{{c}}}，用去多少千克？",
                 [f"{a}×\\frac{{{b}}}{{{c}}}={frac(result)}"], result, "千克")


TEMPLATES: dict[str, Callable[[random.Random], Problem]] = {
    fn.__name__: fn for fn in (
        calc_add, calc_sub, calc_times_table, calc_divide, calc_remainder, calc_two_digit_times,
        calc_same_denominator, calc_bracket_first, calc_times_before_minus, calc_divide_then_add, calc_decimal_add,
        calc_decimal_times, calc_unlike_denominators, calc_fraction_times, calc_percent, equation,
        word_boxes, word_share, word_balloons, word_price, word_groups, word_change, word_age, word_speed,
        word_orchard, word_outfit, word_area, word_reading, word_oil)
}
# Held out for evaluation: calculations and word problems across the stages of the syllabus.
HELD_OUT = ("calc_sub", "calc_times_before_minus", "calc_divide_then_add", "calc_fraction_times", "word_balloons",
            "word_change", "word_outfit", "word_oil")
