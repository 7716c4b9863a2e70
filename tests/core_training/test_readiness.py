"""core_training.readiness: the builders run, counted, and the first problem said in one line."""

from __future__ import annotations

import doctest

from core_training import readiness
from core_training.contract import DataError, Vertical


def toy_vertical(**loaders) -> Vertical:
    rows = [{"id": 1, "messages": [], "answer": "", "truth": {}}]
    fields = dict(load_chains=lambda: rows, load_rl_prompts=lambda: rows, load_preferences=lambda: rows,
                  load_eval_set=lambda: rows, load_cpt_corpus=lambda: {"train": ["a", "b"], "eval": ["c"]})
    fields.update(loaders)
    return Vertical(name="toy", description="", system_prompt="", rules=(), retrieve=str, rubric=lambda r, e: {},
                    rubric_dimensions=(), load_graph=dict, **fields)


def test_docstring_examples():
    result = doctest.testmod(readiness)
    assert result.failed == 0 and result.attempted > 0


def test_a_vertical_whose_builders_all_make_examples_is_ready():
    results = readiness.require_ready(toy_vertical())
    assert [(r.name, r.count) for r in results] == [("sft", 1), ("rl", 1), ("preferences", 1), ("eval", 1), ("cpt", 2)]


def test_the_first_failing_builder_is_the_one_line():
    def crash():
        raise KeyError("weight")

    def refuse():
        raise DataError("toy: no table of prices\nmore lines that are not shown")

    vertical = toy_vertical(load_preferences=crash, load_eval_set=refuse, load_paraphrase_set=list)
    results = readiness.run_builders(vertical)
    assert [r.name for r in results if not r.ok] == ["preferences", "eval"]
    assert results[-1].name == "paraphrase" and results[-1].ok  # an empty optional set does not stop training
    problem = readiness.first_problem("toy", results)
    assert problem == "toy cannot train on this data: preferences (load_preferences) KeyError: 'weight' (the builder crashed on this data)"
    try:
        readiness.require_ready(vertical)
    except DataError as error:
        assert str(error) == problem
    else:
        raise AssertionError("require_ready accepted a vertical whose builder crashed")
