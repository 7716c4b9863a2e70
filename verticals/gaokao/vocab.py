"""Shared 志愿填报 vocabulary: answer sections, tiers (冲/稳/保) and their thresholds, risk words.

One place for the constants the retriever, the gold-answer writers, the rules and the rubric agree on.

>>> tier_for_margin(-16), tier_for_margin(-5), tier_for_margin(10), tier_for_margin(11)
('冲', '稳', '稳', '保')
"""

from __future__ import annotations

SECTIONS = ("考生情况分析", "志愿表", "填报策略", "风险提示")
TIERS = ("冲", "稳", "保")  # in the order a 志愿表 lists them

# 差 (margin) = round((近三年最低位次均值 - 考生位次) / 考生位次 * 100), in percent.
# Negative: the group usually admits better-ranked students than this one.
REACH_BELOW = -5  # 冲 if margin < REACH_BELOW
SAFETY_ABOVE = 10  # 保 if margin > SAFETY_ABOVE; 稳 otherwise

RISKS = ("滑档", "大小年", "服从调剂", "退档")
# Every provincial-level name and every 科类 an answer might state (the profile check reads them).
PROVINCE_NAMES = ("北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
                  "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
                  "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆")
TRACK_NAMES = ("物理类", "历史类", "综合", "理科", "文科")
VOLATILE_SPREAD = 0.3  # 波动大: (max - min) / mean of the three yearly ranks above this


def tier_for_margin(margin: int) -> str:
    """The tier (冲/稳/保) a rank margin in percent calls for."""
    if margin < REACH_BELOW:
        return "冲"
    if margin > SAFETY_ABOVE:
        return "保"
    return "稳"


def margin_percent(avg_rank: int, student_rank: int) -> int:
    """差 in whole percent between a group's mean admitted rank and the student's rank.

    >>> margin_percent(10377, 12345)
    -16
    """
    return round((avg_rank - student_rank) / student_rank * 100)


def is_volatile(ranks: list[int]) -> bool:
    """大小年: the yearly minimum ranks spread by more than ``VOLATILE_SPREAD`` of their mean.

    >>> is_volatile([9000, 13000, 9100]), is_volatile([9876, 10234, 11020])
    (True, False)
    """
    mean = sum(ranks) / len(ranks)
    return (max(ranks) - min(ranks)) / mean > VOLATILE_SPREAD
