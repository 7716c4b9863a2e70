"""Cached access to the gaokao knowledge graph and the lookup tables the retriever needs.

The graph is generated (``knowledge_graphs.gaokao.build_gaokao_graph``) on first use and indexed once
per process; everything here is read-only.

>>> index = gaokao_index()
>>> index.provinces["广东"]["mode"], sorted(index.pools["eval"])
('3+1+2', ['湖北'])
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

import networkx as nx

from knowledge_graphs.gaokao import build_gaokao_graph

GRAPH_SEED = 0
GRAPH_ENV = "VKIT_GAOKAO_GRAPH"  # a `vkit kg import` output directory (or its graph.json) to use instead


@lru_cache(maxsize=1)
def gaokao_graph() -> nx.MultiDiGraph:
    """The vertical's graph: an imported one if ``$VKIT_GAOKAO_GRAPH`` names it, else generated (cached).

    Usage with real tables: ``vkit kg import gaokao ... --out kg/gaokao`` then
    ``VKIT_GAOKAO_GRAPH=kg/gaokao vkit run gaokao`` (the run's data fingerprint changes with the graph).
    """
    path = os.environ.get(GRAPH_ENV)
    if path:
        from knowledge_graphs.io import load_graph

        source = Path(path)
        return load_graph(source / "graph.json" if source.is_dir() else source)
    return build_gaokao_graph(GRAPH_SEED)


@dataclass(frozen=True)
class GaokaoIndex:
    """Lookup tables over the graph.

    Attributes:
        provinces: province name -> node attributes.
        pools: pool name -> province names.
        tables: (province, year, track) -> score_table attributes.
        batch_lines: (province, year, track, batch) -> control-line score.
        universities: node id -> attributes.
        groups: node id -> attributes.
        offers: (province, track) -> ids of the major groups recruiting there, sorted.
        records: (group id, province, track, year) -> admission edge attributes.
        cities: every city with a university, longest name first.
    """

    provinces: Mapping[str, dict]
    pools: Mapping[str, tuple[str, ...]]
    tables: Mapping[tuple, dict]
    batch_lines: Mapping[tuple, int]
    universities: Mapping[str, dict]
    groups: Mapping[str, dict]
    offers: Mapping[tuple, tuple[str, ...]]
    records: Mapping[tuple, dict]
    cities: tuple[str, ...]

    def university_of(self, group_id: str) -> dict:
        return self.universities[self.groups[group_id]["university"]]


@lru_cache(maxsize=1)
def gaokao_index() -> GaokaoIndex:
    """Index :func:`gaokao_graph` once (cached)."""
    g = gaokao_graph()
    by_kind = defaultdict(dict)
    for node, data in g.nodes(data=True):
        by_kind[data["kind"]][node] = data
    offers, records = defaultdict(set), {}
    for group_id, province_id, data in g.edges(data=True):
        if data["kind"] == "admission":
            province = g.nodes[province_id]["name"]
            offers[(province, data["track"])].add(group_id)
            records[(group_id, province, data["track"], data["year"])] = data
    pools = defaultdict(list)
    for data in by_kind["province"].values():
        pools[data["pool"]].append(data["name"])
    return GaokaoIndex(
        provinces={d["name"]: d for d in by_kind["province"].values()},
        pools={pool: tuple(names) for pool, names in pools.items()},
        tables={(d["province"], d["year"], d["track"]): d for d in by_kind["score_table"].values()},
        batch_lines={(d["province"], d["year"], d["track"], d["batch"]): d["score"]
                     for d in by_kind["batch_line"].values()},
        universities=by_kind["university"],
        groups=by_kind["major_group"],
        offers={key: tuple(sorted(ids)) for key, ids in offers.items()},
        records=records,
        cities=tuple(sorted({d["city"] for d in by_kind["university"].values()}, key=lambda c: (-len(c), c))),
    )


@lru_cache(maxsize=1)
def university_names() -> frozenset[str]:
    """Names of every university in the graph."""
    return frozenset(d["name"] for d in gaokao_index().universities.values())
