"""scripts/publish_result.py: a run becomes one dated, machine-free measurement, and the results log is current."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def publisher(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("publish_result", ROOT / "scripts" / "publish_result.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "RESULTS", tmp_path / "results")
    (tmp_path / "results").mkdir()
    return module


def test_committed_results_log_is_what_the_script_writes():
    spec = importlib.util.spec_from_file_location("publish_result", ROOT / "scripts" / "publish_result.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs" / "results" / "index.md").read_text(encoding="utf-8") == module.index_page(), \
        "docs/results/index.md is stale: python scripts/publish_result.py --index-only"


def test_a_run_is_published_with_command_commit_machine_and_no_machine_path(publisher, tmp_path):
    published = json.loads(next((ROOT / "docs" / "results").glob("*.json")).read_text(encoding="utf-8"))
    report = {k: v for k, v in published.items() if k != "published"}
    run = tmp_path / "machine" / "runs" / "gaokao" / "x"
    run.mkdir(parents=True)
    report.update(run_dir=str(run), base="/opt/vkit/core_training/assets/tiny-moe-base")
    report["stages"][1]["checkpoint"] = str(run / "cpt")
    (run / "report.json").write_text(json.dumps(report), encoding="utf-8")
    shutil.copyfile(next((ROOT / "docs" / "results").glob("*.png")), run / "report.png")

    page = publisher.main([str(run), "--command", "vkit run gaokao", "--date", "2030-01-02", "--commit", "abc1234"])
    out = tmp_path / "results"
    stem = f"2030-01-02-{report['vertical']}"
    assert page == 0 and {p.name for p in out.iterdir()} == {f"{stem}.json", f"{stem}.md", f"{stem}.png", "index.md"}
    data = json.loads((out / f"{stem}.json").read_text(encoding="utf-8"))
    assert data["run_dir"] == "RUN" and data["stages"][1]["checkpoint"] == "RUN/cpt"
    assert data["base"] == "core_training/assets/tiny-moe-base"
    assert str(tmp_path) not in (out / f"{stem}.json").read_text(encoding="utf-8")
    p = data["published"]
    assert p["command"] == "vkit run gaokao" and p["commit"] == "abc1234" and " cores" in p["machine"]
    assert p["check"].startswith(("OK ", "FAILS: "))
    md = (out / f"{stem}.md").read_text(encoding="utf-8")
    assert "`vkit run gaokao`" in md and "`abc1234`" in md and p["machine"] in md and "| rlhf |" in md
    assert f"({stem}.md)" in (out / "index.md").read_text(encoding="utf-8")
    publisher.main([str(run), "--command", "vkit run gaokao", "--date", "2030-01-02", "--commit", "abc1234"])
    assert (out / f"{stem}-2.json").is_file()  # a second measurement of the day never overwrites the first


def test_run_and_command_are_required(publisher):
    with pytest.raises(SystemExit):
        publisher.main(["--command", "x"])
