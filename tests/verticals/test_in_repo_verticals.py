"""What every in-repo vertical promises the same way, one table row per vertical.

Cheap import (graph and dataset caches still empty), examples shaped as the contract says, every gold
answer of every split passing every rule, and each example's ``truth`` being what the vertical's
retriever rebuilds from the user text.
The contract-level checks for any registered vertical are in ``test_conformance.py``.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import pytest

from core_training.data import user_text
from core_training.registry import get_vertical
from core_training.rewards import check

# (vertical, caches still empty after the import, whether networkx stays unloaded too)
LAZY_IMPORTS = [
    ("gaokao", ["kg.gaokao_graph", "data.load_chains"], False),
    ("auto", ["kg.auto_graph", "data.load_chains"], True),
    ("realestate", ["kg.realestate_graph", "data.load_chains", "data._dialogs"], False),
]
# (vertical, what every gold answer matches from its start)
ANSWER_FORMS = [("gaokao", r"【考生情况分析】"), ("auto", r"【参数】.*\n【结论】"), ("realestate", r".")]
# (vertical, the truth key naming the gold answer's writer, every n-th example rebuilt)
REBUILT_TRUTH = [("gaokao", "expert", 10), ("auto", "expert", 7), ("realestate", "broker", 7)]


def splits(name: str) -> dict[str, list[dict]]:
    vertical = get_vertical(name)
    return {"sft": vertical.load_chains(), "rl": vertical.load_rl_prompts(), "eval": vertical.load_eval_set()}


@pytest.mark.parametrize(("name", "caches", "without_networkx"), LAZY_IMPORTS)
def test_import_builds_nothing(name, caches, without_networkx):
    code = [f"import sys, verticals.{name}, verticals.{name}.kg as kg, verticals.{name}.data as data"]
    code += [f"assert {cache}.cache_info().currsize == 0, {cache!r}" for cache in caches]
    code += ["assert 'networkx' not in sys.modules"] if without_networkx else []
    subprocess.run([sys.executable, "-c", "\n".join(code)], check=True, timeout=60)


@pytest.mark.parametrize(("name", "answer_form"), ANSWER_FORMS)
def test_examples_are_dialogs_with_unique_ids_and_json_truth(name, answer_form):
    vertical, examples = get_vertical(name), [ex for rows in splits(name).values() for ex in rows]
    ids = [ex["id"] for ex in examples] + [pair["id"] for pair in vertical.load_preferences()]
    assert len(ids) == len(set(ids))
    for ex in examples:
        roles = [m["role"] for m in ex["messages"]]
        assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"], ex["id"]
        assert vertical.multi_turn or roles == ["user"], ex["id"]
        assert isinstance(ex["answer"], str) and re.match(answer_form, ex["answer"], re.DOTALL), ex["id"]
        json.dumps(ex["truth"], ensure_ascii=False)


@pytest.mark.parametrize("name", [row[0] for row in LAZY_IMPORTS])
def test_every_gold_answer_passes_every_rule(name):
    vertical, failures = get_vertical(name), []
    for examples in splits(name).values():
        for ex in examples:
            failed = {rule: r.reason for rule, r in check(vertical, ex["answer"], ex).items() if not r.passed}
            failures += [(ex["id"], failed)] if failed else []
    assert not failures, failures[:3]


@pytest.mark.parametrize(("name", "writer_key", "every"), REBUILT_TRUTH)
def test_truth_is_what_the_retriever_rebuilds(name, writer_key, every):
    build_truth = importlib.import_module(f"verticals.{name}.retriever").build_truth
    for examples in splits(name).values():
        for ex in examples[::every]:
            truth = {k: v for k, v in ex["truth"].items() if k != writer_key}
            rebuilt = build_truth(user_text(ex["messages"]))
            assert json.dumps(truth, sort_keys=True) == json.dumps(rebuilt, sort_keys=True), ex["id"]
