"""``vkit kg``: import a knowledge graph from real tables, and inspect or validate a graph directory.

    vkit kg import gaokao --source 投档线.csv --mapping knowledge_graphs/mappings/gaokao_admissions.yaml --out kg/gaokao
    vkit kg import gaokao --source a.csv --mapping a.yaml --source b.csv --mapping b.yaml --out kg/gaokao
    vkit kg stats kg/gaokao
    vkit kg validate kg/gaokao
    vkit kg check gaokao kg/gaokao   # can this graph train gaokao? (dataset builders, no training)
    vkit kg generate gaokao --size full --out kg/gaokao-full   # ~2,900 universities, 31 provinces

``import`` reads each (``--source``, ``--mapping``) pair in order into ``DIR/graph.json`` (adding to a
graph already there unless ``--replace``), writes ``DIR/import_report.json`` and prints it: rows read,
used and dropped by reason. ``--kind`` overrides the mappings' ``kind:``. ``validate`` exits 1 when
the graph breaks its vertical's schema. ``generate`` writes a generated graph (the shipped one, or
gaokao's full-size one) where an import would, so ``VKIT_<VERTICAL>_GRAPH=DIR`` loads it the same way.
Registered under the ``vkit.commands`` entry-point group.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

GRAPH_FILE = "graph.json"
REPORT_FILE = "import_report.json"


def register(subparsers) -> None:
    """Add ``kg import|stats|validate|check`` to the ``vkit`` command line."""
    kg = subparsers.add_parser("kg", help="knowledge graphs: import from tables, stats, validate")
    sub = kg.add_subparsers(dest="kg_command", required=True)
    imp = sub.add_parser("import", help="build or extend a graph from CSV tables and YAML column mappings")
    imp.add_argument("vertical", help="gaokao, auto or realestate")
    imp.add_argument("--source", action="append", required=True, help="CSV table (repeatable, paired with --mapping)")
    imp.add_argument("--mapping", action="append", required=True, help="YAML column mapping for the --source at the same position")
    imp.add_argument("--out", required=True, help="graph directory (graph.json, import_report.json)")
    imp.add_argument("--kind", help="table kind, overriding the mappings' kind:")
    imp.add_argument("--replace", action="store_true", help="start a new graph even if DIR has one")
    imp.set_defaults(fn=import_command)
    stats = sub.add_parser("stats", help="node and edge counts by kind")
    stats.add_argument("graph", help="graph directory or graph JSON file")
    stats.set_defaults(fn=stats_command)
    val = sub.add_parser("validate", help="check a graph against its vertical's schema (exit 1 on errors)")
    val.add_argument("graph", help="graph directory or graph JSON file")
    val.set_defaults(fn=validate_command)
    check = sub.add_parser("check", help="can this graph train the vertical? run its dataset builders, no training")
    check.add_argument("vertical", help="gaokao, auto or realestate")
    check.add_argument("graph", help="graph directory (the --out of kg import) or graph JSON file")
    check.set_defaults(fn=check_command)
    gen = sub.add_parser("generate", help="write a generated graph (shipped size, or gaokao at full size) to DIR")
    gen.add_argument("vertical", help="gaokao, auto or realestate")
    gen.add_argument("--size", choices=("shipped", "full"), default="shipped",
                     help="shipped: the graph the vertical trains on; full: real-world size (gaokao only)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--out", required=True, help="graph directory (graph.json is written there)")
    gen.set_defaults(fn=generate_command)


def check_command(args) -> int:
    from knowledge_graphs.check import check_command as run_check

    return run_check(args)


def graph_path(path: str | Path) -> Path:
    """``DIR/graph.json`` for a directory, the path itself for a file."""
    path = Path(path)
    return path / GRAPH_FILE if path.is_dir() or not path.suffix else path


def import_command(args) -> int:
    from knowledge_graphs.importers import import_tables, importer
    from knowledge_graphs.importers.common import MappingError, write_report
    from knowledge_graphs.io import load_graph, save_graph

    if len(args.source) != len(args.mapping):
        print(f"vkit kg: error: {len(args.source)} --source but {len(args.mapping)} --mapping; give them in pairs",
              file=sys.stderr)
        return 2
    out = Path(args.out)
    existing = graph_path(out)
    base = load_graph(existing) if existing.is_file() and not args.replace else None
    try:
        graph, reports = import_tables(args.vertical, list(zip(args.source, args.mapping)), args.kind, base)
    except (MappingError, OSError) as error:
        print(f"vkit kg: error: {error}", file=sys.stderr)
        return 2
    save_graph(graph, existing)
    earlier = json.loads((out / REPORT_FILE).read_text(encoding="utf-8")) if base is not None and (out / REPORT_FILE).is_file() else []
    write_report(reports, out / REPORT_FILE)
    if earlier:  # keep the reports of the tables imported into this graph before
        (out / REPORT_FILE).write_text(json.dumps(earlier + [r.to_dict() for r in reports], ensure_ascii=False, indent=2),
                                       encoding="utf-8")
    for report in reports:
        print(report.summary())
    errors, warnings = importer(args.vertical).validate(graph)
    print(f"graph: {existing} ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges); "
          f"{len(errors)} schema errors, {len(warnings)} warnings (vkit kg validate {out})")
    print(f"report: {out / REPORT_FILE}")
    return 0


GENERATORS = {  # (vertical, size) -> "module:function(seed)"
    ("gaokao", "shipped"): "knowledge_graphs.gaokao:build_gaokao_graph",
    ("gaokao", "full"): "knowledge_graphs.gaokao_full:build_full_gaokao_graph",
    ("auto", "shipped"): "knowledge_graphs.auto:build_auto_graph",
    ("realestate", "shipped"): "knowledge_graphs.realestate:build_realestate_graph",
}


def generate_command(args) -> int:
    import importlib
    import time

    from knowledge_graphs.io import save_graph

    target = GENERATORS.get((args.vertical, args.size))
    if target is None:
        sizes = sorted(size for vertical, size in GENERATORS if vertical == args.vertical)
        known = f"sizes {', '.join(sizes)}" if sizes else f"verticals {', '.join(sorted({v for v, _ in GENERATORS}))}"
        print(f"vkit kg: error: no {args.size} generator for {args.vertical!r}; there are {known}", file=sys.stderr)
        return 2
    module, function = target.split(":")
    start = time.perf_counter()
    graph = getattr(importlib.import_module(module), function)(args.seed)
    path = save_graph(graph, graph_path(args.out))
    stats = graph_stats(graph)
    print(f"graph: {path} ({graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges) "
          f"in {time.perf_counter() - start:.1f} s; nodes {stats['nodes']}")
    print(f"use it: VKIT_{args.vertical.upper()}_GRAPH={args.out}")
    return 0


def graph_stats(graph) -> dict:
    """Counts of nodes and edges by ``kind``."""
    nodes = Counter(d.get("kind", "?") for _, d in graph.nodes(data=True))
    edges = Counter(d.get("kind", "?") for *_, d in graph.edges(data=True))
    return {"name": graph.graph.get("name"), "nodes": dict(sorted(nodes.items())), "edges": dict(sorted(edges.items()))}


def stats_command(args) -> int:
    from knowledge_graphs.io import load_graph

    stats = graph_stats(load_graph(graph_path(args.graph)))
    print(f"graph {stats['name']}: {sum(stats['nodes'].values())} nodes, {sum(stats['edges'].values())} edges")
    for title in ("nodes", "edges"):
        for kind, count in stats[title].items():
            print(f"  {title[:-1]:4s} {kind:18s} {count}")
    return 0


def validate_command(args) -> int:
    from knowledge_graphs.importers import importer
    from knowledge_graphs.importers.common import MappingError, limited
    from knowledge_graphs.io import load_graph

    graph = load_graph(graph_path(args.graph))
    try:
        errors, warnings = importer(graph.graph.get("name", "?")).validate(graph)
    except MappingError as error:
        print(f"vkit kg: error: {error}", file=sys.stderr)
        return 2
    for line in limited(errors, what="errors"):
        print(f"error: {line}")
    for line in limited(warnings):
        print(f"warning: {line}")
    print(f"{len(errors)} errors, {len(warnings)} warnings")  # the totals count every line, printed or not
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    """Run ``kg`` on its own (``python -m knowledge_graphs.cli import ...``), without the vkit entry point."""
    parser = argparse.ArgumentParser(prog="vkit")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["kg", *(sys.argv[1:] if argv is None else argv)])
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
