"""Simulated brokers who write the gold turns from the retrieved truth.

Every broker asks about exactly the missing slots, recommends exactly the ``符合`` candidates with the
retrieved numbers, and adds the 教育局 note: every gold turn passes every rule. They differ on
purpose in the softer qualities the rubric scores, so RLHF has something real to improve:

* ``资深`` (40% of SFT gold) greets, echoes what is already known when asking, says why it asks,
  explains why each listing fits (学区 and metro) and states the 按揭 terms;
* ``干练`` (20%) says why it asks and explains each fit, without greeting or terms;
* ``热心`` (20%) greets, echoes and states the terms, but writes a generic line instead of reasons;
* ``简洁`` (20%) only asks, or only gives the JSON, a generic line and the note.

>>> from verticals.realestate.retriever import build_truth
>>> print(write_turn(build_truth("想买学区房，预算450万"), "资深"))
您好！预算450万我记下了。学区和通勤差别很大，先确认一下：孩子上学更看重应试还是素质教育？需要靠近哪条地铁线？
>>> truth = build_truth("想买学区房，预算450万\\n素质教育，孩子学钢琴，地铁2号线附近")
>>> print(write_turn(truth, "资深"))
您好！【推荐】{"房源":[{"id":1,"总价":421,"首付":127,"月供":12554,"学区":"S75"},{"id":2,"总价":418,"首付":126,"月供":12469,"学区":"S36"}]}
1号S75有钢琴课，步行6分到2号线；2号S36有钢琴课，步行12分到2号线。按首付30%、利率3.1%、30年等额本息算。学区政策会调整，请以教育局为准。
"""

from __future__ import annotations

from verticals.realestate.answer import TAG, item_for, recommendation_json
from verticals.realestate.mortgage import format_rate
from verticals.realestate.needs import SLOTS

BROKER_STYLES = {  # name -> (greets (and echoes what is known, when asking), explains, states the terms)
    "资深": (True, True, True),
    "干练": (False, True, False),
    "热心": (True, False, True),
    "简洁": (False, False, False),
}
GREETINGS = ("您好！", "好的！", "明白了！")
QUESTIONS = {
    "预算": ("总预算大概多少万？", "预算大概在多少万？"),
    "学区类型": ("孩子上学更看重应试还是素质教育？", "学校偏应试还是素质教育？"),
    "特长": ("孩子有什么特长想继续培养，比如钢琴、游泳？", "孩子在学什么特长？"),
    "通勤": ("平时通勤要靠近哪条地铁线？", "需要靠近哪条地铁线？"),
}
ASK_REASONS = ("学区和通勤差别很大，先确认一下：", "为帮您筛准房源，想确认：")
GENERIC_FITS = ("都符合您的条件，欢迎约看。", "都很合适，建议尽快约看。")
POLICY_NOTES = ("学区政策会调整，请以教育局为准。", "学区划片每年可能变，请向教育局核实。")
NO_FIT = "暂无完全符合的房源，建议放宽预算或通勤条件。"


def write_turn(truth: dict, style: str, variant: int = 0) -> str:
    """The gold assistant turn for the last state of ``truth``: a question, a recommendation, or, for a
    place the graph does not hold, saying so and naming the cities it does."""
    if truth.get("not_in_graph"):
        return write_not_covered(truth, style, variant)
    if truth["missing"]:
        return write_question(truth["missing"], truth["needs"], style, variant)
    return write_recommendation(truth, style, variant)


def write_not_covered(truth: dict, style: str, variant: int = 0) -> str:
    """No recommendation: the place asked about is not covered; name what is (no other city is offered
    as a substitute).

    >>> write_not_covered({"not_in_graph": ["北京"], "covered": ["杭州", "苏州"]}, "简洁")
    '目前没有北京的房源数据，无法为您推荐北京的房子。可以查询：杭州、苏州。'
    """
    warm = BROKER_STYLES[style][0]
    place = "、".join(truth["not_in_graph"])
    return ((GREETINGS[variant % len(GREETINGS)] if warm else "") + f"目前没有{place}的房源数据，无法为您推荐{place}的房子。"
            f"可以查询：{'、'.join(truth['covered'])}。")


def write_question(missing: list[str], known: dict, style: str, variant: int = 0) -> str:
    """A clarifying turn: questions about ``missing`` (in SLOTS order), ending with "？"."""
    warm, explains, _ = BROKER_STYLES[style]
    parts = []
    if warm:
        parts.append(GREETINGS[variant % len(GREETINGS)] + _echo_known(known))
    if explains:
        parts.append(ASK_REASONS[1 if missing == ["预算"] else variant % len(ASK_REASONS)])
    parts += [QUESTIONS[slot][(variant + i) % 2] for i, slot in enumerate(s for s in SLOTS if s in missing)]
    return "".join(parts)


def _echo_known(known: dict) -> str:
    if known.get("budget") is not None:
        return f"预算{known['budget']}万我记下了。"
    if known.get("activity"):
        return f"孩子学{known['activity']}我记下了。"
    return ""


def write_recommendation(truth: dict, style: str, variant: int = 0) -> str:
    """A recommendation: greeting, the 【推荐】 JSON, why each fits, the terms, the 教育局 note."""
    warm, explains, states_terms = BROKER_STYLES[style]
    fitting = [c for c in truth["candidates"] if c["fits"]]
    parts = [GREETINGS[variant % len(GREETINGS)]] if warm else []
    parts.append(TAG + recommendation_json([item_for(c) for c in fitting]) + "\n")
    if not fitting:
        parts.append(NO_FIT)
    elif explains:
        parts.append("；".join(fit_reason(c, truth["needs"]) for c in fitting) + "。")
    else:
        parts.append(GENERIC_FITS[variant % len(GENERIC_FITS)])
    if states_terms:
        parts.append(f"按{terms_phrase(truth['terms'])}算。")
    parts.append(POLICY_NOTES[variant % len(POLICY_NOTES)])
    return "".join(parts)


def fit_reason(candidate: dict, needs: dict) -> str:
    """Why one candidate fits, in the words of the request: its 学区 and its metro access.

    >>> fit_reason({"id": 2, "school": "S5", "walk": 6, "area": 89},
    ...            {"school": "素质", "activity": "钢琴", "line": 2, "station": None})
    '2号S5有钢琴课，步行6分到2号线'
    """
    reason = f"{candidate['id']}号{candidate['school']}"
    if needs["school"] == "应试":
        reason += f"重点第{candidate['exam_rank']}"
    elif needs["school"] == "素质":
        reason += f"有{needs['activity']}课"
    else:
        reason += "学区"
    if needs["line"] is not None:
        return reason + f"，步行{candidate['walk']}分到{needs['line']}号线"
    if needs["station"]:
        return reason + f"，步行{candidate['walk']}分到{needs['station']}站"
    return reason + f"，{candidate['area']}平"


def terms_phrase(terms: dict) -> str:
    """首付30%、利率3.1%、30年等额本息 (首付150万、... when the 首付 was stated as an amount).

    >>> terms_phrase({"down_percent": 30, "rate_percent": 3.1, "years": 30, "down_wan": 150})
    '首付150万、利率3.1%、30年等额本息'
    """
    down = f"{terms['down_wan']}万" if terms.get("down_wan") else f"{terms['down_percent']}%"
    return f"首付{down}、利率{format_rate(terms['rate_percent'])}%、{terms['years']}年等额本息"
