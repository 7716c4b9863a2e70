"""Synthetic car-spec knowledge graph: brands -> series -> trims (配置), with the parameters a car portal lists.

``build_auto_graph(seed)`` is deterministic: the same seed always gives the same graph. Brand and
series names are invented; no number is real data, but the numbers hang together: price follows class,
brand tier, energy and trim level; 0-100 km/h follows power-to-weight; fuel use follows weight and
power; CLTC range follows battery size and weight; 马力 is always ``round(kW * 1.36)``.

Schema (node id: attributes)::

    brand:<B01>    kind=brand, name, tier (经济/主流/豪华), style (传统/新势力)
    series:<S01>   kind=series, name, brand (node id), body (轿车/SUV/MPV), size_class (A0/A/B/C),
                   energies (燃油/混动/纯电 offered)
    trim:<T001>    kind=trim, series (node id), brand_name, series_name, year (款), trim_name, full_name
                   ("2024款 星驰逐风 PHEV 豪华型"), level (0 = entry trim), energy, body, size_class,
                   price (指导价, 万元), engine ("1.5T", None for 纯电), displacement (L, None for 纯电),
                   power_kw, power_ps, torque (N·m), transmission, accel (0-100 km/h, s),
                   fuel (WLTC L/100km, 混动 = 亏电油耗, None for 纯电), range_km (CLTC, 混动 = 纯电续航,
                   None for 燃油), length, width, height, wheelbase (mm), weight (整备质量, kg), seats, drive

Edges: brand -> series (has_series), series -> trim (has_trim).

The test split's brands (:data:`TEST_BRANDS`, tier 超豪华) and series (:data:`TEST_SERIES`) come last,
from their own random stream (``seed + TEST_STREAM``), so adding them left every other node unchanged.
Every test trim costs more than 75万 (:data:`TEST_MIN_PRICE`), out of reach of any recommendation with
a budget up to 60万 (its candidates cost at most 1.25 x the budget), so no training or dev question
lists one.

>>> g = build_auto_graph(0)
>>> t = g.nodes["trim:T001"]
>>> t["full_name"], t["power_ps"] == round(t["power_kw"] * PS_PER_KW)
('2023款 星驰逐风 1.5T 舒适型', True)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import networkx as nx

from knowledge_graphs.io import load_graph, save_graph

__all__ = ["BRANDS", "SERIES", "PS_PER_KW", "build_auto_graph", "kw_to_ps", "save_graph", "load_graph"]

PS_PER_KW = 1.36
MODEL_YEARS = (2023, 2024, 2025)


@dataclass(frozen=True)
class BrandSpec:
    code: str
    name: str
    tier: str  # 经济 / 主流 / 豪华
    style: str  # 传统 (engine + 舒适型/豪华型 trims) / 新势力 (Pro/Max/Ultra trims)


@dataclass(frozen=True)
class SeriesSpec:
    brand: str
    name: str
    body: str
    size_class: str
    energies: tuple[str, ...]
    seats: int = 5
    offroad: bool = False


BRANDS = (
    BrandSpec("B01", "星驰", "主流", "传统"), BrandSpec("B02", "云岚", "主流", "新势力"),
    BrandSpec("B03", "锐腾", "经济", "传统"), BrandSpec("B04", "北辰", "主流", "传统"),
    BrandSpec("B05", "凌峰", "豪华", "传统"), BrandSpec("B06", "远岫", "豪华", "新势力"),
    BrandSpec("B07", "青麦", "经济", "新势力"), BrandSpec("B08", "曜石", "豪华", "传统"),
    BrandSpec("B09", "松原", "主流", "传统"), BrandSpec("B10", "极岸", "主流", "新势力"),
    BrandSpec("B11", "澜途", "主流", "传统"), BrandSpec("B12", "骁骑", "主流", "传统"),
    BrandSpec("B13", "驿家", "经济", "传统"), BrandSpec("B14", "辰光", "主流", "新势力"),
    BrandSpec("B15", "斐然", "豪华", "新势力"),
)

SERIES = (
    SeriesSpec("B01", "逐风", "轿车", "A", ("燃油", "混动")), SeriesSpec("B01", "凌云", "SUV", "A", ("燃油", "混动")),
    SeriesSpec("B01", "天穹", "SUV", "B", ("混动",)), SeriesSpec("B02", "青霄", "轿车", "B", ("纯电",)),
    SeriesSpec("B02", "澄空", "SUV", "B", ("纯电",)), SeriesSpec("B02", "知遥", "SUV", "C", ("纯电",), seats=6),
    SeriesSpec("B03", "小满", "轿车", "A0", ("燃油",)), SeriesSpec("B03", "谷雨", "SUV", "A0", ("燃油",)),
    SeriesSpec("B03", "立夏", "轿车", "A", ("燃油",)), SeriesSpec("B04", "启明", "轿车", "A", ("混动", "纯电")),
    SeriesSpec("B04", "长庚", "SUV", "B", ("混动",)), SeriesSpec("B04", "太白", "MPV", "C", ("混动",), seats=7),
    SeriesSpec("B04", "北斗", "SUV", "A", ("纯电",)), SeriesSpec("B05", "雪岭", "轿车", "B", ("燃油",)),
    SeriesSpec("B05", "云脊", "SUV", "B", ("燃油", "纯电")), SeriesSpec("B05", "天阙", "轿车", "C", ("燃油", "混动")),
    SeriesSpec("B06", "山岚", "SUV", "C", ("混动",), seats=6), SeriesSpec("B06", "溪谷", "SUV", "B", ("混动",)),
    SeriesSpec("B07", "豆豆", "轿车", "A0", ("纯电",)), SeriesSpec("B07", "麦穗", "SUV", "A0", ("纯电",)),
    SeriesSpec("B08", "黑曜", "轿车", "B", ("燃油",)), SeriesSpec("B08", "玄武", "SUV", "C", ("燃油", "纯电")),
    SeriesSpec("B08", "赤焰", "轿车", "B", ("纯电",)), SeriesSpec("B09", "松韵", "轿车", "B", ("燃油", "混动")),
    SeriesSpec("B09", "松柏", "SUV", "A", ("燃油", "混动")), SeriesSpec("B09", "松涛", "MPV", "B", ("混动",), seats=7),
    SeriesSpec("B10", "潮汐", "轿车", "B", ("纯电",)), SeriesSpec("B10", "浪花", "SUV", "A", ("纯电",)),
    SeriesSpec("B10", "海岬", "SUV", "C", ("纯电",), seats=7), SeriesSpec("B11", "澜庭", "MPV", "C", ("混动",), seats=7),
    SeriesSpec("B11", "澜境", "SUV", "B", ("燃油", "混动")),
    SeriesSpec("B12", "烈风", "SUV", "B", ("燃油",), offroad=True),
    SeriesSpec("B12", "荒原", "SUV", "C", ("燃油", "混动"), seats=7, offroad=True),
    SeriesSpec("B13", "安居", "MPV", "A", ("燃油",), seats=7), SeriesSpec("B13", "乐途", "MPV", "B", ("燃油",), seats=7),
    SeriesSpec("B14", "晨曦", "轿车", "A", ("纯电",)), SeriesSpec("B14", "暮光", "SUV", "B", ("纯电",)),
    SeriesSpec("B14", "极光", "SUV", "A", ("纯电",)), SeriesSpec("B15", "流萤", "轿车", "C", ("纯电",)),
    SeriesSpec("B15", "星环", "SUV", "C", ("纯电",)),
)

# The test split's brands and series, generated after everything else (build_auto_graph).
TEST_BRANDS = (BrandSpec("B16", "瀚宸", "超豪华", "传统"), BrandSpec("B17", "曦穹", "超豪华", "新势力"))
TEST_SERIES = (
    SeriesSpec("B16", "鎏金", "轿车", "C", ("燃油", "混动")), SeriesSpec("B16", "翡翠", "SUV", "C", ("燃油",), seats=7),
    SeriesSpec("B16", "青铜", "MPV", "C", ("混动",), seats=7), SeriesSpec("B17", "琉璃", "轿车", "C", ("纯电",)),
    SeriesSpec("B17", "珊瑚", "SUV", "C", ("纯电",), seats=6), SeriesSpec("B17", "琥珀", "SUV", "C", ("混动",)),
)
TEST_STREAM = 1_000_003  # the test brands' random stream is seeded with seed + TEST_STREAM
TEST_MIN_PRICE = 75.0  # every test trim costs more (checked by the tests)
CLASSES = ("A0", "A", "B", "C")
BASE_PRICE = {"轿车": (6.5, 11.0, 17.0, 28.0), "SUV": (7.5, 13.0, 20.0, 32.0), "MPV": (9.0, 12.0, 20.0, 33.0)}
TIER_PRICE = {"经济": 0.8, "主流": 1.0, "豪华": 1.55, "超豪华": 4.0}
LUXURY_TIERS = ("豪华", "超豪华")
ENERGY_PRICE = {"燃油": 1.0, "混动": 1.08, "纯电": 1.12}
LEVEL_PRICE = (1.0, 1.13, 1.28)
BASE_WEIGHT = {"轿车": (1150, 1350, 1550, 1800), "SUV": (1250, 1500, 1750, 2050), "MPV": (1400, 1550, 1850, 2150)}
ENERGY_WEIGHT = {"燃油": 0, "混动": 250, "纯电": 320}
LENGTH = {"轿车": (4150, 4720, 4920, 5080), "SUV": (4250, 4560, 4780, 5050), "MPV": (4400, 4700, 5000, 5200)}
WIDTH = {"轿车": (1720, 1830, 1860, 1900), "SUV": (1780, 1860, 1910, 1980), "MPV": (1780, 1820, 1890, 1960)}
HEIGHT = {"轿车": (1480, 1460, 1450, 1470), "SUV": (1600, 1660, 1690, 1760), "MPV": (1700, 1750, 1780, 1820)}
WHEELBASE_RATIO = {"轿车": 0.59, "SUV": 0.6, "MPV": 0.61}
ACCEL_FACTOR = {"燃油": 0.92, "混动": 0.8, "纯电": 0.76}  # 0-100 = factor * (kg/kW) ** 0.9
ICE_LEVELS = ("舒适型", "精英型", "豪华型", "旗舰型")
EV_LEVELS = ("标准续航版", "长续航版", "四驱性能版")
NEW_LEVELS = ("Pro", "Max", "Ultra")


def kw_to_ps(kw: int) -> int:
    """马力 (PS) of a power in kW, rounded as spec sheets do.

    >>> kw_to_ps(150), kw_to_ps(120)
    (204, 163)
    """
    return round(kw * PS_PER_KW)


def build_auto_graph(seed: int = 0) -> nx.DiGraph:
    """Build the whole graph from ``seed`` (deterministic; a few milliseconds)."""
    rng = random.Random(seed)
    g = nx.DiGraph(name="auto", seed=seed, trims=0)
    _add_brands(g, rng, BRANDS, SERIES, first_series=1)
    _add_brands(g, random.Random(seed + TEST_STREAM), TEST_BRANDS, TEST_SERIES, first_series=len(SERIES) + 1)
    return g


def _add_brands(g: nx.DiGraph, rng: random.Random, brands: tuple[BrandSpec, ...], series: tuple[SeriesSpec, ...],
                first_series: int) -> None:
    """Brand nodes, then each series (numbered from ``first_series``) with its trims."""
    by_code = {b.code: b for b in brands}
    for b in brands:
        g.add_node(f"brand:{b.code}", kind="brand", name=b.name, tier=b.tier, style=b.style)
    for number, spec in enumerate(series, start=first_series):
        sid = f"series:S{number:02d}"
        g.add_node(sid, kind="series", name=spec.name, brand=f"brand:{spec.brand}", body=spec.body,
                   size_class=spec.size_class, energies=list(spec.energies))
        g.add_edge(f"brand:{spec.brand}", sid, kind="has_series")
        _add_trims(g, rng, sid, spec, by_code[spec.brand])


def _series_years(rng: random.Random) -> tuple[int, ...]:
    roll = rng.random()
    return (2024, 2025) if roll < 0.5 else (2025,) if roll < 0.8 else (2023, 2024)


def _trim_plan(rng: random.Random, spec: SeriesSpec) -> list[tuple[str, int]]:
    """(energy, level) of each trim offered per model year: 2 or 3 trims in all."""
    if len(spec.energies) == 2:
        first, second = spec.energies
        return [(first, 0), (first, 1), (second, 1)] if rng.random() < 0.5 else [(first, 0), (second, 1)]
    count = 3 if rng.random() < 0.3 and spec.size_class != "A0" else 2
    start = 0 if count == 3 or spec.size_class == "A0" or rng.random() < 0.7 else 1
    return [(spec.energies[0], level) for level in range(start, start + count)]


def _add_trims(g: nx.DiGraph, rng: random.Random, sid: str, spec: SeriesSpec, brand: BrandSpec) -> None:
    size = CLASSES.index(spec.size_class)
    body = {"length": LENGTH[spec.body][size] + rng.randrange(-60, 61, 5),
            "width": WIDTH[spec.body][size] + rng.randrange(-20, 21, 5),
            "height": HEIGHT[spec.body][size] + rng.randrange(-25, 26, 5) + (60 if spec.offroad else 0),
            "weight": rng.randrange(-60, 61, 10), "battery": rng.choice((-4, -2, 0, 2, 4))}
    plan, years = _trim_plan(rng, spec), _series_years(rng)
    price_jitters = [rng.uniform(0.96, 1.04) for _ in plan]
    power_jitters = {energy: rng.uniform(0.97, 1.03) for energy in spec.energies}  # one tune per powertrain
    facelift_cut = rng.choice((0.02, 0.03, 0.04))  # the newer model year is a little cheaper
    for age, year in enumerate(years):
        for (energy, level), price_jitter in zip(plan, price_jitters):
            power_jitter = power_jitters[energy] * (1 + 0.04 * age)
            trim = _trim(spec, brand, energy, level, size, body, price_jitter, power_jitter)
            if age:  # facelift: a small price cut, a slightly longer body, a little more power
                trim["price"] = _price_tag(trim["price"] * (1 - facelift_cut * age))
                trim["length"] += 10
            tid = f"trim:T{g.graph['trims'] + 1:03d}"
            g.graph["trims"] += 1
            full_name = f"{year}款 {brand.name}{spec.name} {trim['trim_name']}"
            g.add_node(tid, kind="trim", series=sid, brand_name=brand.name, series_name=spec.name, year=year,
                       full_name=full_name, level=level, **trim)
            g.add_edge(sid, tid, kind="has_trim")


def _trim_name(spec: SeriesSpec, brand: BrandSpec, energy: str, level: int, engine: str | None) -> str:
    if brand.style == "新势力":
        return NEW_LEVELS[level]
    if energy == "纯电":
        return f"EV {EV_LEVELS[level]}"
    if energy == "混动":
        return f"PHEV {ICE_LEVELS[level + 1]}"
    return f"{engine} {ICE_LEVELS[level + (1 if spec.size_class == 'C' else 0)]}"


def _engine(spec: SeriesSpec, brand: BrandSpec, level: int) -> tuple[str, float, int]:
    """(label, displacement L, base kW) of the petrol engine a trim level gets."""
    if spec.size_class == "A0":
        return "1.5L", 1.5, 84
    if spec.size_class == "A":
        return "1.5T", 1.5, 120
    if spec.size_class == "B" and level < 2 and not spec.offroad and brand.tier not in LUXURY_TIERS:
        return "1.5T", 1.5, 135
    if spec.size_class == "C" and level == 2 and brand.tier in LUXURY_TIERS:
        return "3.0T", 3.0, 265
    return "2.0T", 2.0, 180 if spec.size_class == "C" else 165


def _drive(spec: SeriesSpec, brand: BrandSpec, energy: str, level: int) -> str:
    if spec.offroad or (level == 2 and (energy == "纯电" or spec.size_class in ("B", "C"))):
        return "四驱"
    if energy == "纯电" and brand.style == "新势力" and spec.size_class != "A0":
        return "后驱"
    return "前驱"


def _trim(spec: SeriesSpec, brand: BrandSpec, energy: str, level: int, size: int, body: dict,
          price_jitter: float, power_jitter: float) -> dict:
    """Every parameter of one trim, derived so that the numbers agree with each other."""
    drive = _drive(spec, brand, energy, level)
    weight = BASE_WEIGHT[spec.body][size] + ENERGY_WEIGHT[energy] - (170 if energy == "纯电" and size == 0 else 0)
    weight += body["weight"] + 30 * level + (100 if drive == "四驱" else 0)
    engine, displacement, transmission, fuel, range_km = None, None, "单速", None, None
    if energy == "燃油":
        engine, displacement, kw = _engine(spec, brand, level)
        kw *= 1.1 if brand.tier in LUXURY_TIERS else 1.0
        transmission = "CVT" if engine == "1.5L" else "7DCT" if engine == "1.5T" else "8AT"
    elif energy == "混动":
        engine, displacement, transmission = "1.5T", 1.5, "DHT" if brand.style == "新势力" else "E-CVT"
        kw = (150, 150, 190, 235)[size] + (110 if drive == "四驱" else 0)
    else:
        kw = (60, 135, 180, 220)[size] + ((0, 100, 150, 180)[size] if drive == "四驱" else 0)
    kw = round(kw * power_jitter)
    torque = _round_to(kw * (1.72 if engine == "1.5L" else 2.1 if energy == "燃油" else 1.9 if energy == "混动"
                             else 2.4 if drive != "四驱" else 1.75), 5)
    ratio = weight / kw
    accel = ACCEL_FACTOR[energy] * ratio ** 0.9 * (1.2 if engine == "1.5L" else 1.0) * (0.93 if drive == "四驱" else 1.0)
    if energy == "燃油":
        fuel = round(2.0 + weight / 500 + kw / 80 + (0.6 if drive == "四驱" else 0.0), 1)
    if energy == "混动":
        fuel = round(1.8 + weight / 700 + kw / 200, 1)
        range_km = _round_to((12 + 6 * size + 4 * level) / (9 + weight / 500) * 100, 5)
    if energy == "纯电":
        battery = (30, 52, 66, 82)[size] + (14 if level else 0) + body["battery"]
        range_km = _round_to(battery / (9 + weight / 500 + (1.5 if drive == "四驱" else 0)) * 100, 5)
    price = BASE_PRICE[spec.body][size] * TIER_PRICE[brand.tier] * ENERGY_PRICE[energy] * LEVEL_PRICE[level]
    price *= 1.08 if drive == "四驱" and not spec.offroad else 1.0
    length = body["length"]
    return {
        "trim_name": _trim_name(spec, brand, energy, level, engine), "energy": energy, "body": spec.body,
        "size_class": spec.size_class, "price": _price_tag(price * price_jitter), "engine": engine,
        "displacement": displacement, "power_kw": kw, "power_ps": kw_to_ps(kw), "torque": torque,
        "transmission": transmission, "accel": max(2.9, round(accel, 1)), "fuel": fuel, "range_km": range_km,
        "length": length, "width": body["width"], "height": body["height"],
        "wheelbase": _round_to(length * WHEELBASE_RATIO[spec.body] * (1.02 if energy == "纯电" else 1.0), 5),
        "weight": weight, "seats": 5 if spec.body == "轿车" else spec.seats, "drive": drive,
    }


def _round_to(value: float, step: int) -> int:
    return int(round(value / step) * step)


def _price_tag(price: float) -> float:
    """A list price as portals print it: two decimals ending in 8 (e.g. 15.98)."""
    return round(max(3.0, round(price, 1)) - 0.02, 2)
