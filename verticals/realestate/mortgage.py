"""Mortgage arithmetic: 首付 (down payment) and 等额本息 (equal-instalment) monthly payment.

One implementation serves the retriever (which prints the numbers), the gold answers and the rules.

* 首付 = total price × down-payment ratio, rounded **up** to whole 万 (the ratio is a minimum);
* loan P = (total − 首付) × 10000 元;
* monthly payment M = P·r(1+r)^n / ((1+r)^n − 1), with r = annual rate / 12 and n = 12 × years,
  rounded half up to whole 元.

>>> down_payment(480, 30), loan_yuan(480, 30)
(144, 3360000)
>>> monthly_payment(1_000_000, 4.9, 30)  # the textbook 100万/4.9%/30年 case: 5307.27元
5307
>>> monthly_payment(3_360_000, 3.1, 30)
14348

A buyer may state the 首付 as an amount (首付150万) and a ceiling on the 月供 (月供能接受1.5万) instead
of a ratio: the amount is then the down payment (never below the minimum ratio), and the largest loan
that ceiling repays is :func:`affordable_loan_wan`.

>>> payment_for(480, MortgageTerms(down_wan=150))
(150, 14092)
>>> affordable_loan_wan(15000, 3.1, 30)
351
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_DOWN_PERCENT = 30
DEFAULT_RATE_PERCENT = 3.1
DEFAULT_YEARS = 30
TOLERANCE_YUAN = 1  # a stated monthly payment may differ from ours by rounding only


@dataclass(frozen=True)
class MortgageTerms:
    """首付 ratio (whole percent, the minimum), annual rate (percent) and term (years); ``stated`` if the
    user gave any. ``down_wan`` is a 首付 stated as an amount (万), ``monthly_max`` a 月供 ceiling (元)."""

    down_percent: int = DEFAULT_DOWN_PERCENT
    rate_percent: float = DEFAULT_RATE_PERCENT
    years: int = DEFAULT_YEARS
    stated: bool = False
    down_wan: int | None = None
    monthly_max: int | None = None

    def as_dict(self) -> dict:
        """JSON form; the optional amounts only when stated (so terms without them read as before)."""
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def describe(self) -> str:
        """The terms as the retriever and the brokers write them.

        >>> MortgageTerms().describe()
        '首付30% 年利率3.1% 30年 等额本息'
        >>> MortgageTerms(down_wan=150, monthly_max=15000, stated=True).describe()
        '首付150万(不低于30%) 年利率3.1% 30年 等额本息 月供≤15000元'
        """
        down = f"首付{self.down_wan}万(不低于{self.down_percent}%)" if self.down_wan else f"首付{self.down_percent}%"
        ceiling = f" 月供≤{self.monthly_max}元" if self.monthly_max else ""
        return f"{down} 年利率{format_rate(self.rate_percent)}% {self.years}年 等额本息{ceiling}"


def format_rate(rate_percent: float) -> str:
    """A rate without trailing zeros: 3.1 -> '3.1', 3.0 -> '3', 2.85 -> '2.85'.

    >>> format_rate(3.0), format_rate(2.85)
    ('3', '2.85')
    """
    return f"{rate_percent:.2f}".rstrip("0").rstrip(".")


def down_payment(total_wan: int, down_percent: int) -> int:
    """首付 in 万: ``total_wan × down_percent / 100`` rounded up to a whole 万.

    >>> down_payment(487, 35)  # 170.45 -> 171
    171
    """
    return -(-total_wan * down_percent // 100)


def loan_yuan(total_wan: int, down_percent: int) -> int:
    """The loan principal in 元 after the 首付."""
    return (total_wan - down_payment(total_wan, down_percent)) * 10000


def monthly_payment(principal_yuan: int, rate_percent: float, years: int) -> int:
    """等额本息 monthly payment in whole 元 (half up); a zero rate repays the principal evenly.

    >>> monthly_payment(120_000, 0.0, 10)
    1000
    """
    n = 12 * years
    r = rate_percent / 100 / 12
    if r == 0:
        return math.floor(principal_yuan / n + 0.5)
    growth = (1 + r) ** n
    return math.floor(principal_yuan * r * growth / (growth - 1) + 0.5)


def payment_for(total_wan: int, terms: MortgageTerms) -> tuple[int, int]:
    """(首付 in 万, monthly payment in 元) for a listing of ``total_wan`` under ``terms``.

    A stated 首付 amount is paid down (at most the price); where the minimum ratio asks for more, the
    minimum is the 首付 (the listing's ``首付`` check then fails: the buyer lacks the cash).

    >>> payment_for(480, MortgageTerms()), payment_for(600, MortgageTerms(down_wan=150))
    ((144, 14348), (180, 17935))
    """
    down = down_payment(total_wan, terms.down_percent)
    if terms.down_wan is not None:
        down = max(down, min(terms.down_wan, total_wan))
    return down, monthly_payment((total_wan - down) * 10000, terms.rate_percent, terms.years)


def affordable_loan_wan(monthly_yuan: int, rate_percent: float, years: int) -> int:
    """The largest loan (whole 万, rounded down) a 等额本息 payment of ``monthly_yuan`` repays.

    >>> affordable_loan_wan(5307, 4.9, 30)  # the 100万/4.9%/30年 case backwards
    99
    """
    n, r = 12 * years, rate_percent / 100 / 12
    principal = monthly_yuan * n if r == 0 else monthly_yuan * (1 - (1 + r) ** -n) / r
    return math.floor(principal / 10000)
