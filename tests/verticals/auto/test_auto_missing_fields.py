"""The auto data builders on a graph whose trims lack fields (what an imported 配置表 without a column
gives: the value is unknown, None): they never ask about a value a trim lacks, never cite it, and never
crash; every gold answer still parses and passes every rule.

The graphs are the generator's with fields blanked, every trim or a third of them.
"""

from __future__ import annotations

import random

import pytest

from core_training.rewards import all_passed, check
from knowledge_graphs.auto import build_auto_graph
from verticals.auto.answer import parse_answer

BLANKED = {  # case -> trim fields left unknown
    "weight": ("weight",),
    "accel": ("accel",),
    "size": ("length", "width", "height", "wheelbase"),
    "fuel_and_range": ("fuel", "range_km"),
    "energy": ("energy",),
    "most": ("weight", "accel", "torque", "wheelbase", "length", "width", "height", "seats", "drive",
             "transmission", "body", "energy"),
}


def blanked_graph(fields: tuple[str, ...], share: float):
    graph, rng = build_auto_graph(0), random.Random(1)
    for _, data in graph.nodes(data=True):
        if data["kind"] == "trim" and rng.random() < share:
            data.update(dict.fromkeys(fields))
    return graph


@pytest.mark.parametrize("case, share", [(case, 1.0) for case in sorted(BLANKED)] + [("most", 0.3)])
def test_builders_work_with_the_fields_the_graph_has(split_check, case, share):
    with split_check.vertical_on("auto", blanked_graph(BLANKED[case], share)) as vertical:
        examples = list(vertical.load_chains()) + list(vertical.load_eval_set()) + list(vertical.load_dev_set())
        pairs = vertical.load_preferences()
        assert len(pairs) == 300 and vertical.known_bad()
        for example in examples:
            truth = example["truth"]
            if truth["type"] == "spec":  # never asked what the car lacks (a series question: what no trim has)
                held = {i for c in truth["candidates"] if c["id"] in truth["targets"] for i in c["params"]}
                assert set(truth["items"]) <= held, (example["id"], truth["items"])
            answer = parse_answer(example["answer"])
            assert all(item["值"] for item in answer["参数"]), example["id"]
        for example in examples[::10] + [dict(p, answer=p["chosen"]) for p in pairs[::10]]:
            assert all_passed(check(vertical, example["answer"], example)), example["id"]
