"""Synthetic 高考志愿填报 knowledge graph: provinces, 一分一段 tables, universities, 专业组, admissions.

``build_gaokao_graph(seed)`` is deterministic: the same seed always gives the same graph. Names of
universities are invented (city nicknames + school types); any resemblance to a real institution is
coincidental, and no number in the graph is real data.

Schema (node id: attributes)::

    province:<省>                      kind=province, name, mode ("3+1+2" | "3+3"), tracks, pool
    year:<年>                          kind=year, year
    score_table:<省>:<年>:<科类>        kind=score_table, province, year, track, max_score, min_score,
                                       ranks  (ranks[i] = 累计人数 = 位次 at score max_score - i)
    batch_line:<省>:<年>:<科类>:<批次>   kind=batch_line, province, year, track, batch, score
    university:<U001>                  kind=university, name, city, is_985, is_211, is_double_first_class,
                                       type (综合/理工/师范/医药/财经/政法/语言), ownership (公办/民办), pool,
                                       tier and rank_fraction (generator parameters)
    major_group:<U001-1>               kind=major_group, name, field, subjects (all required; [] = 不限),
                                       university, rank_fraction and volatility (大小年 swing; 0 = steady)

Edges: province -> score_table (has_score_table), score_table -> year (in_year), province ->
batch_line (has_batch_line), university -> major_group (offers), and one ``admission`` edge per
major_group -> province, key ``"<年>:<科类>"``, with year, track, min_score, min_rank, plan.
``min_rank`` is always the table rank at ``min_score``. A group offered in a 3+1+2 province goes to
the 物理类 track if it requires 物理, to 历史类 if it requires 历史, otherwise to both.

Pools hold evaluation out by province *and* university: universities of the ``train`` pool recruit
only in train provinces, those of the ``eval`` pool (the dev split) only in the eval province (湖北), and
those of the ``test`` pool only in the test province (安徽). The test pool is drawn last, from its own
random stream (``seed + TEST_STREAM``), so adding it left every train and eval node and edge unchanged.

>>> g = build_gaokao_graph(0)
>>> table = g.nodes["score_table:广东:2025:物理类"]
>>> score_to_rank(table, 600) < score_to_rank(table, 599)
True
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass
from typing import Mapping

import networkx as nx

from knowledge_graphs.io import load_graph, save_graph

__all__ = [
    "DATA_YEARS", "EXAM_YEARS", "PROVINCES", "build_gaokao_graph", "offered_tracks", "score_to_rank",
    "rank_to_score", "save_graph", "load_graph",
]

DATA_YEARS = (2021, 2022, 2023, 2024, 2025)
EXAM_YEARS = (2024, 2025)  # a student of year Y uses the Y table and the admissions of Y-3..Y-1
MIN_TABLE_SCORE = 150


@dataclass(frozen=True)
class TrackSpec:
    """One 科类 of a province: examinee count in 2021 and the score distribution."""

    name: str
    population: int
    mean: float
    sd: float


@dataclass(frozen=True)
class ProvinceSpec:
    name: str
    mode: str
    tracks: tuple[TrackSpec, ...]
    pool: str
    local_cities: tuple[str, ...]


PROVINCES = (
    ProvinceSpec("广东", "3+1+2", (TrackSpec("物理类", 400_000, 440, 105), TrackSpec("历史类", 260_000, 430, 95)),
                 "train", ("广州", "深圳")),
    ProvinceSpec("山东", "3+3", (TrackSpec("综合", 600_000, 450, 100),), "train", ("济南", "青岛")),
    ProvinceSpec("浙江", "3+3", (TrackSpec("综合", 320_000, 480, 100),), "train", ("杭州",)),
    ProvinceSpec("湖北", "3+1+2", (TrackSpec("物理类", 230_000, 440, 105), TrackSpec("历史类", 110_000, 430, 95)),
                 "eval", ("武汉",)),
)
# The test split's province, generated after everything else (build_gaokao_graph).
TEST_PROVINCES = (
    ProvinceSpec("安徽", "3+1+2", (TrackSpec("物理类", 300_000, 445, 105), TrackSpec("历史类", 150_000, 435, 95)),
                 "test", ("合肥",)),
)
TEST_STREAM = 1_000_003  # the test pool's random stream is seeded with seed + TEST_STREAM

# City -> invented name prefixes (nicknames), split by pool.
CITY_PREFIXES = {
    "train": {"北京": ("京华", "燕北", "永定"), "上海": ("申江", "沪滨", "浦江"), "广州": ("羊城", "越秀"),
              "深圳": ("鹏城", "前海"), "杭州": ("钱塘", "西泠"), "南京": ("钟山", "秦淮"),
              "济南": ("泉城", "历下"), "青岛": ("琴岛", "崂山"), "天津": ("津门", "海河"), "厦门": ("鹭岛", "筼筜")},
    "eval": {"武汉": ("江城", "楚天", "珞珈"), "长沙": ("岳麓", "潇湘"), "成都": ("蜀都", "锦江", "天府"),
             "重庆": ("山城", "巴渝"), "西安": ("雁塔", "秦岭"), "郑州": ("嵩山", "商都")},
    "test": {"合肥": ("庐州", "包河", "蜀山"), "南昌": ("洪城", "滕王"), "福州": ("榕城", "闽江"),
             "昆明": ("春城", "滇池"), "沈阳": ("盛京", "浑河"), "兰州": ("金城", "皋兰")},
}
# Prestige tier -> (count in train pool, count in eval pool, admitted-rank fraction range of the track);
# the test pool has as many universities as the eval pool.
TIER_MIX = {"985": (6, 3, (0.004, 0.025)), "211": (8, 4, (0.02, 0.06)), "双一流": (4, 2, (0.03, 0.08)),
            "普通": (28, 12, (0.06, 0.45)), "民办": (10, 5, (0.35, 0.7))}
PUBLIC_TYPES = {"综合": ("大学",), "理工": ("理工大学", "工业大学", "科技大学"), "师范": ("师范大学",),
                "医药": ("医科大学", "中医药大学"), "财经": ("财经大学", "经贸大学"), "政法": ("政法大学",),
                "语言": ("外国语大学",)}
PRIVATE_TYPES = {"综合": ("学院",), "理工": ("科技学院", "理工学院"), "财经": ("商学院",)}
TYPE_FIELDS = {
    "综合": ("计算机", "电子信息", "医学", "经济金融", "法学", "汉语言文学", "外语", "土木建筑", "机械"),
    "理工": ("计算机", "电子信息", "机械", "土木建筑", "经济金融"),
    "师范": ("师范教育", "汉语言文学", "计算机", "外语"),
    "医药": ("医学",),
    "财经": ("经济金融", "法学", "计算机"),
    "政法": ("法学", "经济金融", "外语"),
    "语言": ("外语", "汉语言文学", "经济金融"),
}
FIELD_GROUP_NAMES = {
    "计算机": ("计算机类组", "软件工程组", "人工智能组"), "电子信息": ("电子信息类组", "通信工程组"),
    "机械": ("机械类组", "自动化组"), "土木建筑": ("土木类组", "建筑学组"),
    "医学": ("临床医学组", "口腔医学组", "药学组", "护理学组"), "经济金融": ("经济学类组", "金融学组", "会计学组"),
    "法学": ("法学类组",), "汉语言文学": ("汉语言文学组", "新闻传播组"), "外语": ("外国语言组", "英语组"),
    "师范教育": ("师范类组", "教育学组"),
}
FIELD_SUBJECTS = {
    "计算机": (["物理"], ["物理", "化学"]), "电子信息": (["物理"], ["物理", "化学"]), "机械": (["物理"],),
    "土木建筑": (["物理"],), "医学": (["物理", "化学"], ["化学", "生物"], ["化学"]),
    "经济金融": ([], [], ["物理"]), "法学": ([], ["政治"]), "汉语言文学": ([], ["历史"]), "外语": ([],),
    "师范教育": ([], ["物理"], ["历史"]),
}
# How much harder (<1) or easier (>1) a field is than its university's average.
FIELD_RANK_FACTOR = {"计算机": 0.75, "电子信息": 0.8, "医学": 0.8, "经济金融": 0.9, "法学": 0.95,
                     "汉语言文学": 1.0, "外语": 1.05, "师范教育": 1.0, "机械": 1.1, "土木建筑": 1.25}
BATCH_RANK_FRACTIONS = {"特殊类型招生控制线": 0.15, "本科批": 0.45, "专科批": 0.9}
VOLATILE_SHARE = 0.12  # share of major groups with a 大小年 pattern


def build_gaokao_graph(seed: int = 0) -> nx.MultiDiGraph:
    """Build the whole graph from ``seed`` (deterministic; a fraction of a second of CPU).

    The test pool (``TEST_PROVINCES`` and its universities) comes last, from a stream of its own.
    """
    rng = random.Random(seed)
    g = nx.MultiDiGraph(name="gaokao", seed=seed)
    for year in DATA_YEARS:
        g.add_node(f"year:{year}", kind="year", year=year)
    for spec in PROVINCES:
        _add_province(g, rng, spec)
    for pool in ("train", "eval"):
        _add_pool_universities(g, rng, pool)
    test_rng = random.Random(seed + TEST_STREAM)
    for spec in TEST_PROVINCES:
        _add_province(g, test_rng, spec)
    _add_pool_universities(g, test_rng, "test")
    return g


def _add_pool_universities(g: nx.MultiDiGraph, rng: random.Random, pool: str) -> None:
    """The pool's universities, their 专业组 and admissions in the pool's provinces."""
    for uid in _add_universities(g, rng, pool):
        for gid in _add_major_groups(g, rng, uid):
            _add_admissions(g, rng, gid)


def score_to_rank(table: Mapping, score: int) -> int:
    """位次 (累计人数) of ``score`` in a score_table node's attributes; ValueError outside the table."""
    if not table["min_score"] <= score <= table["max_score"]:
        raise ValueError(f"{score}分 outside the table ({table['min_score']}-{table['max_score']})")
    return table["ranks"][table["max_score"] - score]


def rank_to_score(table: Mapping, rank: int) -> int:
    """The score band holding ``rank``: the highest score whose 累计人数 reaches ``rank``."""
    index = bisect.bisect_left(table["ranks"], rank)
    return table["max_score"] - min(index, len(table["ranks"]) - 1)


def _add_province(g: nx.MultiDiGraph, rng: random.Random, spec: ProvinceSpec) -> None:
    pid = f"province:{spec.name}"
    g.add_node(pid, kind="province", name=spec.name, mode=spec.mode, pool=spec.pool,
               tracks=[t.name for t in spec.tracks], local_cities=list(spec.local_cities))
    for track in spec.tracks:
        for year in DATA_YEARS:
            table = _score_table(rng, track, year)
            tid = f"score_table:{spec.name}:{year}:{track.name}"
            g.add_node(tid, kind="score_table", province=spec.name, year=year, track=track.name, **table)
            g.add_edge(pid, tid, kind="has_score_table")
            g.add_edge(tid, f"year:{year}", kind="in_year")
            for batch, fraction in BATCH_RANK_FRACTIONS.items():
                bid = f"batch_line:{spec.name}:{year}:{track.name}:{batch}"
                score = rank_to_score(table, round(fraction * table["ranks"][-1]))
                g.add_node(bid, kind="batch_line", province=spec.name, year=year, track=track.name,
                           batch=batch, score=score)
                g.add_edge(pid, bid, kind="has_batch_line")


def _score_table(rng: random.Random, track: TrackSpec, year: int) -> dict:
    """一分一段 table: a tapered normal count per score, at least one examinee per score."""
    population = track.population * (1 + 0.03 * (year - DATA_YEARS[0]))
    mean, sd = track.mean + rng.uniform(-8, 8), track.sd * rng.uniform(0.96, 1.04)
    max_score = rng.randint(692, 712)
    ranks, total = [], 0
    for score in range(max_score, MIN_TABLE_SCORE - 1, -1):
        share = _normal_cdf((score + 0.5 - mean) / sd) - _normal_cdf((score - 0.5 - mean) / sd)
        taper = min(1.0, ((max_score - score) / 40) ** 2)  # real tables thin out near the top score
        total += max(1, round(population * share * taper * rng.uniform(0.97, 1.03)))
        ranks.append(total)
    return {"max_score": max_score, "min_score": MIN_TABLE_SCORE, "ranks": ranks}


def _normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def _add_universities(g: nx.MultiDiGraph, rng: random.Random, pool: str) -> list[str]:
    """Add the pool's universities, tier by tier; returns their node ids."""
    taken = {d["name"] for _, d in g.nodes(data=True) if d["kind"] == "university"}
    ids = []
    for tier, (n_train, n_eval, (low, high)) in TIER_MIX.items():
        for _ in range(n_train if pool == "train" else n_eval):
            uid = f"university:U{len(taken) + 1:03d}"
            city, name, school_type = _university_name(rng, pool, tier, taken)
            taken.add(name)
            g.add_node(uid, kind="university", name=name, city=city, type=school_type, pool=pool,
                       is_985=tier == "985", is_211=tier in ("985", "211"),
                       is_double_first_class=tier in ("985", "211", "双一流"),
                       ownership="民办" if tier == "民办" else "公办", tier=tier,
                       rank_fraction=math.exp(rng.uniform(math.log(low), math.log(high))))
            ids.append(uid)
    return ids


def _university_name(rng: random.Random, pool: str, tier: str, taken: set[str]) -> tuple[str, str, str]:
    """(city, unused invented name, school type) for a university of ``tier`` in ``pool``."""
    types = PRIVATE_TYPES if tier == "民办" else PUBLIC_TYPES
    if tier in ("985", "211"):  # top universities are mostly comprehensive or engineering
        type_choices = ["综合", "综合", "理工", "理工", "师范", "财经", "医药"]
    else:
        type_choices = list(types)
    while True:
        city = rng.choice(sorted(CITY_PREFIXES[pool]))
        school_type = rng.choice(type_choices)
        name = rng.choice(CITY_PREFIXES[pool][city]) + rng.choice(types[school_type])
        if name not in taken:
            return city, name, school_type


def _add_major_groups(g: nx.MultiDiGraph, rng: random.Random, uid: str) -> list[str]:
    """Add 1-3 专业组 in fields the university's type teaches (a 医药 university: several 医学 groups)."""
    university = g.nodes[uid]
    fields = TYPE_FIELDS[university["type"]]
    count = rng.choice((1, 2, 2, 3, 3))
    chosen = fields * count if len(fields) == 1 else rng.sample(fields, min(count, len(fields)))
    names, ids = set(), []
    for number, field in enumerate(chosen, start=1):
        name = rng.choice([n for n in FIELD_GROUP_NAMES[field] if n not in names])
        names.add(name)
        gid = f"major_group:{uid.split(':')[1]}-{number}"
        g.add_node(gid, kind="major_group", name=name, field=field, university=uid,
                   subjects=list(rng.choice(FIELD_SUBJECTS[field])),
                   rank_fraction=university["rank_fraction"] * FIELD_RANK_FACTOR[field] * rng.uniform(0.9, 1.1),
                   volatility=rng.uniform(0.18, 0.3) if rng.random() < VOLATILE_SHARE else 0.0)
        g.add_edge(uid, gid, kind="offers")
        ids.append(gid)
    return ids


def offered_tracks(mode: str, tracks: list[str], subjects: list[str]) -> list[str]:
    """科类 in which a group with required ``subjects`` recruits, given the province's ``mode``.

    >>> offered_tracks("3+1+2", ["物理类", "历史类"], ["物理", "化学"])
    ['物理类']
    >>> offered_tracks("3+1+2", ["物理类", "历史类"], [])
    ['物理类', '历史类']
    """
    if mode == "3+3":
        return list(tracks)
    if "物理" in subjects:
        return ["物理类"]
    if "历史" in subjects:
        return ["历史类"]
    return list(tracks)


def _add_admissions(g: nx.MultiDiGraph, rng: random.Random, gid: str) -> None:
    """One admission edge per province of the pool, 科类 and year; ranks follow the group's level, a
    local bonus, a slow trend, noise and, for volatile groups, an alternating 大小年 swing."""
    group = g.nodes[gid]
    university = g.nodes[group["university"]]
    for pid, province in list(_nodes_of(g, "province")):
        if province["pool"] != university["pool"]:
            continue
        local = university["city"] in province["local_cities"]
        phase, trend = rng.randint(0, 1), rng.uniform(-0.03, 0.03)
        for track in offered_tracks(province["mode"], province["tracks"], group["subjects"]):
            for year in DATA_YEARS:
                swing = group["volatility"] * (1 if (year + phase) % 2 else -1)
                drift = trend * (year - DATA_YEARS[2])  # trend centred on the middle year
                factor = (0.8 if local else 1.0) * (1 + swing + drift + rng.gauss(0, 0.03))
                table = g.nodes[f"score_table:{province['name']}:{year}:{track}"]
                target = max(1, round(group["rank_fraction"] * factor * table["ranks"][-1]))
                min_score = rank_to_score(table, target)
                plan = max(2, round(rng.lognormvariate(2.6, 0.6) * (3 if local else 1)))
                g.add_edge(gid, pid, key=f"{year}:{track}", kind="admission", year=year, track=track,
                           min_score=min_score, min_rank=score_to_rank(table, min_score), plan=plan)


def _nodes_of(g: nx.MultiDiGraph, kind: str):
    """(id, attributes) of the nodes of one kind."""
    return ((n, d) for n, d in g.nodes(data=True) if d["kind"] == kind)
