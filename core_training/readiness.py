"""Can a vertical train on the data it has? Run its dataset builders, count what each makes, and name the
first problem in one line, in seconds and before any model is loaded.

``vkit kg check V GRAPH`` prints :func:`builder_lines` for an imported graph; a run calls
:func:`require_ready` first so that a graph the vertical cannot use stops it with that one line instead
of a traceback minutes later. The module reads only the :class:`~core_training.contract.Vertical`
contract: it knows nothing of graphs or tables.

>>> from core_training.contract import DataError
>>> def chains(): return [{"id": 1}, {"id": 2}]
>>> def empty(): return []
>>> def broken(): raise DataError("auto: no trim has a price\\n(more detail)")
>>> results = [run_builder("sft", chains), run_builder("rl", empty), run_builder("preferences", broken),
...            run_builder("dev", empty)]
>>> [(r.name, r.count, r.error) for r in results]
[('sft', 2, None), ('rl', 0, 'made no examples'), ('preferences', None, 'auto: no trim has a price'), ('dev', 0, None)]
>>> first_problem("auto", results)
'auto cannot train on this data: rl (load_rl_prompts) made no examples'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

from core_training.contract import DataError, Vertical

# name shown -> the Vertical loader field; the first five every vertical has, the last two are optional
BUILDERS = (("sft", "load_chains"), ("rl", "load_rl_prompts"), ("preferences", "load_preferences"),
            ("eval", "load_eval_set"), ("cpt", "load_cpt_corpus"), ("dev", "load_dev_set"),
            ("paraphrase", "load_paraphrase_set"))
LOADER_OF = dict(BUILDERS)
OPTIONAL = frozenset({"dev", "paraphrase"})  # an empty one is measured as nothing, it does not stop training


@dataclass(frozen=True)
class BuilderResult:
    """What one dataset builder made: ``count`` examples (None when it failed), or the ``error`` line."""

    name: str
    count: int | None
    error: str | None
    seconds: float

    @property
    def ok(self) -> bool:
        return self.error is None


def _size(data: Any) -> int:
    """Examples in a dataset; a CPT corpus ``{"train": [...], "eval": [...]}`` counts its training texts."""
    if isinstance(data, dict):
        return len(data.get("train", ()))
    return len(data)


def run_builder(name: str, loader: Callable[[], Any]) -> BuilderResult:
    """Call one builder; any exception becomes the first line of its message (DataError) or its type and message."""
    start = time.perf_counter()
    try:
        count = _size(loader())
    except DataError as error:
        return BuilderResult(name, None, str(error).strip().splitlines()[0], time.perf_counter() - start)
    except Exception as error:  # noqa: BLE001 - a builder crashing on data is exactly what this reports
        line = (str(error).strip().splitlines() or [""])[0]
        return BuilderResult(name, None, f"{type(error).__name__}: {line} (the builder crashed on this data)",
                             time.perf_counter() - start)
    empty = None if count or name in OPTIONAL else "made no examples"
    return BuilderResult(name, count, empty, time.perf_counter() - start)


def run_builders(vertical: Vertical) -> list[BuilderResult]:
    """Every dataset builder the vertical has, in training order (optional ones it lacks are skipped)."""
    return [run_builder(name, getattr(vertical, field)) for name, field in BUILDERS
            if getattr(vertical, field, None) is not None]


def first_problem(vertical_name: str, results: list[BuilderResult]) -> str | None:
    """The one line saying why the vertical cannot train, or None when every builder made examples."""
    bad = next((r for r in results if not r.ok and r.name not in OPTIONAL), None)  # a failed dev/paraphrase set
    # is only left unmeasured (core_training.pipeline.eval_sets)
    if bad is None:
        return None
    return f"{vertical_name} cannot train on this data: {bad.name} ({LOADER_OF[bad.name]}) {bad.error}"


def builder_lines(results: list[BuilderResult]) -> list[str]:
    """One printable line per builder: its count and time, or its error (a repeated one by reference).

    >>> print("\\n".join(builder_lines([BuilderResult("sft", None, "no trims", 0.1),
    ...                                 BuilderResult("rl", None, "no trims", 0.0), BuilderResult("cpt", 9, None, 0.2)])))
      sft              -           no trims
      rl               -           (as sft)
      cpt              9 examples  (0.2 s)
    """
    lines, first_with = [], {}
    for r in results:
        if r.ok:
            lines.append(f"  {r.name:11s} {r.count:6d} examples  ({r.seconds:.1f} s)")
        else:
            shown = f"(as {first_with[r.error]})" if r.error in first_with else r.error
            first_with.setdefault(r.error, r.name)
            lines.append(f"  {r.name:11s} {'-':>6s}           {shown}")
    return lines


def require_ready(vertical: Vertical) -> list[BuilderResult]:
    """Run the builders (they cache, so the run reuses their datasets); DataError with the one line if any fails."""
    results = run_builders(vertical)
    problem = first_problem(vertical.name, results)
    if problem:
        raise DataError(problem)
    return results
