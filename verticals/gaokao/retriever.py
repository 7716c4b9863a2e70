"""Retriever ("tools before the model"): student text -> 位次 and a bracketed list of candidate groups.

The deterministic work happens here, so the model only has to copy ids and digits:

1. parse the question (:mod:`verticals.gaokao.profile`);
2. convert the score to a 位次 with the exam year's 一分一段 table;
3. take the admissions of the three preceding years for every 专业组 recruiting in the student's
   province and 科类, average the minimum ranks, and compute 差 (see :mod:`verticals.gaokao.vocab`);
4. keep up to ``PER_TIER`` groups whose 选科 fits in each tier window (for 保 steady groups first,
   then wish matches), plus, when one sits within ``MISFIT_MAX_MARGIN`` of the student's rank, the
   closest group whose 选科 does *not* fit: a tempting match the advisor has to notice and skip.

With an imported graph a group may lack a year's admission record: its mean is over the years it has,
its line says which are missing (``缺2023年``), and a group with none of the three years is left out
(the facts say how many). Tier windows keep clear of the thresholds (-5 / 10), so every listed tier
is unambiguous. Candidates
are numbered by mean rank, hence listed 冲 -> 稳 -> 保. Because universities of the eval pool recruit
only in the eval province, an eval student's candidates come from eval-pool universities only.
The text is terse (yearly ranks only for 波动大 groups) so prompt and answer fit a small window.

>>> print(retrieve("我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机"))
考生：广东2025物理类598分 位次23759 选科物化生 意向计算机
候选（2022-2024最低位次均值）：
[1] 崂山师范大学 计算机类组 均19898 差-16%
[2] 鹏城财经大学 法学类组 均23589 差-1% 选科不符(需政治)
[3] 筼筜医科大学 护理学组 均24315 差+2%
[4] 筼筜外国语大学 会计学组 均24335 差+2%
[5] 鹏城师范大学 师范类组 均31075 差+31%
>>> retrieve("我是河南考生，考了600分").split("。")[0]
'无法检索：暂不支持河南（目前支持：广东、山东、浙江、湖北、安徽）'

A stated 位次 is used as it is when no score is written; a wished city the graph has no university in
is said to be unknown (``未覆盖``, and ``not_in_graph`` in the truth), never silently dropped:

>>> print(retrieve("湖北理科生，位次两万八左右，物化生，想去苏州").splitlines()[0])
考生：湖北2025物理类 位次28000(自报) 选科物化生 意向无
>>> retrieve("湖北理科生，位次两万八左右，物化生，想去苏州").splitlines()[-1]
'未覆盖：图谱中没有苏州的院校，候选未按该城市筛选，不能推荐苏州的学校。'
"""

from __future__ import annotations

import re

from verticals.gaokao.kg import HISTORY_YEARS, gaokao_index, histories
from verticals.gaokao.profile import WISH_VERBS, ProfileError, StudentProfile, parse_profile
from verticals.places import CITIES, places_named
from verticals.gaokao.vocab import RISKS, TIERS, is_volatile, margin_percent, tier_for_margin

TIER_WINDOWS = {"冲": (-40, -8), "稳": (-3, 8), "保": (13, 60)}  # margins (%) a listed candidate may have
TIER_TARGETS = {"冲": -15, "稳": 2, "保": 25}  # preferred margin inside each window
PER_TIER = {"冲": 1, "稳": 2, "保": 1}  # fitting candidates listed per tier (at most)
MISFIT_MAX_MARGIN = 2  # a non-fitting group is listed only when it is this close to the student's rank


def retrieve(user_text: str) -> str:
    """Facts for the grounded prompt, or a short Chinese explanation when the text can't be used."""
    try:
        profile, rank, candidates = lookup(user_text)
    except ProfileError as error:
        return (f"无法检索：{error}。请写明省份、年份、科类、分数（或位次）和选科，"
                "例如：广东2025年物理类598分，选科物化生。")
    return format_facts(profile, rank, candidates, unknown_wish_places(user_text))


def build_truth(user_text: str) -> dict:
    """The JSON-serialisable facts the rules check, built by the same lookup as :func:`retrieve`."""
    profile, rank, candidates = lookup(user_text)
    chosen = [c for c in candidates if c["subject_ok"]]
    truth = {
        "province": profile.province, "year": profile.year, "track": profile.track, "score": profile.score,
        "subjects": list(profile.subjects), "wish_field": profile.wish_field, "wish_city": profile.wish_city,
        "pool": gaokao_index().provinces[profile.province]["pool"], "rank": rank, "candidates": candidates,
        "relevant_risks": relevant_risks(profile, chosen),
    }
    unknown = unknown_wish_places(user_text)
    if unknown:  # only then, so the truth of every question about known places is as before
        truth["not_in_graph"] = unknown
    return truth


def unknown_wish_places(user_text: str) -> list[str]:
    """Places the student wishes to study in (想去苏州, 希望留在江苏) where the graph has no university.

    >>> unknown_wish_places("湖北考生，想去苏州读书"), unknown_wish_places("湖北考生，想去武汉")
    (['苏州'], [])
    """
    known = set(gaokao_index().cities)
    wished = [places_named(m.group(0)) for m in re.finditer(rf"{WISH_VERBS}[^，。,.;；！!？?\n]{{0,10}}", user_text)]
    return list(dict.fromkeys(p for places in wished for p in places if p in CITIES and p not in known))


def lookup(user_text: str) -> tuple[StudentProfile, int, list[dict]]:
    """Parse, convert the score, and select candidates. Raises ProfileError on unusable text."""
    profile = parse_profile(user_text)
    rank = student_rank(profile)
    return profile, rank, select_candidates(profile, rank)


def student_rank(profile: StudentProfile) -> int:
    """位次 of the student's score in the exam year's table, or the stated 位次 when no score is written."""
    if profile.score is None:
        return profile.rank
    table = gaokao_index().tables.get((profile.province, profile.year, profile.track))
    if table is None:
        raise ProfileError(f"缺少{profile.province}{profile.year}年{profile.track}的一分一段表")
    if profile.score > table["max_score"]:
        raise ProfileError(f"{profile.score}分高于{profile.province}{profile.year}年{profile.track}最高分")
    if profile.score < table["min_score"]:
        raise ProfileError(f"{profile.score}分低于一分一段表下限{table['min_score']}分")
    return table["ranks"][table["max_score"] - profile.score]


def history(group_id: str, profile: StudentProfile) -> tuple[list[int], list[int]]:
    """(minimum ranks of the years the group has, years it lacks) over the three years before the exam."""
    index, ranks, missing = gaokao_index(), [], []
    for year in range(profile.year - HISTORY_YEARS, profile.year):
        record = index.records.get((group_id, profile.province, profile.track, year))
        if record is None:
            missing.append(year)
        else:
            ranks.append(record["min_rank"])
    return ranks, missing


def all_groups(profile: StudentProfile, rank: int) -> list[dict]:
    """Every group recruiting in the student's province and 科类 with at least one admission year of the
    three before the exam, with its statistics over the years it has.

    A row gets ``missing_years`` only when it lacks some (never with the generated graph).
    """
    rows = []
    for group_id in gaokao_index().offers.get((profile.province, profile.track), ()):
        ranks, missing = history(group_id, profile)
        if ranks:
            rows.append(_row(group_id, ranks, missing, profile, rank))
    return rows


def _row(group_id: str, ranks: list[int], missing: list[int], profile: StudentProfile, rank: int) -> dict:
    """One group's statistics for the student: mean rank, 差, tier, 选科 fit, 大小年, wish match."""
    index = gaokao_index()
    group, university = index.groups[group_id], index.university_of(group_id)
    avg_rank = round(sum(ranks) / len(ranks))
    margin = margin_percent(avg_rank, rank)
    row = {
        "group_id": group_id, "university": university["name"], "group": group["name"],
        "city": university["city"], "field": group["field"], "subjects_required": group["subjects"],
        "ranks": ranks, "avg_rank": avg_rank, "margin": margin, "tier": tier_for_margin(margin),
        "subject_ok": set(group["subjects"]) <= set(profile.subjects), "volatile": is_volatile(ranks),
        "wish_match": group["field"] == profile.wish_field or university["city"] == profile.wish_city,
    }
    if missing:
        row["missing_years"] = missing
    return row


def selectable_rows(profile: StudentProfile, rank: int) -> list[dict]:
    """The rows of :func:`all_groups` that :func:`select_candidates` may pick: those in a tier window whose
    选科 fits, or that lie within ``MISFIT_MAX_MARGIN``. Read from the history index
    (:func:`verticals.gaokao.kg.histories`), so only groups whose mean rank can give such a 差 are looked at
    and a row is built only for those that qualify: a full-size graph has thousands of groups per province."""
    low = min(w[0] for w in TIER_WINDOWS.values()) - 1  # a 差 is rounded: keep a point of slack each side
    high = max(w[1] for w in TIER_WINDOWS.values()) + 1
    near = histories(profile.province, profile.track, profile.year).between(rank * (1 + low / 100),
                                                                              rank * (1 + high / 100))
    groups, subjects, rows = gaokao_index().groups, set(profile.subjects), []
    for avg_rank, group_id, ranks, missing in near:
        margin = margin_percent(avg_rank, rank)
        fits = set(groups[group_id]["subjects"]) <= subjects
        if _margin_in_window(margin) and (fits or abs(margin) <= MISFIT_MAX_MARGIN):
            rows.append(_row(group_id, list(ranks), list(missing), profile, rank))
    return rows


def groups_without_history(profile: StudentProfile) -> int:
    """How many groups recruiting in the student's province and 科类 have no record in the three years."""
    return histories(profile.province, profile.track, profile.year).without_history


def select_candidates(profile: StudentProfile, rank: int) -> list[dict]:
    """Up to ``PER_TIER`` fitting groups per tier plus one close non-fitting group, numbered by rank."""
    rows = selectable_rows(profile, rank)
    chosen = []
    for tier in TIERS:
        fitting = [r for r in rows if r["subject_ok"] and r["tier"] == tier]
        fitting.sort(key=lambda r: _preference(r, tier))
        chosen += fitting[:PER_TIER[tier]]
    misfits = sorted((r for r in rows if not r["subject_ok"] and abs(r["margin"]) <= MISFIT_MAX_MARGIN),
                     key=lambda r: (not r["wish_match"], abs(r["margin"]), r["group_id"]))
    chosen += misfits[:1]
    chosen.sort(key=lambda r: (r["avg_rank"], r["group_id"]))
    return [{"id": number, **row} for number, row in enumerate(chosen, start=1)]


def _preference(row: dict, tier: str) -> tuple:
    """Sort key within a tier: a steady safety first, then wish matches, then closeness to the target."""
    unsteady_safety = tier == "保" and row["volatile"]
    return unsteady_safety, not row["wish_match"], abs(row["margin"] - TIER_TARGETS[tier]), row["group_id"]


def _margin_in_window(margin: int) -> bool:
    low, high = TIER_WINDOWS[tier_for_margin(margin)]
    return low <= margin <= high


def relevant_risks(profile: StudentProfile, chosen: list[dict]) -> list[str]:
    """Risks a complete answer warns about: 滑档 always, 大小年 for volatile picks, 服从调剂 for a major wish."""
    wanted = {"滑档"}
    if any(c["volatile"] for c in chosen):
        wanted.add("大小年")
    if profile.wish_field:
        wanted.add("服从调剂")
    return [risk for risk in RISKS if risk in wanted]


def format_facts(profile: StudentProfile, rank: int, candidates: list[dict], unknown: list[str] = ()) -> str:
    """The retriever's text: the student line (位次 from the table, or as stated), one line per candidate,
    then a ``未覆盖`` line per wished place the graph has no university in.

    Kept terse on purpose: system prompt, facts, question and answer share a small context window.
    """
    first, last = profile.year - HISTORY_YEARS, profile.year - 1
    scored = f"{profile.score}分 位次{rank}" if profile.score is not None else f" 位次{rank}(自报)"
    lines = [
        f"考生：{profile.province}{profile.year}{profile.track}{scored} "
        f"选科{profile.subject_abbr or '未知'} 意向{'、'.join(profile.wishes) or '无'}",
        f"候选（{first}-{last}最低位次均值）：",
    ]
    lines += [format_candidate(c) for c in candidates]
    unlisted = groups_without_history(profile)
    if unlisted:
        lines.append(f"另有{unlisted}个专业组{first}-{last}无录取记录，未列入候选。")
    if not any(c["subject_ok"] and c["tier"] == "保" for c in candidates):
        lines.append("提示：没有找到选科符合的保底专业组，请谨慎填报并咨询老师。")
    lines += [f"未覆盖：图谱中没有{place}的院校，候选未按该城市筛选，不能推荐{place}的学校。" for place in unknown]
    return "\n".join(lines)


def format_candidate(c: dict) -> str:
    """One candidate line, e.g. ``[1] 江城大学 计算机类组 均10377 差-16%``.

    A misfit adds ``选科不符(需物理+化学)``; a group lacking a year's record adds ``缺2023年`` (its mean
    is over the other years); a volatile group adds ``波动大`` with its yearly ranks.

    >>> format_candidate({"id": 2, "university": "甲大学", "group": "法学类组", "avg_rank": 23589, "margin": -1,
    ...                   "subject_ok": True, "volatile": False, "missing_years": [2023]})
    '[2] 甲大学 法学类组 均23589 差-1% 缺2023年'
    """
    text = f"[{c['id']}] {c['university']} {c['group']} 均{c['avg_rank']} 差{c['margin']:+d}%"
    if not c["subject_ok"]:
        text += f" 选科不符(需{'+'.join(c['subjects_required'])})"
    if c.get("missing_years"):
        text += f" 缺{'、'.join(map(str, c['missing_years']))}年"
    if c["volatile"]:
        text += f" 波动大({'/'.join(str(r) for r in c['ranks'])})"
    return text
