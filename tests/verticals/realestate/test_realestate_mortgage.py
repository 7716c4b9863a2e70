"""Mortgage maths against hand-derived values (等额本息, 首付 rounded up to 万)."""

from __future__ import annotations

import math

import pytest

from verticals.realestate.mortgage import MortgageTerms, down_payment, loan_yuan, monthly_payment, payment_for


@pytest.mark.parametrize(("principal", "rate", "years", "expected"), [
    # 1% a month over 12 months: 10000 × 0.01 × 1.01^12 / (1.01^12 − 1) = 100 × 1.126825 / 0.126825 = 888.49
    (10_000, 12.0, 1, 888),
    # the textbook case: 100万 at 4.9% over 30 years -> 5307.27 元
    (1_000_000, 4.9, 30, 5307),
    # 336万 at 3.1% over 30 years -> 14347.75 元 (rounds half up)
    (3_360_000, 3.1, 30, 14348),
    # zero rate: 12万 over 10 years is 1000 元 a month
    (120_000, 0.0, 10, 1000),
])
def test_monthly_payment_hand_checked(principal, rate, years, expected):
    assert monthly_payment(principal, rate, years) == expected


def test_monthly_payment_repays_the_loan():
    """Discounting 360 payments of M at r gives back the principal (to within the rounding of M)."""
    principal, rate, years = 2_500_000, 3.5, 30
    r, n = rate / 100 / 12, years * 12
    m = monthly_payment(principal, rate, years)
    present_value = m * (1 - (1 + r) ** -n) / r
    assert math.isclose(present_value, principal, abs_tol=0.5 * (1 - (1 + r) ** -n) / r)


@pytest.mark.parametrize(("total", "percent", "down"), [(480, 30, 144), (487, 35, 171), (501, 20, 101), (333, 50, 167)])
def test_down_payment_rounds_up_to_whole_wan(total, percent, down):
    assert down_payment(total, percent) == down
    assert loan_yuan(total, percent) == (total - down) * 10000


def test_payment_for_defaults_to_30_percent_3_1_percent_30_years():
    assert MortgageTerms() == MortgageTerms(30, 3.1, 30, False)
    assert payment_for(480, MortgageTerms()) == (144, 14348)
