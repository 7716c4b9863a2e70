"""Import a 二手房 knowledge graph from 小区, listing and POI tables, with the schema of
:mod:`knowledge_graphs.realestate`.

Table kinds and fields (``*`` = required)::

    xiaoqu    name* city* district* bankuai avg_price year_built green_ratio lng lat primary_school middle_school
    listings  xiaoqu* area* city code total_price unit_price layout rooms halls baths floor total_floors
              orientation renovation elevator
    pois      name* category* city* lng lat lines line order key exam_rank activities

Cleaning beyond :mod:`knowledge_graphs.importers.common`: ``650万`` (total price, 万), ``104,569元/平``
(unit price), ``89.5平米``/``89.5㎡`` (area), ``2 室 2 厅 1 卫`` (layout), ``12/18``, ``12层/共18层`` and
``中楼层(共18层)`` (floor; a band keeps ``floor`` None and sets ``floor_band``), ``2008年`` and ``35%``.
A listing with both a total and a unit price whose product with the area disagrees by more than
``price_tolerance`` is dropped (``total_price_disagrees_with_unit_price``); a listing of a 小区 that no
小区 table named is dropped (``unknown_xiaoqu``): import the 小区 table first.

学区 and metro, when a 小区 names no school (``primary_school``/``middle_school`` columns): the nearest
school of each level in the same city within ``school_radius_m`` (小学) or ``middle_school_radius_m``
(初中) covers it (edge ``derived=True``,
``distance_m``); stations of the same city within ``metro_radius_m`` (at most ``max_stations``, nearest
first) get a ``near`` edge with ``distance_m`` and ``walk_minutes = ceil(distance × detour / walk_speed)``.
Coordinates are WGS-84 degrees; distances are great-circle (haversine). A station table with one row
per station and line (``line`` + ``order`` = 站序) also gives the ``next_stop`` edges.

>>> round(haversine_m(120.15, 30.28, 120.16, 30.28))
960
>>> walk_minutes(960, detour=1.3, speed=80)
16
>>> parse_floor("中楼层(共18层)"), parse_floor("12/18"), parse_floor("12层/共18层")
((None, 18, '中'), (12, 18, None), (12, 18, None))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import networkx as nx

from knowledge_graphs.codes import LISTING_CODE_RULE, is_listing_code
from knowledge_graphs.importers.common import (
    CellError, GraphSchema, ImportReport, MappingError, TableMapping, canonical_options, check_fields, import_rows,
    parse_layout, schema_problems, split_list,
)

SCHEMA = GraphSchema(
    nodes={"city": frozenset({"name", "pool"}),
           "district": frozenset({"name", "city", "base_price"}),
           "bankuai": frozenset({"name", "district", "city"}),
           "xiaoqu": frozenset({"code", "name", "city", "district", "bankuai", "pool", "avg_price", "year_built",
                                "green_ratio"}),
           "listing": frozenset({"code", "xiaoqu", "total_price", "area", "rooms", "halls", "baths", "floor",
                                 "total_floors", "orientation", "renovation", "elevator"}),
           "school": frozenset({"code", "name", "city", "level", "key", "exam_rank", "activities"}),
           "station": frozenset({"code", "name", "city", "lines", "transfer"})},
    edges={"contains": (("city", "district"), ("district", "bankuai"), ("bankuai", "xiaoqu")),
           "has_listing": (("xiaoqu", "listing"),), "covers": (("school", "xiaoqu"),),
           "near": (("xiaoqu", "station"),), "next_stop": (("station", "station"),)},
)
KINDS = {
    "xiaoqu": ({"name", "city", "district"}, {"bankuai", "avg_price", "year_built", "green_ratio", "lng", "lat",
                                               "primary_school", "middle_school"}),
    "listings": ({"xiaoqu", "area"}, {"city", "code", "total_price", "unit_price", "layout", "rooms", "halls",
                                      "baths", "floor", "total_floors", "orientation", "renovation", "elevator",
                                      # used only to create the 小区 (options.create_xiaoqu)
                                      "district", "bankuai", "year_built", "lng", "lat"}),
    "pois": ({"name", "category", "city"}, {"lng", "lat", "lines", "line", "order", "key", "exam_rank", "activities"}),
}
# field -> the fields that fill it when it has no column (the import report lists a field as absent otherwise);
# a listing's place fields only matter when it creates its 小区, which the 小区 table does otherwise
COVERED_BY = {"rooms": ("layout",), "halls": ("layout",), "baths": ("layout",), "layout": ("rooms",),
              "total_floors": ("floor",), "unit_price": ("total_price",), "total_price": ("unit_price",),
              **{name: ("xiaoqu",) for name in ("city", "district", "bankuai", "year_built", "lng", "lat")}}
OPTIONS = {"school_radius_m": 1000, "middle_school_radius_m": 3000, "metro_radius_m": 1500, "max_stations": 2, "walk_speed_m_per_min": 80,
           "detour": 1.3, "price_tolerance": 0.02, "eval_cities": [], "create_xiaoqu": False}
# POI category as written (a portal's "科教文化服务;学校;小学" too) -> school level or station: the first
# word found wins, so 高中/高级中学 (not modelled) are read before 中学 (初中).
HIGH_SCHOOL = re.compile(r"高级中学|高中")
CATEGORY_WORDS = (("高级中学", None), ("高中", None), ("小学", "小学"), ("初中", "初中"), ("初级中学", "初中"),
                  ("中学", "初中"), ("地铁", "station"), ("轻轨", "station"), ("轨道交通", "station"))
EARTH_RADIUS_M = 6_371_000
FLOOR_BANDS = ("低", "中", "高")


def haversine_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def walk_minutes(distance_m: float, detour: float, speed: float) -> int:
    """Walking minutes for a straight-line distance: streets are ``detour`` times longer."""
    return max(1, math.ceil(distance_m * detour / speed))


def parse_floor(text: str) -> tuple[int | None, int | None, str | None]:
    """(floor, total floors, band 低/中/高) from ``12/18``, ``12层/共18层`` or ``中楼层(共18层)``."""
    body = text.replace(" ", "")
    match = re.fullmatch(r"(\d+)层?/(?:共)?(\d+)层?", body)
    if match:
        return int(match.group(1)), int(match.group(2)), None
    match = re.fullmatch(r"([低中高])(?:楼层|层)?\(?共(\d+)层\)?", body)
    if match:
        return None, int(match.group(2)), match.group(1)
    raise CellError("not_a_floor")


def poi_category(text: str) -> str | None:
    """小学, 初中 or station for a POI category as written; None for one the graph does not model.

    >>> poi_category("科教文化服务;学校;小学"), poi_category("交通设施服务;地铁站"), poi_category("高级中学"), poi_category("医院")
    ('小学', 'station', None, None)
    """
    return next((kind for word, kind in CATEGORY_WORDS if word in text), None)


def parse_line(text: str) -> int | str:
    """A metro line: its number for ``2号线``/``2``/``地铁2号线``, else its name (``亦庄线``, ``西郊线``).

    >>> parse_line("地铁2号线"), parse_line("4"), parse_line("亦庄线"), parse_line("S1线")
    (2, 4, '亦庄线', 'S1线')
    """
    match = re.fullmatch(r"(?:地铁)?(\d+)(?:号线)?", text.strip())
    return int(match.group(1)) if match else text.strip().removeprefix("地铁")


def line_sort_key(line: int | str) -> tuple[int, int | str]:
    """Numbered lines first, by number, then named ones, by name."""
    return (0, line) if isinstance(line, int) else (1, line)


@dataclass
class RealEstateImport:
    graph: nx.DiGraph = field(default_factory=lambda: nx.DiGraph(name="realestate", imported=True))
    counters: dict = field(default_factory=lambda: {"C": 0, "L": 0, "S": 0, "M": 0})
    options: dict = field(default_factory=lambda: dict(OPTIONS))
    assigned: list = field(default_factory=list)  # (xiaoqu node, level, school name, report)
    coords: dict = field(default_factory=dict)  # node -> (lng, lat)
    xiaoqu_reports: dict = field(default_factory=dict)  # xiaoqu node -> report of its table
    line_orders: dict = field(default_factory=dict)  # (city, line) -> [(order, station node)]
    unit_prices: dict = field(default_factory=dict)  # listing node -> 元/平 before the area is rounded
    by_name: dict = field(default_factory=dict)  # (kind, name) -> node ids: lookups stay O(1) on 40,000 rows

    def add_table(self, path: str, mapping: TableMapping, report: ImportReport) -> None:
        check_fields(mapping, KINDS)
        options = canonical_options(mapping, OPTIONS)
        self.options.update({k: v for k, v in mapping.options.items()})
        self.options["eval_cities"] = sorted(set(self.options["eval_cities"]) | set(options["eval_cities"]))
        handler = {"xiaoqu": self._xiaoqu_row, "listings": self._listing_row, "pois": self._poi_row}[mapping.kind]
        create = bool(options["create_xiaoqu"]) and mapping.kind == "listings"
        import_rows(path, mapping, report, lambda row: handler(row, report, create) if create else handler(row, report))

    def _code(self, prefix: str) -> str:
        self.counters[prefix] += 1
        return f"{prefix}{self.counters[prefix]}"

    def _add(self, node: str, **attrs) -> None:
        self.graph.add_node(node, **attrs)
        if "name" in attrs:
            self.by_name.setdefault((attrs["kind"], attrs["name"]), []).append(node)

    def _find(self, kind: str, name: str, city: str | None = None) -> list[str]:
        return [n for n in self.by_name.get((kind, name), ()) if city is None or self.graph.nodes[n]["city"] == city]

    # ------------------------------------------------------------------ rows

    def _xiaoqu_row(self, row, report: ImportReport) -> None:
        name, city, district = row.required("name"), row.required("city"), row.required("district")
        attrs = dict(avg_price=row.integer("avg_price", "yuan_per_sqm"), year_built=row.integer("year_built", "year"),
                     green_ratio=row.integer("green_ratio", "percent"))
        schools = {"小学": row.text("primary_school"), "初中": row.text("middle_school")}
        if self._find("xiaoqu", name, city):
            raise CellError("conflicting_duplicate:xiaoqu")
        xid = self._new_xiaoqu(row, report, name, city, district, attrs)
        self.assigned += [(xid, level, school, report) for level, school in schools.items() if school]

    def _new_xiaoqu(self, row, report: ImportReport, name: str, city: str, district: str, attrs: dict) -> str:
        """Add a 小区 under its city -> district -> 板块 (the district stands in for a missing 板块)."""
        bankuai = row.text("bankuai")
        if bankuai is None:
            report.note("bankuai_missing")
        lng, lat = row.number("lng", "degrees"), row.number("lat", "degrees")
        bid = self._places(city, district, bankuai or district)
        code = self._code("C")
        xid = f"xiaoqu:{code}"
        self._add(xid, kind="xiaoqu", code=code, name=name, city=city, district=district, bankuai=bankuai or district,
                  pool=None, **attrs)
        self.graph.add_edge(bid, xid, kind="contains")
        self.xiaoqu_reports[xid] = report
        if lng is not None and lat is not None:
            self.coords[xid] = (lng, lat)
        return xid

    def _places(self, city: str, district: str, bankuai: str) -> str:
        """Add the city -> district -> 板块 chain as needed; the 板块 node id."""
        cid, did, bid = f"city:{city}", f"district:{city}:{district}", f"bankuai:{city}:{district}:{bankuai}"
        for node, parent, attrs in ((cid, None, dict(kind="city", name=city, pool=None)),
                                    (did, cid, dict(kind="district", name=district, city=city, base_price=None)),
                                    (bid, did, dict(kind="bankuai", name=bankuai, district=district, city=city))):
            if node not in self.graph:
                self._add(node, **attrs)
                if parent:
                    self.graph.add_edge(parent, node, kind="contains")
        return bid

    def _listing_xiaoqu(self, row, report: ImportReport, create: bool) -> str:
        """The listing's 小区; with ``create`` an unknown one is made from the row's city, district and 板块."""
        name, city = row.required("xiaoqu"), row.text("city")
        matches = self._find("xiaoqu", name, city)
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise CellError("ambiguous_xiaoqu")
        if not create:
            raise CellError("unknown_xiaoqu")
        if city is None:
            raise CellError("missing:city")
        attrs = dict(avg_price=None, year_built=row.integer("year_built", "year"), green_ratio=None)
        xid = self._new_xiaoqu(row, report, name, city, row.required("district"), attrs)
        report.note("xiaoqu_created_from_listings")
        return xid

    def _listing_row(self, row, report: ImportReport, create: bool = False) -> None:
        area = row.number("area", "sqm", True)
        total, unit = row.number("total_price", "wan_yuan"), row.number("unit_price", "yuan_per_sqm")
        if total is None and unit is None:
            raise CellError("missing:total_price")
        if total is not None and unit is not None and abs(unit * area / 1e4 / total - 1) > self.options["price_tolerance"]:
            raise CellError("total_price_disagrees_with_unit_price")
        rooms, halls, baths = (parse_layout(row.text("layout")) if row.text("layout")
                               else (row.integer("rooms", "count", True), row.integer("halls", "count") or 0,
                                     row.integer("baths", "count") or 1))
        floor_text = row.text("floor")
        floor, total_floors, band = (parse_floor(floor_text) if floor_text and not floor_text.rstrip("层").isdigit()
                                     else (row.integer("floor", "floors"), None, None))
        total_floors = row.integer("total_floors", "floors") or total_floors
        elevator = row.flag("elevator")
        code = self._listing_code(row)
        lid = f"listing:{code}"
        if lid in self.graph:
            raise CellError("conflicting_duplicate:listing")
        xid = self._listing_xiaoqu(row, report, create)  # last: a dropped row leaves no 小区 behind
        total = total if total is not None else unit * area / 1e4
        self.unit_prices[lid] = total * 1e4 / area
        self._add(lid, kind="listing", code=code, xiaoqu=self.graph.nodes[xid]["code"],
                  total_price=round(total), area=int(round(area)),
                  rooms=rooms, halls=halls, baths=baths, floor=floor, total_floors=total_floors,
                  orientation=row.text("orientation"), renovation=row.text("renovation"),
                  elevator=elevator if elevator is not None else bool(total_floors and total_floors > 7))
        if band:
            self.graph.nodes[lid]["floor_band"] = band
            report.note("floor_band_only")
        if elevator is None:
            report.note("elevator_from_total_floors")
        self.graph.add_edge(xid, lid, kind="has_listing")

    def _listing_code(self, row) -> str:
        """The table's code when it is a listing code (:mod:`knowledge_graphs.codes`), else an assigned ``L<n>``."""
        code = row.text("code")
        if code is not None and not is_listing_code(code):
            row.unreadable("code", False, "not_a_listing_code:code")
            code = None
        return code or self._code("L")

    def _poi_row(self, row, report: ImportReport) -> None:
        written, name, city = row.required("category"), row.required("name"), row.required("city")
        if HIGH_SCHOOL.search(name):  # map portals type a 高中 as 中学 too; the graph models 小学 and 初中 only
            raise CellError("not_modelled:高中")
        category = poi_category(written)
        if category is None:
            report.example_value("unknown_category", written)
            raise CellError("unknown_category")
        lng, lat = row.number("lng", "degrees"), row.number("lat", "degrees")
        if category == "station":
            lines = [parse_line(x) for x in split_list(row.text("lines"))]
            line = parse_line(row.text("line")) if row.text("line") else None
            order = row.integer("order", "count")
            node = self._station(name, city)
            merged = sorted(set(self.graph.nodes[node]["lines"]) | set(lines) | ({line} if line else set()),
                            key=line_sort_key)
            self.graph.nodes[node].update(lines=merged, transfer=len(merged) > 1)
            if line is not None and order is not None:
                self.line_orders.setdefault((city, line), []).append((order, node))
        else:
            exam_rank, activities, key = row.integer("exam_rank", "count"), split_list(row.text("activities")), row.text("key")
            if self._find("school", name, city):
                raise CellError("conflicting_duplicate:school")
            node = self._school(name, city, category)
            self.graph.nodes[node].update(exam_rank=exam_rank, activities=activities,
                                          key="重点" if key in ("重点", "是", "Y", "y", "1") else "普通")
        if lng is not None and lat is not None:
            self.coords[node] = (lng, lat)

    def _station(self, name: str, city: str) -> str:
        found = self._find("station", name, city)
        if found:
            return found[0]
        code = self._code("M")
        self._add(f"station:{code}", kind="station", code=code, name=name, city=city, lines=[], transfer=False)
        return f"station:{code}"

    def _school(self, name: str, city: str, level: str) -> str:
        code = self._code("S")
        self._add(f"school:{code}", kind="school", code=code, name=name, city=city, level=level, key="普通",
                  exam_rank=None, activities=[])
        return f"school:{code}"

    # ------------------------------------------------------------------ finishing

    def finish(self) -> nx.DiGraph:
        """学区 (explicit, else nearest within radius), metro distances, line order, prices and pools.

        Raises:
            MappingError: ``options.eval_cities`` names a city that no imported row is in.
        """
        absent = sorted(set(self.options["eval_cities"]) - {d["name"] for _, d in self._nodes("city")})
        if absent:
            raise MappingError(f"options.eval_cities names {', '.join(absent)}, but no imported 小区 is in that city "
                               "(all its rows dropped, or the name is spelled otherwise: see the report)")
        self._assign_schools()
        self._link_stations()
        for (_, line), stops in self.line_orders.items():
            ordered = [node for _, node in sorted(stops)]
            for a, b in zip(ordered, ordered[1:]):
                self.graph.add_edge(a, b, kind="next_stop", line=line)
        self._prices_and_pools()
        return self.graph

    def _nodes(self, kind: str, city: str | None = None) -> list[tuple[str, dict]]:
        return [(n, d) for n, d in self.graph.nodes(data=True) if d["kind"] == kind and (city is None or d["city"] == city)]

    def _by_city(self, kind: str) -> dict[str, list[str]]:
        """city -> node ids of ``kind`` that have coordinates."""
        out: dict[str, list[str]] = {}
        for node, data in self._nodes(kind):
            if node in self.coords:
                out.setdefault(data["city"], []).append(node)
        return out

    def _assign_schools(self) -> None:
        done = set()
        for xid, level, name, report in self.assigned:
            city = self.graph.nodes[xid]["city"]
            found = [n for n in self._find("school", name, city) if self.graph.nodes[n]["level"] == level]
            if not found:
                report.note("assigned_school_not_in_pois")
                found = [self._school(name, city, level)]
            self.graph.add_edge(found[0], xid, kind="covers", derived=False)
            done.add((xid, level))
        radii = {"小学": self.options["school_radius_m"], "初中": self.options["middle_school_radius_m"]}
        schools: dict[tuple[str, str], list[str]] = {}  # (city, level) -> schools with coordinates
        for city, nodes in self._by_city("school").items():
            for node in nodes:
                schools.setdefault((city, self.graph.nodes[node]["level"]), []).append(node)
        for xid, x in self._nodes("xiaoqu"):
            for level, radius in radii.items():
                if (xid, level) in done or self._covered(xid, level):
                    continue
                nearest = self._nearest(xid, schools.get((x["city"], level), []))
                if nearest and nearest[0] <= radius:
                    self.graph.add_edge(nearest[1], xid, kind="covers", derived=True, distance_m=round(nearest[0]))
                    self.xiaoqu_reports[xid].note(f"school_derived_by_distance:{level}")
                elif xid in self.xiaoqu_reports:
                    self.xiaoqu_reports[xid].note(f"no_school_within_radius:{level}")

    def _covered(self, xid: str, level: str) -> bool:
        return any(self.graph.edges[s, xid]["kind"] == "covers" and self.graph.nodes[s]["level"] == level
                   for s in self.graph.predecessors(xid))

    def _nearest(self, node: str, candidates: list[str]) -> tuple[float, str] | None:
        if node not in self.coords:
            return None
        here = self.coords[node]
        return min(((haversine_m(*here, *self.coords[c]), c) for c in candidates if c in self.coords), default=None)

    def _link_stations(self) -> None:
        o = self.options
        stations = self._by_city("station")
        for xid, x in self._nodes("xiaoqu"):
            if xid not in self.coords or any(self.graph.edges[xid, s]["kind"] == "near" for s in self.graph.successors(xid)):
                continue
            here = self.coords[xid]
            dists = sorted((haversine_m(*here, *self.coords[s]), s) for s in stations.get(x["city"], ()))
            close = [(d, s) for d, s in dists if d <= o["metro_radius_m"]][: o["max_stations"]]
            for distance, station in close:
                self.graph.add_edge(xid, station, kind="near", distance_m=round(distance),
                                    walk_minutes=walk_minutes(distance, o["detour"], o["walk_speed_m_per_min"]))
            if not close and xid in self.xiaoqu_reports:
                self.xiaoqu_reports[xid].note("no_station_within_radius")

    def _prices_and_pools(self) -> None:
        eval_cities = set(self.options["eval_cities"])
        district_prices: dict[tuple[str, str], list[int]] = {}
        for xid, x in self._nodes("xiaoqu"):
            if x["avg_price"] is None:
                units = [self.unit_prices[n] for n in self.graph.successors(xid) if n in self.unit_prices]
                if units:
                    x["avg_price"] = int(round(sum(units) / len(units), -2))
                    self.xiaoqu_reports[xid].note("avg_price_from_listings")
            x["pool"] = "eval" if x["city"] in eval_cities else "train"
            if x["avg_price"]:
                district_prices.setdefault((x["city"], x["district"]), []).append(x["avg_price"])
        for _, c in self._nodes("city"):
            c["pool"] = "eval" if c["name"] in eval_cities else "train"
        for _, d in self._nodes("district"):
            prices = district_prices.get((d["city"], d["name"]))
            d["base_price"] = int(round(sum(prices) / len(prices), -2)) if prices else None


def start(graph: nx.DiGraph | None = None) -> RealEstateImport:
    if graph is None:
        return RealEstateImport()
    state = RealEstateImport(graph=graph)
    for node, d in graph.nodes(data=True):
        if "name" in d:
            state.by_name.setdefault((d["kind"], d["name"]), []).append(node)
        prefix = {"xiaoqu": "C", "listing": "L", "school": "S", "station": "M"}.get(d["kind"])
        if prefix and re.fullmatch(rf"{prefix}\d+", str(d["code"])):
            state.counters[prefix] = max(state.counters[prefix], int(d["code"][1:]))
    return state


def validate(graph: nx.DiGraph) -> tuple[list[str], list[str]]:
    """(errors, warnings): the schema, one 小学 and one 初中 per 小区, schools and stations in the 小区's city."""
    errors, warnings = schema_problems(graph, SCHEMA), []
    for s, t, d in graph.edges(data=True):
        if d["kind"] in ("covers", "near") and graph.nodes[s]["city"] != graph.nodes[t]["city"]:
            errors.append(f"edge {s} -> {t}: {d['kind']} across cities")
    for node, x in graph.nodes(data=True):
        if x["kind"] == "listing" and not is_listing_code(x["code"]):
            errors.append(f"{node}: listing code {x['code']!r} is not {LISTING_CODE_RULE}")
        if x["kind"] != "xiaoqu":
            continue
        levels = [graph.nodes[s]["level"] for s in graph.predecessors(node) if graph.nodes[s]["kind"] == "school"]
        for level in ("小学", "初中"):
            if levels.count(level) != 1:
                warnings.append(f"{node} {x['name']}: {levels.count(level)} {level} 学区 (the vertical expects one)")
        if x["avg_price"] is None:
            warnings.append(f"{node} {x['name']}: no avg_price")
    if not any(d.get("pool") == "eval" for _, d in graph.nodes(data=True) if d["kind"] == "city"):
        warnings.append("no eval-pool city: the realestate vertical holds its eval set out by city "
                        "(set options.eval_cities in a mapping)")
    return errors, warnings
