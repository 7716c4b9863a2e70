"""``vkit check`` gives the verdict of the project's reference checker (``check_report.py``, kept outside
the repository) on every published report and on variants that trip each bar; ``vkit report`` re-renders.

The reference verdicts are recorded in ``fixtures/check_report_verdicts.json`` by running that script
(``python tests/core_training/test_check.py PATH/TO/check_report.py`` rewrites the file); where the
script itself is at hand (``../shared/check_report.py`` beside the checkout) it is also run live.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core_training.check import Bars, failures, verdict_line
from core_training.cli import main as vkit

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = sorted((ROOT / "docs" / "results").glob("*.json"))
REFERENCE = ROOT.parent / "shared" / "check_report.py"
RECORDED = Path(__file__).parent / "fixtures" / "check_report_verdicts.json"


def _set(report: dict, stage: str, key: str, value) -> None:
    next(s for s in report["stages"] if s["stage"] == stage)["metrics"][key] = value


def _grounded(report: dict, stage: str) -> float:
    return next(s for s in report["stages"] if s["stage"] == stage)["metrics"]["grounded/all_rules_pass"]


def variants(report: dict) -> dict[str, dict]:
    """The report as published and edited to trip each bar in turn (and a dpo run)."""
    out = {"as_published": report}

    def edit(name, change):
        out[name] = copy.deepcopy(report)
        change(out[name])

    g = "grounded/all_rules_pass"
    edit("slow", lambda r: r["stages"][0].update(wall_seconds=r["stages"][0]["wall_seconds"] + 1000))
    edit("sft_not_above_cpt", lambda r: _set(r, "sft", g, _grounded(r, "cpt")))
    edit("rlvr_below_sft", lambda r: _set(r, "rlvr", g, _grounded(r, "sft") - 0.1))
    edit("rlhf_dropped", lambda r: _set(r, "rlhf", g, _grounded(r, "rlvr") - 0.05))
    edit("judge_lost", lambda r: _set(r, "rlhf", "judge_win_rate_vs_previous", 0.5))
    edit("no_base_perplexity", lambda r: r["stages"][0]["metrics"].pop("perplexity"))
    edit("dpo", lambda r: [s.update(stage="dpo") for s in r["stages"] if s["stage"] == "rlhf"])
    edit("no_preference_stage", lambda r: r.update(stages=[s for s in r["stages"] if s["stage"] not in ("rm", "rlhf")]))
    return out


def cases() -> dict[str, dict]:
    """``name -> report``: every published report, and the variants of the first."""
    found = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in PUBLISHED}
    first = next(iter(found))
    found.update({f"{first}:{name}": r for name, r in variants(found[first]).items() if name != "as_published"})
    return found


def _normalised(text: str) -> str:
    """Floats to 3 decimals (the reference prints them raw, vkit rounds), whitespace collapsed."""
    return re.sub(r"\d+\.\d+", lambda m: f"{float(m.group()):.3f}", " ".join(text.split()))


def reference_verdict(script: Path, report: dict, tmp: Path) -> dict:
    """Run the reference script on ``report``: its exit status and its list of failures."""
    path = tmp / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=60)
    fails = next((line[len("FAILS: "):] for line in done.stdout.splitlines() if line.startswith("FAILS: ")), None)
    return {"ok": done.returncode == 0, "failures": [_normalised(f) for f in fails.split("; ")] if fails else []}


def vkit_verdict(report: dict) -> dict:
    missed = failures(report, Bars())
    return {"ok": not missed, "failures": [_normalised(f) for f in missed]}


def test_published_reports_exist_and_are_recorded():
    assert PUBLISHED, "docs/results holds no report"
    assert set(json.loads(RECORDED.read_text(encoding="utf-8"))) >= set(cases())


@pytest.mark.parametrize("name", sorted(cases()))
def test_vkit_check_gives_the_recorded_reference_verdict(name):
    assert vkit_verdict(cases()[name]) == json.loads(RECORDED.read_text(encoding="utf-8"))[name]


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the reference check_report.py is not beside this checkout")
@pytest.mark.parametrize("name", sorted(cases()))
def test_vkit_check_gives_the_live_reference_verdict(name, tmp_path):
    assert vkit_verdict(cases()[name]) == reference_verdict(REFERENCE, cases()[name], tmp_path)


def test_every_bar_is_tripped_by_some_case():
    """The cases are worth comparing: together they miss each bar, and some pass."""
    verdicts = [vkit_verdict(r) for r in cases().values()]
    assert any(v["ok"] for v in verdicts)
    missed = " | ".join(f for v in verdicts for f in v["failures"])
    for bar in ("pipeline", "final grounded", "sft grounded", "rlvr", "judge win", "dropped", "cpt perplexity",
                "no rlhf/dpo"):
        assert bar in missed, bar


def test_thresholds_are_options(capsys):
    report = str(next(p for p in PUBLISHED))
    assert vkit(["check", report, "--max-seconds", "1"]) == 1
    assert "pipeline" in capsys.readouterr().out.splitlines()[-1]
    assert vkit(["check", report, "--max-seconds", "100000", "--min-final-grounded", "0", "--min-judge-win", "0",
                 "--max-rl-drop", "1"]) in (0, 1)
    last = capsys.readouterr().out.splitlines()[-1]
    assert "pipeline" not in last and "final grounded" not in last and "judge win" not in last


def test_cli_prints_stage_table_and_one_verdict_line(capsys, tmp_path):
    report = json.loads(PUBLISHED[0].read_text(encoding="utf-8"))
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    status = vkit(["check", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == verdict_line(report, Bars()) and status == (0 if out[-1].startswith("OK ") else 1)
    assert [line.split()[0] for line in out[1:-1]] == [s["stage"] for s in report["stages"]]


@pytest.mark.parametrize("content, field", [(None, "no such report"), ("{", "not a readable"),
                                            ('{"stages": 3}', "'stages'"), ('{"stages": [{}]}', "stages[0]")])
def test_a_bad_report_is_one_line_naming_the_file(content, field, tmp_path, capsys):
    if content is not None:
        (tmp_path / "report.json").write_text(content, encoding="utf-8")
    assert vkit(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "report.json" in err and field in err


def test_vkit_report_rerenders_markdown_and_png(tmp_path):
    report = json.loads(PUBLISHED[0].read_text(encoding="utf-8"))
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    assert vkit(["report", str(tmp_path)]) == 0
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert f"# vkit run: {report['vertical']}" in md and "| rlhf |" in md
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


if __name__ == "__main__":  # record the reference script's verdicts: python test_check.py PATH/TO/check_report.py
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        recorded = {name: reference_verdict(Path(sys.argv[1]), r, Path(d)) for name, r in sorted(cases().items())}
    RECORDED.write_text(json.dumps(recorded, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{RECORDED}: {len(recorded)} verdicts")
