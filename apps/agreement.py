"""Inter-annotator agreement: Cohen's kappa on pairwise preferences, Krippendorff's alpha on rubric scores.

Pure Python, no numpy. With ``k`` annotators per item, :func:`pairwise_kappa` computes Cohen's kappa
for every pair of annotators over the items both labelled and averages the pairs (Light's kappa).
:func:`krippendorff_alpha` handles any number of coders per unit and missing values.

>>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 3)
0.5
>>> round(krippendorff_alpha([[1, 2], [3, 3]]), 4)  # 1 - (2/4) / (22/12) = 8/11
0.7273
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Mapping, Sequence


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float:
    """``(p_o - p_e) / (1 - p_e)`` for two raters' labels of the same items, in the same order.

    ``p_o`` is the observed agreement, ``p_e`` the agreement expected from each rater's label
    frequencies. NaN when ``p_e == 1`` (both raters gave one and the same label to everything).

    >>> cohen_kappa("ab", "ab"), cohen_kappa("ab", "ba")
    (1.0, -1.0)
    """
    if len(first) != len(second) or not first:
        raise ValueError(f"need two equally long, non-empty label lists; got {len(first)} and {len(second)}")
    n = len(first)
    observed = sum(x == y for x, y in zip(first, second)) / n
    count_1, count_2 = Counter(first), Counter(second)
    expected = sum(count_1[c] * count_2[c] for c in count_1) / n**2
    if expected == 1.0:
        return math.nan
    return (observed - expected) / (1.0 - expected)


@dataclass(frozen=True)
class PairwiseKappa:
    """Light's kappa: ``mean`` over annotator pairs whose kappa is defined; ``pairs[(x, y)] = (kappa, n_shared)``."""

    mean: float
    pairs: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)


def pairwise_kappa(labels: Mapping[Hashable, Mapping[str, Hashable]], min_shared: int = 2) -> PairwiseKappa:
    """Cohen's kappa for each pair of annotators over the items both labelled, and their mean.

    Args:
        labels: item -> annotator -> label (e.g. ``"a"``, ``"b"``, ``"tie"``).
        min_shared: pairs sharing fewer items are left out (a kappa over one item says nothing).

    >>> pairwise_kappa({1: {"x": "a", "y": "a"}, 2: {"x": "b", "y": "b"}}).mean
    1.0
    """
    annotators = sorted({name for by_annotator in labels.values() for name in by_annotator})
    pairs = {}
    for x, y in itertools.combinations(annotators, 2):
        shared = [item for item, by in labels.items() if x in by and y in by]
        if len(shared) >= min_shared:
            pairs[(x, y)] = (cohen_kappa([labels[i][x] for i in shared], [labels[i][y] for i in shared]), len(shared))
    defined = [kappa for kappa, _ in pairs.values() if not math.isnan(kappa)]
    return PairwiseKappa(sum(defined) / len(defined) if defined else math.nan, pairs)


def _interval(x: float, y: float) -> float:
    return (x - y) ** 2


def _nominal(x: Any, y: Any) -> float:
    return 0.0 if x == y else 1.0


METRICS = {"interval": _interval, "nominal": _nominal}


def krippendorff_alpha(units: Iterable[Iterable[Any]], metric: str = "interval") -> float:
    """Krippendorff's alpha, ``1 - D_o / D_e``, over units that each hold the coders' values.

    ``None`` marks a missing value; units with fewer than two values are not pairable and are
    dropped. With ``n`` pairable values in all and ``m_u`` in unit ``u``::

        D_o = 1/n * sum_u 1/(m_u - 1) * sum_{i != j in u} delta(v_i, v_j)
        D_e = 1/(n (n - 1)) * sum_{i != j over all n} delta(v_i, v_j)

    ``delta`` is ``(x - y)**2`` (interval) or ``x != y`` (nominal). NaN when there is no variation
    at all (``D_e == 0``).

    >>> krippendorff_alpha([[1, 1], [2, 2, None]])
    1.0
    """
    delta = METRICS[metric]
    pairable = [vals for vals in ([v for v in unit if v is not None] for unit in units) if len(vals) >= 2]
    n = sum(len(vals) for vals in pairable)
    if n < 2:
        return math.nan
    observed = sum(
        sum(delta(x, y) for x, y in itertools.permutations(vals, 2)) / (len(vals) - 1) for vals in pairable
    ) / n
    counts = Counter(v for vals in pairable for v in vals)
    expected = sum(counts[x] * counts[y] * delta(x, y) for x in counts for y in counts) / (n * (n - 1))
    if expected == 0:
        return math.nan
    return 1.0 - observed / expected


def agreement_report(labelled_tasks: Iterable[Any], dimensions: Sequence[str] | None = None) -> dict[str, Any]:
    """Agreement over a store's :class:`~apps.store.LabelledTask` records.

    Returns ``{"items", "kappa", "kappa_pairs", "alpha": {dimension: alpha}}``: ``items`` counts the
    tasks with at least two annotations; ``kappa`` is :func:`pairwise_kappa`'s mean over
    preferences; ``alpha`` is the interval alpha per rubric dimension, each answer of each pair being
    one unit (all dimensions seen, unless ``dimensions`` is given).
    """
    multi = [lt for lt in labelled_tasks if len(lt.annotations) >= 2]
    prefs = {lt.task.id: {a.annotator: a.preference for a in lt.annotations} for lt in multi}
    kappa = pairwise_kappa(prefs)
    seen = {d for lt in multi for a in lt.annotations for scores in a.rubric.values() for d in scores}
    dims = list(dimensions) if dimensions is not None else sorted(seen)
    units = [(lt, side) for lt in multi for side in ("a", "b")]  # each answer of each pair is one unit
    alpha = {d: krippendorff_alpha([a.rubric.get(side, {}).get(d) for a in lt.annotations] for lt, side in units)
             for d in dims}
    return {"items": len(multi), "kappa": kappa.mean, "kappa_pairs": len(kappa.pairs), "alpha": alpha}
