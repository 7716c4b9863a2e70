"""Publish a finished run's report as one dated measurement in docs/results/, and rebuild the results log.

    .venv/bin/python scripts/publish_result.py RUN_DIR --command "bash scripts/run.sh"
    .venv/bin/python scripts/publish_result.py --index-only      # rebuild docs/results/index.md alone

Writes ``docs/results/<date>-<vertical>.json`` (the run's report.json with this machine's paths replaced:
the run directory becomes ``RUN``, the shipped base its path in the repository, any other path
``(local path)``), plus a ``published`` record: the exact command, the commit, the machine (CPU model
and core count), the date and ``vkit check``'s verdict; ``<date>-<vertical>.md`` (that record and the
stage table) and ``<date>-<vertical>.png`` (the run's report.png). Then rebuilds ``index.md`` from every
published ``.json``. The commit and machine default to this checkout's HEAD and this machine: publish
on the machine that ran, right after the run, or pass ``--commit``/``--machine``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "docs" / "results"
SHIPPED_MARK = "core_training/assets/"


def scrub(value, run_dir: str):
    """``value`` with every absolute path made machine-free (recursively through dicts and lists).

    >>> scrub({"a": "/tmp/x/run/sft", "b": ["/w/core_training/assets/tiny-moe-base", "/models/q"]}, "/tmp/x/run")
    {'a': 'RUN/sft', 'b': ['core_training/assets/tiny-moe-base', '(local path)']}
    """
    if isinstance(value, dict):
        return {k: scrub(v, run_dir) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, run_dir) for v in value]
    if not isinstance(value, str) or not value.startswith("/"):
        return value
    if run_dir and (value == run_dir or value.startswith(run_dir.rstrip("/") + "/")):
        return "RUN" + value[len(run_dir.rstrip("/")):]
    if SHIPPED_MARK in value:
        return value[value.index(SHIPPED_MARK):]
    return "(local path)"


def this_machine() -> str:
    """``CPU model, N cores`` (the cores this process may use)."""
    from core_training.environment import cpu_model

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu_model()}, {cores} cores"


def head_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short=7", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def verdict(report: dict) -> str:
    from core_training.check import Bars, verdict_line

    return verdict_line(report, Bars())


def _free_stem(date: str, vertical: str, label: str | None) -> str:
    stem = "-".join(x for x in (date, vertical, label) if x)
    n = 2
    while (RESULTS / f"{stem}.json").exists():
        stem, n = f"{date}-{vertical}{'-' + label if label else ''}-{n}", n + 1
    return stem


def publish(run: Path, args) -> Path:
    report_path = run / "report.json" if run.is_dir() else run
    report = json.loads(report_path.read_text(encoding="utf-8"))
    date = args.date or dt.datetime.fromtimestamp(report_path.stat().st_mtime, dt.timezone.utc).date().isoformat()
    published = {"date": date, "command": args.command, "commit": args.commit or head_commit(),
                 "machine": args.machine or this_machine(), "check": verdict(report)}
    published.update({k: getattr(args, k) for k in ("label", "note") if getattr(args, k)})
    clean = {**scrub(report, str(report.get("run_dir", ""))), "published": published}
    stem = _free_stem(date, report["vertical"], args.label)
    (RESULTS / f"{stem}.json").write_text(json.dumps(clean, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    png = report_path.parent / "report.png"
    if png.is_file():
        shutil.copyfile(png, RESULTS / f"{stem}.png")
    (RESULTS / f"{stem}.md").write_text(measurement_page(stem, clean), encoding="utf-8")
    return RESULTS / f"{stem}.md"


def measurement_page(stem: str, report: dict) -> str:
    from core_training.report import eval_table, stage_table

    p = report["published"]
    total = sum(s.get("wall_seconds", 0) for s in report["stages"])
    lines = [f"# {_title(report)}, {p['date']}\n", "<!-- written by scripts/publish_result.py -->\n",
             f"- command: `{p['command']}`", f"- commit: `{p['commit']}`", f"- machine: {p['machine']}",
             f"- base: `{report.get('base')}`", f"- total wall time: {total:.0f} s",
             f"- `vkit check`: `{p['check']}`"]
    lines += [f"- note: {p['note']}"] if p.get("note") else []
    sets = eval_table(report)
    lines += ["", stage_table(report), *(["", "Each eval set, with 95% bootstrap intervals:", "", sets] if sets else []),
              "", f"The report: [`{stem}.json`]({stem}.json)."]
    if (RESULTS / f"{stem}.png").is_file():
        lines += ["", f"![stages and training curves]({stem}.png)"]
    return "\n".join(lines) + "\n"


def _title(report: dict) -> str:
    label = report["published"].get("label")
    return f"{report['vertical']} ({label})" if label else report["vertical"]


def index_page() -> str:
    rows = []
    for path in sorted(RESULTS.glob("*.json"), reverse=True):
        report = json.loads(path.read_text(encoding="utf-8"))
        p, final = report["published"], report["stages"][-1]
        grounded = final.get("metrics", {}).get("grounded/all_rules_pass")
        total = sum(s.get("wall_seconds", 0) for s in report["stages"])
        shown = f"{grounded:.3f}" if isinstance(grounded, float) else "-"
        ok = "OK" if p["check"].startswith("OK ") else "FAILS"
        rows.append(f"| {p['date']} | [{_title(report)}]({path.stem}.md) | `{p['command']}` | `{p['commit']}` | "
                    f"{p['machine']} | {final['stage']} {shown} | {total:.0f} | {ok} |")
    return ("# Results log\n\n<!-- written by scripts/publish_result.py from the .json files here -->\n\n"
            "One row per published measurement, newest first. Each page gives the exact command, the commit, the "
            "machine and the report it produced; `vkit check` is the verdict against the default bars. Runs are "
            "deterministic per CPU and instruction set, not across them: compare rows only from one machine. "
            "What was tried on the way, and what it changed: [history](history.md).\n\n"
            "| date | vertical | command | commit | machine | final grounded pass | total s | vkit check |\n"
            "|---|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", nargs="?", help="run directory (or its report.json)")
    parser.add_argument("--command", help="the exact command that made the run (required with RUN)")
    parser.add_argument("--commit", help="default: this checkout's HEAD")
    parser.add_argument("--machine", help="default: this machine's CPU model and core count")
    parser.add_argument("--date", help="YYYY-MM-DD; default: report.json's modification date (UTC)")
    parser.add_argument("--label", help="a word added to the file name, e.g. rebuilt-base")
    parser.add_argument("--note", help="one line shown on the page, e.g. which base it came from")
    parser.add_argument("--index-only", action="store_true")
    args = parser.parse_args(argv)
    if not args.index_only:
        if not args.run or not args.command:
            parser.error("RUN and --command are required (or --index-only)")
        print(_shown(publish(Path(args.run), args)))
    (RESULTS / "index.md").write_text(index_page(), encoding="utf-8")
    print(_shown(RESULTS / "index.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
