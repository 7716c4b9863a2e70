"""Parse a student's free-text question into a :class:`StudentProfile` (province, year, 科类, score...).

The parser is regex-based and forgiving, because the same code serves the dataset templates and
whatever a user types into the app::

    >>> p = parse_profile("我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机。")
    >>> p.province, p.year, p.track, p.score, p.subject_abbr, p.wish_field
    ('广东', 2025, '物理类', 598, '物化生', '计算机')
    >>> parse_profile("山东的，今年考了620，选了物化地，想去上海读书").track
    '综合'

People write numbers in words and often know their 位次 rather than (or besides) their score; a
stated rank is used when no score is written (a score is converted with the 一分一段 table instead):

    >>> p = parse_profile("湖北理科生，位次两万八左右，理化生")
    >>> p.track, p.score, p.rank, p.subject_abbr
    ('物理类', None, 28000, '物化生')
    >>> parse_profile("广东的，考了五百六十分，物理方向，选的物化地").score
    560
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from verticals.gaokao.kg import gaokao_index
from verticals.numerals import digits_for_numerals

SUBJECTS = ("物理", "化学", "生物", "历史", "地理", "政治", "技术")  # canonical order; 技术 only in 浙江
SUBJECT_ABBR = {"物": "物理", "化": "化学", "生": "生物", "史": "历史", "地": "地理", "政": "政治", "技": "技术",
                "理": "物理"}  # 理化生 is a common way to write 物化生
ALL_PROVINCES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
    "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
    "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门", "台湾",
)
FIELD_KEYWORDS = {
    "计算机": ("计算机", "软件", "人工智能", "编程", "程序员"),
    "电子信息": ("电子信息", "电子", "通信", "芯片", "集成电路"),
    "机械": ("机械", "自动化", "机器人"),
    "土木建筑": ("土木", "建筑"),
    "医学": ("医学", "临床", "医生", "口腔", "药学", "护理", "学医"),
    "经济金融": ("经济", "金融", "会计", "财务", "商科"),
    "法学": ("法学", "法律", "律师"),
    "汉语言文学": ("汉语言", "中文", "文学", "新闻"),
    "外语": ("外语", "英语", "翻译", "小语种"),
    "师范教育": ("师范", "当老师", "教师", "教育学"),
}
TRACK_WORDS = {  # colloquial names first-listed where one contains another (理科生 before 理科)
    "物理类": ("物理类", "物理方向", "首选物理", "物理组", "物理生", "选物理的", "理科生", "理科"),
    "历史类": ("历史类", "历史方向", "首选历史", "历史组", "历史生", "选历史的", "文科生", "文科"),
}
OLD_TRACKS = {"物理类": "理科", "历史类": "文科"}  # a graph of the old system (文/理) names its tracks so
RANK_PATTERNS = (  # a stated 位次, e.g. 位次35000, 排名28000左右, 全省排3万名, 排在第12000名
    re.compile(r"(?:位次|排名|名次|排位)\D{0,4}?(\d+(?:\.\d+)?)\s*(万)?"),
    re.compile(r"(?:全省|省排|排在?)第?(\d+(?:\.\d+)?)\s*(万)?\s*名"),
)
SCORE_PATTERNS = (  # most explicit first; the last accepts a bare number that is not a rank or a year
    re.compile(r"(?<!\d)(\d{3})\s*分"),
    re.compile(r"(?:考了|总分|分数|成绩|考分|估分|得了)\D{0,3}?(\d{3})(?!\d)"),
    re.compile(r"(?<![\d位次名第])(\d{3})(?![\d名位年届])"),
)
WISH_VERBS = r"(?:想|希望|最好|倾向|留|去)"
STOP = r"[^，。,.;；！!？?\n]"


class ProfileError(ValueError):
    """The text lacks something the retriever needs; the message says what, in Chinese."""


@dataclass(frozen=True)
class StudentProfile:
    """What the retriever needs to know about one student."""

    province: str
    year: int
    track: str
    score: int | None  # None when only a rank is stated
    subjects: tuple[str, ...]
    wish_field: str | None = None
    wish_city: str | None = None
    rank: int | None = None  # the 位次 the student stated, if any

    @property
    def subject_abbr(self) -> str:
        return "".join(s[0] if s != "历史" else "史" for s in self.subjects)

    @property
    def wishes(self) -> tuple[str, ...]:
        return tuple(w for w in (self.wish_field, self.wish_city) if w)


def parse_profile(text: str) -> StudentProfile:
    """Read province, exam year, 科类, score or 位次, 选科 and wishes from ``text``.

    Chinese numerals are read as digits first (:func:`verticals.numerals.digits_for_numerals`).

    Raises:
        ProfileError: no supported province, neither score nor rank, an unsupported year, or an unknown 科类.
    """
    text = digits_for_numerals(text)
    province = find_province(text)
    spec = gaokao_index().provinces[province]
    subjects = find_subjects(text)
    track = "综合" if spec["mode"] == "3+3" else find_track(text, subjects, spec["tracks"])
    first = {"物理类": "物理", "历史类": "历史"}.get(track)  # 3+1+2: the first subject follows from the track
    if first and first not in subjects:
        subjects = tuple(s for s in SUBJECTS if s in subjects or s == first)
    rank = find_rank(text)
    without_rank = RANK_PATTERNS[1].sub(" ", RANK_PATTERNS[0].sub(" ", text))  # 排名 700 is no score
    score = find_score(without_rank)
    if score is None and rank is None:
        raise ProfileError("没有识别到高考分数或位次（例如：考了598分，或位次35000）")
    return StudentProfile(province, find_year(text), track, score, subjects,
                          find_wish_field(text), find_wish_city(text), rank)


def find_province(text: str) -> str:
    """The student's province: one named before 考生/省/的, or after 我是/来自, else the first named.

    Places the student wishes to go to (想去上海) are not the student's province.
    """
    supported = tuple(gaokao_index().provinces)
    names = "|".join(ALL_PROVINCES)
    wished = rf"{WISH_VERBS}{STOP}{{0,4}}?(?:{names}|{'|'.join(gaokao_index().cities)})"
    text = re.sub(wished, lambda match: " " * len(match.group(0)), text)
    marked = re.search(rf"(?:我是|来自|我在)({names})|({names})(?:省|考生|的考生|的)", text)
    found = marked.group(1) or marked.group(2) if marked else None
    if found is None:
        mentions = [m.group(0) for m in re.finditer(names, text)]
        found = mentions[0] if mentions else None
    if found is None:
        raise ProfileError(f"没有识别到省份（目前支持：{'、'.join(supported)}）")
    if found not in supported:
        raise ProfileError(f"暂不支持{found}（目前支持：{'、'.join(supported)}）")
    return found


def find_year(text: str) -> int:
    """The exam year; the latest supported year (the graph's exam years) when none is written."""
    exam_years = gaokao_index().exam_years
    if not exam_years:
        raise ProfileError("知识图谱中没有可用的考试年份（需要当年一分一段表和前三年录取数据）")
    match = re.search(r"(?<!\d)(20\d\d)(?!\d)", text)
    if match is None:
        return exam_years[-1]
    year = int(match.group(1))
    if year not in exam_years:
        raise ProfileError(f"暂只支持{'、'.join(map(str, exam_years))}年的考生")
    return year


def find_score(text: str) -> int | None:
    """The total score (100-750) written as ``598分``, ``考了598`` or a bare ``598``; None when none is."""
    for pattern in SCORE_PATTERNS:
        for match in pattern.finditer(text):
            if 100 <= int(match.group(1)) <= 750:
                return int(match.group(1))
    return None


def find_rank(text: str) -> int | None:
    """A stated 位次 (``位次35000``, ``排名2.8万左右``, ``全省第12000名``), or None.

    >>> find_rank("排名28000左右"), find_rank("位次3.5万"), find_rank("全省排第900名"), find_rank("考了598分")
    (28000, 35000, 900, None)
    """
    for pattern in RANK_PATTERNS:
        match = pattern.search(text)
        if match:
            value = float(match.group(1)) * (10000 if match.group(2) else 1)
            if value >= 1:
                return round(value)
    return None


def find_subjects(text: str) -> tuple[str, ...]:
    """选科 from full names (物理、化学…) or a three-letter abbreviation (物化生), canonical order."""
    text = re.sub(r"物理生(?!物)", "#", text)  # a 物理生 is a physics-track student, not 物理+生物
    found = {s for s in SUBJECTS if s in text}
    if len(found) < 3:
        for match in re.finditer(r"[物化生史地政技理]{3}|(?<=[+＋])[化生地政]{2}", text):
            found |= {SUBJECT_ABBR[c] for c in match.group(0)}
    return tuple(s for s in SUBJECTS if s in found)


def find_track(text: str, subjects: tuple[str, ...], offered: tuple[str, ...] = ("物理类", "历史类")) -> str:
    """物理类 or 历史类 (理科 or 文科 where the province's graph uses the old system): named in any
    colloquial form (理科生, 物理方向, 选历史的...), or implied by the 选科.

    >>> find_track("我是文科生", ()), find_track("理科", (), ("理科", "文科")), find_track("", ("物理", "化学"))
    ('历史类', '理科', '物理类')
    """
    track = next((t for t, words in TRACK_WORDS.items() if any(w in text for w in words)), None)
    if track is None and ("物理" in subjects) != ("历史" in subjects):
        track = "物理类" if "物理" in subjects else "历史类"
    if track is None:
        raise ProfileError("请说明是物理类还是历史类")
    return OLD_TRACKS[track] if track not in offered and OLD_TRACKS[track] in offered else track


def find_wish_field(text: str) -> str | None:
    """The major field the student wants, from the first keyword in the text."""
    hits = [(text.find(word), field) for field, words in FIELD_KEYWORDS.items() for word in words if word in text]
    return min(hits)[1] if hits else None


def find_wish_city(text: str) -> str | None:
    """A university city the student wants, e.g. 想去上海 / 希望留在武汉."""
    cities = "|".join(gaokao_index().cities)
    match = re.search(rf"{WISH_VERBS}{STOP}{{0,4}}?({cities})", text)
    return match.group(1) if match else None
