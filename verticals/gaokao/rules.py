"""Verifiable rules for a 志愿填报 answer: pure ``(response, example) -> RuleResult`` functions.

Each rule checks one thing against ``example["truth"]`` (built by the retriever). If the 【志愿表】
JSON does not parse, ``structure_parses`` fails with the parser's reason and every rule that needs
the JSON fails with ``"no parsable 志愿表"``, so the all-rules metric never rewards garbage. Rules
that need something the answer does not have (e.g. no choice refers to a candidate) skip.

The examples below use ``DEMO_EXAMPLE`` and its gold answer ``DEMO_ANSWER``:

>>> print(DEMO_ANSWER.splitlines()[1])
【志愿表】{"位次":23759,"志愿":[{"id":1,"档":"冲","位次":19879},{"id":3,"档":"稳","位次":25030},{"id":4,"档":"保","位次":30174}],"风险":["滑档","服从调剂"]}
>>> all(rule.fn(DEMO_ANSWER, DEMO_EXAMPLE).passed for rule in RULES)
True
"""

from __future__ import annotations

import re

from core_training.authoring import OK, ParseCache, verdict
from core_training.contract import Example, Rule, RuleResult
from verticals.gaokao.answer import PlanError, choice_label, parse_plan, resolve_choice, section_titles, split_sections
from verticals.gaokao.experts import write_gold_answer
from verticals.gaokao.kg import university_names
from verticals.gaokao.scope import recommends_within_scope
from verticals.gaokao.vocab import (PROVINCE_NAMES, RISKS, SECTIONS, TIERS, TRACK_NAMES, margin_percent,
                                   tier_for_margin)

NO_PLAN = "no parsable 志愿表"
STATED_RANK = re.compile(r"位次\s*(\d+)")
STATED_RANK_SPAN = re.compile(r"位次\s*\d+")
STATED_SCORE = re.compile(r"(?<!\d)(\d+)\s*分(?!数)")
STATED_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")

DEMO_EXAMPLE = {"id": "gk-demo", "messages": [{"role": "user", "content": "广东2025物理类598分，物化生，想学计算机"}],
                "truth": {
    "province": "广东", "year": 2025, "track": "物理类", "score": 598, "subjects": ["物理", "化学", "生物"],
    "wish_field": "计算机", "wish_city": None, "pool": "train", "rank": 23759,
    "relevant_risks": ["滑档", "服从调剂"], "candidates": [
        {"id": 1, "university": "鹏城财经大学", "group": "软件工程组", "city": "深圳", "field": "计算机",
         "subjects_required": ["物理"], "ranks": [18883, 19866, 20888], "avg_rank": 19879, "margin": -16,
         "tier": "冲", "subject_ok": True, "volatile": False, "wish_match": True},
        {"id": 2, "university": "京华政法大学", "group": "法学类组", "city": "北京", "field": "法学",
         "subjects_required": ["政治"], "ranks": [19341, 34230, 19893], "avg_rank": 24488, "margin": 3,
         "tier": "稳", "subject_ok": False, "volatile": True, "wish_match": False},
        {"id": 3, "university": "鹏城师范大学", "group": "计算机类组", "city": "深圳", "field": "计算机",
         "subjects_required": ["物理"], "ranks": [24649, 24172, 26270], "avg_rank": 25030, "margin": 5,
         "tier": "稳", "subject_ok": True, "volatile": False, "wish_match": True},
        {"id": 4, "university": "京华师范大学", "group": "教育学组", "city": "北京", "field": "师范教育",
         "subjects_required": [], "ranks": [29081, 30213, 31229], "avg_rank": 30174, "margin": 27,
         "tier": "保", "subject_ok": True, "volatile": False, "wish_match": False}]}}
DEMO_ANSWER = write_gold_answer(DEMO_EXAMPLE["truth"], "全面")


# Each answer is parsed once for all rules (see ParseCache); the parses are shared, so rules only read them.
_PLAN = ParseCache(parse_plan, PlanError)
_plan = _PLAN.value  # the validated 志愿表, or None
_sections = ParseCache(split_sections).value
_titles = ParseCache(section_titles).value


def structure_parses(response: str, example: Example) -> RuleResult:
    """The four sections appear in order and the 【志愿表】 JSON has 位次/志愿/风险 of the right types.

    Args:
        response: the model's answer.
        example: unused beyond the contract's signature.

    Returns:
        ok, or a failure naming the first missing section, the order found, or the 志愿表's first problem.

    >>> structure_parses(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> structure_parses(DEMO_ANSWER.replace('"风险"', '"risk"'), DEMO_EXAMPLE).reason
    '志愿表 lacks key 风险'
    >>> structure_parses(DEMO_ANSWER.replace("【填报策略】", ""), DEMO_EXAMPLE).reason
    'missing section 【填报策略】'
    """
    titles = _titles(response)
    missing = [title for title in SECTIONS if title not in titles]
    if missing:
        return RuleResult.fail(f"missing section 【{missing[0]}】")
    first_seen = [titles.index(title) for title in SECTIONS]
    if first_seen != sorted(first_seen):
        return RuleResult.fail(f"sections out of order: {' '.join(titles)}")
    error = _PLAN.outcome(response)[1]
    return RuleResult.fail(error) if error else OK


def rank_conversion_correct(response: str, example: Example) -> RuleResult:
    """The 位次 in the JSON (and in 【考生情况分析】) is the table rank of the student's score.

    Args:
        response: the model's answer.
        example: its ``truth`` holds ``rank``, ``score`` and ``year``.

    Returns:
        ok, or a failure quoting the wrong and the right 位次.

    >>> rank_conversion_correct(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> rank_conversion_correct(DEMO_ANSWER.replace('"位次":23759', '"位次":23795'), DEMO_EXAMPLE).reason
    '志愿表 位次 23795 ≠ 23759, the 2025 一分一段 rank of 598分'
    """
    plan, truth = _plan(response), example["truth"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    if plan["位次"] != truth["rank"]:
        return RuleResult.fail(f"志愿表 位次 {plan['位次']} ≠ {truth['rank']}, "
                               f"the {truth['year']} 一分一段 rank of {truth['score']}分")
    stated = STATED_RANK.findall(_sections(response).get("考生情况分析", ""))
    wrong = [int(s) for s in stated if int(s) != truth["rank"]]
    if wrong:
        return RuleResult.fail(f"【考生情况分析】 says 位次{wrong[0]} but the table gives {truth['rank']}")
    return OK


def profile_matches_facts(response: str, example: Example) -> RuleResult:
    """Whatever 【考生情况分析】 says of the student (province, 科类, score, year) is what the facts say.

    Args:
        response: the model's answer.
        example: its ``truth`` holds ``province``, ``track``, ``score`` and ``year``.

    Returns:
        ok, or a failure quoting each misstated item; a skip when the section is missing.

    >>> profile_matches_facts(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> wrong = DEMO_ANSWER.replace("】位次", "】湖北2025物理类621分，位次")
    >>> profile_matches_facts(wrong, DEMO_EXAMPLE).reason
    '【考生情况分析】 says 湖北 (the student is from 广东); says 621分 (the score is 598)'
    """
    text, truth = _sections(response).get("考生情况分析"), example["truth"]
    if text is None:
        return RuleResult.skip("no 【考生情况分析】")
    text = STATED_RANK_SPAN.sub("", text)  # ranks are rank_conversion_correct's; a 4-digit rank is no year
    problems = [f"says {name} (the student is from {truth['province']})"
                for name in PROVINCE_NAMES if name in text and name != truth["province"]]
    problems += [f"says {name} (the track is {truth['track']})"
                 for name in TRACK_NAMES if name in text and name != truth["track"]]
    problems += [f"says {s}分 (the score is {truth['score']})"
                 for s in STATED_SCORE.findall(text) if int(s) != truth["score"]]
    problems += [f"says {y}年 (the exam year is {truth['year']})"
                 for y in STATED_YEAR.findall(text) if int(y) != truth["year"]]
    return RuleResult.fail("【考生情况分析】 " + "; ".join(problems)) if problems else OK


def cited_ranks_match_graph(response: str, example: Example) -> RuleResult:
    """Every choice cites its candidate's three-year mean minimum rank exactly.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` hold ``avg_rank`` and the yearly ``ranks``.

    Returns:
        ok; a failure (score = share right) listing wrong citations; skip if no choice resolves.

    >>> cited_ranks_match_graph(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> cited_ranks_match_graph(DEMO_ANSWER.replace("25030", "25300"), DEMO_EXAMPLE).reason
    'choice id 3: 位次 25300 ≠ 25030 (mean of 24649/24172/26270)'
    """
    plan, candidates = _plan(response), example["truth"]["candidates"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    checked, wrong = 0, []
    for choice in plan["志愿"]:
        candidate = resolve_choice(choice, candidates)
        if candidate is None:
            continue
        checked += 1
        if choice["位次"] != candidate["avg_rank"]:
            ranks = "/".join(map(str, candidate["ranks"]))
            wrong.append(f"choice {choice_label(choice)}: 位次 {choice['位次']} ≠ {candidate['avg_rank']} "
                         f"(mean of {ranks})")
    if not checked:
        return RuleResult.skip("no choice refers to a retrieved candidate")
    return verdict(wrong, checked)


def tier_matches_rank_margin(response: str, example: Example) -> RuleResult:
    """Each choice's 档 follows from its 差: 冲 below -5%, 保 above +10%, 稳 in between.

    Args:
        response: the model's answer.
        example: its ``truth`` holds the candidates' ``margin`` and the student's ``rank`` (used for
            choices that name no retrieved candidate: their margin comes from the cited 位次).

    Returns:
        ok; a failure (score = share right) naming each wrong tier; skip if there are no choices.

    >>> tier_matches_rank_margin(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> tier_matches_rank_margin(DEMO_ANSWER.replace('"档":"冲"', '"档":"稳"'), DEMO_EXAMPLE).reason
    'choice id 1: tier 稳 but margin -16% → 冲'
    """
    plan, truth = _plan(response), example["truth"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    if not plan["志愿"]:
        return RuleResult.skip("no choices")
    wrong = []
    for choice in plan["志愿"]:
        candidate = resolve_choice(choice, truth["candidates"])
        margin = candidate["margin"] if candidate else margin_percent(choice["位次"], truth["rank"])
        expected = tier_for_margin(margin)
        if choice["档"] != expected:
            wrong.append(f"choice {choice_label(choice)}: tier {choice['档']} but margin {margin:+d}% → {expected}")
    return verdict(wrong, len(plan["志愿"]))


def has_safety_choice(response: str, example: Example) -> RuleResult:
    """At least one choice is a 保 (safety), so the student cannot fall through every choice.

    Args:
        response: the model's answer.
        example: unused beyond the contract's signature.

    Returns:
        ok, or a failure listing the tiers that were given.

    >>> has_safety_choice(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> has_safety_choice(DEMO_ANSWER.replace('"档":"保"', '"档":"稳"'), DEMO_EXAMPLE).reason
    'no 保 among 3 choices (冲/稳/稳)'
    """
    plan = _plan(response)
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    tiers = [choice["档"] for choice in plan["志愿"]]
    if "保" not in tiers:
        return RuleResult.fail(f"no 保 among {len(tiers)} choices ({'/'.join(tiers) or 'none'})")
    return OK


def tiers_ordered(response: str, example: Example) -> RuleResult:
    """Choices run 冲 -> 稳 -> 保 (never back to a bolder tier).

    Args:
        response: the model's answer.
        example: unused beyond the contract's signature.

    Returns:
        ok, or a failure naming the first choice out of order.

    >>> tiers_ordered(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> reach = '{"id":1,"档":"冲","位次":19879}'
    >>> bad = DEMO_ANSWER.replace(reach + ",", "").replace('],"风险"', "," + reach + '],"风险"')
    >>> tiers_ordered(bad, DEMO_EXAMPLE).reason
    'choice id 1 (冲) comes after a 保 choice; list 冲 → 稳 → 保'
    """
    plan = _plan(response)
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    choices = plan["志愿"]
    for previous, choice in zip(choices, choices[1:]):
        if TIERS.index(choice["档"]) < TIERS.index(previous["档"]):
            return RuleResult.fail(f"choice {choice_label(choice)} ({choice['档']}) comes after a "
                                   f"{previous['档']} choice; list 冲 → 稳 → 保")
    return OK


def subject_requirements_met(response: str, example: Example) -> RuleResult:
    """No chosen 专业组 requires a subject the student did not take.

    Args:
        response: the model's answer.
        example: its ``truth`` holds the student's ``subjects`` and each candidate's ``subject_ok``.

    Returns:
        ok, or a failure naming each group whose 选科 does not fit.

    >>> subject_requirements_met(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> bad = DEMO_ANSWER.replace('{"id":3,', '{"id":2,"档":"稳","位次":24488},{"id":3,')
    >>> subject_requirements_met(bad, DEMO_EXAMPLE).reason
    'choice id 2 (京华政法大学 法学类组) requires 政治; student has 物理、化学、生物'
    """
    plan, truth = _plan(response), example["truth"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    bad = []
    for choice in plan["志愿"]:
        candidate = resolve_choice(choice, truth["candidates"])
        if candidate is not None and not candidate["subject_ok"]:
            bad.append(f"choice {choice_label(choice)} ({candidate['university']} {candidate['group']}) requires "
                       f"{'+'.join(candidate['subjects_required'])}; student has {'、'.join(truth['subjects'])}")
    return verdict(bad)


def choices_exist(response: str, example: Example) -> RuleResult:
    """Every choice is a retrieved candidate (by id, once) and any named 大学 exists in the graph.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` are the ids the answer may cite.

    Returns:
        ok, or a failure naming each nonexistent, duplicated or mismatched choice.

    >>> choices_exist(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> choices_exist(DEMO_ANSWER.replace('"id":3', '"id":7'), DEMO_EXAMPLE).reason
    'choice id 7 is not among the retrieved candidates (ids 1-4)'
    >>> choices_exist(DEMO_ANSWER.replace('"id":3', '"大学":"清北大学"'), DEMO_EXAMPLE).reason
    '大学 清北大学 does not exist in the knowledge graph'
    """
    plan, candidates = _plan(response), example["truth"]["candidates"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    if not plan["志愿"]:
        return RuleResult.fail("志愿 is empty")
    problems, seen = [], set()
    for choice in plan["志愿"]:
        candidate = resolve_choice(choice, candidates)
        if "id" in choice and candidate is None:
            problems.append(f"choice id {choice['id']} is not among the retrieved candidates (ids 1-{len(candidates)})")
        elif "id" in choice and choice["id"] in seen:
            problems.append(f"choice id {choice['id']} is listed twice")
        seen.add(choice.get("id"))
        name = choice.get("大学")
        if name is not None and name not in university_names():
            problems.append(f"大学 {name} does not exist in the knowledge graph")
        elif name is not None and candidate is not None and candidate["university"] != name:
            problems.append(f"choice {choice_label(choice)} names {name} "
                            f"but the candidate is {candidate['university']}")
    return verdict(problems)


def risk_warning_present(response: str, example: Example) -> RuleResult:
    """风险 lists known risks, each explained in 【风险提示】; 大小年 only for a chosen 波动大 group.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` say which groups are ``volatile``.

    Returns:
        ok, or a failure naming the missing, unknown, unexplained or unfounded risk.

    >>> risk_warning_present(DEMO_ANSWER, DEMO_EXAMPLE).passed
    True
    >>> risk_warning_present(DEMO_ANSWER.replace('"滑档",', '"滑档","大小年",'), DEMO_EXAMPLE).reason
    'risk 大小年 listed but not explained in 【风险提示】'
    """
    plan, truth = _plan(response), example["truth"]
    if plan is None:
        return RuleResult.fail(NO_PLAN)
    risks = plan["风险"]
    if not risks:
        return RuleResult.fail("风险 is empty; warn at least about 滑档")
    unknown = [risk for risk in risks if risk not in RISKS]
    if unknown:
        return RuleResult.fail(f"unknown risk {unknown[0]}; use one of {'/'.join(RISKS)}")
    warnings = _sections(response).get("风险提示", "")
    unexplained = [risk for risk in risks if risk not in warnings]
    if unexplained:
        return RuleResult.fail(f"risk {unexplained[0]} listed but not explained in 【风险提示】")
    chosen = [resolve_choice(choice, truth["candidates"]) for choice in plan["志愿"]]
    chosen = [candidate for candidate in chosen if candidate is not None]
    if "大小年" in risks and chosen and not any(candidate["volatile"] for candidate in chosen):
        return RuleResult.fail("risk 大小年 listed but no chosen candidate is 波动大")
    return OK


RULES = (
    Rule("structure_parses", structure_parses, 1.0, "four sections in order; 志愿表 JSON with 位次/志愿/风险"),
    Rule("rank_conversion_correct", rank_conversion_correct, 1.0, "位次 is the 一分一段 rank of the score"),
    Rule("profile_matches_facts", profile_matches_facts, 1.0, "the analysis restates no province/科类/score wrongly"),
    Rule("cited_ranks_match_graph", cited_ranks_match_graph, 1.0, "each choice cites its candidate's mean rank"),
    Rule("tier_matches_rank_margin", tier_matches_rank_margin, 1.0, "冲 if 差<-5%, 保 if 差>10%, else 稳"),
    Rule("has_safety_choice", has_safety_choice, 1.0, "at least one 保"),
    Rule("tiers_ordered", tiers_ordered, 0.5, "choices ordered 冲 → 稳 → 保"),
    Rule("subject_requirements_met", subject_requirements_met, 1.0, "no group whose 选科 the student lacks"),
    Rule("choices_exist", choices_exist, 1.0, "no nonexistent university or major group"),
    Rule("risk_warning_present", risk_warning_present, 0.5, "known risks, each explained in 【风险提示】"),
    Rule("recommends_within_scope", recommends_within_scope, 1.0,
         "no university outside the retrieved candidates; no advice about a place the graph lacks", held_out=True),
)
