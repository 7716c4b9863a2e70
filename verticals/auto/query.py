"""Reading a car question typed as free text: which trims, which parameters, or which budget and needs.

Three kinds of question:

- ``spec``: one car mentioned ("2024款 星驰逐风 1.5T 舒适型的最大功率是多少？");
- ``compare``: two cars mentioned ("逐风1.5T舒适型和松韵1.5T舒适型哪个加速更快？");
- ``recommend``: no car, a budget ("预算20万，想买纯电SUV，通勤为主，推荐哪款？").

Matching runs on :func:`verticals.auto.vocab.normalize`-d text (full-width folded, lower case, no
spaces). A series is found by its name or brand + name; a one-character typo in the series name is
forgiven when the brand is typed ("星驰逐凤"). Within the text around a series, the model year (``2024款``,
``24款``) and the trim are read; trim words may be abbreviated ("豪华版" for 豪华型, "长续航" for
长续航版) or carry one wrong character ("舒适形"). Without a trim, every trim of the newest year
matches; without a year, the newest year that has the trim.

>>> q = parse_query("24款星驰逐风 1.5T舒适型和松原松韵1.5T 舒适型，哪个加速更快？")
>>> q.kind, [m.year for m in q.mentions], q.directions
('compare', [2024, None], (('0-100', 'lower'),))
>>> q = parse_query("预算 20 万，想买纯电 SUV，通勤为主，推荐哪款？")
>>> q.kind, q.budget, q.energy, q.body, q.use
('recommend', 20.0, '纯电', 'SUV', '通勤')

Real tables name series as portals do (``东风日产-轩逸``, ``秦PLUS DM-i``) and people type them as they
speak (``轩逸``, ``sylphy``, ``modly``): :mod:`verticals.auto.names` adds core names, an alias file and
one-typo matching. A known model the graph lacks is kept in ``unknown`` (the retriever says so); a need
(省油, 空间大, 续航长, 加速快) sets what a recommendation ranks by. Numbers may be written in words.

>>> q = parse_query("预算十五万，想买个省油的轿车，卡罗拉那种")
>>> q.kind, q.budget, q.need, q.unknown
('recommend', 15.0, '油耗', ('卡罗拉',))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verticals.auto.kg import auto_index
from verticals.auto.names import match_spans, series_keys, uncovered_models
from verticals.auto.vocab import (BODY_WORDS, DIRECTION_WORDS, ENERGY_WORDS, ITEM_WORDS, NEED_WORDS, PARAMS, USE_WORDS,
                                  normalize)
from verticals.numerals import digits_for_numerals

CONNECTORS = re.compile(r"还是|对比|相比|比较|vs|pk|和|与|跟|同|比|[，,、；;。？?！!]")
YEAR = re.compile(r"(?<!\d)(?:20)?(2\d)款")
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
BUDGET_PATTERNS = (  # the first that matches wins; a range keeps its upper end
    re.compile(r"(\d+(?:\.\d+)?)万?(?:-|~|到|至)(\d+(?:\.\d+)?)(?:万|w)(?!公里|km)"),
    re.compile(r"(\d+(?:\.\d+)?)(?:万|w)(?!公里|km)"),
    re.compile(r"预算(\d+(?:\.\d+)?)(?![\d.])"),
    re.compile(r"([一二两三四五六七八九十]+)万(?!公里)"),
)
DRIVE_SHORT = {"后轮驱动": "后驱", "前轮驱动": "前驱", "全轮驱动": "四驱", "四轮驱动": "四驱"}
DEFAULT_SPEC_ITEMS = ("指导价", "最大功率")
DEFAULT_DIRECTIONS = (("指导价", "lower"), ("最大功率", "higher"))


class QueryError(ValueError):
    """The text names no car and no budget, or the budget is implausible; the message says which."""


@dataclass(frozen=True)
class Mention:
    """A car the user named: its series, the year typed (if any) and the trims that fit the words.

    ``trims`` holds one trim id when the text pins the trim down, several (cheapest first) when not.
    """

    series: str
    year: int | None
    trims: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """What a question asks.

    Attributes:
        kind: ``spec``, ``compare`` or ``recommend``.
        mentions: the cars named (at most two, in the order typed).
        items: 项 asked about (spec, compare), in the order typed.
        hp: power was asked in 马力.
        directions: compare only: (项, ``higher``/``lower``) — which value wins.
        budget: recommend: the ceiling in 万元.
        energy, body, use: recommend: 燃油/混动/纯电/新能源, 轿车/SUV/MPV, 通勤/家用/长途/性能, or None.
        need: recommend: the 项 a stated need ranks by (省油 -> 油耗), or None.
        unknown: models named that the graph does not hold (e.g. ``('卡罗拉',)``).
    """

    kind: str
    mentions: tuple[Mention, ...]
    items: tuple[str, ...]
    hp: bool
    directions: tuple[tuple[str, str], ...]
    budget: float | None
    energy: str | None
    body: str | None
    use: str | None
    need: str | None = None
    unknown: tuple[str, ...] = ()


def parse_query(text: str) -> Query:
    """Read a question. Raises QueryError when it names no car and states no budget."""
    t = normalize(digits_for_numerals(text))
    mentions, name_words = find_mentions(t)
    rest = _blank(t, name_words)  # trim words like 长续航版 must not read as the item 续航
    distinct = _distinct(mentions)
    budget = parse_budget(t)
    if len(distinct) >= 2:
        kind = "compare"
    elif distinct:
        kind = "spec"
    elif budget is not None:
        kind = "recommend"
    else:
        raise QueryError(_nothing_found(t))
    items, hp = parse_items(rest)
    directions = parse_directions(rest) if kind == "compare" else ()
    if kind == "spec" and not items:
        items = DEFAULT_SPEC_ITEMS
    if kind == "compare":
        items = tuple(dict.fromkeys([i for i, _ in directions] + list(items)))
    energy = _first_group(rest, ENERGY_WORDS) if kind == "recommend" else None
    body = _first_group(rest, BODY_WORDS) if kind == "recommend" else None
    use = _first_group(rest, USE_WORDS) if kind == "recommend" else None
    need = _first_group(rest, NEED_WORDS) if kind == "recommend" else None
    unknown = tuple(uncovered_models(t, auto_index().series))
    return Query(kind, tuple(distinct[:2]), items, hp, directions, budget, energy, body, use, need, unknown)


def _nothing_found(t: str) -> str:
    """Why a question gives nothing to look up: the models it names are not in the graph, or it names none."""
    unknown = uncovered_models(t, auto_index().series)
    if not unknown:
        return "没有识别到车型，也没有识别到预算"
    examples = "、".join(sorted({s["name"] for s in auto_index().series.values()})[:5])
    return f"图谱中没有{'、'.join(unknown)}的数据，不能回答关于它的问题（可查询的车系如：{examples}）"


def _distinct(mentions: list[Mention]) -> list[Mention]:
    """Mentions that name different trims (the same car typed twice counts once)."""
    seen, out = set(), []
    for m in mentions:
        if m.trims[0] not in seen:
            seen.add(m.trims[0])
            out.append(m)
    return out


def _blank(text: str, words: list[str]) -> str:
    for word in sorted(words, key=len, reverse=True):
        text = text.replace(word, "#" * len(word))
    return text


def find_mentions(t: str) -> tuple[list[Mention], list[str]]:
    """Cars named in normalised text ``t``, in order, and the name words used (to blank them)."""
    spans = series_spans(t)
    mentions, words = [], []
    for number, (start, end, series_id) in enumerate(spans):
        left_limit = spans[number - 1][1] if number else 0
        right_limit = spans[number + 1][0] if number + 1 < len(spans) else len(t)
        if len(spans) == 1:
            chunk = t
        else:
            cuts_left = [m.end() for m in CONNECTORS.finditer(t, left_limit, start)]
            cut_right = CONNECTORS.search(t, end, right_limit)
            chunk = t[max(cuts_left or [left_limit]):cut_right.start() if cut_right else right_limit]
        year_match = YEAR.search(chunk)
        year = 2000 + int(year_match.group(1)) if year_match else None
        trims, used = resolve_trims(series_id, chunk.replace(t[start:end], "#"), year)
        mentions.append(Mention(series_id, year, trims))
        words += [t[start:end], *used]
    return mentions, words


def series_spans(t: str) -> list[tuple[int, int, str]]:
    """(start, end, series id) of every series named in ``t``, exact aliases first, then brand + typo."""
    index = auto_index()
    taken = [False] * len(t)
    spans = []

    def claim(start: int, end: int, series_id: str) -> None:
        spans.append((start, end, series_id))
        taken[start:end] = [True] * (end - start)

    for alias, series_id in index.aliases:
        if alias not in t:  # a substring test is far cheaper than a regex scan, and most aliases are absent
            continue
        for match in re.finditer(re.escape(alias), t):
            if not any(taken[match.start():match.end()]):
                claim(match.start(), match.end(), series_id)
    for series_id, brand, name in _series_words(index):
        if brand not in t:
            continue
        for match in re.finditer(re.escape(brand), t):
            start, end = match.end(), match.end() + len(name)
            window = t[start:end]
            if len(window) == len(name) and not any(taken[match.start():end]) and _one_typo(window, name):
                claim(match.start(), end, series_id)
    spans += match_spans(t, _extra_keys(index), taken)  # core names, aliases, one typo
    return sorted(spans)


_EXTRA_KEYS: dict[str, tuple] = {}


def _extra_keys(index) -> dict[str, str]:
    """:func:`verticals.auto.names.series_keys` of the index's series, computed once per graph index."""
    cached = _EXTRA_KEYS.get("keys")
    if cached is None or cached[0] is not index:
        cached = _EXTRA_KEYS["keys"] = (index, series_keys(index.series))
    return cached[1]


_SERIES_WORDS: dict[str, tuple] = {}  # "words" -> (the index they were read from, the words)


def _series_words(index) -> tuple[tuple[str, str, str], ...]:
    """(series id, normalised brand, normalised name) of every series, computed once per graph index."""
    cached = _SERIES_WORDS.get("words")
    if cached is None or cached[0] is not index:  # a new index (another graph) gets new words
        words = tuple((sid, normalize(s["brand_name"]), normalize(s["name"])) for sid, s in index.series.items())
        cached = _SERIES_WORDS["words"] = (index, words)
    return cached[1]


def _one_typo(window: str, name: str) -> bool:
    """Same length, exactly one differing character, and the rest CJK (not a run of other words)."""
    differing = sum(a != b for a, b in zip(window, name))
    return differing == 1 and all("\u4e00" <= c <= "\u9fff" for c in window)


def resolve_trims(series_id: str, chunk: str, year: int | None) -> tuple[tuple[str, ...], list[str]]:
    """Trims of the series that best fit the words in ``chunk`` (cheapest first), and the words matched."""
    index = auto_index()
    trims = list(index.trims_of[series_id])
    if year is not None and any(index.trims[t]["year"] == year for t in trims):
        trims = [t for t in trims if index.trims[t]["year"] == year]
    scored = [(*trim_match(index.trims[t]["trim_name"], chunk), t) for t in trims]
    best = max(score for score, _, _ in scored)
    chosen = [(t, words) for score, words, t in scored if score == best]
    newest = max(index.trims[t]["year"] for t, _ in chosen)
    chosen = [(t, words) for t, words in chosen if index.trims[t]["year"] == newest]
    return tuple(t for t, _ in chosen), [w for _, words in chosen for w in words]


def trim_match(trim_name: str, chunk: str) -> tuple[int, list[str]]:
    """How well ``chunk`` names a trim: 2 per token found (or an accepted short form), 1 per near miss.

    >>> trim_match("1.5T 豪华型", "逐风1.5t豪华版的功率"), trim_match("EV 长续航版", "启明phev")
    ((4, ['1.5t', '豪华']), (0, []))
    """
    score, words = 0, []
    for token in normalize(trim_name.replace(" ", "|")).split("|"):
        found = next((v for v in token_variants(token) if _contains(chunk, v)), None)
        if found:
            score, words = score + 2, words + [found]
        elif len(token) >= 3 and _near(chunk, token):
            score += 1
    return score, words


def token_variants(token: str) -> list[str]:
    """Ways a user may type one trim-name token, longest first.

    >>> token_variants("标准续航版"), token_variants("ev"), token_variants("后轮驱动版")
    (['标准续航版', '标准续航', '标准版'], ['ev', '纯电', '电动'], ['后轮驱动版', '后驱版', '后驱', '后轮驱动'])
    """
    extra = {"ev": ["纯电", "电动"], "phev": ["插混", "混动"], "四驱性能版": ["四驱性能", "性能版"],
             "标准续航版": ["标准续航", "标准版"], "长续航版": ["长续航"]}
    variants = [token, *extra.get(token, [])]
    for long, short in DRIVE_SHORT.items():  # 后轮驱动版 is typed 后驱版 or 后驱; 长续航全轮驱动版 长续航版
        if long in token:
            head = token.split(long)[0]
            variants += [token.replace(long, short), short] + ([head + "版", head] if len(head) >= 2 else [])
    if token[-1] in "型版" and len(token) >= 3 and token not in extra:
        variants.append(token[:-1])
    return list(dict.fromkeys(variants))


def _contains(chunk: str, word: str) -> bool:
    if word.isascii() and word.isalpha():  # "ev" must not match inside "phev", "pro" inside a word
        return re.search(rf"(?<![a-z]){word}(?![a-z])", chunk) is not None
    return word in chunk


def _near(chunk: str, token: str) -> bool:
    """A window of ``chunk`` differing from ``token`` in one character (a typo like 舒适形)."""
    n = len(token)
    return any(sum(a != b for a, b in zip(chunk[i:i + n], token)) == 1 for i in range(len(chunk) - n + 1))


def item_positions(t: str) -> dict[str, int]:
    """项 asked about -> where it is first mentioned (the first matching word group wins)."""
    found: dict[str, int] = {}
    for item, words in ITEM_WORDS:
        positions = [t.find(w) for w in words if w in t]
        if positions and item not in found:
            found[item] = min(positions)
    return found


def parse_items(t: str) -> tuple[tuple[str, ...], bool]:
    """项 asked about, in the order typed, and whether power was asked in 马力 (a word of ITEM_WORDS' first group)."""
    found = item_positions(t)
    hp = any(w in t for w in ITEM_WORDS[0][1])
    return tuple(sorted(found, key=found.get)), hp


def parse_directions(t: str) -> tuple[tuple[str, str], ...]:
    """(项, winning direction) of a comparison in the order typed: explicit words (更贵, 更轻) set the
    direction, otherwise each 项's natural one; 项 without a natural winner (变速箱) are left out."""
    positions = item_positions(t)
    explicit: dict[str, str] = {}
    for word, item, better in DIRECTION_WORDS:
        if word in t and item not in explicit:
            explicit[item] = better
            positions[item] = min(positions.get(item, len(t)), t.find(word))
    directions = [(i, explicit.get(i) or PARAMS[i].better) for i in sorted(positions, key=positions.get)]
    return tuple((i, b) for i, b in directions if b is not None) or DEFAULT_DIRECTIONS


def parse_budget(t: str) -> float | None:
    """The budget ceiling in 万元, or None. Raises QueryError for an implausible amount.

    >>> parse_budget("预算15-20万"), parse_budget("二十万以内"), parse_budget("开了3万公里"), parse_budget("预算18")
    (20.0, 20.0, None, 18.0)
    """
    for pattern in BUDGET_PATTERNS:
        match = pattern.search(t)
        if match:
            raw = match.group(match.lastindex)
            value = float(raw) if raw[0].isdigit() else float(_chinese_number(raw))
            if not 2 <= value <= 300:
                raise QueryError(f"预算{raw}万不在2-300万之间")
            return value
    return None


def _chinese_number(text: str) -> int:
    """一 .. 九十九 written in Chinese numerals."""
    if "十" not in text:
        return CN_DIGITS.get(text, 0)
    tens, _, ones = text.partition("十")
    return CN_DIGITS.get(tens, 1) * 10 + CN_DIGITS.get(ones, 0)


def _first_group(t: str, groups) -> str | None:
    """The group whose word appears first in ``t``; None when no word appears."""
    hits = []
    for name, words in groups:
        positions = [m.start() for w in words for m in [re.search(_word_pattern(w), t)] if m]
        if positions:
            hits.append((min(positions), name))
    return min(hits)[1] if hits else None


def _word_pattern(word: str) -> str:
    return rf"(?<![a-z]){word}(?![a-z])" if word.isascii() else re.escape(word)
