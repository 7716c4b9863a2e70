"""A full-size synthetic gaokao graph: 31 provinces, ~2,900 universities, their 专业组, 5 years of admissions.

The shipped graph (:func:`knowledge_graphs.gaokao.build_gaokao_graph`) is small so the tiny models train in
minutes; this one has the size of a real one, for measuring how the retriever and the graph loader scale::

    vkit kg generate gaokao --size full --out kg/gaokao-full
    vkit kg check gaokao kg/gaokao-full          # the datasets build from it
    VKIT_GAOKAO_GRAPH=kg/gaokao-full vkit run gaokao

Same schema, node ids and generator rules as the shipped graph (see :mod:`knowledge_graphs.gaokao`), with
these differences: every provincial-level division of the mainland sits the exam (3+3 where the reform
made it so, 3+1+2 elsewhere); universities stand in the cities of :data:`PROVINCE_CITIES` (their
``home_province`` is an extra attribute); a university
recruits in its home province and in a number of others that grows with its tier (985: all of its pool's
provinces, 民办: a few). Pools hold evaluation out as in the shipped graph: 湖北 is the eval province and
安徽 the test province, and the universities of those pools recruit only there. Names are invented from
two-character prefixes; any resemblance to a real institution is coincidental and no number is real.

>>> g = build_full_gaokao_graph(0, universities=60)
>>> sum(d["kind"] == "province" for _, d in g.nodes(data=True)), sum(d["kind"] == "university" for _, d in g.nodes(data=True))
(31, 60)
"""

from __future__ import annotations

import math
import random

import networkx as nx

from knowledge_graphs.gaokao import (DATA_YEARS, PRIVATE_TYPES, PUBLIC_TYPES, TIER_MIX, TrackSpec, _add_major_groups,
                                     _score_table, offered_tracks, rank_to_score, score_to_rank)

FULL_UNIVERSITIES = 2_900
EVAL_PROVINCE, TEST_PROVINCE = "湖北", "安徽"
POOL_SHARES = {"train": 0.86, "eval": 0.07, "test": 0.07}  # of the universities
THREE_PLUS_THREE = {"北京", "天津", "上海", "浙江", "山东", "海南"}  # the rest sit 3+1+2
# Province -> its cities with universities (capital first); local_cities of the province node.
PROVINCE_CITIES = {
    "北京": ("北京",), "天津": ("天津",), "上海": ("上海",), "重庆": ("重庆",), "河北": ("石家庄", "保定", "唐山"),
    "山西": ("太原",), "辽宁": ("沈阳", "大连"), "吉林": ("长春",), "黑龙江": ("哈尔滨",),
    "江苏": ("南京", "苏州", "无锡", "徐州", "扬州"), "浙江": ("杭州", "宁波", "温州"), "安徽": ("合肥", "芜湖"),
    "福建": ("福州", "厦门", "泉州"), "江西": ("南昌",), "山东": ("济南", "青岛", "烟台", "潍坊"),
    "河南": ("郑州", "洛阳"), "湖北": ("武汉", "宜昌", "襄阳"), "湖南": ("长沙", "株洲"),
    "广东": ("广州", "深圳", "珠海", "东莞", "佛山"), "海南": ("海口", "三亚"), "四川": ("成都", "绵阳"),
    "贵州": ("贵阳",), "云南": ("昆明",), "陕西": ("西安",), "甘肃": ("兰州",), "青海": ("西宁",),
    "内蒙古": ("呼和浩特", "包头"), "广西": ("南宁", "桂林"), "西藏": ("拉萨",), "宁夏": ("银川",),
    "新疆": ("乌鲁木齐",),
}
# Tier -> (share of a pool's universities, how many provinces beyond the home one it recruits in: range).
FULL_TIER_MIX = {"985": (0.015, (40, 40)), "211": (0.03, (15, 25)), "双一流": (0.012, (10, 20)),
                 "普通": (0.68, (2, 8)), "民办": (0.263, (0, 3))}
NAME_CHARACTERS = "江华明安宁远和泰兴昌瑞嘉清文德永新山海湖河川岳云林松柏阳光星辰翠锦书雅仁信诚育英才志弘"


def build_full_gaokao_graph(seed: int = 0, universities: int = FULL_UNIVERSITIES) -> nx.MultiDiGraph:
    """The full-size graph from ``seed`` (deterministic), with ``universities`` universities over the pools."""
    from knowledge_graphs.gaokao import _add_province, ProvinceSpec

    rng = random.Random(seed)
    g = nx.MultiDiGraph(name="gaokao", seed=seed, size="full")
    for year in DATA_YEARS:
        g.add_node(f"year:{year}", kind="year", year=year)
    provinces = [_province_spec(rng, name, ProvinceSpec) for name in PROVINCE_CITIES]
    for spec in provinces:
        _add_province(g, rng, spec)
    taken: set[str] = set()
    for pool, share in POOL_SHARES.items():
        recruiting = [g.nodes[f"province:{p.name}"] for p in provinces if p.pool == pool]
        for uid in _add_universities(g, rng, pool, round(universities * share), taken):
            reach = _recruiting_provinces(rng, g.nodes[uid], recruiting)
            for gid in _add_major_groups(g, rng, uid):
                _add_admissions(g, rng, gid, reach)
    return g


def _province_spec(rng: random.Random, name: str, spec_type) -> object:
    """A province: 3+3 or 3+1+2, examinee counts drawn between ~30k and ~900k, its pool."""
    population = round(math.exp(rng.uniform(math.log(30_000), math.log(900_000))))
    mean, sd = rng.uniform(420, 480), rng.uniform(90, 105)
    if name in THREE_PLUS_THREE:
        tracks = (TrackSpec("综合", population, mean, sd),)
    else:
        tracks = (TrackSpec("物理类", round(population * 0.6), mean, sd),
                  TrackSpec("历史类", round(population * 0.4), mean - 10, sd * 0.92))
    pool = {EVAL_PROVINCE: "eval", TEST_PROVINCE: "test"}.get(name, "train")
    return spec_type(name, "3+3" if name in THREE_PLUS_THREE else "3+1+2", tracks, pool, PROVINCE_CITIES[name])


def _add_universities(g: nx.MultiDiGraph, rng: random.Random, pool: str, count: int, taken: set[str]) -> list[str]:
    """``count`` universities of ``pool``, tiers in the shares of :data:`FULL_TIER_MIX`; returns their ids."""
    cities = [(province, city) for province, names in PROVINCE_CITIES.items() for city in names]
    tiers = list(FULL_TIER_MIX)
    ids = []
    for _ in range(count):
        tier = rng.choices(tiers, [FULL_TIER_MIX[t][0] for t in tiers])[0]
        province, city = rng.choice(cities)
        school_type, name = _university_name(rng, tier, taken)
        taken.add(name)
        low, high = TIER_MIX[tier][2]
        uid = f"university:U{len(taken):04d}"
        g.add_node(uid, kind="university", name=name, city=city, type=school_type, pool=pool,
                   is_985=tier == "985", is_211=tier in ("985", "211"),
                   is_double_first_class=tier in ("985", "211", "双一流"),
                   ownership="民办" if tier == "民办" else "公办", tier=tier, home_province=province,
                   rank_fraction=math.exp(rng.uniform(math.log(low), math.log(high))))
        ids.append(uid)
    return ids


def _university_name(rng: random.Random, tier: str, taken: set[str]) -> tuple[str, str]:
    """(school type, an unused invented name): a two-character prefix and a type suffix."""
    types = PRIVATE_TYPES if tier == "民办" else PUBLIC_TYPES
    while True:
        school_type = rng.choice(sorted(types))
        name = "".join(rng.sample(NAME_CHARACTERS, 2)) + rng.choice(types[school_type])
        if name not in taken:
            return school_type, name


def _recruiting_provinces(rng: random.Random, university: dict, provinces: list[dict]) -> list[dict]:
    """The pool's provinces the university recruits in: its home province (when in the pool) and a tier-sized
    draw of others, at least one in all."""
    low, high = FULL_TIER_MIX[university["tier"]][1]
    home = [p for p in provinces if p["name"] == university["home_province"]]
    others = [p for p in provinces if p["name"] != university["home_province"]]
    return home + rng.sample(others, min(len(others), max(rng.randint(low, high), 1 - len(home))))


def _add_admissions(g: nx.MultiDiGraph, rng: random.Random, gid: str, provinces: list[dict]) -> None:
    """One admission edge per recruiting province, 科类 and year, drawn as in the shipped graph."""
    group = g.nodes[gid]
    university = g.nodes[group["university"]]
    for province in provinces:
        local = university["city"] in province["local_cities"]
        phase, trend = rng.randint(0, 1), rng.uniform(-0.03, 0.03)
        for track in offered_tracks(province["mode"], province["tracks"], group["subjects"]):
            for year in DATA_YEARS:
                swing = group["volatility"] * (1 if (year + phase) % 2 else -1)
                drift = trend * (year - DATA_YEARS[2])
                factor = (0.8 if local else 1.0) * (1 + swing + drift + rng.gauss(0, 0.03))
                table = g.nodes[f"score_table:{province['name']}:{year}:{track}"]
                target = max(1, round(group["rank_fraction"] * factor * table["ranks"][-1]))
                min_score = rank_to_score(table, target)
                plan = max(2, round(rng.lognormvariate(2.6, 0.6) * (3 if local else 1)))
                g.add_edge(gid, f"province:{province['name']}", key=f"{year}:{track}", kind="admission", year=year,
                           track=track, min_score=min_score, min_rank=score_to_rank(table, min_score), plan=plan)
