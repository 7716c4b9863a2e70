"""``vkit kg import|stats|validate`` in a subprocess (through ``python -m knowledge_graphs.cli``, which
is what the ``kg`` entry point of the ``vkit.commands`` group registers), plus the modules' doctests."""

from __future__ import annotations

import doctest
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
MAPPINGS = Path(__file__).resolve().parents[2] / "knowledge_graphs" / "mappings"


def kg(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "knowledge_graphs.cli", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_import_in_two_runs_then_stats_and_validate(tmp_path):
    out = tmp_path / "kg"
    first = kg("import", "gaokao", "--source", FIXTURES / "gaokao_universities.csv",
               "--mapping", MAPPINGS / "gaokao_universities.yaml", "--out", out)
    assert first.returncode == 0, first.stderr
    second = kg("import", "gaokao", "--source", FIXTURES / "gaokao_score_table.csv", "--mapping",
                MAPPINGS / "gaokao_score_table.yaml", "--source", FIXTURES / "gaokao_admissions.csv",
                "--mapping", MAPPINGS / "gaokao_admissions.yaml", "--out", out)
    assert second.returncode == 0, second.stderr
    assert "dropped     1  either_or_subjects" in second.stdout  # the report is printed
    reports = json.loads((out / "import_report.json").read_text(encoding="utf-8"))
    assert [r["kind"] for r in reports] == ["universities", "score_table", "admissions"]  # earlier runs kept
    assert all(r["rows_read"] == r["rows_used"] + sum(r["dropped"].values()) for r in reports)
    stats = kg("stats", out)
    assert stats.returncode == 0 and "university" in stats.stdout and "admission" in stats.stdout
    assert "ranks" not in stats.stdout
    valid = kg("validate", out)
    assert valid.returncode == 0 and "0 errors" in valid.stdout and "no eval-pool province" in valid.stdout


def test_validate_fails_on_a_broken_graph(tmp_path):
    from knowledge_graphs.importers import import_tables
    from knowledge_graphs.io import save_graph

    graph, _ = import_tables("gaokao", [(FIXTURES / "gaokao_universities.csv", MAPPINGS / "gaokao_universities.yaml")])
    del graph.nodes["university:山东大学"]["is_985"]
    save_graph(graph, tmp_path / "graph.json")
    proc = kg("validate", tmp_path / "graph.json")
    assert proc.returncode == 1 and "university:山东大学: university lacks is_985" in proc.stdout


def test_missing_column_is_an_error_naming_column_and_file(tmp_path):
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("vertical: auto\nkind: trims\ncolumns: {brand: 品牌, series: 车系, trim_name: 车型, price: 指导价}\n",
                       encoding="utf-8")
    proc = kg("import", "auto", "--source", FIXTURES / "auto_trims.csv", "--mapping", mapping, "--out", tmp_path / "kg")
    assert proc.returncode == 2
    assert "'车型'" in proc.stderr and "auto_trims.csv" in proc.stderr
    assert not (tmp_path / "kg" / "graph.json").exists()


@pytest.mark.parametrize("name", ["importers.common", "importers.gaokao", "importers.auto", "importers.realestate",
                                  "codes", "check"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(f"knowledge_graphs.{name}"))
    assert result.failed == 0 and result.attempted > 0
