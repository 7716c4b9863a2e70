"""Cached access to the gaokao knowledge graph and the lookup tables the retriever needs.

The graph is generated (``knowledge_graphs.gaokao.build_gaokao_graph``) on first use, or read from a
`vkit kg import` directory named by ``$VKIT_GAOKAO_GRAPH``, and indexed once per process; everything
here is read-only.

Exam years come from the graph (:func:`exam_years_of`): a student of year Y needs Y's 一分一段 table
and the admissions of Y-3..Y-1, so the exam years are the years with a table whose three preceding
years hold the most admission years (all three in the generated graph: 2024 and 2025). A graph with no
such table (admissions that carry 最低位次, for students who state their 位次) takes the years after its
admission years instead.

>>> index = gaokao_index()
>>> index.provinces["广东"]["mode"], sorted(index.pools["eval"]), index.exam_years
('3+1+2', ['湖北'], (2024, 2025))
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

import networkx as nx

from knowledge_graphs.gaokao import build_gaokao_graph
from verticals.graph_source import graph_from_env

GRAPH_SEED = 0
GRAPH_ENV = "VKIT_GAOKAO_GRAPH"  # a `vkit kg import` output directory (or its graph.json) to use instead
HISTORY_YEARS = 3  # a student of year Y is advised from the admissions of Y-3..Y-1


@lru_cache(maxsize=1)
def gaokao_graph() -> nx.MultiDiGraph:
    """The vertical's graph: an imported one if ``$VKIT_GAOKAO_GRAPH`` names it, else generated (cached).

    Usage with real tables: ``vkit kg import gaokao ... --out kg/gaokao`` then
    ``VKIT_GAOKAO_GRAPH=kg/gaokao vkit run gaokao`` (the run's data fingerprint changes with the graph).
    """
    imported = graph_from_env(GRAPH_ENV, "gaokao")
    return imported if imported is not None else build_gaokao_graph(GRAPH_SEED)


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
        exam_years: the years a student may sit the exam in, from the graph (:func:`exam_years_of`).
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
    exam_years: tuple[int, ...] = ()

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
    tables = {(d["province"], d["year"], d["track"]): d for d in by_kind["score_table"].values()}
    return GaokaoIndex(
        provinces={d["name"]: d for d in by_kind["province"].values()},
        pools={pool: tuple(names) for pool, names in pools.items()},
        tables=tables,
        batch_lines={(d["province"], d["year"], d["track"], d["batch"]): d["score"]
                     for d in by_kind["batch_line"].values()},
        universities=by_kind["university"],
        groups=by_kind["major_group"],
        offers={key: tuple(sorted(ids)) for key, ids in offers.items()},
        records=records,
        cities=tuple(sorted({d["city"] for d in by_kind["university"].values()}, key=lambda c: (-len(c), c))),
        exam_years=exam_years_of({year for _, year, _ in tables}, {key[3] for key in records})
        or exam_years_of({key[3] + 1 for key in records}, {key[3] for key in records}),
    )


def exam_years_of(table_years: set[int], admission_years: set[int]) -> tuple[int, ...]:
    """Years Y with a 一分一段 table whose preceding ``HISTORY_YEARS`` hold the most admission years.

    A complete graph gives the years with all three (a gap-free history); an imported graph with gaps
    gives its best-covered years, and the retriever says which years a candidate lacks.

    >>> exam_years_of({2021, 2022, 2023, 2024, 2025}, {2021, 2022, 2023, 2024, 2025})
    (2024, 2025)
    >>> exam_years_of({2024, 2025}, {2022, 2024}), exam_years_of({2025}, set())
    ((2025,), ())
    """
    covered = {year: len(admission_years & set(range(year - HISTORY_YEARS, year))) for year in table_years}
    best = max(covered.values(), default=0)
    return tuple(sorted(year for year, count in covered.items() if count == best and count > 0))


@dataclass(frozen=True)
class Histories:
    """The admission histories of the groups recruiting in one province and 科类, for one exam year.

    Attributes:
        avg_ranks: each group's mean minimum rank over the years it has, ascending (for bisect).
        groups: (mean rank, group id, ranks of the years it has, years it lacks), in the order of
            ``avg_ranks`` (ties by group id).
        without_history: how many recruiting groups have none of the years.
    """

    avg_ranks: tuple[int, ...]
    groups: tuple[tuple[int, str, tuple[int, ...], tuple[int, ...]], ...]
    without_history: int

    def between(self, low: float, high: float) -> tuple[tuple[int, str, tuple[int, ...], tuple[int, ...]], ...]:
        """The groups whose mean rank is in [low, high]: a bisect, not a scan of every group.

        >>> h = Histories((100, 200, 300), ((100, "a", (100,), ()), (200, "b", (200,), ()), (300, "c", (300,), ())), 0)
        >>> [g[1] for g in h.between(150, 300)]
        ['b', 'c']
        """
        return self.groups[bisect.bisect_left(self.avg_ranks, low):bisect.bisect_right(self.avg_ranks, high)]


_HISTORIES: dict[str, tuple] = {}  # "tables" -> (the index they were read from, {(province, track, year): Histories})


def histories(province: str, track: str, exam_year: int) -> Histories:
    """:class:`Histories` over the ``HISTORY_YEARS`` before ``exam_year``; built once per graph index and key,
    so a lookup on a full-size graph reads the few groups near a rank instead of every group."""
    index = gaokao_index()
    cached = _HISTORIES.get("tables")
    if cached is None or cached[0] is not index:  # a new graph gets new tables
        cached = _HISTORIES["tables"] = (index, {})
    key = (province, track, exam_year)
    if key not in cached[1]:
        cached[1][key] = _build_histories(index, *key)
    return cached[1][key]


def _build_histories(index: GaokaoIndex, province: str, track: str, exam_year: int) -> Histories:
    rows, without = [], 0
    for group_id in index.offers.get((province, track), ()):
        ranks, missing = [], []
        for year in range(exam_year - HISTORY_YEARS, exam_year):
            record = index.records.get((group_id, province, track, year))
            if record is None:
                missing.append(year)
            else:
                ranks.append(record["min_rank"])
        if not ranks:
            without += 1
            continue
        rows.append((round(sum(ranks) / len(ranks)), group_id, tuple(ranks), tuple(missing)))
    rows.sort()
    return Histories(tuple(r[0] for r in rows), tuple(rows), without)


@lru_cache(maxsize=1)
def university_names() -> frozenset[str]:
    """Names of every university in the graph."""
    return frozenset(d["name"] for d in gaokao_index().universities.values())
