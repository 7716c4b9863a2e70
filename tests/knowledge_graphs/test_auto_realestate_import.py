"""auto and realestate importers on their messy fixtures; the imported schema matches the generators'."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_graphs.auto import build_auto_graph
from knowledge_graphs.importers import auto, import_tables, realestate
from knowledge_graphs.importers.common import schema_problems
from knowledge_graphs.realestate import build_realestate_graph

FIXTURES = Path(__file__).parent / "fixtures"
MAPPINGS = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "mappings"


def attribute_sets(graph) -> dict[str, set[str]]:
    """kind -> attribute names shared by every node of that kind."""
    out: dict[str, set[str]] = {}
    for _, data in graph.nodes(data=True):
        out[data["kind"]] = out.get(data["kind"], set(data)) & set(data)
    return out


def edge_kinds(graph) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set] = {}
    for s, t, data in graph.edges(data=True):
        out.setdefault(data["kind"], set()).add((graph.nodes[s]["kind"], graph.nodes[t]["kind"]))
    return out


@pytest.fixture(scope="module")
def auto_import():
    return import_tables("auto", [(FIXTURES / "auto_trims.csv", MAPPINGS / "auto_trims.yaml")])


@pytest.fixture(scope="module")
def realestate_import():
    return import_tables("realestate", [(FIXTURES / f"realestate_{name}.csv", MAPPINGS / f"realestate_{name}.yaml")
                                        for name in ("xiaoqu", "listings", "pois")])


@pytest.mark.parametrize(("importer", "build", "fixture"), [
    (auto, build_auto_graph, "auto_import"), (realestate, build_realestate_graph, "realestate_import")])
def test_imported_schema_is_the_generated_schema(importer, build, fixture, request):
    generated, (imported, _) = build(0), request.getfixturevalue(fixture)
    assert schema_problems(generated, importer.SCHEMA) == []  # SCHEMA is the generator's
    assert schema_problems(imported, importer.SCHEMA) == []
    want, got = attribute_sets(generated), attribute_sets(imported)
    assert {kind: want[kind] - got.get(kind, set()) for kind in want if want[kind] - got.get(kind, set())} == {}
    generated_edges = edge_kinds(generated)
    assert all(pairs <= generated_edges.get(kind, set()) for kind, pairs in edge_kinds(imported).items())
    assert importer.validate(imported)[0] == []


def test_auto_units_and_names(auto_import):
    g, (report,) = auto_import
    assert dict(report.dropped) == {"exact_duplicate": 1, "not_a_number:wan_yuan:price": 1}  # price is required
    # optional cells that cannot be read leave that field unknown and keep the row
    assert (report.notes["unreadable:energy"], report.notes["unreadable:dimensions"]) == (1, 1)
    assert report.notes["unknown:energy"] == 1 and report.coverage()["energy"] < 1
    trims = {d["full_name"]: d for _, d in g.nodes(data=True) if d["kind"] == "trim"}
    base = trims["2024款 星驰逐风 1.6L 手动版"]  # leading space in 品牌, full-width price, year from the trim name
    assert (base["price"], base["power_kw"], base["power_ps"], base["engine"], base["displacement"]) == (8.99, 99, 135, "1.6L", 1.6)
    assert (base["top_speed"], base["level"], base["drive"], base["seats"]) == (186, 0, "前驱", 5)
    first = trims["2024款 星驰逐风 1.5T 舒适型"]
    assert (first["price"], first["length"], first["width"], first["height"], first["size_class"]) == (11.9, 4680, 1820, 1460, "A")
    ev = trims["2025款 云岚澄空 Max"]  # 189,800元 -> 18.98万; 300马力 -> 221 kW
    assert (ev["price"], ev["power_kw"], ev["energy"], ev["engine"], ev["body"], ev["range_km"]) == (18.98, 221, "纯电", None, "SUV", 620)
    assert trims["2025款 云岚澄空 Ultra"]["drive"] == "四驱"
    assert trims["2024款 北辰长庚 PHEV 精英型"]["energy"] == "混动"
    assert trims["2024款 北辰长庚 PHEV 豪华型"]["energy"] is None  # 氢燃料: not a known energy, not guessed
    assert trims["2024款 北辰长庚 PHEV 旗舰型"]["length"] is None  # 4780*1890: two of three dimensions


def test_realestate_listings_schools_and_metro(realestate_import):
    g, reports = realestate_import
    by_kind = {r.kind: r for r in reports}
    assert dict(by_kind["listings"].dropped) == {"exact_duplicate": 1, "not_a_layout": 1, "unknown_xiaoqu": 1,
                                                 "total_price_disagrees_with_unit_price": 1}
    assert dict(by_kind["xiaoqu"].dropped) == {"exact_duplicate": 1, "missing:district": 1}
    assert dict(by_kind["pois"].dropped) == {"unknown_category": 1}
    listing = g.nodes["listing:L1001"]  # 650万, 104,569元/平, "2 室 2 厅 1 卫", 中楼层(共6层)
    assert (listing["total_price"], listing["rooms"], listing["halls"], listing["baths"]) == (650, 2, 2, 1)
    assert (listing["floor"], listing["total_floors"], listing["floor_band"], listing["elevator"]) == (None, 6, "中", False)
    assert g.nodes["listing:L1006"]["rooms"] == 2  # 两室一厅
    names = {d["name"]: n for n, d in g.nodes(data=True) if d["kind"] in ("xiaoqu", "school", "station")}
    covers = {(g.nodes[s]["name"], g.nodes[x]["name"]): d for s, x, d in g.edges(data=True) if d["kind"] == "covers"}
    assert covers[("求是小学", "金色家园")]["derived"] is False  # explicit 对口小学
    assert covers[("文新小学", "翠苑一区")]["derived"] is True and covers[("文新小学", "翠苑一区")]["distance_m"] < 1000
    assert ("文澜中学", "翠苑一区") in covers  # 初中 within the larger radius
    assert not any(x == "星河府" for _, x in covers)  # no school within the radius: none assigned, noted
    assert by_kind["xiaoqu"].notes["no_school_within_radius:小学"] == 1
    near = g.edges[names["金色家园"], names["古荡"]]
    assert near["distance_m"] < 600 and near["walk_minutes"] == -(-near["distance_m"] * 1.3 // 80)
    assert g.nodes[names["古荡"]]["lines"] == [2, 4] and g.nodes[names["古荡"]]["transfer"]
    assert g.has_edge(names["文三路"], names["古荡"])  # 站序 9 -> 10 on line 2
    assert g.nodes[names["星河府"]]["avg_price"] == 53600  # "-" -> from its listing
    assert {g.nodes[names["湖畔花园"]]["pool"], g.nodes["city:苏州"]["pool"]} == {"eval"}
