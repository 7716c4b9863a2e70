"""Cached access to the real-estate knowledge graph and the lookup tables the retriever needs.

The graph is generated (``knowledge_graphs.realestate.build_realestate_graph``) on first use, or read
from a `vkit kg import` directory named by ``$VKIT_REALESTATE_GRAPH``, and indexed once per process;
everything here is read-only.

Splits follow the cities' pools (:func:`pool_cities`): the generated graph trains on 杭州 and holds
苏州 (dev) and 南京 (test) out. A listing is usable only when its 小区 has a 小学, an 初中 and a metro station (with a line)
within reach; an imported graph may lack some, and those listings are left out of ``listings`` with
the reason in ``left_out`` (the generated graph leaves none out).

>>> index = realestate_index()
>>> len(index.listings), index.cities["苏州"]["pool"], index.school_of("C1", "小学")["code"]
(200, 'eval', 'S42')
>>> pool_cities("train"), pool_cities("eval"), pool_cities("test"), default_city(), index.left_out
(('杭州',), ('苏州',), ('南京',), '杭州', {})
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Mapping

import networkx as nx

from core_training.contract import DataError
from knowledge_graphs.codes import LISTING_CODE_RULE, is_listing_code, listing_code_key
from knowledge_graphs.realestate import ACTIVITIES, build_realestate_graph
from verticals.graph_source import graph_from_env

GRAPH_SEED = 0
GRAPH_ENV = "VKIT_REALESTATE_GRAPH"  # a `vkit kg import realestate` output directory (or its graph.json)
LEVELS = ("小学", "初中")


@lru_cache(maxsize=1)
def realestate_graph() -> nx.DiGraph:
    """The vertical's graph: an imported one if ``$VKIT_REALESTATE_GRAPH`` names it, else built from
    ``GRAPH_SEED`` (cached).

    Usage with real tables: ``vkit kg import realestate ... --out kg/realestate`` then
    ``VKIT_REALESTATE_GRAPH=kg/realestate vkit run realestate`` (the data fingerprint changes with the graph).
    """
    imported = graph_from_env(GRAPH_ENV, "realestate")
    return imported if imported is not None else build_realestate_graph(GRAPH_SEED)


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
        near: 小区 id -> [(station id, walk minutes)], nearest first (stations with a line only).
        left_out: 小区 id -> why its listings are not in ``listings`` (no 小学 / 初中 / station in reach).
    """

    cities: Mapping[str, dict]
    districts: Mapping[tuple[str, str], dict]
    xiaoqu: Mapping[str, dict]
    listings: Mapping[str, dict]
    schools: Mapping[str, dict]
    stations: Mapping[str, dict]
    coverage: Mapping[tuple[str, str], str]
    near: Mapping[str, tuple[tuple[str, int], ...]]
    left_out: Mapping[str, str] = field(default_factory=dict)

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
        elif data["kind"] == "near" and g.nodes[target]["lines"]:
            near[g.nodes[source]["code"]].append((g.nodes[target]["code"], data["walk_minutes"]))
    bad = sorted(str(d["code"]) for d in by_kind["listing"].values() if not is_listing_code(d["code"]))
    if bad:
        raise DataError(f"realestate: a listing code must be {LISTING_CODE_RULE}: {bad[:5]}; leave the code "
                        "column out of the listings mapping to have them assigned")
    left_out = {}
    for x in by_kind["xiaoqu"].values():
        lacks = [f"no {level}" for level in LEVELS if (x["code"], level) not in coverage]
        lacks += [] if near.get(x["code"]) else ["no metro station (with a line) in reach"]
        if lacks:
            left_out[x["code"]] = f"{x['name']}: {', '.join(lacks)}"
    listings = sorted((d for d in by_kind["listing"].values() if d["xiaoqu"] not in left_out),
                      key=lambda d: listing_code_key(d["code"]))
    return RealEstateIndex(
        cities={d["name"]: d for d in by_kind["city"].values()},
        districts={(d["city"], d["name"]): d for d in by_kind["district"].values()},
        xiaoqu={d["code"]: d for d in by_kind["xiaoqu"].values()},
        listings={d["code"]: d for d in listings},
        schools={d["code"]: d for d in by_kind["school"].values()},
        stations={d["code"]: d for d in by_kind["station"].values()},
        coverage=coverage,
        near={x: tuple(sorted(pairs, key=lambda p: (p[1], p[0]))) for x, pairs in near.items()},
        left_out=left_out,
    )


def pool_cities(pool: str) -> tuple[str, ...]:
    """Cities of the ``train``, ``eval`` (dev) or ``test`` pool, in graph order."""
    return tuple(name for name, city in realestate_index().cities.items() if city.get("pool") == pool)


def default_city() -> str:
    """The city assumed when a buyer names none: the first train-pool city (杭州 in the generated graph)."""
    cities = pool_cities("train") or tuple(realestate_index().cities)
    if not cities:
        raise DataError("realestate: the graph has no city")
    return cities[0]


@lru_cache(maxsize=1)
def activities() -> tuple[str, ...]:
    """素质 activities the parser knows: the generator's, then any other a school of the graph offers."""
    offered = {a for school in realestate_index().schools.values() for a in school["activities"]}
    return ACTIVITIES + tuple(sorted(offered - set(ACTIVITIES)))
