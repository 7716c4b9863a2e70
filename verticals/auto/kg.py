"""Cached access to the car-spec graph, the lookup tables the retriever needs, and the held-out series.

The graph is generated (``knowledge_graphs.auto.build_auto_graph``) on first use, or read from a
`vkit kg import` directory named by ``$VKIT_AUTO_GRAPH``, and indexed once per process; everything here
is read-only.

Held-out evaluation is by *series*: the trims of :data:`HELD_OUT_SERIES` (8 of the first 40 series, spread
over bodies, energies and price classes; the dev split) and of the generator's ``TEST_SERIES`` (6 series of
two 超豪华 brands; the test split) appear in no training question, retrieved fact list or gold answer (see
:mod:`verticals.auto.data`). An imported graph names its held-out series with the importer options
``eval_series`` and ``test_series`` (series ``pool`` = ``eval`` / ``test``); one without any ``pool``
falls back to the names, and one without those names to :func:`automatic_split` (by series: one brand's
table works too).

>>> index = auto_index()
>>> len(index.brands), len(index.series), len(index.trims) > 140, len(index.held_out), len(index.test)
(17, 46, True, 8, 6)
>>> index.trims[index.by_name["2024款星驰逐风1.5t舒适型"]]["trim_name"]
'1.5T 舒适型'
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Mapping

GRAPH_SEED = 0
GRAPH_ENV = "VKIT_AUTO_GRAPH"  # a `vkit kg import auto` output directory (or its graph.json) to use instead
HELD_OUT_SERIES = ("凌云", "澄空", "立夏", "长庚", "松涛", "浪花", "黑曜", "晨曦")


@lru_cache(maxsize=1)
def auto_graph():
    """The vertical's graph: an imported one if ``$VKIT_AUTO_GRAPH`` names it, else built from
    ``GRAPH_SEED`` (cached).

    Usage with a real 配置表: ``vkit kg import auto ... --out kg/auto`` then
    ``VKIT_AUTO_GRAPH=kg/auto vkit run auto`` (the run's data fingerprint changes with the graph).
    """
    from verticals.graph_source import graph_from_env

    imported = graph_from_env(GRAPH_ENV, "auto")
    if imported is not None:
        return imported
    from knowledge_graphs.auto import build_auto_graph

    return build_auto_graph(GRAPH_SEED)


@dataclass(frozen=True)
class AutoIndex:
    """Lookup tables over the graph.

    Attributes:
        brands: node id -> attributes.
        series: node id -> attributes (plus ``brand_name``).
        trims: node id -> attributes.
        trims_of: series id -> its trim ids, by (year, price).
        by_name: normalised full name (``2024款星驰逐风1.5t舒适型``) -> trim id.
        aliases: (normalised alias, series id), longest alias first; aliases are the series name and
            brand + series.
        held_out: ids of the held-out series of the dev split (:func:`series_split`).
        test: ids of the series of the test split.
        split_by: how they were chosen: ``pool``, ``names`` or ``automatic``.
    """

    brands: Mapping[str, dict]
    series: Mapping[str, dict]
    trims: Mapping[str, dict]
    trims_of: Mapping[str, tuple[str, ...]]
    by_name: Mapping[str, str]
    aliases: tuple[tuple[str, str], ...]
    held_out: frozenset[str]
    test: frozenset[str] = frozenset()
    split_by: str = "names"

    def latest_trims(self, series_id: str) -> tuple[str, ...]:
        """Trims of the series' newest model year (the ones on sale)."""
        trims = self.trims_of[series_id]
        year = max(self.trims[t]["year"] for t in trims)
        return tuple(t for t in trims if self.trims[t]["year"] == year)

    def is_held_out(self, trim_id: str) -> bool:
        """Whether the trim is of a dev-split series."""
        return self.trims[trim_id]["series"] in self.held_out

    def pool_of(self, trim_id: str) -> str:
        """``train``, ``eval`` (the dev split) or ``test``: the split whose questions may name the trim."""
        series = self.trims[trim_id]["series"]
        return "test" if series in self.test else "eval" if series in self.held_out else "train"


@lru_cache(maxsize=1)
def auto_index() -> AutoIndex:
    """Index :func:`auto_graph` once (cached)."""
    from verticals.auto.vocab import normalize

    g = auto_graph()
    by_kind: dict[str, dict] = defaultdict(dict)
    for node, data in g.nodes(data=True):
        by_kind[data["kind"]][node] = data
    brands = by_kind["brand"]
    series = {sid: {**d, "brand_name": brands[d["brand"]]["name"]} for sid, d in by_kind["series"].items()}
    trims = by_kind["trim"]
    trims_of = defaultdict(list)
    for tid, d in trims.items():
        trims_of[d["series"]].append(tid)
    aliases = [(normalize(s["name"]), sid) for sid, s in series.items()]
    aliases += [(normalize(s["brand_name"] + s["name"]), sid) for sid, s in series.items()]
    dev, test, split_by = series_split(series)
    return AutoIndex(
        brands=brands, series=series, trims=trims,
        trims_of={sid: tuple(sorted(ids, key=lambda t: (trims[t]["year"], trims[t]["price"], t)))
                  for sid, ids in trims_of.items()},
        by_name={normalize(d["full_name"]): tid for tid, d in trims.items()},
        aliases=tuple(sorted(aliases, key=lambda a: (-len(a[0]), a[0]))),
        held_out=dev, test=test, split_by=split_by,
    )


def series_split(series: Mapping[str, dict]) -> tuple[frozenset[str], frozenset[str], str]:
    """(dev series ids, test series ids, how they were chosen) of a graph's series.

    ``pool`` when the graph gives series a pool (an import with ``options.eval_series`` / ``test_series``);
    else ``names`` when series carry the names of :data:`HELD_OUT_SERIES` (dev) and the generator's
    ``TEST_SERIES`` (test); else ``automatic`` (:func:`automatic_split`: an import of one brand's 配置表, say).

    >>> series_split({"series:S1": {"name": "澄空"}, "series:S2": {"name": "逐风"}, "series:S3": {"name": "琉璃"}})
    (frozenset({'series:S1'}), frozenset({'series:S3'}), 'names')
    >>> series_split({"series:S1": {"name": "澄空", "pool": "train"}, "series:S2": {"name": "逐风", "pool": "eval"}})
    (frozenset({'series:S2'}), frozenset(), 'pool')
    """
    from knowledge_graphs.auto import TEST_SERIES

    if any("pool" in s for s in series.values()):
        pools = {pool: frozenset(sid for sid, s in series.items() if s.get("pool") == pool) for pool in ("eval", "test")}
        return pools["eval"], pools["test"], "pool"
    test_names = {spec.name for spec in TEST_SERIES}
    dev = frozenset(sid for sid, s in series.items() if s["name"] in HELD_OUT_SERIES)
    test = frozenset(sid for sid, s in series.items() if s["name"] in test_names)
    if dev or test:
        return dev, test, "names"
    auto = automatic_split(series)
    return auto["eval"], auto["test"], "automatic"


def automatic_split(series: Mapping[str, dict]) -> dict[str, frozenset[str]]:
    """Held-out series for a graph that names none: the last ~15% of the series by id are the test split,
    the ~15% before them the dev split (when a series is left to train on), the rest train.

    >>> ids = {f"series:S{i}": {"name": f"车{i}"} for i in range(1, 8)}
    >>> {k: sorted(v) for k, v in automatic_split(ids).items()}
    {'eval': ['series:S6'], 'test': ['series:S7']}
    >>> {k: sorted(v) for k, v in automatic_split({"series:S1": {}, "series:S2": {}}).items()}
    {'eval': [], 'test': ['series:S2']}
    """
    ids = sorted(series)
    k = max(1, round(0.15 * len(ids)))
    test = ids[-k:] if len(ids) > 1 else []
    dev = ids[-2 * k:-k] if len(ids) > 2 * k else []
    return {"eval": frozenset(dev), "test": frozenset(test)}
