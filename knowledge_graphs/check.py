"""``vkit kg check V GRAPH``: can this graph train vertical V? Answered in seconds, without training.

    vkit kg import auto --source 配置表.csv --mapping knowledge_graphs/mappings/auto_trims.yaml --out kg/auto
    vkit kg check auto kg/auto

It points V at the graph (``VKIT_<V>_GRAPH``, as a run would), runs the vertical's dataset builders
(:mod:`core_training.readiness`) and prints: the graph's size and schema errors, what the pools hold out
for evaluation, the attributes left unknown (how many nodes lack each), how many sft / rl / preference /
eval examples each builder made, and a verdict. When the answer is no, the verdict is ONE line naming the
builder and its reason (the missing table or field, as the vertical's builder says it). Exit 0 = ready.

>>> import networkx as nx
>>> g = nx.DiGraph()
>>> g.add_node("a", kind="series", name="逐风", pool="eval"); g.add_node("b", kind="series", name="凌云", pool="train")
>>> g.add_node("t1", kind="trim", weight=None, body="SUV"); g.add_node("t2", kind="trim", weight=None, body=None)
>>> pool_lines(g)
['series: eval 1 (逐风); train 1']
>>> unknown_lines(g)
['trim.weight unknown in 2 of 2', 'trim.body unknown in 1 of 2']
"""

from __future__ import annotations

import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

GRAPH_ENV = "VKIT_{}_GRAPH"
SHOWN_NAMES = 6


def pool_lines(graph) -> list[str]:
    """Per node kind that carries a ``pool``: how many nodes each pool holds (and the held-out ones' names)."""
    pools: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for _, data in graph.nodes(data=True):
        if "pool" in data and data.get("kind") != "xiaoqu":  # a 小区 follows its city's pool
            pools[data["kind"]][str(data["pool"])].append(str(data.get("name", "?")))
    lines = []
    for kind, by_pool in pools.items():
        parts = []
        for pool, names in sorted(by_pool.items(), key=lambda item: item[0] == "train"):
            shown = "" if pool == "train" else f" ({', '.join(names[:SHOWN_NAMES])}{', ...' if len(names) > SHOWN_NAMES else ''})"
            parts.append(f"{pool} {len(names)}{shown}")
        lines.append(f"{kind}: {'; '.join(parts)}")
    return lines


def unknown_lines(graph) -> list[str]:
    """``kind.attribute unknown in N of M`` for every attribute that is None on some nodes, most missing first."""
    totals, unknown = Counter(), Counter()
    for _, data in graph.nodes(data=True):
        kind = data.get("kind", "?")
        totals[kind] += 1
        unknown.update((kind, name) for name, value in data.items() if value is None)
    ranked = sorted(unknown.items(), key=lambda item: (-item[1] / totals[item[0][0]], item[0]))
    return [f"{kind}.{name} unknown in {count} of {totals[kind]}" for (kind, name), count in ranked]


def clear_vertical_caches(vertical: str) -> None:
    """Forget every cached graph, index and dataset of ``verticals.<vertical>`` in this process."""
    for name, module in list(sys.modules.items()):
        if name == f"verticals.{vertical}" or name.startswith(f"verticals.{vertical}."):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def point_vertical_at(vertical: str, graph_dir: str | Path):
    """The vertical object, reading ``graph_dir`` (``$VKIT_<V>_GRAPH`` set, caches cleared, as a fresh run)."""
    from core_training.registry import get_vertical

    os.environ[GRAPH_ENV.format(vertical.upper())] = str(graph_dir)
    clear_vertical_caches(vertical)
    return get_vertical(vertical)


def check_graph(vertical: str, graph_dir: str | Path) -> tuple[list[str], str | None]:
    """(lines to print, the one-line problem or None when the graph can train ``vertical``)."""
    from core_training.readiness import builder_lines, first_problem, run_builders
    from knowledge_graphs.cli import graph_path
    from knowledge_graphs.importers import importer
    from knowledge_graphs.io import load_graph

    path = graph_path(graph_dir)
    if not path.is_file():
        return [], f"no graph at {path}: give the --out directory of `vkit kg import {vertical} ...`"
    graph = load_graph(path)
    errors, _ = importer(vertical).validate(graph)
    kinds = Counter(d.get("kind", "?") for _, d in graph.nodes(data=True))
    lines = [f"graph {path}: {graph.number_of_nodes()} nodes ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
             f"{len(errors)} schema errors"]
    lines += ["held out for evaluation (pools):"] + [f"  {line}" for line in pool_lines(graph) or ["no pools"]]
    unknown = unknown_lines(graph)
    if unknown:
        lines += ["unknown values:"] + [f"  {line}" for line in unknown[:12]]
        lines += [f"  ... and {len(unknown) - 12} more"] if len(unknown) > 12 else []
    results = run_builders(point_vertical_at(vertical, path.parent))
    lines += ["dataset builders:"] + builder_lines(results)
    problem = first_problem(vertical, results)
    if problem is None and errors:
        problem = f"{vertical} cannot train on this data: {errors[0]} (and {len(errors) - 1} more schema errors)"
    return lines, problem


def check_command(args) -> int:
    """``vkit kg check V GRAPH``: the lines, then ``READY ...`` (exit 0) or ``NOT READY: <one line>`` (exit 1)."""
    from knowledge_graphs.importers.common import MappingError

    try:
        lines, problem = check_graph(args.vertical, args.graph)
    except MappingError as error:
        print(f"vkit kg: error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"NOT READY: {problem}" if problem else f"READY: {args.vertical} can train on {args.graph}")
    return 1 if problem else 0
