"""Verifiable rules for a car-spec answer: pure ``(response, example) -> RuleResult`` functions.

Each rule checks one thing against ``example["truth"]`` (built by the retriever). If the 【参数】 JSON
does not parse, ``structure_parses`` fails with the parser's reason and every other rule fails with
``"no parsable 参数 JSON"``, so the all-rules metric never rewards garbage. Rules about one question
type (comparison, recommendation) skip the others.

The examples below use the two demo questions of :mod:`verticals.auto.demo` and their gold answers:

>>> demos = ((COMPARE_ANSWER, COMPARE_EXAMPLE), (RECOMMEND_ANSWER, RECOMMEND_EXAMPLE))
>>> all(rule.fn(answer, example).passed for rule in RULES for answer, example in demos)
True
"""

from __future__ import annotations

import re

from core_training.authoring import OK, ParseCache, verdict
from core_training.contract import Example, Rule, RuleResult
from verticals.auto.answer import all_refs, cached_answer, prose_ids, resolve_in_graph, section_titles, split_sections
from verticals.auto.citations import allowed_prose_numbers, prose_numbers, value_problem
from verticals.auto.demo import (COMPARE_ANSWER, COMPARE_EXAMPLE, RECOMMEND_ANSWER,  # noqa: F401 (doctests)
                                 RECOMMEND_EXAMPLE)
from verticals.auto.kg import auto_index
from verticals.auto.query import series_spans
from verticals.auto.scope import stays_on_asked_cars
from verticals.auto.vocab import PREDICATES, normalize, same_value

NO_JSON = "no parsable 参数 JSON"
MODEL_YEAR = re.compile(r"(?:20)?\d{2}款\s*(\S{0,6})")

# Each answer is parsed once for all rules (see ParseCache); the parses are shared, so rules only read them.
_ANSWER = cached_answer
_parsed = _ANSWER.value  # the validated 参数 JSON, or None
_sections = ParseCache(split_sections).value
_titles = ParseCache(section_titles).value


def _candidates(example: Example) -> list[dict]:
    return example["truth"]["candidates"]


def structure_parses(response: str, example: Example) -> RuleResult:
    """【参数】 then 【结论】, once each; the JSON parses with the right types; the 结论 is prose, not JSON.

    Args:
        response: the model's answer.
        example: unused beyond the contract's signature.

    Returns:
        ok, or a failure naming the first missing or repeated section, the JSON's first problem, or
        what stands after the JSON or in the 结论.

    >>> structure_parses(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
    True
    >>> structure_parses(COMPARE_ANSWER.replace('"值"', '"value"'), COMPARE_EXAMPLE).reason
    '参数 item 1: 值 is not an object of trim -> value'
    >>> structure_parses(COMPARE_ANSWER.split("【结论】")[0], COMPARE_EXAMPLE).reason
    'missing section 【结论】'
    """
    titles = _titles(response)
    for title in ("参数", "结论"):
        if title not in titles:
            return RuleResult.fail(f"missing section 【{title}】")
    if titles != ["参数", "结论"]:
        return RuleResult.fail(f"sections must be 【参数】【结论】 once each, got {''.join(f'【{t}】' for t in titles)}")
    error = _ANSWER.outcome(response)[1]
    if error:
        return RuleResult.fail(error)
    sections = _sections(response)
    if not sections["参数"].endswith("}"):
        return RuleResult.fail("text after the 参数 JSON")
    if not sections["结论"] or "{" in sections["结论"]:
        return RuleResult.fail("【结论】 must be a non-empty sentence without JSON")
    return OK


def cited_values_match_graph(response: str, example: Example) -> RuleResult:
    """Every value in the JSON equals the graph's (unit included; 马力 = round(kW × 1.36)); every number
    with a unit in the 结论 is a value of a cited trim, the budget or a compared gap.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` hold each trim's ``params`` (项 -> value).

    Returns:
        ok; a failure (score = share right) listing wrong values; skip when a recommendation rightly
        cites nothing because nothing fits.

    >>> cited_values_match_graph(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
    True
    >>> cited_values_match_graph(COMPARE_ANSWER.replace('"1":"7.9s"', '"1":"7.5s"'), COMPARE_EXAMPLE).reason
    '[1] 0-100: 7.5s ≠ 7.9s'
    >>> cited_values_match_graph(COMPARE_ANSWER.replace("占优。", "占优，快1.2s。"), COMPARE_EXAMPLE).reason
    '结论 states 1.2s, which no cited trim, budget or gap has'
    """
    obj = _parsed(response)
    if obj is None:
        return RuleResult.fail(NO_JSON)
    candidates, wrong, checked = _candidates(example), [], 0
    for item in obj["参数"]:
        for key, value in item["值"].items():
            candidate = resolve_in_graph(key, candidates)
            if candidate is None:
                continue  # trim_exists reports it
            checked += 1
            problem = value_problem(item, key, value, candidate)
            wrong += [problem] if problem else []
    prose = _sections(response).get("结论", "")
    stated = prose_numbers(prose)
    allowed = allowed_prose_numbers(obj, prose, example) if stated else set()  # most 结论 state no number
    for unit_class, value, written in stated:
        checked += 1
        if (unit_class, value) not in allowed:
            wrong.append(f"结论 states {written}, which no cited trim, budget or gap has")
    if not checked:
        if example["truth"]["type"] == "recommend" and not example["truth"]["recommend"] and not obj["车型"]:
            return RuleResult.skip("nothing fits, nothing cited")
        return RuleResult.fail("no parameter value cited")
    return verdict(wrong, checked)


def trim_exists(response: str, example: Example) -> RuleResult:
    """Every trim the JSON cites (车型, 值 keys, 胜) is a retrieved id, or the full name of a graph trim.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` are the retrieved, numbered trims.

    Returns:
        ok, or a failure (score = share valid) naming the refs that resolve to nothing.

    >>> trim_exists(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
    True
    >>> trim_exists(COMPARE_ANSWER.replace('"胜":2', '"胜":3'), COMPARE_EXAMPLE).reason
    'id 3 is not a retrieved trim (ids 1-2)'
    >>> trim_exists(COMPARE_ANSWER.replace('[1,2]', '[1,"2025款 星驰飞云 Max"]'), COMPARE_EXAMPLE).reason
    "no trim named '2025款 星驰飞云 Max' in the graph"
    """
    obj = _parsed(response)
    if obj is None:
        return RuleResult.fail(NO_JSON)
    refs, candidates = all_refs(obj), _candidates(example)
    bad = [ref for ref in refs if resolve_in_graph(ref, candidates) is None]
    if not refs:
        truth = example["truth"]
        nothing_fits = truth["type"] == "recommend" and not truth["recommend"]
        return RuleResult.ok("nothing fits, nothing cited") if nothing_fits else RuleResult.fail("no trim cited")
    ids = f"ids 1-{len(candidates)}" if candidates else "none retrieved"
    reasons = [f"id {r} is not a retrieved trim ({ids})" if isinstance(r, int) or str(r).isdigit()
               else f"no trim named {r!r} in the graph" for r in bad]
    return verdict(reasons, len(refs))


def no_invented_trims(response: str, example: Example) -> RuleResult:
    """The prose names only retrieved trims: each ``[n]`` is a retrieved id, each series named is a
    retrieved one, and every ``20xx款`` is followed by a known series.

    Args:
        response: the model's answer.
        example: its ``truth["candidates"]`` (with ``series``) are what may be named.

    Returns:
        ok, or a failure naming the first invented or unretrieved car.

    >>> no_invented_trims(RECOMMEND_ANSWER, RECOMMEND_EXAMPLE).passed
    True
    >>> no_invented_trims(RECOMMEND_ANSWER.replace("适合通勤", "也可看2025款 华晨飞云 Pro"), RECOMMEND_EXAMPLE).reason
    "'2025款 华晨飞云' names no series in the graph"
    >>> no_invented_trims(RECOMMEND_ANSWER.replace("适合通勤", "不如[7]"), RECOMMEND_EXAMPLE).reason
    '[7] is not a retrieved trim'
    """
    if _parsed(response) is None:
        return RuleResult.fail(NO_JSON)
    candidates = _candidates(example)
    prose = _sections(response).get("结论", "")
    ids = {c["id"] for c in candidates}
    for number in prose_ids(prose):
        if number not in ids:
            return RuleResult.fail(f"[{number}] is not a retrieved trim")
    for match in MODEL_YEAR.finditer(prose):
        if not series_spans(normalize(match.group(1))):
            return RuleResult.fail(f"{match.group(0).strip()!r} names no series in the graph")
    retrieved = {c["series"] for c in candidates}
    for _, _, series_id in series_spans(normalize(prose)):
        name = auto_index().series[series_id]["name"]
        if name not in retrieved:
            return RuleResult.fail(f"names {name}, which is not among the retrieved trims")
    return OK


def answers_the_question(response: str, example: Example) -> RuleResult:
    """The JSON answers what was asked: spec/compare cite every asked 项 for every asked trim;
    a recommendation states the asked budget as 预算.

    Args:
        response: the model's answer.
        example: its ``truth`` holds ``targets``, ``items`` and, for recommendations, ``budget``.

    Returns:
        ok, or a failure naming what is missing.

    >>> answers_the_question(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
    True
    >>> answers_the_question(COMPARE_ANSWER.replace('"0-100"', '"最大功率"'), COMPARE_EXAMPLE).reason
    'no 0-100 cited for [1], [2]'
    >>> answers_the_question(RECOMMEND_ANSWER.replace('"预算":20', '"预算":25'), RECOMMEND_EXAMPLE).reason
    '预算 25 ≠ the asked 20万'
    """
    obj, truth = _parsed(response), example["truth"]
    if obj is None:
        return RuleResult.fail(NO_JSON)
    candidates = _candidates(example)
    if truth["type"] == "recommend":
        if not same_value(obj.get("预算"), truth["budget"]):
            return RuleResult.fail(f"预算 {obj.get('预算')} ≠ the asked {truth['budget']}万")
        return OK
    cited_trims = {_id_of(resolve_in_graph(r, candidates)) for r in obj["车型"]}
    missing_trims = [t for t in truth["targets"] if t not in cited_trims]
    if missing_trims:
        return RuleResult.fail("车型 lacks " + ", ".join(f"[{t}]" for t in missing_trims))
    for name in truth["items"]:
        owners = [t for t in truth["targets"] if name in next(c for c in candidates if c["id"] == t)["params"]]
        cited = {_id_of(resolve_in_graph(k, candidates)) for item in obj["参数"] if item["项"] == name
                 for k in item["值"]}
        lacking = [t for t in owners if t not in cited]
        if lacking:
            return RuleResult.fail(f"no {name} cited for " + ", ".join(f"[{t}]" for t in lacking))
    return OK


def _id_of(candidate: dict | None) -> int | None:
    """The retrieved id of a resolved trim (0 for a graph trim not retrieved), or None."""
    return candidate["id"] if candidate else None


def comparison_direction_correct(response: str, example: Example) -> RuleResult:
    """Each compared 项 names the right winner as ``胜`` (0 for a tie), and the 结论 does not contradict it.

    Args:
        response: the model's answer.
        example: its ``truth["comparisons"]`` hold each 项's values and winner.

    Returns:
        ok; a failure naming the first wrong or missing winner; skip for other question types.

    >>> comparison_direction_correct(COMPARE_ANSWER, COMPARE_EXAMPLE).passed
    True
    >>> comparison_direction_correct(COMPARE_ANSWER.replace('"胜":2', '"胜":1'), COMPARE_EXAMPLE).reason
    '0-100: 胜 is [1], but [2] wins (7.9 vs 6.5, lower wins)'
    >>> comparison_direction_correct(COMPARE_ANSWER, RECOMMEND_EXAMPLE).reason
    'not a comparison'
    """
    truth = example["truth"]
    if truth["type"] != "compare":
        return RuleResult.skip("not a comparison")
    if not truth["comparisons"]:
        return RuleResult.skip("nothing with a winner was compared")
    obj = _parsed(response)
    if obj is None:
        return RuleResult.fail(NO_JSON)
    prose = _sections(response).get("结论", "")
    for row in truth["comparisons"]:
        item = next((i for i in obj["参数"] if i["项"] == row["项"] and "胜" in i), None)
        if item is None:
            return RuleResult.fail(f"no 胜 given for {row['项']}")
        said = 0 if item["胜"] == 0 else _id_of(resolve_in_graph(item["胜"], _candidates(example)))
        if said != row["winner"]:
            first, second = row["values"]["1"], row["values"]["2"]
            right = f"[{row['winner']}] wins" if row["winner"] else "they tie"
            values = f"{first} vs {second}, {row['better']} wins"
            return RuleResult.fail(f"{row['项']}: 胜 is [{said}], but {right} ({values})")
        if row["winner"]:
            predicate = PREDICATES[(row["项"], row["better"])]
            claimed = {int(n) for n in re.findall(rf"\[(\d+)\]{predicate}", prose)}
            if claimed - {row["winner"]}:
                return RuleResult.fail(f"结论 says [{min(claimed - {row['winner']})}]{predicate}")
    return OK


def _picks(response: str, example: Example) -> tuple[list[dict] | None, RuleResult | None]:
    """Resolved recommended trims, or the result to return (not a recommendation, unparsable, empty)."""
    truth = example["truth"]
    if truth["type"] != "recommend":
        return None, RuleResult.skip("not a recommendation")
    obj = _parsed(response)
    if obj is None:
        return None, RuleResult.fail(NO_JSON)
    picks = [c for c in (resolve_in_graph(r, _candidates(example)) for r in obj["车型"]) if c is not None]
    if not picks:
        if truth["recommend"]:
            fitting = ", ".join(f"[{i}]" for i in truth["recommend"])
            return None, RuleResult.fail(f"no retrieved trim recommended, though {fitting} fit")
        return None, RuleResult.ok("nothing fits and nothing was recommended")
    return picks, None


def recommendation_within_budget(response: str, example: Example) -> RuleResult:
    """Every recommended trim's 指导价 is within the budget (and something is recommended when a trim fits).

    Args:
        response: the model's answer.
        example: its ``truth`` holds ``budget`` (万元) and the candidates' 指导价.

    Returns:
        ok; a failure (score = share within budget) naming over-budget picks; skip for other types.

    >>> recommendation_within_budget(RECOMMEND_ANSWER, RECOMMEND_EXAMPLE).passed
    True
    >>> recommendation_within_budget(RECOMMEND_ANSWER.replace('"车型":[2,3]', '"车型":[1,3]'), RECOMMEND_EXAMPLE).reason
    '[1] costs 23.68万, over the 20万 budget'
    """
    picks, early = _picks(response, example)
    if early:
        return early
    budget = example["truth"]["budget"]
    over = [c for c in picks if c["params"]["指导价"] > budget + 1e-9]
    reasons = [f"[{c['id']}] costs {c['params']['指导价']}万, over the {budget}万 budget" for c in over]
    return verdict(reasons, len(picks))


def recommendation_energy_matches(response: str, example: Example) -> RuleResult:
    """Every recommended trim has the asked energy type (新能源 admits 纯电 and 混动).

    Args:
        response: the model's answer.
        example: its ``truth`` holds ``energy`` and the admitted ``energies``.

    Returns:
        ok; a failure naming picks of another energy type; skip when no energy was asked.

    >>> recommendation_energy_matches(RECOMMEND_ANSWER, RECOMMEND_EXAMPLE).passed
    True
    >>> recommendation_energy_matches(RECOMMEND_ANSWER.replace('"车型":[2,3]', '"车型":[2,4]'), RECOMMEND_EXAMPLE).reason
    '[4] is 混动, not 纯电'
    """
    if example["truth"]["type"] == "recommend" and not example["truth"]["energy"]:
        return RuleResult.skip("no energy type asked")
    picks, early = _picks(response, example)
    if early:
        return early
    truth = example["truth"]
    wrong = [c for c in picks if c["energy"] not in truth["energies"]]
    return verdict([f"[{c['id']}] is {c['energy']}, not {truth['energy']}" for c in wrong], len(picks))


def recommendation_body_matches(response: str, example: Example) -> RuleResult:
    """Every recommended trim has the asked body type (轿车/SUV/MPV).

    Args:
        response: the model's answer.
        example: its ``truth["body"]`` is the asked body type or None.

    Returns:
        ok; a failure naming picks of another body; skip when no body type was asked.

    >>> recommendation_body_matches(RECOMMEND_ANSWER, RECOMMEND_EXAMPLE).passed
    True
    >>> recommendation_body_matches(RECOMMEND_ANSWER.replace('"车型":[2,3]', '"车型":[2,"2024款 星驰逐风 1.5T 舒适型"]'),
    ...                             RECOMMEND_EXAMPLE).passed
    False
    """
    if example["truth"]["type"] == "recommend" and not example["truth"]["body"]:
        return RuleResult.skip("no body type asked")
    picks, early = _picks(response, example)
    if early:
        return early
    body = example["truth"]["body"]
    wrong = [c for c in picks if c["body"] != body]
    return verdict([f"{c['name']} is a {c['body']}, not a {body}" for c in wrong], len(picks))


RULES = (
    Rule("structure_parses", structure_parses, 1.0, "【参数】 JSON then 【结论】, well typed"),
    Rule("cited_values_match_graph", cited_values_match_graph, 2.0, "every cited value equals the graph's"),
    Rule("trim_exists", trim_exists, 1.0, "every cited trim is retrieved or exists in the graph"),
    Rule("no_invented_trims", no_invented_trims, 1.0, "the prose names no car outside the retrieved list"),
    Rule("answers_the_question", answers_the_question, 1.5, "asked 项 cited for asked trims; budget restated"),
    Rule("comparison_direction_correct", comparison_direction_correct, 2.0, "胜 names the right winner"),
    Rule("recommendation_within_budget", recommendation_within_budget, 2.0, "recommended trims within budget"),
    Rule("recommendation_energy_matches", recommendation_energy_matches, 1.5, "recommended trims of the asked energy"),
    Rule("recommendation_body_matches", recommendation_body_matches, 1.0, "recommended trims of the asked body"),
    Rule("stays_on_asked_cars", stays_on_asked_cars, 1.0,
         "cites only the asked trims; a model the graph lacks is named only to say so", held_out=True),
)
