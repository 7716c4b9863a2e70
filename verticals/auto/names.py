"""Car names as people type them, matched to the graph's series, and the models the graph does not hold.

A portal's table names a series ``东风日产-轩逸``, ``轩逸·经典`` or ``秦PLUS DM-i``; a buyer types ``轩逸``,
``sylphy``, ``秦plus`` or ``modly`` (a typo). Beyond the exact names (:mod:`verticals.auto.query`), a
series is found by

- its *core names*: each part of the name split at ``-``/``·``/brackets, the name without its brand, and
  without a powertrain suffix (``DM-i``, ``EV``, ``新能源``...);
- the aliases of :data:`ALIASES_FILE` (``轩逸 = sylphy, 日产轩逸``) whose model is one of its core names;
- one typo: a window of the text within Levenshtein distance 1 (rapidfuzz) of a name of 4+ characters.

A model of the alias file named in a question but held by no series is *not covered*: the retriever says
so instead of answering about another car.

>>> core_names("东风日产-轩逸", "日产"), core_names("秦PLUS DM-i", "比亚迪"), core_names("轩逸·经典", "日产")
(['东风日产', '轩逸'], ['秦plus'], ['轩逸'])
>>> match_spans("轩逸和modly哪个好", {"轩逸": "s1", "modely": "s2"}, [False] * 11)
[(0, 2, 's1'), (3, 8, 's2')]
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from verticals.auto.vocab import normalize

ALIASES_FILE = Path(__file__).with_name("model_aliases.txt")
POWERTRAIN_SUFFIX = re.compile(r"(?:dm-?i|dm-?p|phev|ev|新能源|混动|插混|双擎|纯电|荣耀版)$")
SEPARATORS = re.compile(r"[-·・/（）()\[\]]")
GENERIC_PARTS = {"经典", "进口", "新款", "改款", "国产", "海外", "经典款", "运动版", "新能源", "混动", "纯电"}
TYPO_MIN_LENGTH = 4  # shorter names differ by one character from too many words


@lru_cache(maxsize=1)
def alias_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """Normalised model name -> (the name as written, its normalised aliases), from :data:`ALIASES_FILE`."""
    table = {}
    for line in ALIASES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            model, _, aliases = line.partition("=")
            table[normalize(model)] = (model.strip(), tuple(normalize(a) for a in aliases.split(",") if a.strip()))
    return table


def core_names(name: str, brand: str) -> list[str]:
    """The shorter names a series is known by (normalised, 2+ characters, without the full name)."""
    full, brand = normalize(name), normalize(brand)
    bare = POWERTRAIN_SUFFIX.sub("", full)
    names = [bare, *(part for part in SEPARATORS.split(bare) if part)]
    names += [n[len(brand):] for n in names if n.startswith(brand) and len(n) > len(brand) + 1]
    return [n for n in dict.fromkeys(names) if len(n) >= 2 and n != full and n not in GENERIC_PARTS]


def series_keys(series: dict) -> dict[str, str]:
    """Every extra key (core name, alias) -> series id, over ``series`` (id -> node with ``name``, ``brand_name``).

    A key two series share is dropped: it names neither for sure. The full names are keys too, for typos.

    >>> series_keys({"s1": {"name": "东风日产-轩逸", "brand_name": "日产"}, "s2": {"name": "卡罗拉", "brand_name": "丰田"}})
    {'东风日产-轩逸': 's1', '东风日产': 's1', '轩逸': 's1', 'sylphy': 's1', '日产轩逸': 's1', '东风日产轩逸': 's1', '卡罗拉': 's2', 'corolla': 's2', '丰田卡罗拉': 's2', '一汽丰田卡罗拉': 's2'}
    """
    owners: dict[str, set[str]] = {}
    table = alias_table()
    for sid, s in series.items():
        names = [normalize(s["name"]), *core_names(s["name"], s["brand_name"])]
        keys = names + [alias for model in names for alias in table.get(model, ("", ()))[1]]
        for key in keys:
            owners.setdefault(key, set()).add(sid)
    return {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}


def match_spans(t: str, keys: dict[str, str], taken: list[bool]) -> list[tuple[int, int, str]]:
    """(start, end, series id) of keys found in normalised text ``t`` where nothing is ``taken`` yet:
    exact keys first (longest first), then one-typo windows of keys of 4+ characters. Marks ``taken``.

    A typo window starts with its key's first character, so only the keys starting with ``t[i]`` are
    tried at position ``i`` (a graph of a thousand series stays fast).
    """
    from rapidfuzz.distance import Levenshtein

    spans = []

    def claim(start: int, end: int, sid: str) -> None:
        spans.append((start, end, sid))
        taken[start:end] = [True] * (end - start)

    for key in sorted((k for k in keys if k in t), key=len, reverse=True):
        for match in re.finditer(re.escape(key), t):
            if not any(taken[match.start():match.end()]):
                claim(match.start(), match.end(), keys[key])
    by_first = _typo_keys(tuple(keys))
    for start, char in enumerate(t):
        for key in by_first.get(char, ()):
            for size in (len(key), len(key) - 1, len(key) + 1):
                window = t[start:start + size]
                if len(window) == size and not any(taken[start:start + size]) \
                        and Levenshtein.distance(window, key, score_cutoff=1) <= 1:
                    claim(start, start + size, keys[key])
                    break
    return sorted(spans)


@lru_cache(maxsize=8)
def _typo_keys(keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Keys of 4+ characters by their first character, longest first."""
    by_first: dict[str, list[str]] = {}
    for key in sorted((k for k in keys if len(k) >= TYPO_MIN_LENGTH), key=len, reverse=True):
        by_first.setdefault(key[0], []).append(key)
    return {char: tuple(group) for char, group in by_first.items()}


def uncovered_models(t: str, series: dict) -> list[str]:
    """Models of the alias file named in normalised text ``t`` that no series of ``series`` is known by.

    >>> uncovered_models("轩逸和卡罗拉哪个更省油", {"s1": {"name": "轩逸", "brand_name": "日产"}})
    ['卡罗拉']
    """
    unknown, any_word = _unknown_models(series)
    if not any_word.search(t):  # most texts name no model of the alias file at all
        return []
    found = {model: display for model, display, words in unknown if any(word in t for word in words)}
    return [display for model, display in found.items() if not any(model != other and model in other for other in found)]


_UNKNOWN: dict[str, tuple] = {}  # "models" -> (the series they were read from, _unknown_models of them)


def _unknown_models(series: dict) -> tuple[list[tuple[str, str, tuple[str, ...]]], re.Pattern]:
    """(model, name as written, words naming it) of each alias-file model no series is known by, and a
    pattern matching any of their words (``never`` when there are none); computed once per series table."""
    cached = _UNKNOWN.get("models")
    if cached is None or cached[0] is not series:
        known = {normalize(s["name"]) for s in series.values()}
        known |= {n for s in series.values() for n in core_names(s["name"], s["brand_name"])}
        unknown = [(model, display, (model, *aliases)) for model, (display, aliases) in alias_table().items()
                   if model not in known]
        words = sorted({word for _, _, ws in unknown for word in ws}, key=len, reverse=True)
        any_word = re.compile("|".join(map(re.escape, words)) if words else r"(?!)")
        cached = _UNKNOWN["models"] = (series, (unknown, any_word))
    return cached[1]
