"""The answer format: 【参数】 with ONE compact JSON object, then a one-sentence 【结论】.

Every question type uses the same object; type-specific keys are added, never renamed::

    spec       【参数】{"车型":[1],"参数":[{"项":"最大功率","值":{"1":"150kW"}}]}
               【结论】[1]的最大功率如上。
    compare    【参数】{"车型":[1,2],"参数":[{"项":"0-100","值":{"1":"7.9s","2":"6.5s"},"胜":2}]}
               【结论】[2]加速更快，0-100占优。
    recommend  【参数】{"车型":[3,5],"预算":20,"参数":[{"项":"指导价","值":{"3":"18.98万","5":"19.58万"}},…]}
               【结论】推荐[3]和[5]：都在预算内，[3]续航最长，适合通勤。

Each value is written with its unit exactly as the facts print it after the 项 (``"385N·m"``,
``"204马力"``, ``"4755×1915×1695mm"``; text values such as 变速箱 have none), so the advisor copies the
unit along with the digits. A bare number with the unit in a ``单位`` key (``{"值":{"1":150},"单位":"kW"}``)
is accepted too. The numbers live in the JSON (the app renders them as a table); the gold 结论 states
the verdict in words. A 结论 may still state numbers, and ``cited_values_match_graph`` checks each one.
``车型`` lists the trims the answer is about (the asked trim, the compared pair, the recommendation);
``参数`` cites values per trim; ``胜`` names the winner of a compared 项 (0 = 持平). A trim is cited by
its retrieved id (an int, or its digits as a ``值`` key); a closed-book answer may write the full name
("2024款 星驰逐风 1.5T 舒适型") instead.

>>> obj = parse_answer('【参数】{"车型":[1],"参数":[{"项":"续航","值":{"1":"520km"}}]}\\n【结论】[1]续航如上。')
>>> obj["参数"][0]["值"]
{'1': '520km'}
>>> try:
...     parse_answer('【参数】{"车型":[1],"参数":[{"项":"续航","值":520}]}【结论】。')
... except AnswerError as error:
...     print(error)
参数 item 1: 值 is not an object of trim -> value
"""

from __future__ import annotations

import re
from functools import lru_cache

from core_training.authoring import ParseCache, Sections, compact_json, is_number, json_after
from verticals.auto.vocab import normalize

FORMAT = Sections(("参数", "结论"))
split_sections = FORMAT.split  # title -> its text; the first occurrence of each title wins
section_titles = FORMAT.titles_in  # titles in the order they appear
REF_KEY = re.compile(r"^\d+$")
PROSE_ID = re.compile(r"\[(\d+)\]")


class AnswerError(ValueError):
    """The 【参数】 JSON is missing, unparsable or malformed; the message says which."""


def parse_answer(text: str) -> dict:
    """The JSON object right after 【参数】, validated. Raises AnswerError with the reason."""
    obj = json_after(text, "参数", AnswerError)
    validate_answer(obj)
    return obj


# The rules' parse: once per answer, shared by every rule (see ParseCache), so rules only read it.
cached_answer = ParseCache(parse_answer, AnswerError)


def validate_answer(obj: object) -> None:
    """Types: 车型 a list of trim refs, 参数 a list of items, 预算 (if any) a number."""
    if not isinstance(obj, dict):
        raise AnswerError("参数 JSON is not an object")
    for key in ("车型", "参数"):
        if key not in obj:
            raise AnswerError(f"参数 JSON lacks key {key}")
    if not isinstance(obj["车型"], list) or not all(is_ref(r) for r in obj["车型"]):
        raise AnswerError("车型 is not a list of trim ids or names")
    if "预算" in obj and not is_number(obj["预算"]):
        raise AnswerError("预算 is not a number")
    if not isinstance(obj["参数"], list):
        raise AnswerError("参数 is not a list")
    for number, item in enumerate(obj["参数"], start=1):
        validate_item(number, item)


def validate_item(number: int, item: object) -> None:
    """One cited 项: name, a non-empty trim -> value map, an optional unit and an optional winner."""
    if not isinstance(item, dict):
        raise AnswerError(f"参数 item {number} is not an object")
    if not isinstance(item.get("项"), str) or not isinstance(item.get("单位", ""), str):
        raise AnswerError(f"参数 item {number}: 项 and 单位 must be strings")
    values = item.get("值")
    if not isinstance(values, dict) or not values:
        raise AnswerError(f"参数 item {number}: 值 is not an object of trim -> value")
    if not all(is_number(v) or isinstance(v, str) for v in values.values()):
        raise AnswerError(f"参数 item {number}: a value is neither a number nor a text")
    if "胜" in item and not (is_ref(item["胜"]) or item["胜"] == 0):
        raise AnswerError(f"参数 item {number}: 胜 is not a trim id, a name or 0")


def is_ref(value: object) -> bool:
    """A trim reference: a positive int id or a non-empty name."""
    return (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and bool(value.strip()))


def ref_key(ref: int | str) -> str:
    """How a ref is written as a 值 key (``1`` -> ``"1"``)."""
    return str(ref)


def resolve_ref(ref: int | str, candidates: list[dict]) -> dict | None:
    """The retrieved candidate a ref names (by id, id digits or normalised full name), or None."""
    if isinstance(ref, str) and REF_KEY.match(ref.strip()):
        ref = int(ref)
    if isinstance(ref, int):
        for candidate in candidates:  # plain loops: the rules resolve every ref of every answer
            if candidate["id"] == ref:
                return candidate
        return None
    wanted = _normalized(ref)
    for candidate in candidates:
        if _normalized(candidate["name"]) == wanted:
            return candidate
    return None


_normalized = lru_cache(maxsize=4096)(normalize)  # trim names recur in every answer about them


def resolve_in_graph(ref: int | str, candidates: list[dict]) -> dict | None:
    """Like :func:`resolve_ref`, but a name not retrieved may still name a graph trim (``id`` 0 then)."""
    found = resolve_ref(ref, candidates)
    if found is not None or not isinstance(ref, str) or REF_KEY.match(ref.strip()):
        return found
    from verticals.auto.kg import auto_index
    from verticals.auto.retriever import candidate

    trim_id = auto_index().by_name.get(normalize(ref))
    return candidate(0, trim_id) if trim_id else None


def all_refs(obj: dict) -> list[int | str]:
    """Every trim ref of the JSON: 车型, 值 keys and 胜 (except 0), in order, without repeats."""
    refs: list = list(obj["车型"])
    for item in obj["参数"]:
        refs += [int(k) if REF_KEY.match(k) else k for k in item["值"]]
        if item.get("胜"):
            refs.append(item["胜"])
    return list(dict.fromkeys(refs))


def prose_ids(text: str) -> list[int]:
    """Ids cited as ``[n]`` in free text."""
    return [int(n) for n in PROSE_ID.findall(text)]


def render_answer(obj: dict, conclusion: str) -> str:
    """Assemble the two sections."""
    return f"【参数】{compact_json(obj)}\n【结论】{conclusion}"
