"""Import a car-spec knowledge graph from a trim (配置) table, with the schema of :mod:`knowledge_graphs.auto`.

One table kind, ``trims``; fields (``*`` = required)::

    brand* series* trim_name* price* year energy class body size_class engine displacement power_kw
    power_ps torque transmission accel fuel range_km dimensions length width height wheelbase weight
    seats drive top_speed tier style

Cleaning beyond :mod:`knowledge_graphs.importers.common`:

* units inside values: ``11.90万元`` (price, 万元), ``99kw`` / ``135马力`` (power; 马力 -> kW by 1.36),
  ``1.6L`` / ``1.5T`` (engine label and displacement), ``186km/h``, ``1845kg``, ``5座``;
  ``4680*1820*1460mm`` fills length, width and height;
* 能源 ``汽油`` -> 燃油, ``插电混动``/``PHEV``/``增程`` -> 混动, ``纯电动``/``EV`` -> 纯电;
  驱动 ``前置前驱`` -> 前驱, ``全时四驱``/``AWD`` -> 四驱 ...;
* 级别 ``紧凑型SUV`` -> body SUV, size_class A (小型 A0, 紧凑型 A, 中型 B, 中大型/大型 C);
* ``2024款`` -> 2024; a trim name that repeats the year or the series (``2024款 逐风 1.5T 豪华型``)
  keeps only the trim part;
* ``level`` (0 = entry trim) is the trim's price rank within its series and model year;
  ``power_ps`` is always ``round(kW * 1.36)``, as in the generator.

Pools: the option ``eval_series`` (series names, or brand + series) gives every series a ``pool``
(``eval`` for those, ``train`` for the rest); the auto vertical holds those series out for evaluation.
Without it series carry no pool and the vertical falls back to its own held-out names.

``top_speed`` (km/h) is kept as an extra trim attribute when mapped; the generator has none.

>>> parse_engine("1.5T 181马力 L4"), parse_engine("电动")
(('1.5T', 1.5), (None, None))
>>> parse_class("紧凑型SUV"), parse_class("中大型车")
(('SUV', 'A'), ('轿车', 'C'))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from knowledge_graphs.auto import kw_to_ps
from knowledge_graphs.importers.common import (
    CellError, GraphSchema, ImportReport, MappingError, TableMapping, canonical_options, check_fields, import_rows,
    schema_problems,
)

TRIM_FIELDS = ("trim_name", "energy", "body", "size_class", "price", "engine", "displacement", "power_kw",
               "power_ps", "torque", "transmission", "accel", "fuel", "range_km", "length", "width", "height",
               "wheelbase", "weight", "seats", "drive")
SCHEMA = GraphSchema(
    nodes={"brand": frozenset({"name", "tier", "style"}),
           "series": frozenset({"name", "brand", "body", "size_class", "energies"}),
           "trim": frozenset({"series", "brand_name", "series_name", "year", "full_name", "level", *TRIM_FIELDS})},
    edges={"has_series": (("brand", "series"),), "has_trim": (("series", "trim"),)},
)
KINDS = {"trims": ({"brand", "series", "trim_name", "price"},
                   {"year", "energy", "class", "body", "size_class", "engine", "displacement", "power_kw", "power_ps",
                    "torque", "transmission", "accel", "fuel", "range_km", "dimensions", "length", "width", "height",
                    "wheelbase", "weight", "seats", "drive", "top_speed", "tier", "style"})}
# field -> the fields that fill it when it has no column (the import report lists a field as absent otherwise)
COVERED_BY = {"body": ("class",), "size_class": ("class",), "class": ("body",), "length": ("dimensions",),
              "width": ("dimensions",), "height": ("dimensions",), "dimensions": ("length",), "power_ps": ("power_kw",),
              "power_kw": ("power_ps",), "displacement": ("engine",), "year": ("trim_name",)}
OPTIONS = {"default_tier": "主流", "default_style": "传统", "eval_series": []}
ENERGIES = (("插电", "混动"), ("phev", "混动"), ("增程", "混动"), ("混", "混动"), ("hev", "混动"),  # before "ev"
            ("纯电", "纯电"), ("电动", "纯电"), ("bev", "纯电"), ("ev", "纯电"),
            ("汽油", "燃油"), ("柴油", "燃油"), ("燃油", "燃油"))
DRIVES = (("四驱", "四驱"), ("awd", "四驱"), ("4wd", "四驱"), ("后驱", "后驱"), ("rwd", "后驱"), ("前驱", "前驱"),
          ("fwd", "前驱"))
SIZES = (("中大型", "C"), ("大型", "C"), ("中型", "B"), ("紧凑型", "A"), ("小型", "A0"), ("微型", "A0"))
ENERGY_ORDER = ("燃油", "混动", "纯电")


def parse_engine(text: str | None) -> tuple[str | None, float | None]:
    """(label such as ``1.5T``, displacement in litres) from an engine cell; (None, None) for an electric one."""
    match = re.search(r"(\d\.\d)\s*([TL])", (text or "").upper())
    return (f"{match.group(1)}{match.group(2)}", float(match.group(1))) if match else (None, None)


def parse_class(text: str) -> tuple[str, str | None]:
    """(body, size class) from a portal's 级别 such as ``紧凑型SUV``."""
    upper = text.upper()
    body = "SUV" if "SUV" in upper else "MPV" if "MPV" in upper else "轿车"
    return body, next((size for word, size in SIZES if word in text), None)


def _canonical(row, field_name: str, table: tuple) -> str | None:
    """The canonical value of an optional word field; one the table does not know is counted and left unknown."""
    text = row.text(field_name)
    if text is None:
        return None
    low = text.lower()
    found = next((value for word, value in table if word in low), None)
    if found is None:
        row.unreadable(field_name, False, f"unknown_{field_name}")
    return found


@dataclass
class AutoImport:
    """An import in progress; trims get their ``level`` in :meth:`finish`."""

    graph: nx.DiGraph = field(default_factory=lambda: nx.DiGraph(name="auto", imported=True, trims=0))
    names: set = field(default_factory=set)  # full names already imported
    eval_series: set = field(default_factory=set)  # series names (or brand + series) held out for eval

    def add_table(self, path: str, mapping: TableMapping, report: ImportReport) -> None:
        check_fields(mapping, KINDS)
        options = canonical_options(mapping, OPTIONS)
        names = options["eval_series"] or []
        self.eval_series |= {names} if isinstance(names, str) else {str(n) for n in names}
        import_rows(path, mapping, report, lambda row: self._trim_row(row, options))

    def _trim_row(self, row, options: dict) -> None:
        brand, series = row.required("brand"), row.required("series")
        trim = self._trim_fields(row, brand, series)
        year = row.integer("year", "year") or _year_in(row.required("trim_name"))
        if year is None:
            raise CellError("missing:year")
        full_name = f"{year}款 {series_label(brand, series)} {trim['trim_name']}"
        if full_name in self.names:
            raise CellError("conflicting_duplicate:trim")
        self.names.add(full_name)
        bid, sid = f"brand:{brand}", f"series:{brand}{series}"
        if bid not in self.graph:
            self.graph.add_node(bid, kind="brand", name=brand, tier=row.text("tier") or options["default_tier"],
                                style=row.text("style") or options["default_style"])
        if sid not in self.graph:
            self.graph.add_node(sid, kind="series", name=series, brand=bid, body=trim["body"],
                                size_class=trim["size_class"], energies=[])
            self.graph.add_edge(bid, sid, kind="has_series")
        self.graph.graph["trims"] += 1
        tid = f"trim:T{self.graph.graph['trims']:03d}"
        self.graph.add_node(tid, kind="trim", series=sid, brand_name=brand, series_name=series, year=year,
                            full_name=full_name, level=None, **trim)
        self.graph.add_edge(sid, tid, kind="has_trim")

    def _trim_fields(self, row, brand: str, series: str) -> dict:
        """Every trim attribute of one row, read before anything is added to the graph.

        What the row does not say stays None (unknown) and is counted (``unknown:<field>``): a table
        without a 级别/body column gives no body, one without 能源 no energy; nothing is defaulted.
        """
        body, size = parse_class(row.text("class")) if row.text("class") else (None, None)
        body, size = row.text("body") or body, row.text("size_class") or size
        energy = _canonical(row, "energy", ENERGIES)
        engine, displacement = parse_engine(row.text("engine"))
        kw = row.number("power_kw", "kw")
        kw = kw if kw is not None else row.number("power_ps", "kw", unit="ps")  # a bare 马力 number
        for name, value in (("body", body), ("energy", energy), ("power_kw", kw)):
            if value is None:
                row.report.note(f"unknown:{name}")
        length, width, height = _dimensions(row)
        trim = {
            "trim_name": _trim_name(row.required("trim_name"), brand, series), "energy": energy, "body": body,
            "size_class": size, "price": round(row.number("price", "wan_yuan", True), 2),
            "engine": None if energy == "纯电" else engine,
            "displacement": None if energy == "纯电" else row.number("displacement", "litre") or displacement,
            "power_kw": None if kw is None else int(round(kw)), "power_ps": None if kw is None else kw_to_ps(int(round(kw))),
            "torque": row.integer("torque", "nm"),
            "transmission": row.text("transmission"), "accel": row.number("accel", "seconds"),
            "fuel": row.number("fuel", "l_per_100km"), "range_km": row.integer("range_km", "km"),
            "length": length, "width": width, "height": height, "wheelbase": row.integer("wheelbase", "mm"),
            "weight": row.integer("weight", "kg"), "seats": row.integer("seats", "count"),
            "drive": _canonical(row, "drive", DRIVES),
        }
        if row.text("top_speed") is not None:
            trim["top_speed"] = row.integer("top_speed", "km_h")
        return trim

    def finish(self) -> nx.DiGraph:
        """Levels by price within (series, year); each series' energies in 燃油/混动/纯电 order.

        Raises:
            MappingError: a series named in ``options.eval_series`` has no imported trim.
        """
        self._check_eval_series()
        trims = [(n, d) for n, d in self.graph.nodes(data=True) if d["kind"] == "trim"]
        groups: dict = {}
        for node, data in trims:
            groups.setdefault((data["series"], data["year"]), []).append(node)
        for nodes in groups.values():
            for level, node in enumerate(sorted(nodes, key=lambda n: (self.graph.nodes[n]["price"], n))):
                self.graph.nodes[node]["level"] = level
        for node, data in self.graph.nodes(data=True):
            if data["kind"] == "series":
                energies = {self.graph.nodes[t]["energy"] for t in self.graph.successors(node)} - {None}
                data["energies"] = [e for e in ENERGY_ORDER if e in energies]
                if self.eval_series:
                    brand = self.graph.nodes[data["brand"]]["name"]
                    held_out = data["name"] in self.eval_series or brand + data["name"] in self.eval_series
                    data["pool"] = "eval" if held_out else "train"
        return self.graph


    def _check_eval_series(self) -> None:
        names = set()
        for _, data in self.graph.nodes(data=True):
            if data["kind"] == "series":
                brand = self.graph.nodes[data["brand"]]["name"]
                names |= {data["name"], brand + data["name"]}
        absent = sorted(self.eval_series - names)
        if absent:
            raise MappingError(f"options.eval_series names {', '.join(absent)}, but no trim of that series was "
                               "imported (all its rows dropped, or the name is spelled otherwise: see the report)")


def _year_in(text: str) -> int | None:
    match = re.search(r"(20\d\d)\s*款", text)
    return int(match.group(1)) if match else None


def series_label(brand: str, series: str) -> str:
    """Brand and series as a full name writes them, the brand once: ``星驰逐风``, ``东风日产-轩逸``.

    >>> series_label("星驰", "逐风"), series_label("日产", "东风日产-轩逸"), series_label("比亚迪", "比亚迪秦PLUS")
    ('星驰逐风', '东风日产-轩逸', '比亚迪秦PLUS')
    """
    return series if brand in series else brand + series


def _trim_name(text: str, brand: str, series: str) -> str:
    """The trim part of a portal's name, without the year, brand or series it repeats.

    >>> _trim_name("2024款 星驰逐风 1.5T 豪华型", "星驰", "逐风"), _trim_name("2023款 轩逸 1.6L XL", "日产", "东风日产-轩逸")
    ('1.5T 豪华型', '1.6L XL')
    """
    name = re.sub(r"20\d\d\s*款", "", text)
    short = re.split(r"[-·]", series)[-1]  # 东风日产-轩逸: the name people write is 轩逸
    for word in sorted({brand + series, series_label(brand, series), series, short, brand}, key=len, reverse=True):
        name = name.replace(word, "")
    return re.sub(r"\s+", " ", name).strip() or text


def _dimensions(row) -> tuple[int | None, int | None, int | None]:
    """(length, width, height) in mm, from three columns or one ``4680*1820*1460`` cell."""
    text = row.text("dimensions")
    if text:
        parts = re.findall(r"\d+(?:\.\d+)?", text)
        if len(parts) == 3:
            return tuple(int(float(p)) for p in parts)  # type: ignore[return-value]
        row.unreadable("dimensions", False, "not_a_dimension:dimensions")
    return row.integer("length", "mm"), row.integer("width", "mm"), row.integer("height", "mm")


def start(graph: nx.DiGraph | None = None) -> AutoImport:
    if graph is None:
        return AutoImport()
    nodes = graph.nodes(data=True)
    return AutoImport(graph=graph, names={d["full_name"] for _, d in nodes if d["kind"] == "trim"},
                      eval_series={d["name"] for _, d in nodes if d["kind"] == "series" and d.get("pool") == "eval"})


def validate(graph: nx.DiGraph) -> tuple[list[str], list[str]]:
    """(errors, warnings): the schema, 马力 = round(kW * 1.36), and what each energy must (not) have."""
    errors, warnings = schema_problems(graph, SCHEMA), []
    for node, t in graph.nodes(data=True):
        if t.get("kind") != "trim":
            continue
        if t["power_kw"] is not None and t["power_ps"] != kw_to_ps(t["power_kw"]):
            errors.append(f"{node}: power_ps {t['power_ps']} ≠ round({t['power_kw']} kW × 1.36)")
        if t["energy"] == "纯电" and t["range_km"] is None:
            warnings.append(f"{node} {t['full_name']}: 纯电 without a range")
        if t["energy"] in ("燃油", "混动") and t["fuel"] is None:
            warnings.append(f"{node} {t['full_name']}: {t['energy']} without a fuel figure")
        missing = [k for k in ("energy", "body", "size_class", "power_kw", "drive", "seats", "weight") if t[k] is None]
        if missing:
            warnings.append(f"{node} {t['full_name']}: no {', '.join(missing)}")
    pools = [d.get("pool") for _, d in graph.nodes(data=True) if d.get("kind") == "series"]
    if pools and "eval" not in pools:
        warnings.append("no eval-pool series: the auto vertical holds its eval set out by series (set "
                        "options.eval_series in the mapping; without it only series named like the generator's "
                        "held-out ones are held out)")
    return errors, warnings
