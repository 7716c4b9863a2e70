"""Importers: build a vertical's knowledge graph from real tables (CSV + a YAML column mapping).

One module per vertical (:mod:`~knowledge_graphs.importers.gaokao`, ``auto``, ``realestate``), each
with ``KINDS`` (table kinds and their fields), ``SCHEMA`` (the generator's node/edge schema),
``start(graph=None)`` returning an import whose ``add_table(path, mapping, report)`` reads one table
and whose ``finish()`` returns the graph, and ``validate(graph) -> (errors, warnings)``.

    from knowledge_graphs.importers import import_tables
    graph, reports = import_tables("gaokao", [("admissions.csv", "mappings/gaokao_admissions.yaml")])

``vkit kg import`` (:mod:`knowledge_graphs.cli`) is the command-line front end.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Sequence

import networkx as nx

from knowledge_graphs.importers.common import ImportReport, MappingError, absent_fields, load_mapping

IMPORTERS = {"gaokao": "knowledge_graphs.importers.gaokao", "auto": "knowledge_graphs.importers.auto",
             "realestate": "knowledge_graphs.importers.realestate"}


def importer(vertical: str) -> ModuleType:
    """The importer module of ``vertical``; MappingError for a vertical without one."""
    if vertical not in IMPORTERS:
        raise MappingError(f"no importer for vertical {vertical!r} (importers: {', '.join(IMPORTERS)})")
    return importlib.import_module(IMPORTERS[vertical])


def import_tables(vertical: str, sources: Sequence[tuple[str | Path, str | Path]], kind: str | None = None,
                  graph: nx.Graph | None = None) -> tuple[nx.Graph, list[ImportReport]]:
    """Import ``(table, mapping)`` pairs in order into one graph (added to ``graph`` when given).

    Raises:
        MappingError: a mapping is unreadable, of another vertical, or names a column a table lacks.
    """
    module, reports = importer(vertical), []
    state = module.start(graph)
    for table, mapping_path in sources:
        mapping = load_mapping(mapping_path, kind)
        if mapping.vertical != vertical:
            raise MappingError(f"{mapping_path}: a mapping for {mapping.vertical!r}, not {vertical!r}")
        report = ImportReport(str(table), str(mapping_path), vertical, mapping.kind)
        state.add_table(str(table), mapping, report)
        report.absent = absent_fields(mapping, module.KINDS, getattr(module, "COVERED_BY", {}))
        reports.append(report)
    return state.finish(), reports
