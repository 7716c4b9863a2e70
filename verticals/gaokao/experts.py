"""Simulated 志愿填报 experts who write gold answers from the retrieved truth.

Every expert picks the same choices (all candidates whose 选科 fits, in the listed 冲 -> 稳 -> 保
order) and passes every rule. They differ on purpose in the softer qualities the rubric scores, so
RLHF has something real to improve:

* ``全面`` lists every relevant risk and ties the strategy to the student's wish;
* ``务实`` lists every relevant risk but writes a generic strategy;
* ``贴心`` ties the strategy to the wish but warns about the single most salient risk;
* ``简洁`` warns only about 滑档 and writes a generic strategy.

>>> truth = {"province": "广东", "year": 2025, "track": "物理类", "score": 598, "rank": 23759,
...          "wish_field": "计算机", "wish_city": None, "relevant_risks": ["滑档", "服从调剂"],
...          "candidates": [{"id": 1, "avg_rank": 19879, "tier": "冲", "subject_ok": True, "volatile": False},
...                         {"id": 2, "avg_rank": 30174, "tier": "保", "subject_ok": True, "volatile": False}]}
>>> print(write_gold_answer(truth, "全面", variant=0))
【考生情况分析】位次23759，按位次而非分数选校。
【志愿表】{"位次":23759,"志愿":[{"id":1,"档":"冲","位次":19879},{"id":2,"档":"保","位次":30174}],"风险":["滑档","服从调剂"]}
【填报策略】以计算机为主线，拉开梯度。
【风险提示】滑档：保底要留足。服从调剂：或调到非计算机专业。
"""

from __future__ import annotations

from verticals.gaokao.answer import render_answer

EXPERT_STYLES = {  # name -> (lists every relevant risk, ties the strategy to the wish)
    "全面": (True, True),
    "务实": (True, False),
    "贴心": (False, True),
    "简洁": (False, False),
}
FIELD_STRATEGIES = ("以{field}为主线，拉开梯度。", "围绕{field}，由冲到保填报。")
CITY_STRATEGIES = ("优先{city}院校，拉开梯度。", "兼顾{city}，由冲到保填报。")
BOTH_STRATEGIES = ("以{field}为主线，兼顾{city}。",)
NO_WISH_STRATEGIES = ("冲稳保拉开梯度，保底稳妥。", "由冲到保填报，保底留足。")
GENERIC_STRATEGIES = ("按冲稳保填报。", "依次填报即可。")
RISK_WARNINGS = {
    "滑档": ("滑档：保底要留足。", "滑档：平行志愿只投一次。"),
    "大小年": ("大小年：{ids}号波动大。", "大小年：{ids}号起伏大，留余地。"),
    "服从调剂": ("服从调剂：或调到非{field}专业。", "服从调剂：建议勾选，以免退档。"),
    "退档": ("退档：不服从调剂可能被退档。",),
}


def chosen_candidates(truth: dict) -> list[dict]:
    """The candidates every expert picks: those whose 选科 fits, in listed order."""
    return [c for c in truth["candidates"] if c["subject_ok"]]


def gold_plan(truth: dict, risks: list[str]) -> dict:
    """The 志愿表 object for the given risk list."""
    choices = [{"id": c["id"], "档": c["tier"], "位次": c["avg_rank"]} for c in chosen_candidates(truth)]
    return {"位次": truth["rank"], "志愿": choices, "风险": risks}


def analysis_text(truth: dict) -> str:
    """【考生情况分析】 body: the 位次 the plan rests on.

    The province, year, 科类 and score are in the retrieved facts and are not restated: the 4M-parameter
    model echoed them wrongly on every held-out student (湖北 became 广东, 物理类 became 综合), and an echo
    adds nothing the facts do not show. ``profile_matches_facts`` still fails any answer that restates
    them wrongly.
    """
    return f"位次{truth['rank']}，按位次而非分数选校。"


def expert_risks(truth: dict, style: str) -> list[str]:
    """The risks an expert of ``style`` lists."""
    complete, _ = EXPERT_STYLES[style]
    if complete:
        return list(truth["relevant_risks"])
    if style == "贴心" and "大小年" in truth["relevant_risks"]:
        return ["大小年"]
    return ["滑档"]


def strategy_text(truth: dict, style: str, variant: int) -> str:
    """【填报策略】 body: wish-tied for some styles, generic for others."""
    _, ties_wish = EXPERT_STYLES[style]
    field, city = truth["wish_field"], truth["wish_city"]
    if not ties_wish:
        options = GENERIC_STRATEGIES
    elif field and city:
        options = BOTH_STRATEGIES
    elif field:
        options = FIELD_STRATEGIES
    elif city:
        options = CITY_STRATEGIES
    else:
        options = NO_WISH_STRATEGIES
    text = options[variant % len(options)].format(field=field, city=city)
    unknown = "、".join(truth.get("not_in_graph", ()))  # a wished city without a university in the graph
    return text + (f"图谱中没有{unknown}的院校，无法推荐。" if unknown else "")


def warning_text(truth: dict, risks: list[str], variant: int) -> str:
    """【风险提示】 body: one short sentence per listed risk."""
    volatile_ids = "、".join(str(c["id"]) for c in chosen_candidates(truth) if c["volatile"])
    sentences = []
    for risk in risks:
        options = RISK_WARNINGS[risk]
        if risk == "服从调剂" and not truth["wish_field"]:
            options = options[1:]
        sentences.append(options[variant % len(options)].format(ids=volatile_ids, field=truth["wish_field"]))
    return "".join(sentences)


def write_gold_answer(truth: dict, style: str, variant: int = 0) -> str:
    """The full answer of one simulated expert; ``variant`` picks among equivalent phrasings."""
    risks = expert_risks(truth, style)
    return render_answer(analysis_text(truth), gold_plan(truth, risks), strategy_text(truth, style, variant),
                         warning_text(truth, risks, variant))
