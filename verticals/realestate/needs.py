"""Parse a buyer's free text into :class:`Needs`, and say which required slots are still missing.

A request is *specific* when four slots are known: 预算 (budget), 学区类型 (应试 / 素质 / 不限), 特长
(the child's activity, needed only for 素质) and 通勤 (a metro line or station, or "no metro").
Otherwise it is *ambiguous* and the broker asks about exactly the missing slots.

The parser is regex- and word-list-based and forgiving, because the same code reads the dataset
templates and whatever a user types into the app. When a slot is mentioned twice, the later mention
wins (a buyer may raise the budget in a follow-up). A dialog's user turns arrive joined by newlines;
:func:`parse_turns` reads them cumulatively, one state per turn.

>>> n = parse_needs("想在杭州滨江区买学区房，预算500万，孩子学钢琴，1号线附近，90平以上")
>>> n.city, n.district, n.budget, n.school, n.activity, n.line, n.area_min, n.missing()
('杭州', '滨江区', 500, '素质', '钢琴', 1, 90, [])
>>> parse_needs("想买学区房，预算500万").missing()
['学区类型', '通勤']
>>> [t.missing() for t in parse_turns("预算480万，看重素质教育\\n孩子学游泳，我们开车不坐地铁")]
[['特长', '通勤'], []]

Numbers may be written in words; a 首付 amount and a 月供 ceiling are read (and, without a 预算, give
one: the 首付 plus the loan the 月供 repays); a place the graph does not hold is kept as ``unknown_city``
instead of being replaced by the default city:

>>> n = parse_needs("想在北京海淀买个学区房，首付一百五十万，月供能接受一万五")
>>> n.city, n.unknown_city, n.terms.down_wan, n.terms.monthly_max, n.budget
(None, '北京', 150, 15000, 501)
>>> parse_needs("杭州萧山区的学区房，预算400万").unknown_district
'萧山区'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from knowledge_graphs.realestate import ACTIVITIES
from verticals.numerals import digits_for_numerals
from verticals.places import places_named
from verticals.realestate.kg import activities, default_city, realestate_index
from verticals.realestate.mortgage import MortgageTerms, affordable_loan_wan

SLOTS = ("预算", "学区类型", "特长", "通勤")  # required, in the order a broker asks about them
SLOT_KEYWORDS = {"预算": ("预算",), "学区类型": ("应试", "素质"), "特长": ("特长",), "通勤": ("地铁",)}
DEFAULT_LEVEL = "小学"
DEFAULT_WALK_MINUTES = 15

EXAM_WORDS = ("应试", "升学率", "重点小学", "重点初中", "重点学校", "名校", "成绩好", "成绩第一", "要重点", "好小学",
              "好初中", "好学校", "好一点的小学", "好一点的初中", "好一点的学校")
QUALITY_WORDS = ("素质", "兴趣班", "特色课", *ACTIVITIES)
ANY_SCHOOL_WORDS = ("学区无所谓", "不看学区", "学区不重要", "不挑学区", "学区不挑", "学校无所谓", "学校不挑", "学区随便")
NO_METRO_WORDS = ("不坐地铁", "不用地铁", "不需要地铁", "地铁无所谓", "不考虑地铁", "开车", "自驾", "不要求地铁",
                  "地铁不要求", "不用坐地铁")
# how parents name an activity -> the activity (弹钢琴 is 钢琴 already; these are the other words)
ACTIVITY_WORDS = {"舞蹈": ("跳舞", "学舞"), "钢琴": ("练琴",), "足球": ("踢足球", "踢球"), "美术": ("画画", "绘画"),
                  "书法": ("练字", "写毛笔字"), "编程": ("写代码", "学代码")}
NOT_DISTRICTS = ("市区", "城区", "郊区", "学区", "小区", "园区", "新区", "景区", "社区", "的学区", "买学区")
LEVEL_WORDS = {"小学": ("小学", "幼升小"), "初中": ("初中", "中学", "小升初")}
CHINESE_TENTHS = {"一": 10, "二": 20, "两": 20, "三": 30, "四": 40, "五": 50, "六": 60, "七": 70}

BUDGET = re.compile(r"(\d{2,4})\s*(?:万|w|W)")
NOT_BUDGET_BEFORE = ("首付", "月供", "收入", "月入", "存款", "年薪")
AREA = re.compile(r"(\d{2,3})\s*(?:平方米|平米|平方|平|㎡)\s*(以上|起|往上|以下|以内|左右)?")
AREA_RANGE = re.compile(r"(\d{2,3})\s*[-~到至]\s*(\d{2,3})\s*(?:平方米|平米|平方|平|㎡)")
LINE = re.compile(r"(\d{1,2})\s*号线")
WALK = re.compile(r"步行\s*(\d{1,2})\s*分")
DOWN = re.compile(r"首付\s*(?:比例)?\s*(?:(\d{1,2})\s*%|([一二两三四五六七])成)")
DOWN_AMOUNT = re.compile(r"首付\s*(?:款)?\s*(?:能付|能出|有|准备了?|大概|约|最多|可以付)?\s*(\d{2,4})\s*万")
MONTHLY = re.compile(r"月供\s*(?:能接受|能承受|接受|承受|最多|不超过|控制在|在|上限)?\s*(\d+(?:\.\d+)?)\s*(万|千|k|K|元)?")
RATE = re.compile(r"利率\s*(\d(?:\.\d{1,2})?)\s*%")
YEARS = re.compile(r"(?:贷款?|期限|按揭|还款)\s*(\d{1,2})\s*年")


@dataclass(frozen=True)
class Needs:
    """What the buyer asked for; ``None`` means not said. ``station`` is a station id (``M3``)."""

    city: str | None = None
    district: str | None = None
    budget: int | None = None  # 万
    area_min: int | None = None
    area_max: int | None = None
    school: str | None = None  # "应试" | "素质" | "不限"
    activity: str | None = None
    level: str = DEFAULT_LEVEL
    line: int | None = None
    station: str | None = None
    no_metro: bool = False
    walk_max: int = DEFAULT_WALK_MINUTES
    terms: MortgageTerms = field(default_factory=MortgageTerms)
    unknown_city: str | None = None  # a city the buyer named that the graph does not hold
    unknown_district: str | None = None  # a district of a known city that the graph does not hold

    def missing(self) -> list[str]:
        """The required slots not yet known, in :data:`SLOTS` order."""
        known = {
            "预算": self.budget is not None,
            "学区类型": self.school is not None,
            "特长": self.school != "素质" or self.activity is not None,
            "通勤": self.no_metro or self.line is not None or self.station is not None,
        }
        return [slot for slot in SLOTS if not known[slot]]

    def as_dict(self) -> dict:
        """JSON-serialisable form (for ``truth``)."""
        data = {k: v for k, v in self.__dict__.items() if k not in ("terms", "unknown_city", "unknown_district")}
        if self.unknown_city:  # never substitute another city for the one asked about
            data["unknown_city"] = self.unknown_city
        else:  # no place named: the graph's default city (杭州 in the generated graph)
            data["city"] = self.city or default_city()
        return data


def parse_turns(user_text: str) -> list[Needs]:
    """One :class:`Needs` per user turn (lines of ``user_text``), each reading all turns so far."""
    turns = [t for t in user_text.split("\n") if t.strip()] or [""]
    return [parse_needs("\n".join(turns[: i + 1])) for i in range(len(turns))]


def parse_needs(text: str) -> Needs:
    """Read every slot from ``text``; later mentions win. Chinese numerals are read as digits first."""
    text = digits_for_numerals(text)
    index = realestate_index()
    city = _last_of(text, {name: (name,) for name in index.cities})
    district = _last_of(text, {d: _district_words(d) for (c, d) in index.districts if city in (None, c)})
    if district and not city:
        city = next(c for (c, d) in index.districts if d == district)
    stations = {sid: (s["name"] + "站", s["name"]) for sid, s in index.stations.items() if city in (None, s["city"])}
    metro = _metro(text, stations)
    station = metro if isinstance(metro, str) and metro != "不限" else None
    if station and not city:
        city = index.stations[station]["city"]
    area_min, area_max = _area(text)
    known = activities()  # the generator's ACTIVITIES, then any other an imported graph's schools offer
    quality = QUALITY_WORDS + known[len(ACTIVITIES):] + tuple(w for words in ACTIVITY_WORDS.values() for w in words)
    terms = _terms(text)
    return Needs(
        city=city, district=district, budget=_budget(text, terms), area_min=area_min, area_max=area_max,
        school=_last_of(text, {"应试": EXAM_WORDS, "素质": quality, "不限": ANY_SCHOOL_WORDS}),
        activity=_last_of(text, {a: (a, *ACTIVITY_WORDS.get(a, ())) for a in known}), level=_last_of(text, LEVEL_WORDS) or DEFAULT_LEVEL,
        line=metro if isinstance(metro, int) else None, station=station, no_metro=metro == "不限",
        walk_max=_last_int(WALK, text) or DEFAULT_WALK_MINUTES, terms=terms,
        unknown_city=None if city else _unknown_city(text),
        unknown_district=_unknown_district(text, city) if city and not district else None,
    )


def _unknown_district(text: str, city: str) -> str | None:
    """A district written right after ``city`` (杭州萧山区, 杭州市上城区) that the graph has no such district of."""
    known = {d for (c, d) in realestate_index().districts if c == city}
    match = re.search(rf"{city}市?([\u4e00-\u9fff]{{1,3}}区)(?!房)", text)
    if match is None or match.group(1) in known or match.group(1) in NOT_DISTRICTS:
        return None
    return match.group(1)


def _unknown_city(text: str) -> str | None:
    """The last place named in ``text`` that the graph has no city for (北京, or 海淀 for 北京)."""
    unknown = [place for place in places_named(text) if place not in realestate_index().cities]
    return unknown[-1] if unknown else None


def _district_words(district: str) -> tuple[str, ...]:
    """The full name, the name without 区 (滨江), and 园区 for 工业园区."""
    words = [district]
    if district.endswith("区") and len(district) > 2:
        words.append(district[:-1])
    if district == "工业园区":
        words.append("园区")
    return tuple(words)


def _last_of(text: str, words: dict[str, tuple[str, ...]]) -> str | None:
    """The key whose word occurs last in ``text`` (the longest word wins a tie)."""
    best, best_at = None, (-1, 0)
    for key, options in words.items():
        for word in options:
            at = text.rfind(word)
            if at >= 0 and (at + len(word), len(word)) > best_at:
                best, best_at = key, (at + len(word), len(word))
    return best


def _last_int(pattern: re.Pattern, text: str) -> int | None:
    found = pattern.findall(text)
    return int(found[-1]) if found else None


def _budget(text: str, terms: MortgageTerms) -> int | None:
    """The 预算 in 万; without one, a stated 首付 amount plus the loan a stated 月供 ceiling repays."""
    amounts = [int(m.group(1)) for m in BUDGET.finditer(text)
               if not any(w in text[max(0, m.start() - 4):m.start()] for w in NOT_BUDGET_BEFORE)]
    if amounts:
        return amounts[-1]
    if terms.down_wan is not None and terms.monthly_max is not None:
        return terms.down_wan + affordable_loan_wan(terms.monthly_max, terms.rate_percent, terms.years)
    return None


def _area(text: str) -> tuple[int | None, int | None]:
    ranges = AREA_RANGE.findall(text)
    if ranges:
        low, high = sorted(map(int, ranges[-1]))
        return low, high
    found = AREA.findall(text)
    if not found:
        return None, None
    size, qualifier = int(found[-1][0]), found[-1][1]
    if qualifier in ("以下", "以内"):
        return None, size
    if qualifier == "左右":
        return size - 10, size + 10
    return size, None


def _metro(text: str, stations: dict[str, tuple[str, ...]]) -> int | str | None:
    """A line number, a station id, ``"不限"`` (no metro needed) or None, whichever is said last."""
    options = {"不限": NO_METRO_WORDS, **stations}
    last_word = _last_of(text, options)
    word_end = max((text.rfind(w) + len(w) for w in options.get(last_word, ()) if w in text), default=-1)
    lines = list(LINE.finditer(text))
    if lines and lines[-1].end() > word_end:
        return int(lines[-1].group(1))
    return last_word


def _terms(text: str) -> MortgageTerms:
    defaults = MortgageTerms()
    downs = DOWN.findall(text)
    down = None
    if downs:
        digits, tenths = downs[-1]
        down = int(digits) if digits else CHINESE_TENTHS[tenths]
    rates = RATE.findall(text)
    rate = float(rates[-1]) if rates else None
    years = _last_int(YEARS, text)
    down_wan, monthly_max = _last_int(DOWN_AMOUNT, text), _monthly_max(text)
    if down is None and rate is None and years is None and down_wan is None and monthly_max is None:
        return defaults
    return MortgageTerms(down or defaults.down_percent, defaults.rate_percent if rate is None else rate,
                         years or defaults.years, stated=True, down_wan=down_wan, monthly_max=monthly_max)


def _monthly_max(text: str) -> int | None:
    """A 月供 ceiling in 元: 月供1.5万, 月供能接受15000, 月供8千.

    >>> _monthly_max("月供能接受1.5万"), _monthly_max("月供不超过12000元"), _monthly_max("月供8千"), _monthly_max("预算500万")
    (15000, 12000, 8000, None)
    """
    found = MONTHLY.findall(text)
    if not found:
        return None
    number, unit = found[-1]
    return round(float(number) * {"万": 10000, "千": 1000, "k": 1000, "K": 1000}.get(unit, 1))
