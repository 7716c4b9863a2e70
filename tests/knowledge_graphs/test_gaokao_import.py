"""gaokao importer: the messy fixtures, and a round trip generated graph -> messy CSVs -> imported graph.

The round trip shows the imported graph has the generator's schema and content, and that the gaokao
vertical builds its datasets from an imported graph (``gaokao_graph`` swapped in, as the proposed
``VKIT_GAOKAO_GRAPH`` setting would do).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from knowledge_graphs.gaokao import build_gaokao_graph
from knowledge_graphs.importers import import_tables
from knowledge_graphs.importers.common import MappingError, schema_problems
from knowledge_graphs.importers.gaokao import SCHEMA, validate

FIXTURES = Path(__file__).parent / "fixtures"
MAPPINGS = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "mappings"
CITY_PROVINCE = {"广州": "广东", "深圳": "广东", "济南": "山东", "青岛": "山东", "杭州": "浙江", "武汉": "湖北"}
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def fixture_graph():
    return import_tables("gaokao", [(FIXTURES / f"gaokao_{name}.csv", MAPPINGS / f"gaokao_{name}.yaml")
                                    for name in ("universities", "score_table", "admissions", "batch_lines")])


def test_fixture_reports_count_every_row_by_reason():
    _, reports = fixture_graph()
    by_kind = {r.kind: r for r in reports}
    for report in reports:
        assert report.rows_read == report.rows_used + sum(report.dropped.values())
    assert dict(by_kind["universities"].dropped) == {"blank_row": 1, "exact_duplicate": 1}
    assert by_kind["universities"].notes["unreadable:is_985"] == 1  # 也许: an optional flag left unknown, row kept
    assert dict(by_kind["score_table"].dropped) == {"cumulative_decreases": 1, "exact_duplicate": 1, "unknown_track": 1}
    assert by_kind["score_table"].notes["open_ended:score"] == 2
    assert dict(by_kind["admissions"].dropped) == {
        "either_or_subjects": 1, "exact_duplicate": 1, "missing:min_score": 1, "no_min_rank_and_no_score_table": 1,
        "unknown_track": 1}
    assert by_kind["admissions"].notes["alias:batch"] == 1 and by_kind["batch_lines"].notes["alias:batch"] == 1


def test_fixture_graph_content():
    g, _ = fixture_graph()
    table = g.nodes["score_table:广东:2024:物理类"]
    # 600及以上 opens the table; 596 (nobody) keeps 597's rank; the decreasing 594 row is gone
    assert (table["max_score"], table["min_score"]) == (600, 592)
    assert table["ranks"] == [1000, 1120, 1250, 1390, 1390, 1540, 1540, 1700, 1900]
    assert g.nodes["score_table:广东:2024:历史类"]["ranks"] == [50, 110, 180]  # 累计人数 from 本段人数
    campus = g.nodes["university:山东大学（威海）"]  # written two ways, one node
    assert (campus["parent"], campus["campus"], campus["city"], campus["is_985"]) == ("山东大学", "威海", "威海", True)
    assert g.has_edge("university:山东大学", "university:山东大学（威海）")
    ecnu = g.nodes["university:华东师范大学"]
    assert ecnu["is_211"] and ecnu["tier"] == "985"  # 985 implies 211
    rank_from_table = g.edges["major_group:山东大学（威海）:203", "province:广东", "2024:物理类"]
    assert rank_from_table["min_rank"] == 1390
    assert g.edges["major_group:复旦大学:101", "province:广东", "2024:物理类"]["plan"] == 3
    assert g.nodes["batch_line:广东:2021:物理类:本科一批"]["score"] == 532  # 一本 aliased, full-width digits
    assert g.nodes["university:某某大学"]["is_211"] is False  # kept: only its unreadable 985 flag (也许) is unknown
    assert schema_problems(g, SCHEMA) == []


def test_missing_column_fails_at_once_naming_column_and_file(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text((MAPPINGS / "gaokao_admissions.yaml").read_text(encoding="utf-8").replace("最低位次", "最低排名"),
                       encoding="utf-8")
    with pytest.raises(MappingError, match="最低排名.*gaokao_admissions.csv"):
        import_tables("gaokao", [(FIXTURES / "gaokao_admissions.csv", mapping)])


def test_mapping_of_unknown_field_or_kind_is_rejected(tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("vertical: gaokao\nkind: admissions\ncolumns: {province: 省份, minscore: 最低分}\n", encoding="utf-8")
    with pytest.raises(MappingError, match="needs field"):
        import_tables("gaokao", [(FIXTURES / "gaokao_admissions.csv", mapping)])
    with pytest.raises(MappingError, match="no table kind 'rankings'"):
        import_tables("gaokao", [(FIXTURES / "gaokao_admissions.csv", MAPPINGS / "gaokao_admissions.yaml")], kind="rankings")


# --------------------------------------------------------------------------- round trip


def _write(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    return path


def _messy(number: int, i: int) -> str:
    """Alternate spellings of a number, as real tables mix them."""
    return [f"{number:,}", str(number).translate(FULL_WIDTH), f" {number}", str(number)][i % 4]


def export_messy_tables(g, folder: Path) -> list[tuple[Path, Path]]:
    """The generated graph as four messy CSV tables (with mappings); mess that loses no information."""
    nodes = dict(g.nodes(data=True))
    universities = [[u["name"], CITY_PROVINCE.get(u["city"], ""), u["city"], "是" if u["is_985"] else "否",
                     "√" if u["is_211"] else "", "Y" if u["is_double_first_class"] else "N", u["ownership"], u["type"]]
                    for u in nodes.values() if u["kind"] == "university"]
    tables, i = [], 0
    for t in (d for d in nodes.values() if d["kind"] == "score_table"):
        previous = 0
        for offset, rank in enumerate(t["ranks"]):
            score = t["max_score"] - offset
            label = f"{score}及以上" if offset == 0 else str(score)
            tables.append([t["year"], t["province"], t["track"], label, _messy(rank - previous, i), _messy(rank, i + 1)])
            previous, i = rank, i + 1
    tables.append(tables[-1])  # an exact duplicate row
    admissions = []
    for gid, pid, e in g.edges(data=True):
        if e["kind"] != "admission":
            continue
        group = nodes[gid]
        rank = "-" if i % 5 == 0 else _messy(e["min_rank"], i)  # some ranks missing: from the score table
        admissions.append([e["year"], nodes[pid]["name"], e["track"], nodes[group["university"]]["name"], group["name"],
                           "+".join(group["subjects"]) or "不限", group["field"], _messy(e["min_score"], i), rank, e["plan"]])
        i += 1
    batches = [[d["year"], d["province"], d["track"], "本科一批" if d["batch"] == "本科批" and d["year"] == 2021 else d["batch"],
                f"{d['score']}分"] for d in nodes.values() if d["kind"] == "batch_line"]
    files = [
        _write(folder / "universities.csv", ["院校名称", "所在省份", "城市", "985", "211", "双一流", "办学性质", "类型"], universities),
        _write(folder / "score_table.csv", ["年份", "省份", "科类", "分数", "本段人数", "累计人数"], tables),
        _write(folder / "admissions.csv", ["年份", "省份", "科类", "院校名称", "专业组", "选科要求", "专业类", "最低分",
                                           "最低位次", "计划数"], admissions),
        _write(folder / "batch_lines.csv", ["年份", "省份", "科类", "批次", "分数线"], batches),
    ]
    mappings = {
        "universities": (MAPPINGS / "gaokao_universities.yaml").read_text(encoding="utf-8") + "  type: 类型\n",
        "score_table": (MAPPINGS / "gaokao_score_table.yaml").read_text(encoding="utf-8").replace(
            "eval_provinces: []", "eval_provinces: [湖北]").replace("test_provinces: []", "test_provinces: [安徽]"),
        "admissions": (MAPPINGS / "gaokao_admissions.yaml").read_text(encoding="utf-8").replace(
            "  batch: 批次\n", "  field: 专业类\n"),
        # this generated province merged its batches: its 本科一批 of 2021 is the later 本科批
        "batch_lines": (MAPPINGS / "gaokao_batch_lines.yaml").read_text(encoding="utf-8").replace(
            "aliases:\n  batch:", "aliases:\n  batch:\n    本科一批: 本科批", 1),
    }
    pairs = []
    for path in files:
        mapping = folder / f"{path.stem}.yaml"
        mapping.write_text(mappings[path.stem], encoding="utf-8")
        pairs.append((path, mapping))
    return pairs


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    generated = build_gaokao_graph(0)
    imported, reports = import_tables("gaokao", export_messy_tables(generated, tmp_path_factory.mktemp("tables")))
    return generated, imported, reports


def _records(g) -> dict:
    nodes = g.nodes
    return {(nodes[nodes[gid]["university"]]["name"], nodes[gid]["name"], nodes[pid]["name"], e["track"], e["year"]):
            (e["min_score"], e["min_rank"], e["plan"]) for gid, pid, e in g.edges(data=True) if e["kind"] == "admission"}


def _by_kind(g, kind: str, key) -> dict:
    return {key(d): d for _, d in g.nodes(data=True) if d["kind"] == kind}


def test_round_trip_reproduces_the_generated_graph(round_trip):
    generated, imported, reports = round_trip
    assert [sum(r.dropped.values()) for r in reports] == [0, 1, 0, 0]  # only the planted duplicate
    assert schema_problems(generated, SCHEMA) == [] and schema_problems(imported, SCHEMA) == []
    assert validate(imported)[0] == []
    assert _records(imported) == _records(generated)
    table_key = lambda d: (d["province"], d["year"], d["track"])  # noqa: E731
    for key, table in _by_kind(generated, "score_table", table_key).items():
        got = _by_kind(imported, "score_table", table_key)[key]
        assert (got["max_score"], got["min_score"], got["ranks"]) == (table["max_score"], table["min_score"], table["ranks"])
    fields = ("city", "type", "pool", "is_985", "is_211", "is_double_first_class", "ownership", "tier")
    for name, u in _by_kind(generated, "university", lambda d: d["name"]).items():
        got = _by_kind(imported, "university", lambda d: d["name"])[name]
        assert {f: got[f] for f in fields} == {f: u[f] for f in fields}
    for name, p in _by_kind(generated, "province", lambda d: d["name"]).items():
        got = _by_kind(imported, "province", lambda d: d["name"])[name]
        assert (got["mode"], got["pool"], got["tracks"]) == (p["mode"], p["pool"], p["tracks"])


@pytest.fixture
def gaokao_on(monkeypatch):
    """Point the gaokao vertical at another graph (what ``VKIT_GAOKAO_GRAPH=DIR`` would do), small sizes."""
    from verticals.gaokao import corpus, data, kg

    caches = [kg.gaokao_index, kg.university_names, data._questions, data.load_chains, data.load_rl_prompts,
              data.load_eval_set, data.load_dev_set, data.load_preferences, data.known_bad, corpus.load_cpt_corpus]

    def use(graph):
        monkeypatch.setattr(kg, "gaokao_graph", lambda: graph)
        for size, value in {"sft": 40, "rl": 8, "pref": 8, "eval": 8, "test": 8}.items():
            monkeypatch.setitem(data.SIZES, size, value)
        for cache in caches:
            cache.cache_clear()

    yield use
    monkeypatch.undo()
    for cache in caches:
        cache.cache_clear()


def test_gaokao_vertical_builds_its_datasets_from_an_imported_graph(round_trip, gaokao_on, tmp_path):
    from core_training.rewards import all_passed, check
    from knowledge_graphs.io import load_graph, save_graph
    from verticals.gaokao import VERTICAL
    from verticals.gaokao.retriever import retrieve

    generated, imported, _ = round_trip
    saved = load_graph(save_graph(imported, tmp_path / "graph.json"))  # through JSON, as the vertical would load it
    gaokao_on(generated)
    questions = [ex["messages"][0]["content"] for ex in VERTICAL.load_eval_set()]
    expected = [retrieve(q) for q in questions]
    gaokao_on(saved)
    assert [retrieve(q) for q in questions] == expected
    datasets = {name: getattr(VERTICAL, f"load_{name}")() for name in ("chains", "rl_prompts", "eval_set", "preferences")}
    assert {name: len(rows) for name, rows in datasets.items()} == {"chains": 40, "rl_prompts": 8, "eval_set": 8,
                                                                      "preferences": 8}
    assert all(all_passed(check(VERTICAL, ex["answer"], ex)) for ex in datasets["eval_set"] + datasets["chains"])
    assert VERTICAL.load_cpt_corpus()["eval"]
