"""Shared machinery of the table importers: cell cleaning, unit parsing, the YAML mapping, the report.

Real tables are messy. Every cell goes through :func:`clean_cell` (NFKC, so full-width digits and
brackets become ASCII; leading/trailing spaces stripped; ``-``/``—``/``/``/``暂无``/empty become
``None``), and numbers through :func:`parse_quantity`, which removes thousands separators, reads an
open-ended ``580及以上`` as 580 (flagged open) and converts a unit written inside the value
(``11.90万元``, ``104,569元/平``, ``99kw``, ``186km/h``) to the unit the graph stores.

>>> clean_cell("  ６５０万 ")
'650万'
>>> clean_cell("—") is None
True
>>> parse_quantity("11.90万元", "wan_yuan").value
11.9
>>> parse_quantity("104,569元/平", "yuan_per_sqm").value
104569.0
>>> q = parse_quantity("580及以上", "count")
>>> q.value, q.open_ended
(580.0, 'above')
>>> parse_layout("2 室 2 厅 1 卫")
(2, 2, 1)

A mapping file says which CSV column feeds which graph field (see ``knowledge_graphs/README.md``);
:func:`load_mapping` reads it and :func:`check_columns` fails at once, naming the column and the
file, when a mapped column is absent. An :class:`ImportReport` counts every row read, used or
dropped (by reason), so nothing disappears silently.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping

import yaml

MISSING_MARKS = frozenset({"", "-", "--", "—", "——", "–", "/", "暂无", "未知", "n/a", "na", "null", "none", "nan"})
OPEN_ABOVE = ("及以上", "以上", "+")
OPEN_BELOW = ("及以下", "以下")
TRUE_MARKS = frozenset({"是", "有", "√", "✓", "y", "yes", "true", "1", "●"})
FALSE_MARKS = frozenset({"否", "无", "×", "n", "no", "false", "0", "○"})

# Dimension -> {unit as written (lower case, NFKC) -> factor to the stored unit}; "" = no unit written.
UNITS: dict[str, dict[str, float]] = {
    "count": {"": 1, "人": 1, "个": 1, "名": 1, "所": 1, "位": 1, "座": 1},
    "score": {"": 1, "分": 1},
    "wan_yuan": {"": 1, "万": 1, "万元": 1, "元": 1e-4, "亿": 1e4, "亿元": 1e4},
    "yuan_per_sqm": {"": 1, "元/平": 1, "元/平米": 1, "元/平方米": 1, "元/m2": 1, "元/㎡": 1, "元/m²": 1,
                     "万/平": 1e4, "万元/平": 1e4, "万元/平米": 1e4, "万/平米": 1e4},
    "sqm": {"": 1, "平": 1, "平米": 1, "平方米": 1, "m2": 1, "㎡": 1, "m²": 1},
    "kw": {"": 1, "kw": 1, "千瓦": 1, "ps": 1 / 1.36, "马力": 1 / 1.36, "匹": 1 / 1.36},
    "litre": {"": 1, "l": 1, "t": 1, "升": 1, "ml": 1e-3, "cc": 1e-3},
    "km_h": {"": 1, "km/h": 1, "公里/小时": 1},
    "km": {"": 1, "km": 1, "公里": 1, "千米": 1},
    "metre": {"": 1, "m": 1, "米": 1, "km": 1000, "公里": 1000, "千米": 1000},
    "mm": {"": 1, "mm": 1, "毫米": 1, "m": 1000, "米": 1000},
    "kg": {"": 1, "kg": 1, "公斤": 1, "千克": 1, "t": 1000, "吨": 1000},
    "nm": {"": 1, "n·m": 1, "n.m": 1, "nm": 1, "牛·米": 1, "牛米": 1},
    "seconds": {"": 1, "s": 1, "秒": 1},
    "l_per_100km": {"": 1, "l/100km": 1, "l": 1, "升/百公里": 1, "升": 1},
    "percent": {"": 1, "%": 1},
    "year": {"": 1, "年": 1, "款": 1, "年款": 1},
    "floors": {"": 1, "层": 1},
    "degrees": {"": 1, "°": 1},
}
CHINESE_DIGITS = str.maketrans("〇一二两三四五六七八九", "01223456789")
# A missing-value mark written with the column's unit, as car portals do: ``-kg``, ``—L``, ``-km/h``.
DASH_WITH_UNIT = re.compile(r"[-—–/]+\s*[^\d\s.]*")
SPACES = re.compile(r"\s+")
NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


class MappingError(ValueError):
    """The mapping file or the table does not fit: a missing column, an unknown field or kind."""


class CellError(ValueError):
    """One cell cannot be read; the message is the drop reason counted in the report."""


def clean_cell(value: Any) -> str | None:
    """NFKC-normalise, strip and collapse spaces; ``None`` for a missing-value mark.

    >>> clean_cell("山东大学（威海）"), clean_cell(" 本科 一批 "), clean_cell("N/A"), clean_cell("无")
    ('山东大学(威海)', '本科 一批', None, '无')
    """
    if value is None:
        return None
    return _clean_text(str(value))


@lru_cache(maxsize=1 << 16)
def _clean_text(text: str) -> str | None:
    """:func:`clean_cell` of a string; cached, since tables repeat their values (a 40,000-row table read twice
    as fast)."""
    text = SPACES.sub(" ", unicodedata.normalize("NFKC", text)).strip()
    return None if text.lower() in MISSING_MARKS else text


@dataclass(frozen=True)
class Quantity:
    """A number read from a cell, in the dimension's stored unit; ``open_ended`` = ``above``/``below``."""

    value: float
    unit: str = ""
    open_ended: str | None = None


def parse_quantity(text: str, dimension: str, default_unit: str = "") -> Quantity:
    """Read ``text`` (already cleaned) as a number of ``dimension``.

    ``default_unit`` is the unit of a bare number (a mapping's ``unit:``). Raises CellError.

    >>> parse_quantity("99kw", "kw").value, round(parse_quantity("135马力", "kw").value, 1)
    (99.0, 99.3)
    >>> parse_quantity("1,234", "count").value
    1234.0
    >>> parse_quantity("650", "wan_yuan", default_unit="元").value
    0.065
    """
    body, open_ended = text.replace(",", "").replace(" ", ""), None
    for marks, side in ((OPEN_ABOVE, "above"), (OPEN_BELOW, "below")):
        for mark in marks:
            if body.endswith(mark) and len(body) > len(mark):
                body, open_ended = body[: -len(mark)], side
                break
    match = NUMBER.match(body)
    if match is None:
        raise CellError(f"not_a_number:{dimension}")
    unit = body[match.end():].lower()
    factors = UNITS[dimension]
    if unit not in factors:
        raise CellError(f"unknown_unit:{unit}")
    factor = factors[unit] if unit else factors[default_unit.lower()]
    return Quantity(float(match.group(0)) * factor, unit or default_unit, open_ended)


def parse_flag(text: str | None) -> bool | None:
    """是/否, √/×, Y/N, 1/0 ... -> True/False; ``None`` stays ``None``; anything else raises CellError.

    >>> parse_flag("是"), parse_flag("×"), parse_flag(None)
    (True, False, None)
    """
    if text is None:
        return None
    low = text.lower()
    if low in TRUE_MARKS:
        return True
    if low in FALSE_MARKS:
        return False
    raise CellError("not_a_flag")


def parse_layout(text: str) -> tuple[int, int, int]:
    """(室, 厅, 卫) from ``2室2厅1卫``, ``2 室 2 厅 1 卫``, ``3室1厅`` (卫 defaults to 1), ``3房间1卫`` or ``2-1-1``.

    >>> parse_layout("3室1厅"), parse_layout("2-1-1"), parse_layout("两室一厅"), parse_layout("3房间1卫")
    ((3, 1, 1), (2, 1, 1), (2, 1, 1), (3, 0, 1))
    """
    body = text.replace(" ", "").translate(CHINESE_DIGITS)
    match = re.fullmatch(r"(\d+)(?:室|房间|房)(?:(\d+)厅)?(?:(\d+)厨)?(?:(\d+)卫)?", body)
    if match:
        rooms, halls, _, baths = match.groups()
        return int(rooms), int(halls or 0), int(baths or 1)
    match = re.fullmatch(r"(\d+)-(\d+)-(\d+)", body)
    if match:
        return tuple(int(x) for x in match.groups())  # type: ignore[return-value]
    raise CellError("not_a_layout")


def split_list(text: str | None) -> list[str]:
    """``2号线,4号线`` / ``钢琴、舞蹈`` / ``物理+化学`` -> items (empty for ``None``).

    >>> split_list("钢琴、舞蹈; 编程")
    ['钢琴', '舞蹈', '编程']
    """
    if text is None:
        return []
    return [item.strip() for item in re.split(r"[,，、;；+/|和及]", text) if item.strip()]


# --------------------------------------------------------------------------- the mapping


@dataclass(frozen=True)
class Column:
    """Where one graph field comes from: a CSV ``column`` (or a constant ``value``) and its bare ``unit``."""

    column: str | None = None
    value: Any = None
    unit: str = ""


@dataclass(frozen=True)
class TableMapping:
    """A parsed mapping file.

    Attributes:
        path: the file it came from.
        vertical: gaokao / auto / realestate.
        kind: which table this is (e.g. ``admissions``); the CLI's ``--kind`` overrides it.
        columns: graph field -> :class:`Column`.
        aliases: graph field -> {value as written -> canonical value}, applied after cleaning.
        options: importer options (radii, eval pools, ...).
    """

    path: str
    vertical: str
    kind: str
    columns: dict[str, Column]
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


def load_mapping(path: str | Path, kind: str | None = None) -> TableMapping:
    """Read a mapping YAML file; ``kind`` (from ``--kind``) overrides the file's ``kind:``.

    Raises:
        MappingError: unreadable file, or no ``vertical``/``kind``/``columns``.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        problem = str(error).splitlines()[0] if not isinstance(error, UnicodeDecodeError) else "not UTF-8 text"
        raise MappingError(f"{path}: cannot read the mapping ({problem})") from None
    if not isinstance(data, dict):
        raise MappingError(f"{path}: the mapping must be a YAML mapping of keys, got {type(data).__name__}")
    for key in ("vertical", "columns"):
        if key not in data:
            raise MappingError(f"{path}: the mapping has no {key!r} key")
    if not isinstance(data["columns"] or {}, dict):
        raise MappingError(f"{path}: field columns: must map graph fields to columns, got {type(data['columns']).__name__}")
    kind = kind or data.get("kind")
    if not kind:
        raise MappingError(f"{path}: the mapping names no 'kind' (or pass --kind)")
    columns = {name: _column(path, name, spec) for name, spec in (data["columns"] or {}).items()}
    aliases = {name: {clean_cell(k) or k: v for k, v in table.items()} for name, table in (data.get("aliases") or {}).items()}
    return TableMapping(str(path), data["vertical"], kind, columns, aliases, dict(data.get("options") or {}))


def _column(path: str | Path, name: str, spec: Any) -> Column:
    if isinstance(spec, str):
        return Column(column=spec)
    if isinstance(spec, dict) and set(spec) <= {"column", "value", "unit"} and ("column" in spec) != ("value" in spec):
        return Column(spec.get("column"), spec.get("value"), str(spec.get("unit", "")))
    raise MappingError(f"{path}: field {name!r} must be a column name or {{column: ..., unit: ...}} or {{value: ...}}")


def check_fields(mapping: TableMapping, kinds: Mapping[str, tuple[set[str], set[str]]]) -> None:
    """The mapping's kind exists, every required field is mapped and no unknown field is; MappingError otherwise.

    ``kinds`` maps each table kind to its (required fields, optional fields).
    """
    if mapping.kind not in kinds:
        raise MappingError(f"{mapping.path}: {mapping.vertical} has no table kind {mapping.kind!r} "
                           f"(kinds: {', '.join(kinds)})")
    required, optional = kinds[mapping.kind]
    missing = sorted(required - set(mapping.columns))
    if missing:
        raise MappingError(f"{mapping.path}: kind {mapping.kind!r} needs field(s) {', '.join(missing)}")
    unknown = sorted(set(mapping.columns) - required - optional)
    if unknown:
        known = ", ".join(sorted(required | optional))
        raise MappingError(f"{mapping.path}: unknown field(s) {', '.join(unknown)} for kind {mapping.kind!r} "
                           f"(fields: {known})")


def check_columns(mapping: TableMapping, header: list[str], source: str) -> None:
    """Fail at once when the mapping names a column that the table does not have."""
    for name, spec in mapping.columns.items():
        if spec.column is not None and clean_cell(spec.column) not in header:
            raise MappingError(f"{mapping.path}: field {name!r} reads column {spec.column!r}, but {source} has no "
                               f"such column (it has: {', '.join(h for h in header if h)})")


# --------------------------------------------------------------------------- reading tables


def read_table(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """Header (cleaned) and raw rows of a CSV file; UTF-8 (with or without BOM), else GB18030."""
    raw = Path(path).read_bytes()
    if b"\x00" in raw:
        raise MappingError(f"{path}: the table holds NUL bytes (UTF-16 or binary?); save it as UTF-8 CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            raise MappingError(f"{path}: the table is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise MappingError(f"{path}: the table is empty")
    if not any(any(cell.strip() for cell in row) for row in rows[1:]):
        raise MappingError(f"{path}: the table has a header but no data rows")
    return [clean_cell(h) or "" for h in rows[0]], rows[1:]


@dataclass
class Row:
    """One table row, readable by graph field: ``row.text("province")``, ``row.number("min_score", "score")``.

    A value that cannot be read in an *optional* field (``required=False``) becomes missing and is
    counted in the report (``unreadable:<field>``); the row stays. In a required field it drops the row.
    ``present`` records, per field read, whether it ended with a value (the report's coverage).
    """

    number_in_file: int
    cells: dict[str, str | None]
    mapping: TableMapping
    report: "ImportReport"
    present: dict[str, bool] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        spec = self.mapping.columns.get(name)
        if spec is None:
            return None
        value = clean_cell(spec.value) if spec.column is None else self.cells.get(clean_cell(spec.column) or "")
        aliases = self.mapping.aliases.get(name, {})
        if value is not None and value in aliases:
            self.report.note(f"alias:{name}")
            value = aliases[value]
        self.present.setdefault(name, value is not None)
        return value

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise CellError(f"missing:{name}")
        return value

    def unreadable(self, name: str, required: bool, reason: str) -> None:
        """An unreadable cell: drop the row (``reason``) if the field is required, else count it and go on."""
        if required:
            raise CellError(reason)
        self.report.note(f"unreadable:{name}")
        self.present[name] = False

    def quantity(self, name: str, dimension: str, unit: str = "", required: bool = False) -> Quantity | None:
        """The field as a number of ``dimension``; a bare number is in the mapping's unit, else ``unit``."""
        text = self.text(name)
        if text is None or text == "无" or DASH_WITH_UNIT.fullmatch(text):
            self.present[name] = False
            if required:
                raise CellError(f"missing:{name}")
            return None
        try:
            quantity = parse_quantity(text, dimension, self.mapping.columns[name].unit or unit)
        except CellError as error:
            self.unreadable(name, required, f"{error}:{name}")
            return None
        if quantity.open_ended:
            self.report.note(f"open_ended:{name}")
        return quantity

    def number(self, name: str, dimension: str, required: bool = False, unit: str = "") -> float | None:
        quantity = self.quantity(name, dimension, unit, required)
        return None if quantity is None else quantity.value

    def integer(self, name: str, dimension: str, required: bool = False) -> int | None:
        value = self.number(name, dimension, required)
        return None if value is None else int(round(value))

    def flag(self, name: str, required: bool = False) -> bool | None:
        try:
            return parse_flag(self.text(name))
        except CellError:
            self.unreadable(name, required, f"not_a_flag:{name}")
            return None


def iter_rows(path: str | Path, mapping: TableMapping, report: "ImportReport") -> Iterator[Row]:
    """Rows of ``path`` as :class:`Row` objects; blank rows, exact duplicates and the header repeated
    inside the file (concatenated exports) are counted and skipped."""
    header, rows = read_table(path)
    check_columns(mapping, header, str(path))
    seen, repeated_header = set(), [h or None for h in header]
    for number, raw in enumerate(rows, start=2):  # line 1 is the header
        report.rows_read += 1
        cells = {h: clean_cell(raw[i]) if i < len(raw) else None for i, h in enumerate(header)}
        if all(v is None for v in cells.values()):
            report.drop("blank_row", number)
            continue
        if list(cells.values()) == repeated_header:
            report.drop("repeated_header", number)
            continue
        key = tuple(cells.values())
        if key in seen:
            report.drop("exact_duplicate", number)
            continue
        seen.add(key)
        yield Row(number, cells, mapping, report)


# --------------------------------------------------------------------------- the report


@dataclass
class ImportReport:
    """What happened to every row of one source table.

    ``rows_read == rows_used + sum(dropped.values())`` always holds; ``notes`` counts repairs that
    kept a row (an alias applied, an open-ended value, an unreadable optional value left missing...);
    ``read`` and ``filled`` count, per mapped field, the used rows that read it and those where it had a
    value (the coverage; a field read only sometimes, e.g. a 小区's place on a listing, counts those rows), and
    ``absent`` names the kind's optional fields the mapping does not map (left unknown in the graph).
    """

    source: str
    mapping: str
    vertical: str
    kind: str
    rows_read: int = 0
    rows_used: int = 0
    dropped: Counter = field(default_factory=Counter)
    notes: Counter = field(default_factory=Counter)
    examples: dict[str, list[int]] = field(default_factory=dict)  # reason -> first line numbers
    values: dict[str, list[str]] = field(default_factory=dict)  # note -> first distinct values it was about
    filled: Counter = field(default_factory=Counter)
    read: Counter = field(default_factory=Counter)
    fields: list[str] = field(default_factory=list)  # mapped fields, in mapping order
    absent: list[str] = field(default_factory=list)

    def drop(self, reason: str, line: int) -> None:
        self.dropped[reason] += 1
        lines = self.examples.setdefault(reason, [])
        if len(lines) < 5:
            lines.append(line)

    def note(self, what: str, count: int = 1) -> None:
        self.notes[what] += count

    def example_value(self, what: str, value: str, limit: int = 20) -> None:
        """Keep ``value`` (e.g. a name that did not resolve) as one of the first ``limit`` examples of ``what``."""
        values = self.values.setdefault(what, [])
        if value not in values and len(values) < limit:
            values.append(value)

    def coverage(self) -> dict[str, float]:
        """Per mapped field read at least once, the share of the rows reading it that found a value.

        >>> r = ImportReport("t.csv", "m.yaml", "auto", "trims", rows_read=4, rows_used=4, fields=["weight", "seats"])
        >>> r.read.update({"weight": 4}); r.filled.update({"weight": 3})
        >>> r.coverage()
        {'weight': 0.75}
        """
        return {name: round(self.filled[name] / self.read[name], 4) for name in self.fields if self.read[name]}

    def to_dict(self) -> dict:
        return {"source": self.source, "mapping": self.mapping, "vertical": self.vertical, "kind": self.kind,
                "rows_read": self.rows_read, "rows_used": self.rows_used, "dropped": dict(sorted(self.dropped.items())),
                "notes": dict(sorted(self.notes.items())), "example_lines": dict(sorted(self.examples.items())),
                "example_values": dict(sorted(self.values.items())), "coverage": self.coverage(),
                "absent_fields": self.absent}

    def summary(self) -> str:
        """A few printable lines, e.g. for the CLI: counts, drops, notes, partly filled and absent fields."""
        lines = [f"{self.source} ({self.kind}): read {self.rows_read}, used {self.rows_used}, "
                 f"dropped {sum(self.dropped.values())}"]
        lines += [f"  dropped {count:5d}  {reason}  (lines {', '.join(map(str, self.examples.get(reason, [])))})"
                  for reason, count in sorted(self.dropped.items())]
        lines += [f"  note    {count:5d}  {what}" + (f"  ({', '.join(self.values[what])})" if what in self.values else "")
                  for what, count in sorted(self.notes.items())]
        partial = [f"{name} {share:.0%}" for name, share in self.coverage().items() if share < 1]
        if partial:
            lines.append(f"  coverage (rows with a value): {', '.join(partial)}")
        if self.absent:
            lines.append(f"  not in the table, left unknown: {', '.join(self.absent)}")
        return "\n".join(lines)


def import_rows(path: str | Path, mapping: TableMapping, report: ImportReport, handle) -> None:
    """Feed each row to ``handle(row)``; a CellError drops the row under its message as the reason."""
    report.fields = list(mapping.columns)
    for row in iter_rows(path, mapping, report):
        try:
            handle(row)
        except CellError as error:
            report.drop(str(error), row.number_in_file)
        else:
            report.rows_used += 1
            report.read.update(row.present.keys())
            report.filled.update(name for name, ok in row.present.items() if ok)


def write_report(reports: list[ImportReport], path: str | Path) -> Path:
    """All sources' reports as one JSON file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def canonical_options(mapping: TableMapping, defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The mapping's options over ``defaults``; an unknown option is a MappingError."""
    unknown = sorted(set(mapping.options) - set(defaults))
    if unknown:
        raise MappingError(f"{mapping.path}: unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(defaults))})")
    return {**defaults, **mapping.options}


# --------------------------------------------------------------------------- graph schema


@dataclass(frozen=True)
class GraphSchema:
    """The attributes every node of a kind carries and the (source kind, target kind) pairs each edge kind joins.

    Written down from the generator's docstring; tests check the generated graph satisfies it too,
    so imported and generated graphs cannot drift apart.
    """

    nodes: Mapping[str, frozenset[str]]
    edges: Mapping[str, tuple[tuple[str, str], ...]]


def absent_fields(mapping: TableMapping, kinds: Mapping[str, tuple[set[str], set[str]]],
                  covered_by: Mapping[str, tuple[str, ...]] = {}) -> list[str]:
    """The optional fields of the mapping's kind that it does not map, nor any field that fills them
    (``covered_by``: field -> the fields that fill it, e.g. rooms <- layout): the graph leaves them unknown.

    >>> m = TableMapping("m.yaml", "realestate", "listings", {"layout": Column("户型")})
    >>> absent_fields(m, {"listings": (set(), {"layout", "rooms", "floor"})}, {"rooms": ("layout",)})
    ['floor']
    """
    mapped = set(mapping.columns)
    return sorted(name for name in kinds[mapping.kind][1] - mapped if not mapped & set(covered_by.get(name, ())))


def limited(lines: list[str], limit: int = 50, what: str = "warnings") -> list[str]:
    """The first ``limit`` lines and one ``... and N more`` line; the caller counts ``len(lines)`` itself.

    >>> limited(["a", "b", "c"], limit=2)
    ['a', 'b', '... and 1 more warnings']
    """
    return lines[:limit] + ([f"... and {len(lines) - limit} more {what}"] if len(lines) > limit else [])


def schema_problems(graph, schema: GraphSchema) -> list[str]:
    """Every node of an unknown kind or lacking attributes, every edge of an unknown kind or between wrong kinds."""
    problems = []
    for node, data in graph.nodes(data=True):
        kind = data.get("kind")
        if kind not in schema.nodes:
            problems.append(f"node {node}: unknown kind {kind!r}")
            continue
        missing = sorted(schema.nodes[kind] - set(data))
        if missing:
            problems.append(f"node {node}: {kind} lacks {', '.join(missing)}")
    for source, target, data in graph.edges(data=True):
        kind = data.get("kind")
        ends = (graph.nodes[source].get("kind"), graph.nodes[target].get("kind"))
        if kind not in schema.edges:
            problems.append(f"edge {source} -> {target}: unknown kind {kind!r}")
        elif ends not in schema.edges[kind]:
            expected = " or ".join(f"{a} -> {b}" for a, b in schema.edges[kind])
            problems.append(f"edge {source} -> {target}: {kind} joins {ends[0]} -> {ends[1]}, expected {expected}")
    return problems
