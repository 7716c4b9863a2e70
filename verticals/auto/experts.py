"""Gold answers from four simulated car advisors: every one passes every rule, they differ in soft qualities.

Every number lives in the 【参数】 JSON, which the rules check and the app renders as a table; the
one-sentence 【结论】 states the verdict in words and restates no number. Measured: with numbers in both
places, 48 of the 51 held-out answers that failed ``cited_values_match_graph`` after sft
(``runs/auto/r2``) failed on a number slipped while restating it in the 结论.

The rubric (:mod:`verticals.auto.rubric`) prefers the first, so RLHF has something real to improve:

* ``干练`` answers first, names each 项 and the comparison's winner, and ties a recommendation to
  the use case (its 项 cited, the best fitting trims picked);
* ``热心`` says the same wrapped in a greeting and a closing line (less direct, wordier);
* ``笼统`` leaves out the 项 name, leaves a comparison's verdict to the JSON (naming the winner first,
  without saying why), and recommends the cheapest fitting trims with their price only;
* ``发散`` adds a 项 nobody asked about (for a recommendation: 座位 instead of the use case's 项).

>>> truth = {"type": "compare", "items": ["0-100"], "hp": False, "targets": [1, 2], "candidates": [
...     {"id": 1, "params": {"0-100": 7.9, "指导价": 15.98}}, {"id": 2, "params": {"0-100": 6.5, "指导价": 18.58}}],
...     "comparisons": [{"项": "0-100", "better": "lower", "unit": "s", "values": {"1": 7.9, "2": 6.5},
...                      "winner": 2, "gap": 1.4}]}
>>> print(write_gold_answer(truth, "干练"))
【参数】{"车型":[1,2],"参数":[{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":2}]}
【结论】[2]加速更快，0-100占优。
>>> print(write_gold_answer(truth, "笼统").splitlines()[1])
【结论】[2]和[1]的0-100如上。
"""

from __future__ import annotations

from verticals.auto.answer import render_answer
from verticals.auto.retriever import shown_fields
from verticals.auto.vocab import PARAMS, PREDICATES, hp_of, value_text

EXPERT_STYLES = ("干练", "热心", "笼统", "发散")
GREETINGS = ("您好！", "您好，", "根据已知事实，")
CLOSINGS = ("供您参考。", "欢迎试驾。", "欢迎再问。")
USE_PHRASES = {"通勤": "适合通勤", "家用": "适合家用", "长途": "适合跑长途", "性能": "适合追求驾驶乐趣", None: "性价比最高"}
EXTRA_ITEMS = ("指导价", "0-100", "最大功率", "座位")  # what the 发散 advisor adds, first one not asked
SUPERLATIVES = {"续航": "最长", "轴距": "最长", "油耗": "最低", "0-100": "最快"}


def write_gold_answer(truth: dict, style: str, variant: int = 0) -> str:
    """The full answer of one simulated advisor; ``variant`` picks among equivalent phrasings."""
    if style not in EXPERT_STYLES:
        raise ValueError(f"unknown style {style!r}; styles are {EXPERT_STYLES}")
    writer = {"spec": spec_answer, "compare": compare_answer, "recommend": recommend_answer}[truth["type"]]
    obj, conclusion = writer(truth, "干练" if style == "热心" else style, variant)
    if style == "热心":
        conclusion = GREETINGS[variant % len(GREETINGS)] + conclusion + CLOSINGS[variant % len(CLOSINGS)]
    if truth.get("not_in_graph"):  # a model the question named that the graph lacks: say so, quote nothing
        conclusion += f"图谱中没有{'、'.join(truth['not_in_graph'])}的数据，无法评价。"
    return render_answer(obj, conclusion)


def cited_value(truth: dict, trim_id: int, item: str):
    """The value an answer cites: the graph's, in 马力 when power was asked in 马力."""
    value = _candidate(truth, trim_id)["params"][item]
    return hp_of(value) if item == "最大功率" and truth["hp"] else value


def cited_unit(truth: dict, item: str) -> str:
    return "马力" if item == "最大功率" and truth["hp"] else PARAMS[item].unit


def item_json(truth: dict, item: str, ids: list[int]) -> dict:
    """``{"项", "值"}`` for the ids that have the 项, each value written with its unit as the facts show it
    (``"385N·m"``), so the unit is copied with the digits instead of recalled from the 项."""
    values = {str(i): value_text(item, cited_value(truth, i, item), cited_unit(truth, item))
              for i in ids if item in _candidate(truth, i)["params"]}
    return {"项": item, "值": values}


def _candidate(truth: dict, trim_id: int) -> dict:
    return next(c for c in truth["candidates"] if c["id"] == trim_id)


def _extra_item(truth: dict, ids: list[int]) -> str | None:
    """The first 项 nobody asked about that the facts show and every cited trim has (spec/compare)."""
    shown = shown_fields(truth)
    return next((i for i in EXTRA_ITEMS if i not in truth["items"] and i in shown
                 and all(i in _candidate(truth, t)["params"] for t in ids)), None)


def spec_answer(truth: dict, style: str, variant: int) -> tuple[dict, str]:
    ids = truth["targets"]
    items = [i for i in truth["items"] if any(i in _candidate(truth, t)["params"] for t in ids)]
    extra = _extra_item(truth, ids) if style == "发散" and len(ids) == 1 else None
    shown = items + ([extra] if extra else [])
    obj = {"车型": ids, "参数": [item_json(truth, item, ids) for item in shown]}
    named = "".join(f"[{t}]" for t in ids)
    if style == "笼统":
        return obj, f"{named}的参数如上。"
    asked = "、".join(items)
    conclusion = f"{named}的{asked}如上" if variant % 2 == 0 else f"{named}{asked}见上表"
    if extra:
        conclusion += f"，另附{extra}"
    return obj, conclusion + "。"


def compare_answer(truth: dict, style: str, variant: int) -> tuple[dict, str]:
    ids = truth["targets"]
    rows = {row["项"]: row for row in truth["comparisons"]}
    items = [i for i in truth["items"] if all(i in _candidate(truth, t)["params"] for t in ids)]
    extra = _extra_item(truth, ids) if style == "发散" and len(items) == 1 else None
    obj_items = []
    for item in items + ([extra] if extra else []):
        entry = item_json(truth, item, ids)
        if item in rows:
            entry["胜"] = rows[item]["winner"]
        obj_items.append(entry)
    phrases = [_compare_phrase(rows[i], style, variant) if i in rows else f"{i}如上" for i in items]
    if extra:
        phrases.append(f"另附{extra}供参考")
    return {"车型": ids, "参数": obj_items}, "；".join(phrases) + "。"


def _compare_phrase(row: dict, style: str, variant: int) -> str:
    item, winner = row["项"], row["winner"]
    if winner == 0:
        return f"[1]和[2]{item}持平"
    predicate = PREDICATES[(item, row["better"])]
    loser = 3 - winner
    if style == "笼统":  # vague, but the winner still comes first: a 结论 opening on the loser taught
        return f"[{winner}]和[{loser}]的{item}如上"  # the advisor to open on either id (auto r9)
    if variant % 2:
        return f"[{winner}]{predicate}，{item}优于[{loser}]"
    return f"[{winner}]{predicate}，{item}占优"


def recommend_answer(truth: dict, style: str, variant: int) -> tuple[dict, str]:
    budget, metric = truth["budget"], truth["metric"]
    fitting = [c for c in truth["candidates"] if c["tag"] == "符合"]
    if style == "笼统":
        cheapest = sorted(fitting, key=lambda c: (c["params"]["指导价"], c["id"]))
        picks = [c["id"] for c in cheapest][:len(truth["recommend"])]
    else:
        picks = list(truth["recommend"])
    if not picks:
        return {"车型": [], "预算": budget, "参数": []}, "预算内没有符合要求的车型，建议提高预算或放宽条件。"
    second = {"干练": metric, "笼统": None, "发散": "座位"}[style]
    if second and not any(second in _candidate(truth, p)["params"] for p in picks):
        second = None  # an imported graph may lack it for every pick: cite only what the facts hold
    items = ["指导价"] + ([second] if second and second != "指导价" else [])
    obj = {"车型": picks, "预算": budget, "参数": [item_json(truth, item, picks) for item in items]}
    named = "和".join(f"[{p}]" for p in picks)
    within = "都在预算内" if len(picks) > 1 else "在预算内"
    if style == "笼统":
        return obj, f"推荐{named}，{within}。"
    best = picks[0]
    if style == "发散":
        return obj, f"推荐{named}：{within}，另附座位数。" if second else f"推荐{named}：{within}。"
    fit = USE_PHRASES[truth["use"]]
    if metric == "指导价" or metric not in _candidate(truth, best)["params"]:  # without the 项 the cheapest leads
        reason = f"[{best}]最便宜，{fit}"
    else:
        reason = f"[{best}]{metric}{SUPERLATIVES[metric] if len(picks) > 1 else '占优'}，{fit}"
    if variant % 2:
        return obj, f"推荐{named}；{reason}，{within}。"
    return obj, f"推荐{named}：{within}，{reason}。"
