"""realestate on an imported graph (``VKIT_REALESTATE_GRAPH``): `vkit kg import` of the messy tables in
``fixtures/`` (12 小区 in 杭州 and 苏州, 43 listings L2001..., schools and stations by coordinates; 苏州 is
the eval city), then `vkit run realestate --preset micro` on it; and clear errors for graphs that cannot
give the datasets (a 小区 with no station in reach is left out and said why)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from core_training.contract import DataError

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "fixtures"
TABLES = ("xiaoqu", "pois", "listings")  # 小区 first: a listing of an unknown 小区 is dropped


def import_args(mappings: Path, folder: Path = FIXTURES, prefix: str = "") -> list:
    args = []
    for table in TABLES:
        args += ["--source", folder / f"{prefix}{table}.csv", "--mapping", mappings / f"realestate_{table}.yaml"]
    return args


@pytest.fixture
def on_graph(monkeypatch, imported_run):
    """``use(path)``: the realestate vertical of this process reads ``path`` via ``VKIT_REALESTATE_GRAPH``."""

    def use(path):
        monkeypatch.setenv("VKIT_REALESTATE_GRAPH", str(path))
        imported_run.clear_caches("verticals.realestate")

    yield use
    monkeypatch.undo()
    imported_run.clear_caches("verticals.realestate")


def test_imported_graph_index_and_retriever(tmp_path, on_graph, imported_run):
    proc = imported_run.vkit("kg", "import", "realestate", *import_args(imported_run.mappings), "--out", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "read 46, used 43, dropped 3" in proc.stdout  # duplicate, unknown 小区, price ≠ 单价 × 面积
    on_graph(tmp_path)
    from verticals.realestate import VERTICAL
    from verticals.realestate.kg import activities, default_city, pool_cities, realestate_index

    index = realestate_index()
    assert (pool_cities("train"), pool_cities("eval"), default_city()) == (("杭州",), ("苏州",), "杭州")
    sanglang = next(code for code, x in index.xiaoqu.items() if x["name"] == "沧浪苑")
    assert index.left_out == {sanglang: "沧浪苑: no metro station (with a line) in reach"}
    assert len(index.listings) == 40 and not any(d["xiaoqu"] == sanglang for d in index.listings.values())
    assert "围棋" in activities()  # an activity the generator does not have is still understood
    facts = VERTICAL.retrieve("想在杭州滨江区买学区房，预算520万，孩子学围棋，1号线附近")
    assert "进度:已明确" in facts and "[1]" in facts
    corpus = VERTICAL.load_cpt_corpus()
    assert any("江晖苑" in t for t in corpus["train"]) and any("金鸡湖苑" in t for t in corpus["eval"])
    assert not any("None" in t for t in corpus["train"] + corpus["eval"])
    assert any("中楼层/" in t for t in corpus["train"])  # 中楼层(共18层): the band, not "None/18"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kg_import_then_micro_run_on_the_imported_graph(tmp_path, on_graph, imported_run):
    args = import_args(imported_run.mappings)
    vertical, eval_set, asked = imported_run.import_then_micro_run("realestate", args, tmp_path, on_graph)
    assert all(eval_set[i]["truth"]["city"] == "苏州" for i in asked)
    cited = {c["listing"] for ex in eval_set.values() for c in ex["truth"]["candidates"]}
    assert cited and all(2001 <= int(code[1:]) <= 2043 for code in cited)  # the fixture's listing codes
    chains = [c["listing"] for ex in vertical.load_chains() for c in ex["truth"]["candidates"]]
    assert chains and all(code.startswith("L20") for code in chains)


def test_a_graph_too_small_is_a_clear_error(tmp_path, on_graph, imported_run):
    proc = imported_run.vkit("kg", "import", "realestate", *import_args(imported_run.mappings, SMALL, "realestate_"),
                             "--out", tmp_path / "kg")
    assert proc.returncode == 0, proc.stderr
    on_graph(tmp_path / "kg")
    from verticals.realestate import data

    with pytest.raises(DataError, match=r"only 0 of 60 eval examples .* in 苏州\. A usable dialog needs .* "
                                        r"\{'苏州': 2\} usable listings"):
        data.load_eval_set()


def test_a_pool_without_usable_listings_names_what_is_missing(tmp_path, on_graph, imported_run):
    from knowledge_graphs.importers import import_tables
    from knowledge_graphs.io import save_graph

    rows = list(csv.reader((FIXTURES / "pois.csv").open(encoding="utf-8")))
    no_suzhou_metro = [r for r in rows if not (r[2] == "苏州" and r[1] == "地铁站")]
    with (tmp_path / "pois.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(no_suzhou_metro)
    tables = [(FIXTURES / "xiaoqu.csv", imported_run.mappings / "realestate_xiaoqu.yaml"),
              (tmp_path / "pois.csv", imported_run.mappings / "realestate_pois.yaml"),
              (FIXTURES / "listings.csv", imported_run.mappings / "realestate_listings.yaml")]
    graph, _ = import_tables("realestate", tables)
    save_graph(graph, tmp_path / "graph.json")
    on_graph(tmp_path)
    from verticals.realestate import data

    with pytest.raises(DataError, match=r"no eval-pool city with a usable listing.*usable listings per city: "
                                        r"\{'杭州': 28, '苏州': 0\}.*湖畔花园: no metro station"):
        data.load_chains()
