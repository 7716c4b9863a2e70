"""Where a vertical's knowledge graph comes from: a `vkit kg import` output named by an environment
variable (``VKIT_GAOKAO_GRAPH``, ``VKIT_AUTO_GRAPH``, ``VKIT_REALESTATE_GRAPH``), else the generator.

    vkit kg import auto --source 配置表.csv --mapping knowledge_graphs/mappings/auto_trims.yaml --out kg/auto
    VKIT_AUTO_GRAPH=kg/auto vkit run auto

The variable names the import directory (its ``graph.json`` is read) or a graph JSON file. The run's
data fingerprint changes with the graph, so a resumed run never mixes datasets of two graphs.

>>> import os
>>> os.environ.pop("VKIT_DEMO_GRAPH", None)
>>> graph_from_env("VKIT_DEMO_GRAPH", "auto") is None
True
"""

from __future__ import annotations

import os
from pathlib import Path

from core_training.contract import DataError

GRAPH_FILE = "graph.json"


def graph_from_env(env_var: str, vertical: str):
    """The graph ``$env_var`` names, or None when the variable is unset or empty.

    Raises:
        DataError: nothing readable there, or a graph of another vertical.
    """
    value = os.environ.get(env_var)
    if not value:
        return None
    from knowledge_graphs.io import load_graph

    source = Path(value)
    path = source / GRAPH_FILE if source.is_dir() else source
    if not path.is_file():
        raise DataError(f"{env_var}={value}: no graph there; expected the --out directory of "
                        f"`vkit kg import {vertical} ...` (holding {GRAPH_FILE}) or a graph JSON file")
    graph = load_graph(path)
    name = graph.graph.get("name")
    if name not in (None, vertical):
        raise DataError(f"{env_var}={value}: the graph there is for {name!r}, not {vertical!r}")
    return graph


def clear_caches(package: str) -> None:
    """Forget every per-process cache (graph, index, datasets, corpus) of the modules of ``package``, e.g.
    ``"verticals.gaokao"`` after its graph source changed within one process (tests, benchmarks)."""
    import sys

    for name, module in list(sys.modules.items()):
        if name == package or name.startswith(package + "."):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()
