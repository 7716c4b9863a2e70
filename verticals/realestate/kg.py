"""Cached access to the real-estate knowledge graph and the lookup tables the retriever needs.

The graph is generated (``knowledge_graphs.realestate.build_realestate_graph``) on first use and
indexed once per process; everything here is read-only.

>>> index = realestate_index()
>>> len(index.listings), index.cities["苏州"]["pool"], index.school_of("C1", "小学")["code"]
(150, 'eval', 'S4')
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import networkx as nx

from knowledge_graphs.realestate import build_realestate_graph

GRAPH_SEED = 0


@lru_cache(maxsize=1)
def realestate_graph() -> nx.DiGraph:
    """The vertical's graph (built from ``GRAPH_SEED``; cached)."""
    return build_realestate_graph(GRAPH_SEED)


@dataclass(frozen=True)
class RealEstateIndex:
    """Lookup tables over the graph, keyed by short ids (``C1``, ``L1``, ``S1``, ``M1``).

    Attributes:
        cities: city name -> attributes.
        districts: (city, district) -> attributes.
        xiaoqu: 小区 id -> attributes.
        listings: listing id -> attributes, in graph order (L1, L2, ...).
        schools: school id -> attributes.
        stations: station id -> attributes.
        coverage: (小区 id, level) -> school id.
        near: 小区 id -> [(station id, walk minutes)], nearest first.
    """

    cities: Mapping[str, dict]
    districts: Mapping[tuple[str, str], dict]
    xiaoqu: Mapping[str, dict]
    listings: Mapping[str, dict]
    schools: Mapping[str, dict]
    stations: Mapping[str, dict]
    coverage: Mapping[tuple[str, str], str]
    near: Mapping[str, tuple[tuple[str, int], ...]]

    def school_of(self, xiaoqu_id: str, level: str) -> dict:
        return self.schools[self.coverage[(xiaoqu_id, level)]]

    def listings_in(self, city: str) -> list[dict]:
        return [d for d in self.listings.values() if self.xiaoqu[d["xiaoqu"]]["city"] == city]


@lru_cache(maxsize=1)
def realestate_index() -> RealEstateIndex:
    """Index :func:`realestate_graph` once (cached)."""
    g = realestate_graph()
    by_kind: dict[str, dict] = defaultdict(dict)
    for node, data in g.nodes(data=True):
        by_kind[data["kind"]][node] = data
    coverage, near = {}, defaultdict(list)
    for source, target, data in g.edges(data=True):
        if data["kind"] == "covers":
            school = g.nodes[source]
            coverage[(g.nodes[target]["code"], school["level"])] = school["code"]
        elif data["kind"] == "near":
            near[g.nodes[source]["code"]].append((g.nodes[target]["code"], data["walk_minutes"]))
    listings = sorted(by_kind["listing"].values(), key=lambda d: int(d["code"][1:]))
    return RealEstateIndex(
        cities={d["name"]: d for d in by_kind["city"].values()},
        districts={(d["city"], d["name"]): d for d in by_kind["district"].values()},
        xiaoqu={d["code"]: d for d in by_kind["xiaoqu"].values()},
        listings={d["code"]: d for d in listings},
        schools={d["code"]: d for d in by_kind["school"].values()},
        stations={d["code"]: d for d in by_kind["station"].values()},
        coverage=coverage,
        near={x: tuple(sorted(pairs, key=lambda p: (p[1], p[0]))) for x, pairs in near.items()},
    )
