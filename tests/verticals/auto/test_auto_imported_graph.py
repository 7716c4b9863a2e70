"""auto on an imported graph (``VKIT_AUTO_GRAPH``): `vkit kg import` of the messy ``fixtures/trims.csv``
(13 invented series, 3 of them held out with ``options.eval_series``), then `vkit run auto --preset micro`
on it; and a clear error when a graph is too small for the datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

from core_training.contract import DataError

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "fixtures" / "auto_trims.csv"
# 青岚 has one trim, of an energy the importer does not know (氢燃料): kept, its energy unknown
FIXTURE_SERIES = {"远帆", "云杉", "星野", "海螺", "鲸歌", "潮声", "驼铃", "白桦", "雪豹", "银杏", "灯塔", "溪谷", "麦田", "青岚"}
HELD_OUT = {"灯塔", "溪谷", "麦田"}


@pytest.fixture
def on_graph(monkeypatch, imported_run):
    """``use(path)``: the auto vertical of this process reads the graph at ``path`` via ``VKIT_AUTO_GRAPH``."""

    def use(path):
        monkeypatch.setenv("VKIT_AUTO_GRAPH", str(path))
        imported_run.clear_caches("verticals.auto")

    yield use
    monkeypatch.undo()
    imported_run.clear_caches("verticals.auto")


def test_eval_series_option_sets_the_held_out_series(tmp_path, on_graph, imported_run):
    proc = imported_run.vkit("kg", "import", "auto", "--source", FIXTURES / "trims.csv", "--mapping",
                             FIXTURES / "trims.yaml", "--out", tmp_path / "kg")
    assert proc.returncode == 0, proc.stderr
    assert "read 34, used 33, dropped 1" in proc.stdout  # the 氢燃料 trim is kept, its energy unknown
    assert "1 warnings" in proc.stdout and "unknown:energy" in proc.stdout
    on_graph(tmp_path / "kg")
    from verticals.auto.kg import auto_index

    index = auto_index()
    assert {s["name"] for s in index.series.values()} == FIXTURE_SERIES
    assert {index.series[s]["name"] for s in index.held_out} == HELD_OUT


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_kg_import_then_micro_run_on_the_imported_graph(tmp_path, on_graph, imported_run):
    args = ["--source", FIXTURES / "trims.csv", "--mapping", FIXTURES / "trims.yaml"]
    vertical, eval_set, asked = imported_run.import_then_micro_run("auto", args, tmp_path, on_graph)
    for example_id in asked:  # the run's eval items are about the fixture's held-out series
        names = {c["series"] for c in eval_set[example_id]["truth"]["candidates"]}
        assert names & HELD_OUT and names <= FIXTURE_SERIES, names
    chains = " ".join(ex["messages"][0]["content"] for ex in vertical.load_chains())
    assert "远帆" in chains and not HELD_OUT & {w for w in FIXTURE_SERIES if w in chains}


def test_a_graph_too_small_is_a_clear_error(tmp_path, on_graph, imported_run):
    proc = imported_run.vkit("kg", "import", "auto", "--source", SMALL, "--mapping",
                             imported_run.mappings / "auto_trims.yaml", "--out", tmp_path / "kg")
    assert proc.returncode == 0, proc.stderr
    on_graph(tmp_path / "kg")
    from verticals.auto import data

    with pytest.raises(DataError, match=r"could not draw a usable recommend question for sft .* It needs a budget "
                                        r".* The graph has 3 train-pool trims in 1 series"):
        data.load_chains()
    run = imported_run.vkit("run", "auto", "--preset", "micro", "--output", tmp_path / "run",
                            env={"VKIT_AUTO_GRAPH": str(tmp_path / "kg")}, timeout=300)
    assert run.returncode == 2 and run.stderr.startswith("vkit: error: auto") and "could not draw a usable" in run.stderr
    assert "Traceback" not in run.stderr


def test_a_graph_naming_no_held_out_series_holds_some_out_by_itself(tmp_path, on_graph):
    from knowledge_graphs.importers import import_tables
    from knowledge_graphs.io import save_graph

    mapping = tmp_path / "trims.yaml"
    mapping.write_text((FIXTURES / "trims.yaml").read_text(encoding="utf-8").replace(
        "eval_series: [灯塔, 溪谷, 麦田]", "eval_series: []"), encoding="utf-8")  # none of HELD_OUT_SERIES either
    graph, _ = import_tables("auto", [(FIXTURES / "trims.csv", mapping)])
    save_graph(graph, tmp_path / "graph.json")
    on_graph(tmp_path / "graph.json")
    from verticals.auto import data
    from verticals.auto.kg import auto_index

    index = auto_index()
    assert index.split_by == "automatic" and index.held_out and index.test and not index.held_out & index.test
    assert data.splits_used().startswith("by series chosen automatically")
    series = lambda rows: {c["series"] for e in rows for c in e["truth"]["candidates"]}  # noqa: E731
    names = lambda ids: {index.series[s]["name"] for s in ids}  # noqa: E731
    test = data.load_eval_set()
    assert series(e for e in test if e["truth"]["type"] != "recommend") == names(index.test)
    assert not series(test) & names(index.held_out) and not series(data.load_dev_set()) & names(index.test)
    assert not series(data.load_chains()) & (names(index.test) | names(index.held_out))
