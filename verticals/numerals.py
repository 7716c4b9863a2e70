"""Numbers written in Chinese numerals, rewritten in digits before a vertical's slot parser reads the text.

People write ``五百六十分``, ``排名两万八左右``, ``首付一百五十万``, ``月供一万五``. The conversion itself is
the maintained ``cn2an`` package; this module only decides *which* runs of numeral characters are
numbers, conservatively, because the same characters occur in ordinary words (一分一段, 万一, 千万别,
十分满意, 三室两厅):

- a run of two or more numeral characters that holds a 十/百/千/万 (``五百六十``, ``两万八``), or four
  digit-characters (``二零二五``), is a number; so is any run before 分钟 or 号线 (``十分钟``, ``一号线``);
  another single character (``三``, ``十``) is left alone, and so are the words in :data:`NOT_NUMBERS`;
- a run with 万 is written in 万, as prices, budgets and ranks are read (``一百五十万`` -> ``150万``,
  ``两万八`` -> ``2.8万``, ``十三万五`` -> ``13.5万``).

>>> digits_for_numerals("考了五百六十分，排名两万八左右")
'考了560分，排名2.8万左右'
>>> digits_for_numerals("首付一百五十万，月供一万五，预算六百万以内")
'首付150万，月供1.5万，预算600万以内'
>>> digits_for_numerals("一分一段表上十分靠前，三室两厅，千万别选错，二零二五年")
'一分一段表上十分靠前，三室两厅，千万别选错，2025年'
>>> digits_for_numerals("一号线步行十分钟")
'1号线步行10分钟'
"""

from __future__ import annotations

import re

NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万]{2,}|[一二两三四五六七八九十]+(?=分钟|号线)")
MAGNITUDES = set("十百千万")
NOT_NUMBERS = ("千万", "万一", "一一", "万万", "十万八千")


def digits_for_numerals(text: str) -> str:
    """``text`` with every run of Chinese numerals that is a number rewritten in Arabic digits."""
    return NUMERAL_RUN.sub(_replace, text)


def _replace(match: re.Match) -> str:
    run = match.group(0)
    unit_follows = match.string.startswith(("分钟", "号线"), match.end())
    if run in NOT_NUMBERS or not (MAGNITUDES & set(run) or len(run) == 4 or unit_follows):
        return run
    if not MAGNITUDES & set(run) and len(run) == 4:  # a year written digit by digit
        return "".join(str("零一二三四五六七八九".index(c)) for c in run.replace("两", "二").replace("〇", "零"))
    value = _cn2an(run)
    if value is None:
        return run
    return f"{value / 10000:g}万" if "万" in run else str(value)


def _cn2an(run: str) -> int | None:
    """The value of ``run`` by cn2an's smart mode, or None where cn2an rejects it."""
    import cn2an

    try:
        value = cn2an.cn2an(run, "smart")
    except (ValueError, KeyError):
        return None
    return int(value) if float(value).is_integer() else None
