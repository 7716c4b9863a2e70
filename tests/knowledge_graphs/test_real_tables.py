"""The importers on the real-format fixtures (``fixtures/real``, written by ``make_real_fixtures.py``) and the
shipped mappings for those public shapes: rows kept, unknowns left unknown and reported, names resolved,
totals right, a 40,000-node import in seconds, and ``vkit kg check``'s one-line verdict."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge_graphs.codes import is_listing_code
from knowledge_graphs.importers import auto, gaokao, import_tables, realestate
from knowledge_graphs.importers.common import MappingError, load_mapping

REAL = Path(__file__).parent / "fixtures" / "real"
MAPPINGS = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "mappings"
AUTO = [(REAL / "auto_trims.csv", MAPPINGS / "auto_trims_portal.yaml")]
REALESTATE = [(REAL / f"realestate_{table}.csv", MAPPINGS / f"realestate_{mapping}.yaml")
              for table, mapping in (("xiaoqu", "xiaoqu_city"), ("pois", "pois_map"), ("metro", "metro_lines"),
                                     ("listings", "listings_city"))]
GAOKAO = [(REAL / f"gaokao_{table}.csv", MAPPINGS / f"gaokao_{mapping}.yaml")
          for table, mapping in (("universities", "university_list"), ("admissions", "group_cutoffs"),
                                 ("batch_lines", "batch_lines"), ("score_table", "score_table"))]


def make_fixtures():
    spec = importlib.util.spec_from_file_location("make_real_fixtures", REAL / "make_real_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def with_options(tmp_path: Path, mapping: Path, old: str, new: str) -> Path:
    """A copy of ``mapping`` with one line changed (as a user sets an option)."""
    text = mapping.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / mapping.name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def kg(*args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VKIT_")}
    env.update(HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    return subprocess.run([sys.executable, "-m", "knowledge_graphs.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=300, env=env)


def test_committed_fixtures_are_what_the_script_writes(tmp_path):
    written = make_fixtures().write_all(tmp_path)
    assert written and all((REAL / p.name).read_bytes() == p.read_bytes() for p in written)


@pytest.mark.parametrize("mapping", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_mapping_is_valid(mapping):
    parsed = load_mapping(mapping)
    module = {"auto": auto, "gaokao": gaokao, "realestate": realestate}[parsed.vertical]
    from knowledge_graphs.importers.common import canonical_options, check_fields

    check_fields(parsed, module.KINDS)
    canonical_options(parsed, module.OPTIONS)


# --------------------------------------------------------------------------- auto


def test_auto_portal_table_keeps_every_row_and_says_what_is_unknown():
    graph, (report,) = import_tables("auto", AUTO)
    assert report.rows_read == report.rows_used == 136 and not report.dropped  # "-kg", "-km/h", "-L" drop nothing
    trims = [d for _, d in graph.nodes(data=True) if d["kind"] == "trim"]
    assert sum(t["weight"] is None for t in trims) == sum(t["top_speed"] is None for t in trims) > 30
    assert report.coverage()["weight"] < 1 and "weight" not in report.absent
    # no 级别 column: body unknown for every trim (pickups and vans are not made 轿车), and the report says so
    assert all(t["body"] is None and t["size_class"] is None for t in trims)
    assert report.notes["unknown:body"] == 136 and {"body", "size_class"} <= set(report.absent)
    assert "not in the table, left unknown: body" in report.summary()
    energies = {t["series_name"]: t["energy"] for t in trims}
    assert (energies["长城炮"], energies["理想L7"], energies["Model Y"], energies["卡罗拉双擎"]) == ("燃油", "混动", "纯电", "混动")
    names = {t["full_name"] for t in trims}
    assert "2023款 东风日产-轩逸 1.5L 舒适版" in names  # the series once, not "日产东风日产-轩逸 轩逸"
    assert all(t["full_name"].count(t["series_name"].split("-")[-1]) == 1 for t in trims)


def test_auto_eval_series_must_exist_after_import(tmp_path):
    named = with_options(tmp_path, AUTO[0][1], "eval_series: []", "eval_series: [Model Y, 轩逸二代]")
    with pytest.raises(MappingError, match="eval_series names 轩逸二代, but no trim of that series was imported"):
        import_tables("auto", [(AUTO[0][0], named)])
    fine = with_options(tmp_path, AUTO[0][1], "eval_series: []", "eval_series: [Model Y, 东风日产-逍客]")
    graph, _ = import_tables("auto", [(AUTO[0][0], fine)])
    assert sorted(d["name"] for _, d in graph.nodes(data=True) if d.get("pool") == "eval") == ["Model Y", "东风日产-逍客"]


def test_validate_totals_count_every_warning(tmp_path):
    assert kg("import", "auto", "--source", AUTO[0][0], "--mapping", AUTO[0][1], "--out", tmp_path).returncode == 0
    total = len(auto.validate(import_tables("auto", AUTO)[0])[1])
    proc = kg("validate", tmp_path)
    lines = proc.stdout.splitlines()
    assert total > 50 and lines[-1] == f"0 errors, {total} warnings"
    assert lines[-2] == f"warning: ... and {total - 50} more warnings"


# --------------------------------------------------------------------------- realestate


def test_realestate_listings_create_their_xiaoqu_and_real_formats_are_read():
    graph, reports = import_tables("realestate", REALESTATE)
    by_source = {Path(r.source).stem: r for r in reports}
    listings, pois, metro = by_source["realestate_listings"], by_source["realestate_pois"], by_source["realestate_metro"]
    assert dict(listings.dropped) == {"repeated_header": 1}  # the header inside the file, named as such
    assert listings.rows_used == 432 and listings.notes["xiaoqu_created_from_listings"] == 12
    nodes = {n: d for n, d in graph.nodes(data=True)}
    assert sum(d["kind"] == "xiaoqu" for d in nodes.values()) == 36  # 24 from the 小区 table, 12 from listings
    assert sum(d["kind"] == "listing" for d in nodes.values()) == 432
    codes = [d["code"] for d in nodes.values() if d["kind"] == "listing"]
    assert all(len(c) == 12 and c.isdigit() and is_listing_code(c) for c in codes)  # 101087933454 kept as is
    assert listings.notes["unreadable:elevator"] > 0 and listings.rows_used == 432  # 暂无数据: unknown, row kept
    layouts = {(d["rooms"], d["halls"]) for d in nodes.values() if d["kind"] == "listing"}
    assert (3, 0) in layouts  # 3房间1卫
    stations = {d["name"]: d for d in nodes.values() if d["kind"] == "station"}
    assert stations["亦庄站"]["lines"] == ["亦庄线"] and stations["香山站"]["lines"] == ["西郊线"]
    assert graph.has_edge(*[n for n, d in nodes.items() if d.get("name") in ("亦庄站", "旧宫站")])  # 站序 1 -> 2
    assert not metro.dropped
    assert pois.dropped == {"unknown_category": 36, "not_modelled:高中": 12}  # 高级中学: typed 中学, named 高中
    assert "医疗保健服务;综合医院;三级甲等医院" in pois.values["unknown_category"]
    schools = [d for d in nodes.values() if d["kind"] == "school"]
    assert {d["level"] for d in schools} == {"小学", "初中"} and not any("高级中学" in d["name"] for d in schools)
    assert realestate.validate(graph)[0] == []


def test_realestate_eval_city_must_exist(tmp_path):
    named = with_options(tmp_path, REALESTATE[3][1], "eval_cities: []", "eval_cities: [上海]")
    with pytest.raises(MappingError, match="eval_cities names 上海, but no imported 小区 is in that city"):
        import_tables("realestate", [*REALESTATE[:3], (REALESTATE[3][0], named)])


def test_forty_thousand_nodes_import_in_under_thirty_seconds(tmp_path):
    make_fixtures().write_all(tmp_path, scale=88)
    tables = [(tmp_path / Path(table).name, mapping) for table, mapping in REALESTATE]
    start = time.perf_counter()
    graph, _ = import_tables("realestate", tables)
    seconds = time.perf_counter() - start
    assert graph.number_of_nodes() > 40_000 and seconds < 30, seconds


# --------------------------------------------------------------------------- gaokao


def test_gaokao_old_system_tracks_batches_bands_and_university_names():
    graph, reports = import_tables("gaokao", GAOKAO)
    by_kind = {r.kind: r for r in reports}
    assert not by_kind["batch_lines"].dropped and by_kind["batch_lines"].rows_used == 108  # 文/理/艺术/体育 all kept
    lines = {(d["province"], d["year"], d["track"], d["batch"]) for _, d in graph.nodes(data=True) if d["kind"] == "batch_line"}
    assert {("河南", 2021, "理科", "本科一批"), ("河南", 2021, "理科", "本科二批"), ("河南", 2021, "艺术类", "本科批"),
            ("河南", 2021, "体育类", "本科批")} <= lines  # 一批 and 二批 are two lines
    assert graph.nodes["province:河南"]["mode"] == "文理" and graph.nodes["province:广东"]["mode"] == "3+1+2"
    table = graph.nodes["score_table:河南:2021:理科"]
    assert table["max_score"] == 666 and by_kind["score_table"].notes["score_band"] == 1  # "666-750"
    universities = {d["name"] for _, d in graph.nodes(data=True) if d["kind"] == "university"}
    assert {"华东师范大学", "上海建桥学院", "广东外语外贸大学", "扬州市职业大学"} <= universities
    assert not universities & {"华东师大", "建桥学院", "广外", "扬州市职业大学（扬州市广播电视大学）"}
    assert graph.nodes["university:扬州市职业大学"]["campus"] is None  # the bracket is an alias, not a campus
    admissions = by_kind["admissions"]
    assert admissions.notes["university_abbreviation"] > 0 and admissions.values["university_not_resolved"] == ["新设学院"]
    assert dict(admissions.dropped) == {"either_or_subjects": 15}  # 物理或化学: 5 groups x 3 years
    ranked = [e for *_, e in graph.edges(data=True) if e["kind"] == "admission"]
    assert ranked and all(e["min_rank"] for e in ranked)  # 最低排名 read directly: no 一分一段 needed


def test_gaokao_eval_province_must_exist(tmp_path):
    named = with_options(tmp_path, GAOKAO[1][1], "eval_provinces: []", "eval_provinces: [湖北]")
    with pytest.raises(MappingError, match="eval_provinces names 湖北, but no imported row is of that province"):
        import_tables("gaokao", [GAOKAO[0], (GAOKAO[1][0], named)])


# --------------------------------------------------------------------------- kg check


def test_kg_check_says_no_in_one_line(tmp_path):
    small = Path(__file__).parent / "fixtures" / "auto_trims.csv"  # 3 trims of one series: too few to train on
    assert kg("import", "auto", "--source", small, "--mapping", MAPPINGS / "auto_trims.yaml", "--out", tmp_path).returncode == 0
    proc = kg("check", "auto", tmp_path)
    assert proc.returncode == 1, proc.stderr
    last = proc.stdout.splitlines()[-1]
    assert last.startswith("NOT READY: auto cannot train on this data: ") and "\n" not in last
    assert "The graph has 3 train-pool trims in 1 series" in last and "dataset builders:" in proc.stdout


def test_kg_check_on_the_portal_table_is_ready_and_lists_the_unknowns(tmp_path):
    assert kg("import", "auto", "--source", AUTO[0][0], "--mapping", AUTO[0][1], "--out", tmp_path).returncode == 0
    proc = kg("check", "auto", tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == f"READY: auto can train on {tmp_path}"
    assert "trim.body unknown in 136 of 136" in proc.stdout and "dataset builders:" in proc.stdout


def test_kg_check_on_a_graph_that_trains(tmp_path):
    from knowledge_graphs.gaokao import build_gaokao_graph
    from knowledge_graphs.io import save_graph

    save_graph(build_gaokao_graph(0), tmp_path / "graph.json")
    proc = kg("check", "gaokao", tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == f"READY: gaokao can train on {tmp_path}"
    assert "province: eval 1 (湖北)" in proc.stdout and "  sft " in proc.stdout


def test_the_vertical_takes_the_listing_codes_import_and_validate_take(tmp_path, monkeypatch):
    from knowledge_graphs.check import clear_vertical_caches, point_vertical_at
    from knowledge_graphs.io import save_graph

    graph, _ = import_tables("realestate", REALESTATE)
    save_graph(graph, tmp_path / "graph.json")
    monkeypatch.setenv("VKIT_REALESTATE_GRAPH", str(tmp_path))  # restored after the test
    point_vertical_at("realestate", tmp_path)
    from verticals.realestate.kg import realestate_index

    try:
        codes = list(realestate_index().listings)
        assert len(codes) > 300 and all(len(code) == 12 for code in codes)  # 101087933454 and the like
        assert codes == sorted(codes, key=int)
    finally:
        monkeypatch.undo()
        clear_vertical_caches("realestate")  # later tests see the generated graph again


@pytest.mark.parametrize(("written", "resolved"), [
    ("华东师大", "华东师范大学"),        # characters in order, same first character
    ("建桥学院", "上海建桥学院"),        # the listed name ends with it
    ("北师大", "北京师范大学"),
    ("北大", "北大"),                  # 北京大学 and 北京师范大学 both fit: ambiguous, kept as written and reported
    ("浙大", "浙大"),                  # nothing fits
    ("山东大学(威海)", "山东大学（威海）"),  # a campus of a listed university stays a campus
])
def test_university_names_resolve_against_the_list(tmp_path, written, resolved):
    listed = tmp_path / "list.csv"
    listed.write_text("学校名称,所在地,省份,备注\n华东师范大学,上海,上海,\n上海建桥学院,上海,上海,民办\n北京大学,北京,北京,\n"
                      "北京师范大学,北京,北京,\n山东大学,济南,山东,\n", encoding="utf-8")
    cutoffs = tmp_path / "cutoffs.csv"
    cutoffs.write_text(f"年份,科类,批次,院校代码,院校名称,专业组代码,选科要求,专业类,投档最低分,最低排名,计划数\n"
                       f"2023,物理类,本科批,1,{written},201,不限,,600,5000,3\n", encoding="utf-8")
    graph, (_, report) = import_tables("gaokao", [(listed, GAOKAO[0][1]), (cutoffs, GAOKAO[1][1])])
    [group] = [d for _, d in graph.nodes(data=True) if d["kind"] == "major_group"]
    assert graph.nodes[group["university"]]["name"] == resolved
    unresolved = written == resolved and "(" not in written
    assert report.values.get("university_not_resolved", []) == ([written] if unresolved else [])


def test_validate_refuses_a_listing_code_the_vertical_would_refuse():
    graph, _ = import_tables("realestate", REALESTATE)
    listing = next(n for n, d in graph.nodes(data=True) if d["kind"] == "listing")
    graph.nodes[listing]["code"] = "房源-1"
    errors, _ = realestate.validate(graph)
    assert errors == [f"{listing}: listing code '房源-1' is not up to four letters and then digits (L12, 101087933454)"]
