"""Uncertainty for the numbers a run reports: bootstrap intervals of pass rates, and mean ± sd over seeds.

Every pass rate in a report is a mean over a few dozen held-out items, so it carries a 95% percentile
bootstrap interval (resampling the items; a fixed seed keeps reports reproducible). Several seeds of
one run are summarised by their mean and sample standard deviation.

>>> bootstrap_ci([1, 1, 1, 1])
(1.0, 1.0)
>>> low, high = bootstrap_ci([1] * 45 + [0] * 15)
>>> low < 0.75 < high, round(high - low, 2) < 0.25
(True, True)
>>> mean_sd([0.8, 0.9, 1.0])
(0.9, 0.1)
"""

from __future__ import annotations

import math
import random
from typing import Sequence

BOOTSTRAP_SAMPLES = 2000


def bootstrap_ci(values: Sequence[float], level: float = 0.95, samples: int = BOOTSTRAP_SAMPLES,
                 seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``values`` (NaN, NaN when there are none)."""
    values = list(values)
    if not values:
        return math.nan, math.nan
    rng, n = random.Random(seed), len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(samples))
    tail = (1.0 - level) / 2
    return means[int(tail * (samples - 1))], means[int(math.ceil((1.0 - tail) * (samples - 1)))]


def with_ci(name: str, values: Sequence[float]) -> dict[str, float]:
    """``{name: mean, name/ci_low: ..., name/ci_high: ...}`` for a list of per-item values.

    >>> with_ci("all_rules_pass", [1.0, 0.0])["all_rules_pass"]
    0.5
    """
    low, high = bootstrap_ci(values)
    mean = sum(values) / len(values) if values else math.nan
    return {name: mean, f"{name}/ci_low": low, f"{name}/ci_high": high}


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (0.0 for a single value) of ``values``, rounded to 6 places."""
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return round(mean, 6), round(sd, 6)
