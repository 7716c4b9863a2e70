"""Simulated buyer families and their dialogs: what each family wants, and how it says it turn by turn.

A :class:`Family` is built around one target listing, so at least one listing fits its needs. Its
needs are split into *units* (预算, 学区类型, 特长, 通勤, plus optional place, area and 按揭 terms), and
each unit is said in some user turn:

* ``specific``: everything in the first turn -> one example, a recommendation;
* ``ask``: the first turn withholds at least one required unit, the second gives the rest ->
  a clarifying question, then a recommendation;
* ``ask2``: the second turn still leaves something missing -> two questions, then a recommendation.

:func:`dialog_examples` turns a family's user turns into examples, one per assistant turn: the
dialog so far (with the same broker's earlier gold turns), the gold turn, and the truth built by the
retriever from the user text so far.

>>> import random
>>> family = sample_family(random.Random(3), "杭州")
>>> family.kind, len(user_turns(family, random.Random(3))) == {"specific": 1, "ask": 2, "ask2": 3}[family.kind]
('specific', True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from verticals.realestate.brokers import write_turn
from verticals.realestate.kg import default_city, realestate_index
from verticals.realestate.needs import DEFAULT_WALK_MINUTES
from verticals.realestate.retriever import build_truth

KIND_WEIGHTS = {"specific": 0.4, "ask": 0.45, "ask2": 0.15}
TERM_OPTIONS = {"down": (20, 35, 40, 50), "rate": (2.85, 3.0, 3.5, 3.95, 4.2), "years": (20, 25)}
CHINESE_TENTHS = {20: "两", 30: "三", 40: "四", 50: "五"}
OPENERS = ("想在{place}买学区房", "您好，想在{place}给孩子买套学区房", "打算在{place}换套学区房",
           "孩子快上{level}了，想在{place}买房")
OPENERS_NO_PLACE = ("想买学区房", "您好，想给孩子买套学区房", "孩子快上{level}了，想换套学区房")
ENDINGS = ("，有什么推荐？", "。", "，帮我看看。", "，请推荐几套。")
PHRASES = {
    "budget": ("预算{b}万", "总价{b}万以内", "预算控制在{b}万", "手上有{b}万的预算"),
    "应试": ("要重点{level}", "看重升学率", "偏应试，成绩第一", "应试为主"),
    "素质": ("看重素质教育", "更看重素质教育", "想要素质教育好的学校"),
    "activity": ("孩子学{a}", "孩子在学{a}，希望学校有{a}课", "孩子喜欢{a}"),
    "不限": ("学区无所谓", "不挑学区"),
    "line": ("{n}号线附近", "靠近地铁{n}号线", "上班坐{n}号线"),
    "station": ("{name}站附近", "离{name}站近一点"),
    "walk": ("，步行{w}分钟内", "，步行{w}分钟也可以"),
    "no_metro": ("我们开车，不坐地铁", "通勤开车，地铁无所谓"),
    "area": ("{a}平以上", "面积至少{a}平"),
    "level": ("孩子明年上{level}", "主要看{level}学区"),
}


@dataclass(frozen=True)
class Family:
    """One buyer: the needs behind the dialog and how the dialog unfolds (``kind``)."""

    kind: str
    city: str
    say_city: bool
    district: str | None
    budget: int
    school: str  # 应试 / 素质 / 不限
    activity: str | None
    level: str
    line: int | None
    station: str | None
    walk: int | None  # stated walking limit, if any
    area_min: int | None
    terms: tuple[int | None, float | None, int | None] | None  # stated (down %, rate %, years)
    target: str  # the listing the family was built around

    def key(self) -> tuple:
        """The needs without the wording: two families with one key are the same profile."""
        return (self.city, self.district, self.budget, self.school, self.activity, self.level, self.line,
                self.station, self.walk, self.area_min, self.terms)


def sample_family(rng: random.Random, city: str, districts: tuple[str, ...] | None = None,
                  say_district: bool = False) -> Family:
    """A random family built around a random listing of ``city`` (which therefore fits its needs): of one of
    ``districts`` when given, the family then naming the district when ``say_district``."""
    index = realestate_index()
    listings = index.listings_in(city)
    if districts is not None:
        listings = [d for d in listings if index.xiaoqu[d["xiaoqu"]]["district"] in districts]
    listing = rng.choice(listings)
    xiaoqu = index.xiaoqu[listing["xiaoqu"]]
    level = "初中" if rng.random() < 0.15 else "小学"
    school, activity = _school_need(rng, index.school_of(xiaoqu["code"], level))
    line, station, walk = _metro_need(rng, index.near[xiaoqu["code"]])
    area = (listing["area"] // 10) * 10 - rng.choice((0, 10)) if rng.random() < 0.25 else None
    terms = None
    if rng.random() < 0.3:
        terms = tuple(rng.choice(TERM_OPTIONS[k]) if rng.random() < 0.5 else None for k in ("down", "rate", "years"))
        terms = terms if any(t is not None for t in terms) else (None, None, rng.choice(TERM_OPTIONS["years"]))
    return Family(
        kind=rng.choices(list(KIND_WEIGHTS), list(KIND_WEIGHTS.values()))[0], city=city,
        say_city=index.cities[city]["pool"] == "eval" or city != default_city() or rng.random() < 0.7,
        district=xiaoqu["district"] if rng.random() < 0.35 or say_district else None,
        budget=-(-listing["total_price"] // 10) * 10 + rng.choice((0, 10, 20, 30, 50)), school=school,
        activity=activity, level=level, line=line, station=station, walk=walk, area_min=area, terms=terms,
        target=listing["code"],
    )


def _school_need(rng: random.Random, school: dict) -> tuple[str, str | None]:
    if rng.random() < 0.08:
        return "不限", None
    if school["key"] == "重点" and (rng.random() < 0.5 or not school["activities"]):
        return "应试", None
    if school["activities"]:
        return "素质", rng.choice(school["activities"])
    return "不限", None


def _metro_need(rng: random.Random, near: tuple) -> tuple[int | None, str | None, int | None]:
    """(line, station id, stated walk limit); (None, None, None) means "no metro needed"."""
    station, minutes = near[0]
    if rng.random() < 0.1 or (minutes > DEFAULT_WALK_MINUTES and rng.random() < 0.5):
        return None, None, None
    walk = 25 if minutes > DEFAULT_WALK_MINUTES else (10 if minutes <= 10 and rng.random() < 0.2 else None)
    if rng.random() < 0.2:
        return None, station, walk
    return rng.choice(realestate_index().stations[station]["lines"]), None, walk


def user_turns(family: Family, rng: random.Random) -> list[str]:
    """The family's user turns: units spread over 1-3 turns according to ``family.kind``."""
    units = _units(family, rng)
    required = [name for name in ("budget", "school", "activity", "metro") if name in units]
    if family.kind == "specific" or len(required) < 2:
        schedule = {name: 0 for name in units}
    else:
        schedule = _schedule(family.kind, required, rng)
    turns = [[] for _ in range(max(schedule.values()) + 1)]
    opener = _opener(family, rng)
    if family.level != "小学" and family.level not in opener:
        turns[0].append(rng.choice(PHRASES["level"]).format(level=family.level))
    for name in ("budget", "school", "activity", "area", "metro", "terms"):
        if name in units:
            turns[schedule.get(name, 0)].append(units[name])
    texts = ["，".join([opener, *turns[0]]) + rng.choice(ENDINGS)]
    return texts + ["，".join(t) + "。" for t in turns[1:]]


def _schedule(kind: str, required: list[str], rng: random.Random) -> dict[str, int]:
    """Turn of each required unit: turn 0 keeps at least one back; ``ask2`` spreads the rest over two turns."""
    withheld = rng.sample(required, rng.randint(2 if kind == "ask2" else 1, len(required) - (kind != "ask2")))
    if kind == "ask2" and len(withheld) < 2:
        withheld = required[-2:]
    later = sorted(withheld, key=required.index)
    turn_of = {name: 0 for name in required}
    if kind == "ask2":
        cut = rng.randint(1, len(later) - 1)
        turn_of.update({name: 1 if i < cut else 2 for i, name in enumerate(later)})
    else:
        turn_of.update({name: 1 for name in later})
    if turn_of.get("activity", 0) < turn_of.get("school", 0):  # 学钢琴 already implies 素质
        turn_of["activity"] = turn_of["school"]
    return turn_of


def _units(family: Family, rng: random.Random) -> dict[str, str]:
    """Phrase per unit; ``school`` is omitted for 素质 when the activity alone says it (half the time)."""
    pick = lambda name, **kw: rng.choice(PHRASES[name]).format(**kw)  # noqa: E731
    units = {"budget": pick("budget", b=family.budget)}
    if family.school == "素质":
        if rng.random() < 0.5:
            units["school"] = pick("素质")
        units["activity"] = pick("activity", a=family.activity)
    else:
        units["school"] = pick(family.school, level=family.level)
    units["metro"] = _metro_phrase(family, rng)
    if family.area_min:
        units["area"] = pick("area", a=family.area_min)
    if family.terms:
        units["terms"] = _terms_phrase(family.terms)
    return units


def _metro_phrase(family: Family, rng: random.Random) -> str:
    if family.line is None and family.station is None:
        return rng.choice(PHRASES["no_metro"])
    if family.station:
        text = rng.choice(PHRASES["station"]).format(name=realestate_index().stations[family.station]["name"])
    else:
        text = rng.choice(PHRASES["line"]).format(n=family.line)
    if not family.walk:
        return text
    return text + PHRASES["walk"][family.walk > DEFAULT_WALK_MINUTES].format(w=family.walk)


def _terms_phrase(terms: tuple) -> str:
    down, rate, years = terms
    parts = []
    if down is not None:
        parts.append(f"首付{CHINESE_TENTHS[down]}成" if down in CHINESE_TENTHS and down != 20 else f"首付{down}%")
    if rate is not None:
        parts.append(f"利率{rate:g}%")
    if years is not None:
        parts.append(f"贷{years}年")
    return "，".join(parts)


def _opener(family: Family, rng: random.Random) -> str:
    place = (family.city if family.say_city else "") + (family.district or "")
    templates = OPENERS if place else OPENERS_NO_PLACE
    return rng.choice(templates).format(place=place, level=family.level)


def dialog_examples(family_id: str, turns: list[str], style: str, variant: int) -> list[dict]:
    """One example per assistant turn of the dialog ``turns`` (gold turns by broker ``style``)."""
    examples, messages = [], []
    for i, text in enumerate(turns):
        messages = [*messages, {"role": "user", "content": text}]
        truth = build_truth("\n".join(turns[: i + 1]))
        answer = write_turn(truth, style, variant)
        examples.append({"id": f"{family_id}-t{i}", "messages": messages, "answer": answer,
                         "truth": {**truth, "broker": style}})
        messages = [*messages, {"role": "assistant", "content": answer}]
    return examples
