"""The answer format: four 【】 sections, the 【志愿表】 one carrying a single JSON object.

::

    【考生情况分析】位次23759，按位次而非分数选校。
    【志愿表】{"位次":23759,"志愿":[{"id":1,"档":"冲","位次":19879},{"id":4,"档":"稳","位次":24526}],"风险":["滑档"]}
    【填报策略】以计算机为主线，拉开梯度。
    【风险提示】滑档：保底要留足。

A choice cites a retrieved candidate by ``id``; a closed-book answer may name ``"大学"`` (and
``"专业组"``) instead.

>>> plan = parse_plan('【志愿表】{"位次":100,"志愿":[{"id":1,"档":"保","位次":150}],"风险":["滑档"]}')
>>> plan["志愿"][0]["档"]
'保'
>>> try:
...     parse_plan("【志愿表】{位次: 100}")
... except PlanError as error:
...     print(error)
JSON after 【志愿表】 does not parse (Expecting property name enclosed in double quotes)
"""

from __future__ import annotations

from core_training.authoring import Sections, compact_json, is_int, json_after
from verticals.gaokao.vocab import SECTIONS, TIERS

FORMAT = Sections(SECTIONS)
split_sections = FORMAT.split  # title -> its text; the first occurrence of each title wins
section_titles = FORMAT.titles_in  # titles in the order they appear
PLAN_KEYS = ("位次", "志愿", "风险")


class PlanError(ValueError):
    """The 【志愿表】 JSON is missing, unparsable or malformed; the message says which."""


def parse_plan(text: str) -> dict:
    """The JSON object right after 【志愿表】, validated. Raises PlanError with the reason."""
    plan = json_after(text, "志愿表", PlanError)
    validate_plan(plan)
    return plan


def validate_plan(plan: object) -> None:
    """Check keys and types: 位次 int, 志愿 list of choices, 风险 list of strings."""
    if not isinstance(plan, dict):
        raise PlanError("志愿表 is not a JSON object")
    missing = [key for key in PLAN_KEYS if key not in plan]
    if missing:
        raise PlanError(f"志愿表 lacks key {'、'.join(missing)}")
    if not is_int(plan["位次"]):
        raise PlanError("志愿表 位次 is not an integer")
    if not isinstance(plan["志愿"], list):
        raise PlanError("志愿表 志愿 is not a list")
    if not isinstance(plan["风险"], list) or not all(isinstance(r, str) for r in plan["风险"]):
        raise PlanError("志愿表 风险 is not a list of strings")
    for number, choice in enumerate(plan["志愿"], start=1):
        validate_choice(number, choice)


def validate_choice(number: int, choice: object) -> None:
    """One choice: 档 in 冲/稳/保, integer 位次, and an integer id or a 大学 name."""
    if not isinstance(choice, dict):
        raise PlanError(f"choice {number} is not a JSON object")
    if choice.get("档") not in TIERS:
        raise PlanError(f"choice {number}: 档 {choice.get('档')!r} is not one of 冲/稳/保")
    if not is_int(choice.get("位次")):
        raise PlanError(f"choice {number}: 位次 is not an integer")
    if not is_int(choice.get("id")) and not isinstance(choice.get("大学"), str):
        raise PlanError(f"choice {number}: needs an integer id or a 大学 name")


def render_answer(analysis: str, plan: dict, strategy: str, warnings: str) -> str:
    """Assemble the four sections."""
    return (f"【考生情况分析】{analysis}\n【志愿表】{compact_json(plan)}\n"
            f"【填报策略】{strategy}\n【风险提示】{warnings}")


def choice_label(choice: dict) -> str:
    """How reasons name a choice: ``id 3`` or the university name."""
    return f"id {choice['id']}" if "id" in choice else str(choice.get("大学"))


def resolve_choice(choice: dict, candidates: list[dict]) -> dict | None:
    """The retrieved candidate a choice refers to (by id, else by 大学 and optional 专业组), or None."""
    if "id" in choice:
        wanted = choice["id"]
        for candidate in candidates:  # a plain loop: the rules call this for every choice of every answer
            if candidate["id"] == wanted:
                return candidate
        return None
    named = [c for c in candidates if c["university"] == choice.get("大学")
             and choice.get("专业组") in (None, c["group"])]
    return named[0] if len(named) == 1 else None
