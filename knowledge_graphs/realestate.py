"""Synthetic 二手房/学区房 knowledge graph: cities, districts, 板块, 小区, listings, schools, metro.

``build_realestate_graph(seed)`` is deterministic: the same seed always gives the same graph. City
and district names are real; 板块, 小区, schools and stations are invented, and no number in the
graph is real data.

Schema (node id: attributes; ``code`` is the short id the answers cite, since node-link JSON
reserves ``id`` for the node key)::

    city:<市>                  kind=city, name, pool ("train" | "eval")
    district:<市>:<区>          kind=district, name, city, base_price (元/平)
    bankuai:<市>:<区>:<板块>     kind=bankuai, name, district, city
    xiaoqu:<C1>                kind=xiaoqu, code, name, city, district, bankuai, pool, avg_price (元/平),
                               year_built, green_ratio (%)
    listing:<L1>               kind=listing, code, xiaoqu, total_price (万), area (平米, int), rooms, halls,
                               baths, floor, total_floors, orientation, renovation, elevator
    school:<S1>                kind=school, code, name, city, level ("小学" | "初中"), key ("重点" | "普通"),
                               exam_rank (1 = best of its level in its city; a school's 校区 share it),
                               activities [素质 offerings], campus_of (a 校区: the main school's code)
    station:<M1>               kind=station, code, name, city, lines [int], transfer (bool)

Edges (DiGraph): city -> district -> bankuai -> xiaoqu (``contains``); xiaoqu -> listing
(``has_listing``); school -> xiaoqu (``covers``: the 小区 is in the school's 学区; every 小区 is covered
by exactly one 小学 and one 初中, and each campus covers one 小区); xiaoqu -> station (``near``, walk_minutes); station -> station
(``next_stop``, line) along each line.

Consistency: a listing's total price is ``area * 小区 avg_price`` within ``PRICE_SPREAD``; a school
covers only 小区 of its own city (小学 only in their own district). Pools hold evaluation out by
city: every node of 杭州 is ``train``, of 苏州 ``eval`` (the dev split), of 南京 ``test``. The test city
is added last, from its own random stream (``seed + TEST_STREAM``), with codes after the others' (its
schools take two-digit codes left unused), so adding it left every other node and edge unchanged.

>>> g = build_realestate_graph(0)
>>> listing = g.nodes["listing:L1"]
>>> xiaoqu = g.nodes["xiaoqu:" + listing["xiaoqu"]]
>>> abs(listing["total_price"] * 10000 / listing["area"] / xiaoqu["avg_price"] - 1) <= PRICE_SPREAD + 0.01
True
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx

from knowledge_graphs.io import load_graph, save_graph

__all__ = ["ACTIVITIES", "CITIES", "PRICE_SPREAD", "build_realestate_graph", "save_graph", "load_graph"]

ACTIVITIES = ("钢琴", "舞蹈", "机器人", "游泳", "编程", "书法", "足球", "美术")
PRICE_SPREAD = 0.06  # a listing's unit price is the 小区 average ± 6%
LISTINGS_PER_XIAOQU = 5


@dataclass(frozen=True)
class DistrictSpec:
    name: str
    base_price: int  # 元/平
    bankuai: tuple[str, ...]
    xiaoqu_count: int
    primary_schools: tuple[str, ...]


@dataclass(frozen=True)
class StationSpec:
    name: str
    district: str
    lines: tuple[int, ...]


@dataclass(frozen=True)
class CitySpec:
    name: str
    pool: str
    districts: tuple[DistrictSpec, ...]
    middle_schools: tuple[str, ...]
    stations: tuple[StationSpec, ...]


CITIES = (
    CitySpec("杭州", "train", (
        DistrictSpec("西湖区", 62000, ("文教", "古荡"), 5, ("求是小学", "文新小学")),
        DistrictSpec("滨江区", 54000, ("长河", "西兴"), 5, ("江南小学", "星澜小学")),
        DistrictSpec("拱墅区", 46000, ("大关", "申花"), 5, ("崇文小学", "春晖小学")),
        DistrictSpec("余杭区", 36000, ("未来科技城", "良渚"), 5, ("启航小学", "良渚小学")),
    ), ("文澜中学", "育英中学", "钱江中学"), (
        StationSpec("文三路", "西湖区", (2,)), StationSpec("古荡", "西湖区", (2, 4)),
        StationSpec("长河", "滨江区", (1,)), StationSpec("西兴", "滨江区", (1, 5)),
        StationSpec("大关", "拱墅区", (4,)), StationSpec("申花", "拱墅区", (2, 5)),
        StationSpec("海创园", "余杭区", (5,)), StationSpec("良渚", "余杭区", (2,)),
    )),
    CitySpec("苏州", "eval", (
        DistrictSpec("姑苏区", 38000, ("平江", "沧浪"), 5, ("平江小学", "沧浪小学")),
        DistrictSpec("工业园区", 50000, ("湖东", "湖西"), 5, ("星海小学", "金鸡湖小学")),
    ), ("景范中学",), (
        StationSpec("临顿路", "姑苏区", (1,)), StationSpec("察院场", "姑苏区", (1, 4)),
        StationSpec("星海街", "工业园区", (1, 3)), StationSpec("东方之门", "工业园区", (1,)),
    )),
)
# The test split's city, generated after everything else (build_realestate_graph).
TEST_CITIES = (
    CitySpec("南京", "test", (
        DistrictSpec("鼓楼区", 52000, ("宁海路", "江东"), 5, ("琅琊路小学", "力学小学")),
        DistrictSpec("建邺区", 47000, ("奥体", "兴隆"), 5, ("莫愁湖小学", "新城小学")),
    ), ("金陵中学", "树人中学"), (
        StationSpec("云南路", "鼓楼区", (4,)), StationSpec("草场门", "鼓楼区", (4, 9)),
        StationSpec("奥体中心", "建邺区", (2,)), StationSpec("元通", "建邺区", (2, 10)),
    )),
)
TEST_STREAM = 1_000_003  # the test city's random stream is seeded with seed + TEST_STREAM
XIAOQU_PREFIXES = ("翠苑", "金色", "绿城", "阳光", "桂花", "紫金", "湖畔", "春江", "星河", "云栖", "和园",
                   "枫丹", "锦绣", "望江", "丽景", "晴川", "天阳", "嘉园", "海棠", "东方", "香樟", "银湖",
                   "运河", "玉泉", "凤凰", "梧桐", "兰亭", "水岸", "明珠", "御景")
XIAOQU_SUFFIXES = ("花园", "家园", "府", "公寓", "小区", "苑", "名邸", "新村")
LAYOUTS = ((1, 1, 1, 42, 60), (2, 1, 1, 62, 88), (3, 2, 1, 86, 118), (3, 2, 2, 105, 135), (4, 2, 2, 130, 170))
LAYOUT_WEIGHTS = (1, 4, 4, 3, 2)
ORIENTATIONS = ("南北通透", "朝南", "朝东", "朝西", "东南")
RENOVATIONS = ("毛坯", "简装", "精装")


def build_realestate_graph(seed: int = 0) -> nx.DiGraph:
    """Build the whole graph from ``seed`` (deterministic; a few milliseconds)."""
    rng = random.Random(seed)
    g = nx.DiGraph(name="realestate", seed=seed)
    counters = {"C": 0, "L": 0, "S": 0, "M": 0}
    names = iter(rng.sample([p + s for p in XIAOQU_PREFIXES for s in XIAOQU_SUFFIXES], 60))
    for spec in CITIES:
        _add_city(g, rng, spec, counters, names)
    g = _renumber_schools(g, random.Random(seed + 1))
    _add_test_cities(g, random.Random(seed + TEST_STREAM), counters)
    return g


def _add_test_cities(g: nx.DiGraph, rng: random.Random, counters: dict) -> None:
    """Add ``TEST_CITIES`` after the others: unused 小区 names, codes continuing the others', and
    two-digit school codes the other cities left free."""
    taken = {d["name"] for _, d in g.nodes(data=True) if d["kind"] == "xiaoqu"}
    names = iter(rng.sample([p + s for p in XIAOQU_PREFIXES for s in XIAOQU_SUFFIXES if p + s not in taken],
                            sum(d.xiaoqu_count for c in TEST_CITIES for d in c.districts)))
    used = {d["code"] for _, d in g.nodes(data=True) if d["kind"] == "school"}
    counters["S"] = 1000  # provisional codes S1001...: never one of the two-digit codes already given
    for spec in TEST_CITIES:
        _add_city(g, rng, spec, counters, names)
    new = [n for n, d in g.nodes(data=True) if d["kind"] == "school" and d["code"] not in used]
    free = [f"S{number}" for number in range(10, 100) if f"S{number}" not in used]
    _recode_schools(g, new, rng.sample(free, len(new)))


def _renumber_schools(g: nx.DiGraph, rng: random.Random) -> nx.DiGraph:
    """Give the schools two-digit codes (S10-S99) drawn at random, so held-out cities' codes have the
    same shape as the training city's (numbered in order, 苏州's were all S41-S60 and an advisor wrote
    S5 for S59: it had never seen a code past S40)."""
    schools = [n for n, d in g.nodes(data=True) if d["kind"] == "school"]
    return _recode_schools(g, schools, [f"S{number}" for number in rng.sample(range(10, 100), len(schools))])


def _recode_schools(g: nx.DiGraph, schools: list[str], new_codes: list[str]) -> nx.DiGraph:
    """Give ``schools`` (node ids) ``new_codes`` in order, renaming their nodes and 校区 links to match.

    Returns a relabelled copy when every school is recoded (node order kept), else relabels in place.
    """
    codes = {g.nodes[n]["code"]: code for n, code in zip(schools, new_codes)}
    for node in schools:
        data = g.nodes[node]
        data["code"] = codes[data["code"]]
        if "campus_of" in data:
            data["campus_of"] = codes[data["campus_of"]]
    mapping = {n: f"school:{g.nodes[n]['code']}" for n in schools}
    in_place = len(schools) < sum(1 for _, d in g.nodes(data=True) if d["kind"] == "school")
    return nx.relabel_nodes(g, mapping, copy=not in_place)


def _next_id(counters: dict, prefix: str) -> str:
    counters[prefix] += 1
    return f"{prefix}{counters[prefix]}"


def _add_city(g: nx.DiGraph, rng: random.Random, spec: CitySpec, counters: dict, names) -> None:
    cid = f"city:{spec.name}"
    g.add_node(cid, kind="city", name=spec.name, pool=spec.pool)
    stations = _add_stations(g, rng, spec, counters)
    middle = [_add_school(g, rng, spec.name, name, "初中", i % 2 == 0, counters)
              for i, name in enumerate(spec.middle_schools)]
    xiaoqu_ids = []
    for district in spec.districts:
        did = f"district:{spec.name}:{district.name}"
        g.add_node(did, kind="district", name=district.name, city=spec.name, base_price=district.base_price)
        g.add_edge(cid, did, kind="contains")
        primary = [_add_school(g, rng, spec.name, name, "小学", i % 2 == 0, counters)
                   for i, name in enumerate(district.primary_schools)]
        for i in range(district.xiaoqu_count):
            bankuai = district.bankuai[i % len(district.bankuai)]
            bid = f"bankuai:{spec.name}:{district.name}:{bankuai}"
            if bid not in g:
                g.add_node(bid, kind="bankuai", name=bankuai, district=district.name, city=spec.name)
                g.add_edge(did, bid, kind="contains")
            xid = _add_xiaoqu(g, rng, spec, district, bankuai, counters, next(names))
            g.add_edge(bid, xid, kind="contains")
            g.add_edge(primary[i % len(primary)], xid, kind="covers")
            _link_stations(g, rng, xid, [s for s, d in stations if d == district.name])
            xiaoqu_ids.append(xid)
    for i, xid in enumerate(xiaoqu_ids):  # 初中 学区 are larger: consecutive blocks of 小区
        g.add_edge(middle[i * len(middle) // len(xiaoqu_ids)], xid, kind="covers")
    _rank_schools(g, spec.name)
    _split_campuses(g, spec.name, counters)


def _split_campuses(g: nx.DiGraph, city: str, counters: dict) -> None:
    """Every 小区 gets its own campus: a school covering several 小区 keeps the first and opens a 校区
    for each other one (same level, key, rank and activities; its own code and 学区).

    Many distinct codes per city make an advisor copy the 学区 code from its facts: with one code per
    school, a small model memorized code from rank (重点第1 -> S10) and wrote training-city codes for
    held-out schools.
    """
    schools = [n for n, d in g.nodes(data=True) if d["kind"] == "school" and d["city"] == city]
    for school in schools:
        covered = sorted((x for x in g.successors(school)), key=lambda x: int(x.split(":C")[1]))
        for number, xiaoqu in enumerate(covered[1:], start=2):
            code = _next_id(counters, "S")
            campus = {**g.nodes[school], "code": code, "name": f"{g.nodes[school]['name']}{_ORDINAL[number]}校区",
                      "campus_of": g.nodes[school]["code"]}
            g.add_node(f"school:{code}", **campus)
            g.remove_edge(school, xiaoqu)
            g.add_edge(f"school:{code}", xiaoqu, kind="covers")


_ORDINAL = dict(enumerate("零一二三四五六七八九十", start=0))


def _add_stations(g: nx.DiGraph, rng: random.Random, spec: CitySpec, counters: dict) -> list[tuple[str, str]]:
    out = []
    for station in spec.stations:
        sid = _next_id(counters, "M")
        g.add_node(f"station:{sid}", kind="station", code=sid, name=station.name, city=spec.name,
                   lines=list(station.lines), transfer=len(station.lines) > 1)
        out.append((f"station:{sid}", station.district))
    for line in sorted({line for s in spec.stations for line in s.lines}):
        on_line = [node for node, _ in out if line in g.nodes[node]["lines"]]
        for a, b in zip(on_line, on_line[1:]):
            g.add_edge(a, b, kind="next_stop", line=line)
    return out


def _add_school(g: nx.DiGraph, rng: random.Random, city: str, name: str, level: str, key: bool,
                counters: dict) -> str:
    """重点 schools are exam-oriented (one or two 素质 offerings); 普通 ones offer two to four."""
    sid = _next_id(counters, "S")
    chosen = set(rng.sample(ACTIVITIES, rng.choice((1, 2)) if key else rng.choice((2, 3, 3, 4))))
    activities = [a for a in ACTIVITIES if a in chosen]
    g.add_node(f"school:{sid}", kind="school", code=sid, name=name, city=city, level=level,
               key="重点" if key else "普通", activities=activities, score=rng.uniform(0, 1) + key)
    return f"school:{sid}"


def _rank_schools(g: nx.DiGraph, city: str) -> None:
    """exam_rank: 1 = best exam results among the city's schools of one level (重点 schools first)."""
    for level in ("小学", "初中"):
        schools = [n for n, d in g.nodes(data=True) if d["kind"] == "school" and d["city"] == city
                   and d["level"] == level]
        for rank, node in enumerate(sorted(schools, key=lambda n: -g.nodes[n]["score"]), start=1):
            g.nodes[node]["exam_rank"] = rank
            del g.nodes[node]["score"]


def _add_xiaoqu(g: nx.DiGraph, rng: random.Random, city: CitySpec, district: DistrictSpec, bankuai: str,
                counters: dict, name: str) -> str:
    xid = _next_id(counters, "C")
    avg_price = round(district.base_price * rng.uniform(0.85, 1.2), -2)
    g.add_node(f"xiaoqu:{xid}", kind="xiaoqu", code=xid, name=name, city=city.name, district=district.name,
               bankuai=bankuai, pool=city.pool, avg_price=int(avg_price), year_built=rng.randint(1996, 2021),
               green_ratio=rng.randint(25, 45))
    for _ in range(LISTINGS_PER_XIAOQU):
        _add_listing(g, rng, f"xiaoqu:{xid}", counters)
    return f"xiaoqu:{xid}"


def _add_listing(g: nx.DiGraph, rng: random.Random, xiaoqu: str, counters: dict) -> None:
    lid = _next_id(counters, "L")
    rooms, halls, baths, low, high = rng.choices(LAYOUTS, LAYOUT_WEIGHTS)[0]
    area = rng.randint(low, high)
    unit_price = g.nodes[xiaoqu]["avg_price"] * rng.uniform(1 - PRICE_SPREAD, 1 + PRICE_SPREAD)
    total_floors = rng.choice((6, 7, 11, 18, 26, 32))
    g.add_node(f"listing:{lid}", kind="listing", code=lid, xiaoqu=g.nodes[xiaoqu]["code"],
               total_price=round(area * unit_price / 10000), area=area, rooms=rooms, halls=halls, baths=baths,
               floor=rng.randint(1, total_floors), total_floors=total_floors,
               orientation=rng.choice(ORIENTATIONS), renovation=rng.choice(RENOVATIONS),
               elevator=total_floors > 7 or rng.random() < 0.2)
    g.add_edge(xiaoqu, f"listing:{lid}", kind="has_listing")


def _link_stations(g: nx.DiGraph, rng: random.Random, xiaoqu: str, local: list[str]) -> None:
    """One or two stations of the 小区's district, walking 3-24 minutes."""
    count = 1 if len(local) < 2 or rng.random() < 0.4 else 2
    for station in rng.sample(local, count):
        g.add_edge(xiaoqu, station, kind="near", walk_minutes=rng.choice((3, 5, 6, 8, 9, 11, 12, 14, 18, 22, 24)))
