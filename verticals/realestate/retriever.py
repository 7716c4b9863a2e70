"""Retriever ("tools before the model"): buyer text -> needs, progress, and numbered candidate listings.

The deterministic work happens here, so the model only copies ids and digits:

1. parse every user turn cumulatively (:mod:`verticals.realestate.needs`; the core joins user turns
   with newlines, so a line is a turn); the ``进度`` line shows the state after each turn,
   ``缺<slots>`` or ``已明确``, joined by ``→``. The i-th assistant turn answers the i-th state: a
   question about exactly the missing slots, or a recommendation. Whether a request is still
   ambiguous is decided here, deterministically, not left to the model: the model only has to turn
   ``缺学区类型,通勤`` into the matching questions, which a tiny model learns reliably;
2. when the last state is ``已明确``, check every listing of the city (and district, if given)
   against budget, area, school (重点 for 应试, the activity for 素质) and metro (a station on the
   line, or the named station, within the walking limit), compute 首付 and the 等额本息 月供;
3. list up to ``MAX_FITTING`` fitting listings (closest to the budget first), then up to
   ``MAX_TEMPTING`` tempting ones that fail exactly one check (in graph order), numbered 1..n in that
   order. Each line starts with its verdict (``符合`` or the failed check, e.g. ``超预算``, ``无钢琴``),
   so choosing is reading, not arithmetic. The line gives 总价/首付/月供/学区 in the order the 【推荐】
   JSON cites them.

Design decision (measured): with the candidates in graph order, the fitting ones scattered among the
near misses, a ~4M-parameter model recommended a near miss in 37 of 42 held-out recommendations
(``runs/realestate/r2``: within_budget 0.50, school_district 0.55 after rlhf). A production ranker
shows the best matches first too; the model still has to stop where the ``符合`` lines end, and every
rule still checks each cited listing against the graph, so citing a near miss fails.

The facts are rendered from :func:`build_truth`, so the grounded prompt and the rules' truth agree.

>>> print(retrieve("想在杭州买学区房，预算500万"))
需求:杭州 预算500万 学区? 通勤?
按揭:首付30% 年利率3.1% 30年 等额本息(默认)
进度:缺学区类型,通勤
>>> facts = retrieve("杭州滨江区，预算520万，孩子学游泳，1号线附近")
>>> print(facts.splitlines()[2]); print(facts.splitlines()[3])
进度:已明确
[1]符合 总价472万 首付142万 月供14092元 学区S74(舞蹈/游泳/足球) 3室2厅 88平 1/5号线M4步行14分

A city the graph does not hold is said, never replaced by another (``not_in_graph`` in the truth, no
candidates); a stated 首付 amount and 月供 ceiling are used in the loan maths and checked per listing:

>>> print(retrieve("想在北京海淀买个学区房，预算600万以内"))
需求:北京(未覆盖) 预算600万 学区? 通勤?
未覆盖:图谱中没有北京的房源，不能推荐北京的房子，也不能用别处代替；可查询:杭州、苏州、南京
"""

from __future__ import annotations

from knowledge_graphs.codes import listing_code_key
from verticals.realestate.kg import default_city, realestate_index
from verticals.realestate.mortgage import MortgageTerms, payment_for
from verticals.realestate.needs import Needs, parse_turns

MAX_FITTING = 2
MAX_TEMPTING = 2
NEAR_MISS = 1.2  # a tempting over-budget listing costs at most 20% more than the budget
CHECKS = ("预算", "面积", "学区", "特长", "地铁", "首付", "月供")  # a listing has the last two only when stated


def retrieve(user_text: str) -> str:
    """Facts for the grounded prompt (never raises: unknown slots just show as missing)."""
    return format_facts(build_truth(user_text))


def build_truth(user_text: str) -> dict:
    """The JSON-serialisable facts the rules check, from the same code as :func:`retrieve`."""
    turns = parse_turns(user_text)
    needs = turns[-1]
    if needs.unknown_city or needs.unknown_district:  # nothing to retrieve or ask: the place is not covered
        return not_covered_truth(needs, len(turns))
    city = needs.city or default_city()
    missing = needs.missing()
    return {
        "city": city, "pool": realestate_index().cities[city]["pool"], "needs": needs.as_dict(),
        "terms": needs.terms.as_dict(), "states": [t.missing() for t in turns], "missing": missing,
        "candidates": [] if missing else select_candidates(needs),
    }


def not_covered_truth(needs: Needs, turns: int) -> dict:
    """The truth for a city (or a district of a known city) the graph does not hold: no candidates, no
    question, and what the graph does cover (its cities, or the city's districts)."""
    index = realestate_index()
    if needs.unknown_city:
        place, city, covered = needs.unknown_city, needs.unknown_city, list(index.cities)
    else:
        place, city = needs.city + needs.unknown_district, needs.city
        covered = [d for (c, d) in index.districts if c == needs.city]
    return {"city": city, "pool": None, "not_in_graph": [place], "covered": covered, "needs": needs.as_dict(),
            "terms": needs.terms.as_dict(), "states": [[] for _ in range(turns)], "missing": [], "candidates": []}


def select_candidates(needs: Needs) -> list[dict]:
    """Fitting listings (closest to the budget first), then tempting near misses, numbered 1..n."""
    index = realestate_index()
    city = needs.city or default_city()
    rows = [evaluate_listing(listing, needs) for listing in index.listings_in(city)
            if needs.district in (None, index.xiaoqu[listing["xiaoqu"]]["district"])]
    fitting = sorted((r for r in rows if r["fits"]), key=lambda r: (-r["total"], _number(r)))[:MAX_FITTING]
    chosen = fitting + sorted(_tempting(rows, needs), key=_number)
    return [{"id": i, **row} for i, row in enumerate(chosen, start=1)]


def _number(row: dict) -> tuple[str, int]:
    return listing_code_key(row["listing"])


def _tempting(rows: list[dict], needs: Needs) -> list[dict]:
    """Up to MAX_TEMPTING listings failing exactly one check, each a different check when possible."""
    by_check: dict[str, list[dict]] = {}
    for row in rows:
        failed = [c for c in CHECKS if not row["checks"].get(c, True)]
        if len(failed) == 1 and (failed[0] != "预算" or row["total"] <= needs.budget * NEAR_MISS):
            by_check.setdefault(failed[0], []).append(row)
    order = [c for c in CHECKS if c in by_check]
    shift = (needs.budget // 10) % len(order) if order else 0  # vary which kinds of near miss appear
    order = order[shift:] + order[:shift]
    picked = [min(by_check[c], key=lambda r: (abs(r["total"] - needs.budget), _number(r))) for c in order]
    return picked[:MAX_TEMPTING]


def evaluate_listing(listing: dict, needs: Needs) -> dict:
    """One listing against the needs: numbers, school, nearest relevant station, checks and verdict."""
    index = realestate_index()
    school = index.school_of(listing["xiaoqu"], needs.level)
    station, walk = _relevant_station(listing["xiaoqu"], needs)
    down, monthly = payment_for(listing["total_price"], needs.terms)
    checks = {
        "预算": listing["total_price"] <= needs.budget,
        "面积": (needs.area_min or 0) <= listing["area"] <= (needs.area_max or 10_000),
        "学区": needs.school != "应试" or school["key"] == "重点",
        "特长": needs.school != "素质" or needs.activity in school["activities"],
        "地铁": needs.no_metro or (walk <= needs.walk_max and _on_request(station, needs)),
    }
    if needs.terms.down_wan is not None:  # checked only when stated, so other truths read as before
        checks["首付"] = needs.terms.down_wan >= down
    if needs.terms.monthly_max is not None:
        checks["月供"] = monthly <= needs.terms.monthly_max
    failed = [c for c in CHECKS if not checks.get(c, True)]
    return {
        "listing": listing["code"], "xiaoqu": listing["xiaoqu"], "total": listing["total_price"],
        "area": listing["area"], "layout": f"{listing['rooms']}室{listing['halls']}厅", "down": down,
        "monthly": monthly, "school": school["code"], "school_key": school["key"], "exam_rank": school["exam_rank"],
        "activities": list(school["activities"]), "station": station, "lines": list(index.stations[station]["lines"]),
        "walk": walk, "checks": checks, "fits": not failed,
        "verdict": _verdict(failed[0], needs) if failed else "符合",
    }


def _relevant_station(xiaoqu_id: str, needs: Needs) -> tuple[str, int]:
    """The nearest station that serves the request (line / named station), else the nearest one."""
    near = realestate_index().near[xiaoqu_id]
    serving = [(sid, walk) for sid, walk in near if _on_request(sid, needs)]
    return (serving or list(near))[0]


def _on_request(station_id: str, needs: Needs) -> bool:
    if needs.station is not None:
        return station_id == needs.station
    if needs.line is not None:
        return needs.line in realestate_index().stations[station_id]["lines"]
    return True


def _verdict(check: str, needs: Needs) -> str:
    return {"预算": "超预算", "面积": "面积不符", "学区": "非重点", "特长": f"无{needs.activity}",
            "地铁": "离地铁远", "首付": "首付不足", "月供": "月供超限"}[check]


# --------------------------------------------------------------------------- rendering


def format_facts(truth: dict) -> str:
    """The facts block: 需求, 按揭, 进度, then one line per candidate; for a place the graph does not hold,
    需求 and a ``未覆盖`` line naming the cities it does."""
    if truth.get("not_in_graph"):
        return "\n".join([needs_line(truth), not_covered_line(truth)])
    lines = [needs_line(truth), terms_line(truth), progress_line(truth["states"])]
    lines += [candidate_line(c, truth["needs"]["school"]) for c in truth["candidates"]]
    if not truth["missing"] and not any(c["fits"] for c in truth["candidates"]):
        lines.append("无完全符合的房源，请说明原因并建议放宽条件")
    return "\n".join(lines)


def not_covered_line(truth: dict) -> str:
    place = "、".join(truth["not_in_graph"])
    return (f"未覆盖:图谱中没有{place}的房源，不能推荐{place}的房子，也不能用别处代替；"
            f"可查询:{'、'.join(truth['covered'])}")


def needs_line(truth: dict) -> str:
    n = truth["needs"]
    place = "、".join(truth["not_in_graph"]) + "(未覆盖)" if truth.get("not_in_graph") else truth["city"] + (n["district"] or "")
    budget = f"预算{n['budget']}万" if n["budget"] is not None else "预算?"
    return " ".join(p for p in ("需求:" + place, budget, _school_need(n), _metro_need(n), _area_need(n)) if p)


def _school_need(n: dict) -> str:
    if n["school"] is None:
        return "学区?"
    if n["school"] == "不限":
        return "学区不限"
    if n["school"] == "素质":
        return f"{n['level']}素质({n['activity'] or '特长?'})"
    return f"{n['level']}应试"


def _metro_need(n: dict) -> str:
    if n["no_metro"]:
        return "不限地铁"
    if n["station"]:
        return f"{realestate_index().stations[n['station']]['name']}站{n['station']}步行≤{n['walk_max']}分"
    if n["line"] is not None:
        return f"{n['line']}号线步行≤{n['walk_max']}分"
    return "通勤?"


def _area_need(n: dict) -> str:
    low, high = n["area_min"], n["area_max"]
    if low and high:
        return f"面积{low}-{high}平"
    if low:
        return f"面积≥{low}平"
    return f"面积≤{high}平" if high else ""


def terms_line(truth: dict) -> str:
    terms = MortgageTerms(**truth["terms"])
    return f"按揭:{terms.describe()}({'客户给定' if terms.stated else '默认'})"


def progress_line(states: list[list[str]]) -> str:
    return "进度:" + "→".join("缺" + ",".join(s) if s else "已明确" for s in states)


def candidate_line(c: dict, school_need: str | None) -> str:
    """One candidate; the school shows what the request is about (应试: 重点/rank, 素质: offerings)."""
    return (f"[{c['id']}]{c['verdict']} 总价{c['total']}万 首付{c['down']}万 月供{c['monthly']}元 "
            f"学区{c['school']}({school_summary(c, school_need)}) {c['layout']} {c['area']}平 "
            f"{'/'.join(map(str, c['lines']))}号线{c['station']}步行{c['walk']}分")


def school_summary(c: dict, school_need: str | None) -> str:
    if school_need == "应试":
        return f"{c['school_key']}第{c['exam_rank']}"
    if school_need == "素质":
        return "/".join(c["activities"]) or "无特色课"
    return c["school_key"]
