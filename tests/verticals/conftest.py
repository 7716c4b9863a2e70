"""Fixtures for the tests that run a vertical on an imported graph: `vkit kg import` then
`vkit run VERTICAL --preset micro` with ``VKIT_<VERTICAL>_GRAPH`` set, in subprocesses, and the check
that the run trained on the imported graph's datasets (its base stage key holds their fingerprint)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from verticals.graph_source import clear_caches

MAPPINGS = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "mappings"
GRAPH_ENVS = ("VKIT_GAOKAO_GRAPH", "VKIT_AUTO_GRAPH", "VKIT_REALESTATE_GRAPH")


def vkit(*args, env: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``vkit ARGS`` (the same entry point, through ``python -m core_training.cli``)."""
    base = {k: v for k, v in os.environ.items() if k not in GRAPH_ENVS}
    base.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"})
    return subprocess.run([sys.executable, "-m", "core_training.cli", *map(str, args)], capture_output=True,
                          text=True, env={**base, **(env or {})}, timeout=timeout)


def expected_base_key(vertical, run_dir: Path, overrides: list[str]) -> str:
    """The base stage key `vkit run` computes for ``run_dir`` from this process's datasets of ``vertical``.

    Equal to the run's ``base/vkit_stage.json`` key only if the run's data fingerprint (every dataset
    the stages read) equals the one of the datasets built here.
    """
    from core_training.config import resolve_run_config, to_dict
    from core_training.modeling import resolve_base
    from core_training.pipeline import base_key, data_fingerprint, stage_key

    cfg = resolve_run_config(dict(vertical.config_overrides), [], [*overrides, f"vertical={vertical.name}",
                                                                   f"output={run_dir}"], "micro")
    assert to_dict(cfg) == json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    base = resolve_base(cfg.model.base)
    return stage_key(cfg, "base", base_key(base), data_fingerprint(vertical, None))


def run_report(run_dir: Path) -> dict:
    return json.loads((run_dir / "report.json").read_text(encoding="utf-8"))


def sample_ids(run_dir: Path, stage: str = "base", eval_set: str = "test") -> set[str]:
    rows = [json.loads(line) for line in (run_dir / stage / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    return {row["id"] for row in rows if row.get("set", "test") == eval_set}


def import_then_micro_run(name: str, import_args: list, tmp_path: Path, on_graph):
    """`vkit kg import NAME ...` into ``tmp_path/kg``, then `vkit run NAME --preset micro` on it; checks the
    run finished every stage on the imported graph's datasets and returns ``(vertical, eval_set, asked)``:
    the vertical (its caches now on the imported graph), its eval set by id, and the ids the run evaluated."""
    import importlib

    kg, run = tmp_path / "kg", tmp_path / "run"
    proc = vkit("kg", "import", name, *import_args, "--out", kg)
    assert proc.returncode == 0, proc.stderr
    proc = vkit("run", name, "--preset", "micro", "--output", run, "threads=1", f"data.graph={kg}")
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = run_report(run)
    assert [s["stage"] for s in report["stages"]] == ["base", "cpt", "sft", "rlvr", "rm", "rlhf"]
    assert (run / "report.md").is_file() and "| rlhf |" in proc.stdout

    on_graph(kg)  # the same datasets, built here from the imported graph
    vertical = importlib.import_module(f"verticals.{name}").VERTICAL
    run_key = json.loads((run / "base" / "vkit_stage.json").read_text(encoding="utf-8"))["key"]
    assert run_key == expected_base_key(vertical, run, ["threads=1", f"data.graph={kg}"])  # trained on these datasets
    assert run_report(run)["config"]["data"]["graph"] == str(kg)  # the report says what data it used
    eval_set = {ex["id"]: ex for ex in vertical.load_eval_set()}
    asked = sample_ids(run)
    assert asked and asked <= set(eval_set)
    return vertical, eval_set, asked


@pytest.fixture
def imported_run():
    """The helpers above: ``vkit``, ``clear_caches``, ``expected_base_key``, ``run_report``, ``sample_ids``,
    ``import_then_micro_run``."""
    return types.SimpleNamespace(vkit=vkit, clear_caches=clear_caches, expected_base_key=expected_base_key,
                                 run_report=run_report, sample_ids=sample_ids, mappings=MAPPINGS,
                                 import_then_micro_run=import_then_micro_run)


# ----------------------------------------------------------------------------- dev/test split checks

SPLIT_LOADERS = ("load_chains", "load_rl_prompts", "load_preferences", "load_dev_set", "load_eval_set", "known_bad",
                 "load_cpt_corpus")
GRAPH_FUNCTIONS = {"gaokao": "gaokao_graph", "auto": "auto_graph", "realestate": "realestate_graph"}


def question_digest(rows) -> str:
    """Digest of what a dataset asks: each example's id and messages (gold answers and truth formats may
    evolve; the questions a split holds must not)."""
    from core_training.config import config_hash

    return config_hash([{"id": row["id"], "messages": row["messages"]} for row in rows])


def graph_digest(g, first_nodes: int) -> str:
    """Digest of the graph's first ``first_nodes`` nodes (insertion order) and the edges among them."""
    from core_training.config import config_hash

    nodes = list(g.nodes)[:first_nodes]
    kept = set(nodes)
    if g.is_multigraph():  # parallel edges are told apart by their keys
        edges = [[u, v, k, d] for u, v, k, d in g.edges(keys=True, data=True) if u in kept and v in kept]
    else:
        edges = [[u, v, d] for u, v, d in g.edges(data=True) if u in kept and v in kept]
    return config_hash({"nodes": [[n, g.nodes[n]] for n in nodes], "edges": edges})


@contextlib.contextmanager
def vertical_on(name: str, graph):
    """Vertical ``name`` with its datasets built from ``graph`` instead of its own graph, inside the block
    (caches are cleared on entry and exit, so nothing built here leaks into other tests)."""
    import importlib

    kg = importlib.import_module(f"verticals.{name}.kg")
    attr = GRAPH_FUNCTIONS[name]
    original = getattr(kg, attr)
    setattr(kg, attr, lambda: graph)
    clear_caches(f"verticals.{name}")
    try:
        yield importlib.import_module(f"verticals.{name}").VERTICAL
    finally:
        setattr(kg, attr, original)
        clear_caches(f"verticals.{name}")


def datasets_on(name: str, graph=None) -> dict[str, str]:
    """``config_hash`` of every dataset of vertical ``name``, built from ``graph`` (see :func:`vertical_on`)
    or, without one, from its own graph."""
    import importlib

    from core_training.config import config_hash

    if graph is None:
        vertical = importlib.import_module(f"verticals.{name}").VERTICAL
        return {loader: config_hash(getattr(vertical, loader)()) for loader in SPLIT_LOADERS}
    with vertical_on(name, graph) as vertical:
        return {loader: config_hash(getattr(vertical, loader)()) for loader in SPLIT_LOADERS}


@pytest.fixture
def split_check():
    """Helpers for the dev/test split tests: ``question_digest``, ``datasets_on``, ``vertical_on``."""
    return types.SimpleNamespace(question_digest=question_digest, datasets_on=datasets_on, vertical_on=vertical_on,
                                 graph_digest=graph_digest)
