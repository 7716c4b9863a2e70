"""What the advisor shows beside an answer: its intermediate structure as a table, and its report sections.

A panel is a function ``(answer, facts, truth) -> Panel``. ``PANELS`` maps a vertical's name to
its panel; a vertical without one gets :func:`generic_panel`, which turns every ``【标题】{JSON}``
block into a table (one row per object in the block's list; nested objects become columns) and
shows the other ``【标题】`` sections as they are. A vertical adds a panel with one decorated
function here, never a copy of the app::

    @register_panel("k12")
    def k12_panel(answer, facts, truth): ...

``truth`` is what the vertical's ``build_truth`` returned for the dialog (None when it could not be
built); ``facts`` is the text the retriever gave the model. A row citing a retrieved candidate by
``id`` is resolved against the candidate line ``[id] ...`` of the facts.

>>> panel = generic_panel('好的。\\n【推荐】{"房源":[{"id":2,"总价":480}]}\\n2号在S5学区。', "[2]符合 总价480万", None)
>>> panel.title, panel.rows
('推荐 · 房源', [{'id': 2, '总价': 480, '事实': '[2]符合 总价480万'}])
>>> [title for title, _ in panel.sections]
['回答', '推荐']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable

SECTION = re.compile(r"【([^【】\s]{1,12})】")
FACT_LINE = re.compile(r"^\[(\d+)\]\s*(.*)$")


@dataclass(frozen=True)
class Panel:
    """The structure table (``rows`` of column -> value), notes about it, and the report sections."""

    title: str
    rows: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)
    problem: str | None = None  # why there is no table (e.g. the JSON does not parse)


PanelFn = Callable[[str, str, "dict | None"], Panel]
PANELS: dict[str, PanelFn] = {}


def register_panel(vertical: str) -> Callable[[PanelFn], PanelFn]:
    def add(fn: PanelFn) -> PanelFn:
        PANELS[vertical] = fn
        return fn

    return add


def panel_for(vertical: str) -> PanelFn:
    """The vertical's own panel, or the generic JSON-block one."""
    return PANELS.get(vertical, generic_panel)


def build_panel(vertical: str, answer: str, facts: str, truth: dict | None) -> Panel:
    """The panel for one answer; a panel that raises falls back to the generic one, with the reason."""
    fn = panel_for(vertical)
    try:
        return fn(answer, facts, truth)
    except Exception as exc:  # noqa: BLE001 - a broken panel must not take the answer down with it
        if fn is generic_panel:
            return Panel("结构", problem=f"panel raised {type(exc).__name__}: {exc}")
        panel = generic_panel(answer, facts, truth)
        return Panel(panel.title, panel.rows, panel.notes, panel.sections,
                     f"{vertical} panel raised {type(exc).__name__}: {exc}; showing the generic table")


# --------------------------------------------------------------------------- generic


def fact_lines(facts: str) -> dict[int, str]:
    """Candidate id -> its line in the facts (lines that start with ``[id]``).

    >>> fact_lines("考生：…\\n[1] 甲大学 均100\\n[2] 乙大学 均200")
    {1: '[1] 甲大学 均100', 2: '[2] 乙大学 均200'}
    """
    found = {}
    for line in facts.splitlines():
        if match := FACT_LINE.match(line.strip()):
            found.setdefault(int(match.group(1)), line.strip())
    return found


def split_titled(answer: str) -> list[tuple[str, str]]:
    """``(title, text)`` for each ``【title】`` in order; text before the first title is ``回答``."""
    matches = list(SECTION.finditer(answer))
    parts = []
    head = answer[: matches[0].start()].strip() if matches else answer.strip()
    if head:
        parts.append(("回答", head))
    for match, following in zip(matches, matches[1:] + [None]):
        parts.append((match.group(1), answer[match.end(): following.start() if following else len(answer)].strip()))
    return parts


def leading_json(text: str) -> tuple[dict, str] | None:
    """The JSON object at the start of ``text`` and the prose after it, or None.

    Only objects: a leading ``[2]`` is a citation, not a JSON list.
    """
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(stripped)
    except json.JSONDecodeError:
        return None
    return value, stripped[end:].strip()


def flatten(row: dict) -> dict:
    """One table row: nested objects become ``key[sub]`` columns, lists become comma-joined text.

    >>> flatten({"项": "功率", "值": {"1": 150, "2": 120}, "标签": ["a", "b"]})
    {'项': '功率', '值[1]': 150, '值[2]': 120, '标签': 'a, b'}
    """
    out: dict = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update({f"{key}[{sub}]": v for sub, v in value.items()})
        elif isinstance(value, list):
            out[key] = ", ".join(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v)
                                 for v in value)
        else:
            out[key] = value
    return out


def json_table(value: dict, facts: dict[int, str]) -> tuple[str | None, list[dict], list[str]]:
    """The first list of objects in a JSON block as rows (key, rows), and its other fields as notes.

    A list of ids that all name retrieved candidates is noted as their fact lines.
    """
    key, rows, notes = None, [], []
    for name, item in value.items():
        if key is None and isinstance(item, list) and item and all(isinstance(x, dict) for x in item):
            key, rows = name, [flatten(x) for x in item]
        elif isinstance(item, list) and item and all(isinstance(x, int) and x in facts for x in item):
            notes.append(f"{name}: {'；'.join(facts[x] for x in item)}")
        else:
            notes.append(f"{name}: {', '.join(map(str, item)) if isinstance(item, list) else item}")
    for row in rows:
        if isinstance(row.get("id"), int) and row["id"] in facts:
            row["事实"] = facts[row["id"]]
    return key, rows, notes


def generic_panel(answer: str, facts: str, truth: dict | None) -> Panel:
    """Any ``【标题】{JSON}`` answer: the first JSON block with a list of objects becomes the table."""
    sections, title, rows, notes, problem = [], "结构", [], [], None
    lines = fact_lines(facts)
    for name, text in split_titled(answer):
        block = leading_json(text)
        if block is None:
            if text.lstrip().startswith("{") and problem is None:
                problem = f"the JSON after 【{name}】 does not parse"
            sections.append((name, text))
            continue
        value, prose = block
        key, found, block_notes = json_table(value, lines)
        if found and not rows:
            title, rows, notes = f"{name} · {key}" if key != name else name, found, block_notes
        if prose:
            sections.append((name, prose))
    if not rows and problem is None:
        problem = "no 【…】 JSON block with a list in this answer"
    return Panel(title, rows, notes, sections, problem if not rows else None)


# --------------------------------------------------------------------------- gaokao


GAOKAO_REPORT = ("考生情况分析", "填报策略", "志愿表解读", "风险提示")


@register_panel("gaokao")
def gaokao_panel(answer: str, facts: str, truth: dict | None) -> Panel:
    """The 冲/稳/保 list: each choice's cited rank beside the retrieved mean rank, resolved by id."""
    from verticals.gaokao.answer import PlanError, parse_plan, resolve_choice, split_sections
    from verticals.gaokao.vocab import tier_for_margin

    sections = split_sections(answer)
    try:
        plan = parse_plan(answer)
    except PlanError as error:
        report = [(t, sections[t]) for t in GAOKAO_REPORT if sections.get(t)]
        return Panel("志愿表", sections=report, problem=str(error))
    candidates = (truth or {}).get("candidates", [])
    lines = fact_lines(facts)
    rows = []
    for choice in plan["志愿"]:
        found = resolve_choice(choice, candidates)
        row = {"档": choice["档"], "id": choice.get("id", "—"),
               "大学": found["university"] if found else choice.get("大学", lines.get(choice.get("id"), "—")),
               "专业组": found["group"] if found else choice.get("专业组", "—"), "引用位次": choice["位次"]}
        if found:
            row.update({"近三年均值": found["avg_rank"], "差": f"{found['margin']:+d}%",
                        "选科": "符合" if found["subject_ok"] else "不符",
                        "核对": _gaokao_check(choice, found, tier_for_margin(found["margin"]))})
        rows.append(row)
    notes = [_rank_note(plan["位次"], truth), f"风险：{'、'.join(plan['风险']) or '（未列）'}"]
    reading = ("志愿表解读", _reading(rows))
    report = [(t, sections.get(t, "")) for t in GAOKAO_REPORT if t != "志愿表解读"]
    report.insert(GAOKAO_REPORT.index("志愿表解读"), reading)
    return Panel("志愿表（冲/稳/保）", rows, notes, [(t, s) for t, s in report if s])


def _gaokao_check(choice: dict, found: dict, right_tier: str) -> str:
    problems = []
    if choice["位次"] != found["avg_rank"]:
        problems.append(f"位次应为{found['avg_rank']}")
    if choice["档"] != right_tier:
        problems.append(f"档应为{right_tier}")
    if not found["subject_ok"]:
        problems.append("选科不符")
    return "✓" if not problems else "✗ " + "；".join(problems)


def _rank_note(cited: int, truth: dict | None) -> str:
    if not truth:
        return f"引用考生位次 {cited}"
    mark = "✓" if cited == truth["rank"] else f"✗ 一分一段表为 {truth['rank']}"
    return f"引用考生位次 {cited} {mark}"


def _reading(rows: list[dict]) -> str:
    """A plain reading of the table: how many choices per tier and how many cite the facts right."""
    counts = {tier: sum(r["档"] == tier for r in rows) for tier in ("冲", "稳", "保")}
    text = "，".join(f"{tier}{n}个" for tier, n in counts.items())
    checked = [r for r in rows if "核对" in r]
    right = sum(r["核对"] == "✓" for r in checked)
    if checked:
        text += f"；{right}/{len(checked)} 个志愿的位次、档位与检索事实一致"
    else:
        text += "；没有志愿能按 id 对上检索到的候选"
    if not counts["保"]:
        text += "；没有保底志愿，有滑档风险"
    return text + "。"
