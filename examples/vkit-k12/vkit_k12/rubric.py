"""The softer qualities a teacher panel judges, each in [0, 1]: shown steps, unit notes, brevity.

>>> from vkit_k12.rules import DEMO, GOLD
>>> rubric(GOLD, DEMO)
{'steps': 1.0, 'units': 1.0, 'concise': 1.0}
>>> rubric("【算式】(33+9)÷7=6\\n【答案】6组", DEMO)["steps"], rubric("【算式】(33+9)÷7=42÷7=6\\n【答案】6组", DEMO)["units"]
(0.5, 0.0)
"""

from __future__ import annotations

import re

from vkit_k12.answer import split_sections

RUBRIC_DIMENSIONS = ("steps", "units", "concise")
CONCISE_CHARS = 90


def rubric(response: str, example) -> dict[str, float]:
    truth, work = example["truth"], split_sections(response).get("算式", "")
    steps = min(1.0, work.count("=") / max(1, truth.get("steps", 1)))
    statements = [s for s in re.split(r"[，,；;\n]", work) if "=" in s]
    if truth["unit"]:
        noted = sum(1 for s in statements if s.rstrip().endswith(f"（{truth['unit']}）"))
        units = noted / len(statements) if statements else 0.0
    else:
        units = 1.0
    concise = 1.0 if len(response) <= CONCISE_CHARS else 0.5
    return {"steps": round(steps, 3), "units": round(units, 3), "concise": concise}
