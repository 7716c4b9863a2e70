"""Find verticals by name: the in-repo map plus the ``vkit.verticals`` entry-point group.

The core never imports a vertical statically. In-repo verticals are ``"module:attr"`` strings,
imported only when asked for; outside packages register the same way through an entry point::

    [project.entry-points."vkit.verticals"]
    legal = "vkit_legal:VERTICAL"

An entry point may not reuse the name of an in-repo vertical or of another entry point: the clash is
an error rather than a silent override, for that name only (``get_vertical`` of it raises
:class:`RegistryError` naming every claimant; the other verticals still load, and ``vkit verticals``
lists the clash as broken). ``get_vertical`` also takes a ``"module:attr"`` target.

>>> "gaokao" in IN_REPO
True
>>> get_vertical("gakao")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
core_training.registry.UnknownVerticalError: unknown vertical 'gakao' (did you mean 'gaokao'?)...
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import importlib.util
import sys
import traceback
from dataclasses import dataclass
from typing import Any

from core_training.contract import Vertical

ENTRY_POINT_GROUP = "vkit.verticals"

IN_REPO: dict[str, str] = {
    "gaokao": "verticals.gaokao:VERTICAL",
    "auto": "verticals.auto:VERTICAL",
    "realestate": "verticals.realestate:VERTICAL",
}


class RegistryError(RuntimeError):
    """Two registrations claim one name."""


class UnknownVerticalError(KeyError):
    """No vertical by that name; the message lists close names and what is available."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class VerticalInfo:
    """Where a vertical comes from: ``source`` is ``"in-repo"`` or ``"entry point <dist>"``."""

    name: str
    source: str
    target: str


def _module_exists(target: str) -> bool:
    module = target.partition(":")[0]
    if module in sys.modules:
        return True
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a missing parent package raises instead of returning None
        return False


def _entry_point_infos() -> list[VerticalInfo]:
    infos = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep.dist, "name", None) or "unknown distribution"
        infos.append(VerticalInfo(ep.name, f"entry point {dist}", ep.value))
    return infos


def _claims() -> dict[str, list[VerticalInfo]]:
    """Every registration by name, in-repo first; an in-repo one whose module is absent claims nothing,
    and the same target registered twice counts once."""
    claims = {name: [VerticalInfo(name, "in-repo", target)] for name, target in IN_REPO.items()
              if _module_exists(target)}
    for info in _entry_point_infos():
        known = claims.setdefault(info.name, [])
        if all(k.target != info.target for k in known):
            known.append(info)
    return claims


def clash_message(claims: list[VerticalInfo]) -> str | None:
    """Why a name with several claimants cannot be loaded, or None for a single claim.

    >>> clash_message([VerticalInfo("legal", "entry point a", "a:V"), VerticalInfo("legal", "entry point b", "b:V")])
    "vertical name 'legal' is claimed twice: entry point a (a:V) and entry point b (b:V); rename one of them"
    """
    if len(claims) < 2:
        return None
    named = [f"{c.source} ({c.target})" for c in claims]
    times = "twice" if len(claims) == 2 else f"{len(claims)} times"
    rename = "one of them" if len(claims) == 2 else "all but one"
    listing = f"{', '.join(named[:-1])} and {named[-1]}"
    return f"vertical name {claims[0].name!r} is claimed {times}: {listing}; rename {rename}"


def list_verticals() -> list[VerticalInfo]:
    """All available verticals, sorted by name (a clashing name once, as its first claimant)."""
    return sorted((known[0] for known in _claims().values()), key=lambda i: i.name)


@dataclass(frozen=True)
class LoadResult:
    """One registration tried: the :class:`Vertical`, or why it could not be loaded."""

    info: VerticalInfo
    vertical: Vertical | None
    error: BaseException | None = None

    @property
    def error_line(self) -> str:
        """``ExceptionType: first line of the message`` plus where it was raised, e.g.
        ``ModuleNotFoundError: No module named 'numpyy' (raised at vkit_k12/__init__.py:3)``."""
        if self.error is None:
            return ""
        message = (str(self.error).strip().splitlines() or [""])[0]
        line = f"{type(self.error).__name__}: {message}" if message else type(self.error).__name__
        frames = traceback.extract_tb(self.error.__traceback__)
        outside = [f for f in frames if "importlib" not in f.filename and not f.filename.startswith("<frozen")
                   and f.filename != __file__]
        if outside:
            where = outside[-1]
            line += f" (raised at {where.filename}:{where.lineno})"
        return line


def load_verticals() -> list[LoadResult]:
    """Try to load every registered vertical (sorted by name), keeping the failures.

    One broken registration (a third-party entry point whose module fails to import, a target that
    is not a Vertical, a name two packages claim...) does not hide the others: its
    :class:`LoadResult` carries the exception.
    """
    results = []
    for info in list_verticals():
        try:
            results.append(LoadResult(info, get_vertical(info.name)))
        except Exception as error:  # noqa: BLE001 - any failure of foreign code is reported, not raised
            results.append(LoadResult(info, None, error))
    return results


def load_target(target: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the attribute.

    >>> load_target("core_training.contract:Vertical").__name__
    'Vertical'
    """
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"target {target!r} is not of the form 'module:attr'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AttributeError(f"target {target!r}: {obj!r} has no attribute {part!r}")
        obj = getattr(obj, part)
    return obj


def _resolve(name: str) -> VerticalInfo:
    if ":" in name:
        return VerticalInfo(name.partition(":")[2], "target", name)
    claims = _claims()
    if name in claims:
        clash = clash_message(claims[name])
        if clash:
            raise RegistryError(clash)
        return claims[name][0]
    if name in IN_REPO:
        module = IN_REPO[name].partition(":")[0]
        raise UnknownVerticalError(f"in-repo vertical {name!r} is not present: no module {module!r}")
    available = sorted(claims)
    close = difflib.get_close_matches(name, list(dict.fromkeys([*available, *IN_REPO])), n=3, cutoff=0.5)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    listed = ", ".join(available) or "none"
    raise UnknownVerticalError(f"unknown vertical {name!r}{hint}; available: {listed}")


def get_vertical(name: str) -> Vertical:
    """The :class:`Vertical` registered as ``name`` (or at a ``"module:attr"`` target).

    Raises:
        UnknownVerticalError: (a KeyError) no such vertical; the message suggests close names.
        RegistryError: ``name`` is claimed by more than one registration.
        TypeError: the target is not a ``Vertical`` instance.
        ValueError: the vertical's own ``name`` differs from the name it is registered under.
    """
    info = _resolve(name)
    obj = load_target(info.target)
    if not isinstance(obj, Vertical):
        raise TypeError(f"{info.target} ({info.source}) is a {type(obj).__name__}, not a Vertical")
    if info.source != "target" and obj.name != name:
        raise ValueError(f"{info.target} is registered as {name!r} but its Vertical.name is {obj.name!r}")
    return obj
