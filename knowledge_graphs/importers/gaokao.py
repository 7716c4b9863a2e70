"""Import a 高考 knowledge graph from real tables: 一分一段, 投档线, 批次控制线 and university lists.

The result has the schema of :mod:`knowledge_graphs.gaokao` (see :data:`SCHEMA`), so the gaokao
vertical can index it unchanged. Table kinds and their fields (``*`` = required)::

    score_table   province* year* track* score* cumulative count     (一分一段: 累计人数 and/or 本段人数)
    admissions    province* year* track* university* min_score* min_rank group subjects plan batch field
    batch_lines   province* year* track* batch* score*
    universities  name* city province is_985 is_211 is_double_first_class level type ownership

Cleaning beyond :mod:`knowledge_graphs.importers.common`:

* 科类 ``物理``/``首选物理`` -> ``物理类``, ``历史`` -> ``历史类``, ``不分文理`` -> ``综合``; other names
  (``理科``) must be mapped by the mapping's ``aliases`` or the row is dropped (``unknown_track``).
* Branch campuses: ``山东大学（威海）``, ``山东大学(威海)`` and ``山东大学威海分校`` are one node named
  ``山东大学（威海）`` with ``parent`` 山东大学 and ``campus`` 威海; unless listed themselves, a campus
  inherits its parent's 985/211/双一流 flags, and its city defaults to the campus name.
* Flags: 985 implies 211 implies 双一流; ``level`` text such as ``985/211`` sets them too.
* 一分一段: a top row ``700及以上`` makes 700 the table's max_score; scores missing between two rows
  get the rank of the score above (nobody scored them); 累计人数 is rebuilt from 本段人数 when absent;
  a row whose 累计人数 falls below the row above is dropped (``cumulative_decreases``).
* 投档线 without 最低位次 take the rank of the min score from the province's table
  (note ``min_rank_from_score_table``), or are dropped when no table covers them.
* 选科 ``物理+化学``, ``物化``, ``物理和化学`` -> both required; ``不限`` -> none; ``物理或化学`` is
  dropped (``either_or_subjects``): the graph models only all-required lists.

Pools: provinces named in the option ``eval_provinces`` are ``eval``; a university is ``eval`` when it
recruits only in eval provinces, ``train`` otherwise.

>>> split_campus("山东大学(威海)"), split_campus("哈尔滨工业大学威海分校"), split_campus("北京大学")
(('山东大学', '威海'), ('哈尔滨工业大学', '威海'), ('北京大学', None))
>>> parse_subjects("物化"), parse_subjects("不限"), parse_subjects("物理+化学")
(['物理', '化学'], [], ['物理', '化学'])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from knowledge_graphs.importers.common import (
    CellError, GraphSchema, ImportReport, MappingError, TableMapping, canonical_options, check_fields, import_rows, parse_quantity,
    schema_problems, split_list,
)

SCHEMA = GraphSchema(
    nodes={
        "province": frozenset({"name", "mode", "pool", "tracks", "local_cities"}),
        "year": frozenset({"year"}),
        "score_table": frozenset({"province", "year", "track", "max_score", "min_score", "ranks"}),
        "batch_line": frozenset({"province", "year", "track", "batch", "score"}),
        "university": frozenset({"name", "city", "type", "pool", "is_985", "is_211", "is_double_first_class",
                                 "ownership", "tier"}),
        "major_group": frozenset({"name", "field", "university", "subjects"}),
    },
    edges={"has_score_table": (("province", "score_table"),), "in_year": (("score_table", "year"),),
           "has_batch_line": (("province", "batch_line"),), "offers": (("university", "major_group"),),
           "admission": (("major_group", "province"),), "has_campus": (("university", "university"),)},
)
KINDS = {  # kind -> (required fields, optional fields)
    "score_table": ({"province", "year", "track", "score"}, {"cumulative", "count"}),
    "admissions": ({"province", "year", "track", "university", "min_score"},
                   {"min_rank", "group", "subjects", "plan", "batch", "field"}),
    "batch_lines": ({"province", "year", "track", "batch", "score"}, set()),
    "universities": ({"name"}, {"city", "province", "is_985", "is_211", "is_double_first_class", "level", "type",
                                "ownership"}),
}
# field -> the fields that fill it when it has no column (the import report lists a field as absent otherwise)
COVERED_BY = {**{flag: ("level",) for flag in ("is_985", "is_211", "is_double_first_class")},
              "level": ("is_985",), "count": ("cumulative",), "cumulative": ("count",)}
OPTIONS = {"eval_provinces": [], "test_provinces": [], "mode": None}
TRACKS = {"物理类": "物理类", "物理": "物理类", "首选物理": "物理类", "物理方向": "物理类",
          "历史类": "历史类", "历史": "历史类", "首选历史": "历史类", "历史方向": "历史类",
          "综合": "综合", "不分文理": "综合", "综合改革": "综合", "普通类": "综合",
          # the old system (文理分科), still most provinces' history before their reform
          "文科": "文科", "文史": "文科", "文史类": "文科", "文": "文科", "理科": "理科", "理工": "理科", "理工类": "理科",
          "理": "理科", "艺术类": "艺术类", "艺术": "艺术类", "艺术文": "艺术类", "艺术理": "艺术类", "艺术(文)": "艺术类",
          "艺术(理)": "艺术类", "体育类": "体育类", "体育": "体育类", "体育文": "体育类", "体育理": "体育类",
          "体育(文)": "体育类", "体育(理)": "体育类"}
TRACK_ORDER = ("物理类", "历史类", "综合", "理科", "文科", "艺术类", "体育类")
OLD_SYSTEM_TRACKS = frozenset({"文科", "理科", "艺术类", "体育类"})
SCORE_BAND = re.compile(r"(\d+)\s*[-~～—至到]\s*(\d+)分?")
SUBJECTS = ("物理", "化学", "生物", "历史", "地理", "政治", "技术")
SUBJECT_ABBR = {"物": "物理", "化": "化学", "生": "生物", "史": "历史", "地": "地理", "政": "政治", "技": "技术"}
TYPE_WORDS = (("师范", "师范"), ("医", "医药"), ("中医", "医药"), ("财经", "财经"), ("经贸", "财经"), ("商", "财经"),
              ("政法", "政法"), ("外国语", "语言"), ("理工", "理工"), ("工业", "理工"), ("科技", "理工"))
FIELD_WORDS = {"计算机": ("计算机", "软件", "人工智能", "数据科学"), "电子信息": ("电子", "通信", "信息工程", "集成电路"),
               "机械": ("机械", "自动化", "车辆"), "土木建筑": ("土木", "建筑"),
               "医学": ("医学", "临床", "口腔", "药学", "护理"), "经济金融": ("经济", "金融", "会计", "财务"),
               "法学": ("法学",), "汉语言文学": ("汉语言", "中文", "新闻"), "外语": ("外语", "外国语", "英语", "翻译"),
               "师范教育": ("师范", "教育")}
DEFAULT_GROUP = "院校专业组"


def split_campus(name: str) -> tuple[str, str | None]:
    """(parent university, campus) of ``XX大学(威海)`` / ``XX大学威海分校``; campus None for a main campus.

    A bracket holding another school's name is an alias (a former or second name), not a campus:

    >>> split_campus("扬州市职业大学(扬州市广播电视大学)")
    ('扬州市职业大学', None)
    """
    match = re.fullmatch(r"(.+?)\s*\((.+?)(?:校区|分校)?\)", name) or re.fullmatch(r"(.+?(?:大学|学院))(.+?)(?:分校|校区)", name)
    if match and re.search(r"(?:大学|学院|学校)$", match.group(2)):
        return match.group(1).strip(), None
    return (match.group(1).strip(), match.group(2).strip()) if match else (name, None)


def abbreviates(short: str, full: str) -> bool:
    """``short`` is an abbreviation of ``full``: its characters in order, the first one or the last word shared.

    >>> abbreviates("华东师大", "华东师范大学"), abbreviates("建桥学院", "上海建桥学院"), abbreviates("华东师大", "华东理工大学")
    (True, True, False)
    """
    if len(short) >= len(full) or (short[0] != full[0] and not full.endswith(short)):
        return False
    rest = iter(full)
    return all(char in rest for char in short)


def parse_score(text: str) -> tuple[int, str | None]:
    """(score, open side) from ``598``, ``684+``/``700及以上`` (above), ``150以下`` (below) or a band
    ``666-750`` (its lower end: 累计人数 at a band counts everyone in it).

    >>> parse_score("666-750"), parse_score("700及以上"), parse_score("598")
    ((666, 'band'), (700, 'above'), (598, None))
    """
    band = SCORE_BAND.fullmatch(text.replace(" ", ""))
    if band:
        return min(int(band.group(1)), int(band.group(2))), "band"
    quantity = parse_quantity(text, "score")
    return int(quantity.value), quantity.open_ended


def university_name(name: str) -> str:
    """Canonical display name: ``山东大学（威海）`` for any spelling of a branch campus."""
    parent, campus = split_campus(name)
    return f"{parent}（{campus}）" if campus else parent


def parse_subjects(text: str | None) -> list[str]:
    """Required 选科 (all of them) in canonical order; CellError for 或 (either-or) requirements."""
    if text is None or text in ("不限", "无", "不提科目要求", "再选不限"):
        return []
    if "或" in text:
        raise CellError("either_or_subjects")
    text = re.sub(r"首选|再选|必选|均需选考|必须选考|选考", "", text)
    found = {s for s in SUBJECTS if s in text}
    if not found and re.fullmatch(r"[物化生史地政技]+", text.replace("+", "")):
        found = {SUBJECT_ABBR[c] for c in text if c in SUBJECT_ABBR}
    if not found and split_list(text) and all(s == "不限" for s in split_list(text)):
        return []
    if not found:
        raise CellError("unknown_subjects")
    return [s for s in SUBJECTS if s in found]


def guess_type(name: str) -> str:
    """School type (综合/理工/师范/医药/财经/政法/语言) from the name, 综合 when nothing matches."""
    return next((kind for word, kind in TYPE_WORDS if word in name), "综合")


def guess_field(group: str) -> str:
    """The major field of a 专业组 from its name, ``其他`` when nothing matches."""
    return next((f for f, words in FIELD_WORDS.items() if any(w in group for w in words)), "其他")


@dataclass
class PendingAdmission:
    report: ImportReport
    line: int
    group_id: str
    province_id: str
    key: str


@dataclass
class GaokaoImport:
    """An import in progress: the graph so far, and what :meth:`finish` still has to resolve."""

    graph: nx.MultiDiGraph = field(default_factory=lambda: nx.MultiDiGraph(name="gaokao", imported=True))
    score_rows: dict = field(default_factory=dict)  # (province, year, track) -> {score: (cumulative, count, line, report)}
    pending: list[PendingAdmission] = field(default_factory=list)
    eval_provinces: set = field(default_factory=set)
    test_provinces: set = field(default_factory=set)
    mode: str | None = None
    resolved: dict = field(default_factory=dict)  # name as written -> listed name it abbreviates (or None)
    listed: set = field(default_factory=set)  # names of universities read from a university list
    unlisted: dict = field(default_factory=dict)  # university id -> report of the table that named it first

    def add_table(self, path: str, mapping: TableMapping, report: ImportReport) -> None:
        """Read one source table of ``mapping.kind`` into the graph."""
        check_fields(mapping, KINDS)
        options = canonical_options(mapping, OPTIONS)
        self.eval_provinces |= set(options["eval_provinces"])
        self.test_provinces |= set(options["test_provinces"])
        self.mode = options["mode"] or self.mode
        handler = {"score_table": self._score_row, "admissions": self._admission_row,
                   "batch_lines": self._batch_row, "universities": self._university_row}[mapping.kind]
        import_rows(path, mapping, report, lambda row: handler(row, report))

    # ------------------------------------------------------------------ rows

    def _track(self, row) -> str:
        track = row.required("track")
        if track not in TRACKS:
            raise CellError("unknown_track")
        return TRACKS[track]

    def _province(self, name: str, track: str) -> str:
        pid = f"province:{name}"
        if pid not in self.graph:
            self.graph.add_node(pid, kind="province", name=name, tracks=[], local_cities=[], mode=None, pool=None)
        if track not in self.graph.nodes[pid]["tracks"]:
            self.graph.nodes[pid]["tracks"].append(track)
        return pid

    def _score_row(self, row, report: ImportReport) -> None:
        key = (row.required("province"), row.integer("year", "year", True), self._track(row))
        try:
            value, opens = parse_score(row.required("score"))
        except CellError as error:
            raise CellError(f"{error}:score") from None
        if opens:
            report.note("score_band" if opens == "band" else "open_ended:score")
        cumulative, count = row.integer("cumulative", "count"), row.integer("count", "count")
        if cumulative is None and count is None:
            raise CellError("missing:cumulative_and_count")
        table = self.score_rows.setdefault(key, {})
        if value in table:
            raise CellError("conflicting_duplicate:score")
        table[value] = (cumulative, count, row.number_in_file, report, opens)

    def _admission_row(self, row, report: ImportReport) -> None:
        province, year, track = row.required("province"), row.integer("year", "year", True), self._track(row)
        raw_university, group_name = self._listed_name(row.required("university"), report), row.text("group") or DEFAULT_GROUP
        subjects, field_name = parse_subjects(row.text("subjects")), row.text("field")
        attrs = dict(kind="admission", year=year, track=track, min_score=row.integer("min_score", "score", True),
                     min_rank=row.integer("min_rank", "count"), plan=row.integer("plan", "count"))
        batch = row.text("batch")
        if batch:
            attrs["batch"] = batch
        gid = f"major_group:{university_name(raw_university)}:{group_name}"
        if gid in self.graph and self.graph.nodes[gid]["subjects"] != subjects:
            raise CellError("subjects_differ_from_earlier_row")
        pid, key = f"province:{province}", f"{year}:{track}"
        if pid in self.graph and self.graph.has_edge(gid, pid, key):
            raise CellError("conflicting_duplicate:admission")
        # every cell is read: only now touch the graph, so a dropped row leaves nothing behind
        uid = self._university(raw_university, report)
        if gid not in self.graph:
            self.graph.add_node(gid, kind="major_group", name=group_name, university=uid, subjects=subjects,
                                field=field_name or guess_field(group_name))
            self.graph.add_edge(uid, gid, kind="offers")
        self.graph.add_edge(gid, self._province(province, track), key=key, **attrs)
        if attrs["min_rank"] is None:
            self.pending.append(PendingAdmission(report, row.number_in_file, gid, pid, key))

    def _batch_row(self, row, report: ImportReport) -> None:
        province, year, track = row.required("province"), row.integer("year", "year", True), self._track(row)
        batch = row.required("batch")
        pid = self._province(province, track)
        bid = f"batch_line:{province}:{year}:{track}:{batch}"
        if bid in self.graph:
            raise CellError("conflicting_duplicate:batch_line")
        self.graph.add_node(bid, kind="batch_line", province=province, year=year, track=track, batch=batch,
                            score=row.integer("score", "score", True))
        self.graph.add_edge(pid, bid, kind="has_batch_line")

    def _university_row(self, row, report: ImportReport) -> None:
        raw_name, level = row.required("name"), row.text("level") or ""
        flags = {"is_985": row.flag("is_985"), "is_211": row.flag("is_211"),
                 "is_double_first_class": row.flag("is_double_first_class")}
        for flag, word in (("is_985", "985"), ("is_211", "211"), ("is_double_first_class", "双一流")):
            if word in level:
                flags[flag] = True
        if university_name(raw_name) in self.listed:
            raise CellError("conflicting_duplicate:university")
        uid = self._university(raw_name)
        self.listed.add(university_name(raw_name))
        self.unlisted.pop(uid, None)
        node = self.graph.nodes[uid]
        node.update({k: v for k, v in flags.items() if v is not None})
        for name in ("city", "type", "ownership", "province"):
            if row.text(name):
                node[name] = row.text(name)

    def _listed_name(self, raw_name: str, report: ImportReport) -> str:
        """The university list's name for ``raw_name``: itself, its name without a bracketed alias, or the one
        listed name it abbreviates (``华东师大`` -> ``华东师范大学``); unchanged when none or several fit."""
        name = university_name(raw_name)
        if not self.listed or name in self.listed or split_campus(raw_name)[0] in self.listed:
            return raw_name  # listed, or a campus of a listed university
        if name not in self.resolved:
            fits = [full for full in self.listed if abbreviates(name, full)]
            self.resolved[name] = fits[0] if len(fits) == 1 else None
        if self.resolved[name] is None:
            report.note("university_not_resolved")
            report.example_value("university_not_resolved", name)
            return raw_name
        report.note("university_abbreviation")
        return self.resolved[name]

    def _university(self, raw_name: str, report: ImportReport | None = None) -> str:
        """The node id of a university (created on first mention; ``report`` notes one not listed)."""
        name = university_name(raw_name)
        uid = f"university:{name}"
        if uid not in self.graph:
            parent, campus = split_campus(raw_name)
            self.graph.add_node(uid, kind="university", name=name, parent=parent if campus else None, campus=campus)
        if report is not None and name not in self.listed:
            self.unlisted.setdefault(uid, report)
        return uid

    # ------------------------------------------------------------------ finishing

    def finish(self) -> nx.MultiDiGraph:
        """Build the score tables, resolve missing ranks, fill the province and university attributes."""
        self._check_pools()
        for key, rows in sorted(self.score_rows.items()):
            self._add_score_table(key, rows)
        self.score_rows.clear()
        self._resolve_ranks()
        self._finish_universities()
        self._finish_provinces()
        return self.graph

    def _check_pools(self) -> None:
        """MappingError when ``eval_provinces``/``test_provinces`` name a province no table brought in."""
        present = {d["name"] for _, d in self._nodes("province")} | {key[0] for key in self.score_rows}
        for option, names in (("eval_provinces", self.eval_provinces), ("test_provinces", self.test_provinces)):
            absent = sorted(names - present)
            if absent:
                raise MappingError(f"options.{option} names {', '.join(absent)}, but no imported row is of that "
                                   "province (all its rows dropped, or the name is spelled otherwise: see the report)")

    def _add_score_table(self, key: tuple, rows: dict) -> None:
        province, year, track = key
        ranks, previous = {}, 0
        for score in sorted(rows, reverse=True):
            cumulative, count, line, report, _ = rows[score]
            value = cumulative if cumulative is not None else previous + count
            if cumulative is None:
                report.note("cumulative_from_count")
            elif count is not None and previous and cumulative - previous != count:
                report.note("count_disagrees_with_cumulative")
            if value < previous:
                report.drop("cumulative_decreases", line)
                report.rows_used -= 1
                continue
            ranks[score], previous = value, value
        top, bottom = max(ranks), min(ranks)
        filled, last = [], 0
        for score in range(top, bottom - 1, -1):  # a score nobody got keeps the rank of the score above
            last = ranks.get(score, last)
            filled.append(last)
        pid = self._province(province, track)
        tid = f"score_table:{province}:{year}:{track}"
        self.graph.add_node(tid, kind="score_table", province=province, year=year, track=track, max_score=top,
                            min_score=bottom, ranks=filled)
        self.graph.add_node(f"year:{year}", kind="year", year=year)
        self.graph.add_edge(pid, tid, kind="has_score_table")
        self.graph.add_edge(tid, f"year:{year}", kind="in_year")

    def _resolve_ranks(self) -> None:
        for item in self.pending:
            edge = self.graph.edges[item.group_id, item.province_id, item.key]
            province = self.graph.nodes[item.province_id]["name"]
            table = self.graph.nodes.get(f"score_table:{province}:{edge['year']}:{edge['track']}")
            if table and table["min_score"] <= edge["min_score"] <= table["max_score"]:
                edge["min_rank"] = table["ranks"][table["max_score"] - edge["min_score"]]
                item.report.note("min_rank_from_score_table")
            else:
                self.graph.remove_edge(item.group_id, item.province_id, item.key)
                item.report.drop("no_min_rank_and_no_score_table", item.line)
                item.report.rows_used -= 1
        self.pending.clear()

    def _finish_universities(self) -> None:
        nodes = self.graph.nodes
        for uid, report in self.unlisted.items():
            report.note("university_not_in_list")
        self.unlisted.clear()
        for uid, u in list(self._nodes("university")):
            parent = nodes.get(f"university:{u['parent']}") if u.get("parent") else None
            if parent is not None and not self.graph.has_edge(f"university:{u['parent']}", uid):
                self.graph.add_edge(f"university:{u['parent']}", uid, kind="has_campus")
            for flag in ("is_985", "is_211", "is_double_first_class"):
                if u.get(flag) is None:
                    u[flag] = bool(parent and parent.get(flag))
            u["is_211"] = u["is_211"] or u["is_985"]
            u["is_double_first_class"] = u["is_double_first_class"] or u["is_211"]
            u.setdefault("city", u.get("campus") or (parent or {}).get("city") or "未知")
            u.setdefault("type", guess_type(u.get("parent") or u["name"]))
            u.setdefault("ownership", "公办")
            u["tier"] = ("985" if u["is_985"] else "211" if u["is_211"] else "双一流" if u["is_double_first_class"]
                         else "民办" if u["ownership"] == "民办" else "普通")
            recruits = {nodes[p]["name"] for g in self.graph.successors(uid) if nodes[g]["kind"] == "major_group"
                        for p in self.graph.successors(g)}
            u["pool"] = ("eval" if recruits and recruits <= self.eval_provinces else
                         "test" if recruits and recruits <= self.test_provinces else "train")

    def _finish_provinces(self) -> None:
        cities = {}
        for _, u in self._nodes("university"):
            if u.get("province"):
                cities.setdefault(u["province"], set()).add(u["city"])
        for _, p in self._nodes("province"):
            tracks = set(p["tracks"])
            p["tracks"] = [t for t in TRACK_ORDER if t in tracks]
            mode = province_mode(tracks)
            p["mode"] = self.mode if mode == "其他" and self.mode else mode
            p["pool"] = ("eval" if p["name"] in self.eval_provinces else
                         "test" if p["name"] in self.test_provinces else "train")
            p["local_cities"] = sorted(set(p["local_cities"]) | cities.get(p["name"], set()))

    def _nodes(self, kind: str):
        return ((n, d) for n, d in self.graph.nodes(data=True) if d.get("kind") == kind)


def province_mode(tracks: set[str]) -> str:
    """The exam system a province's tracks imply: 3+1+2, 3+3, 文理 (the old system) or 其他 (a mix).

    >>> province_mode({"物理类", "历史类"}), province_mode({"综合"}), province_mode({"文科", "理科", "艺术类"})
    ('3+1+2', '3+3', '文理')
    """
    if tracks <= {"物理类", "历史类"}:
        return "3+1+2"
    if tracks == {"综合"}:
        return "3+3"
    return "文理" if tracks <= OLD_SYSTEM_TRACKS else "其他"


def start(graph: nx.MultiDiGraph | None = None) -> GaokaoImport:
    """A new import, optionally adding to a graph imported earlier (``vkit kg import`` into the same DIR)."""
    if graph is None:
        return GaokaoImport()
    state = GaokaoImport(graph=graph)
    state.listed = {d["name"] for _, d in state._nodes("university")}
    state.eval_provinces = {d["name"] for _, d in state._nodes("province") if d.get("pool") == "eval"}
    state.test_provinces = {d["name"] for _, d in state._nodes("province") if d.get("pool") == "test"}
    return state


def validate(graph: nx.MultiDiGraph) -> tuple[list[str], list[str]]:
    """(errors, warnings). Errors break the vertical; warnings are data the vertical will not use well."""
    errors, warnings = schema_problems(graph, SCHEMA), []
    tables = {(d["province"], d["year"], d["track"]): d for _, d in graph.nodes(data=True) if d.get("kind") == "score_table"}
    for key, t in sorted(tables.items()):
        if len(t["ranks"]) != t["max_score"] - t["min_score"] + 1:
            errors.append(f"score_table {key}: {len(t['ranks'])} ranks for scores {t['min_score']}-{t['max_score']}")
        if any(b < a for a, b in zip(t["ranks"], t["ranks"][1:])):
            errors.append(f"score_table {key}: 累计人数 decreases")
    for g, p, data in graph.edges(data=True):
        if data.get("kind") != "admission":
            continue
        province = graph.nodes[p]["name"]
        table = tables.get((province, data["year"], data["track"]))
        if table is None:
            warnings.append(f"{g} {province} {data['year']} {data['track']}: no 一分一段 table to check the rank")
        elif table["min_score"] <= data["min_score"] <= table["max_score"]:
            at = table["max_score"] - data["min_score"]
            low = min(table["ranks"][at - 1] + 1, table["ranks"][at]) if at else 1  # a score nobody got
            if not low <= data["min_rank"] <= table["ranks"][at]:
                warnings.append(f"{g} {province} {data['year']} {data['track']}: min_rank {data['min_rank']} is not "
                                f"in the band of {data['min_score']}分 ({low}-{table['ranks'][at]})")
    pools = {d.get("pool") for _, d in graph.nodes(data=True) if d.get("kind") == "province"}
    if "eval" not in pools:
        warnings.append("no eval-pool province: the gaokao vertical holds its eval set out by province "
                        "(set options.eval_provinces in a mapping)")
    return errors, warnings
