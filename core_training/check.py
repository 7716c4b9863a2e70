"""``vkit check RUN`` and ``vkit report RUN``: a finished run's quality bars, and its report re-rendered.

``vkit check`` reads ``RUN/report.json`` (or a report file given directly), prints one line per stage
and one verdict line, and exits 1 when a bar is missed. The bars, each a command-line option:

* time: the stages' wall seconds sum to at most ``--max-seconds`` (900);
* final: the last stage's grounded all-rules pass rate is at least ``--min-final-grounded`` (0.80);
* sft: sft's grounded pass is above cpt's and the base's (sft teaches the answer format);
* rlvr: rlvr's grounded pass is not below sft's;
* rlhf (or dpo): the held-out judge's win rate against rlvr is above ``--min-judge-win`` (0.5), and its
  grounded pass is at most ``--max-rl-drop`` (0.02) below rlvr's;
* cpt: cpt's perplexity on held-out domain text is below the base's.

>>> report = {"vertical": "toy", "stages": [
...     {"stage": "base", "wall_seconds": 5, "metrics": {"perplexity": 90.0, "grounded/all_rules_pass": 0.0}},
...     {"stage": "cpt", "wall_seconds": 5, "metrics": {"perplexity": 30.0, "grounded/all_rules_pass": 0.0}},
...     {"stage": "sft", "wall_seconds": 50, "metrics": {"grounded/all_rules_pass": 0.85}},
...     {"stage": "rlvr", "wall_seconds": 20, "metrics": {"grounded/all_rules_pass": 0.9}},
...     {"stage": "rlhf", "wall_seconds": 20, "metrics": {"grounded/all_rules_pass": 0.89,
...                                                       "judge_win_rate_vs_previous": 0.55}}]}
>>> failures(report, Bars())
[]
>>> failures(report, Bars(min_final_grounded=0.95, max_seconds=60))
['pipeline 100s > 60s', 'final grounded 0.890 < 0.95']
>>> verdict_line(report, Bars())
'OK toy: final=rlhf grounded=0.890 total=100s'
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

GROUNDED = "grounded/all_rules_pass"
JUDGE = "judge_win_rate_vs_previous"
SHOWN = ("perplexity", "closed_book/all_rules_pass", GROUNDED, JUDGE)


@dataclass(frozen=True)
class Bars:
    """The quality bars a run must meet (defaults: the tiny CPU run of the main job)."""

    min_final_grounded: float = 0.80  # the last stage's grounded all-rules pass rate, at least
    max_seconds: float = 900.0  # the stages' wall time summed, at most (the 15-minute budget)
    min_judge_win: float = 0.5  # rlhf's (or dpo's) judge win rate against rlvr, strictly above
    max_rl_drop: float = 0.02  # how far rlhf's grounded pass may fall below rlvr's


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


class _Stages:
    """The report's stages by name, with ``None`` for any stage or metric the run lacks."""

    def __init__(self, report: dict):
        self.order = [s["stage"] for s in report["stages"]]
        self.by_name = {s["stage"]: s for s in report["stages"]}

    def metric(self, stage: str | None, key: str):
        return self.by_name.get(stage, {}).get("metrics", {}).get(key)

    def grounded(self, stage: str | None):
        return self.metric(stage, GROUNDED)


def total_seconds(report: dict) -> float:
    """The stages' wall seconds, summed.

    >>> total_seconds({"stages": [{"wall_seconds": 1.5}, {"wall_seconds": 2}, {}]})
    3.5
    """
    return sum(s.get("wall_seconds", 0) for s in report["stages"])


def _preference_stage(st: _Stages) -> str | None:
    return "rlhf" if "rlhf" in st.by_name else ("dpo" if "dpo" in st.by_name else None)


def _missing(*values) -> bool:
    return any(v is None for v in values)


def failures(report: dict, bars: Bars) -> list[str]:
    """One line per missed bar, in the order the module docstring lists them; empty when all are met."""
    st = _Stages(report)
    g, out = st.grounded, []
    total = total_seconds(report)
    if total > bars.max_seconds:
        out.append(f"pipeline {total:.0f}s > {bars.max_seconds:.0f}s")
    final = st.order[-1] if st.order else None
    if _missing(g(final)) or g(final) < bars.min_final_grounded:
        out.append(f"final grounded {_fmt(g(final))} < {bars.min_final_grounded}")
    if _missing(g("sft"), g("cpt"), g("base")) or not (g("sft") > g("cpt") and g("sft") > g("base")):
        out.append(f"sft grounded {_fmt(g('sft'))} not above cpt {_fmt(g('cpt'))} and base {_fmt(g('base'))}")
    if _missing(g("rlvr"), g("sft")) or g("rlvr") < g("sft"):
        out.append(f"rlvr {_fmt(g('rlvr'))} < sft {_fmt(g('sft'))}")
    out += _preference_failures(st, bars)
    ppl = st.metric("cpt", "perplexity"), st.metric("base", "perplexity")
    if _missing(*ppl) or ppl[0] >= ppl[1]:
        out.append(f"cpt perplexity {_fmt(ppl[0])} not below base {_fmt(ppl[1])}")
    return out


def _preference_failures(st: _Stages, bars: Bars) -> list[str]:
    last = _preference_stage(st)
    if last is None:
        return ["no rlhf/dpo stage"]
    out, win, g = [], st.metric(last, JUDGE), st.grounded
    if win is None or win <= bars.min_judge_win:
        out.append(f"{last} judge win {_fmt(win)} <= {bars.min_judge_win}")
    if _missing(g(last), g("rlvr")) or g(last) < g("rlvr") - bars.max_rl_drop:
        out.append(f"{last} grounded {_fmt(g(last))} dropped > {bars.max_rl_drop * 100:g}pt from rlvr {_fmt(g('rlvr'))}")
    return out


def stage_lines(report: dict) -> list[str]:
    """The stage table: wall seconds and the metrics the bars read, one line per stage.

    >>> stage_lines({"stages": [{"stage": "sft", "wall_seconds": 12.0, "metrics": {GROUNDED: 0.9}}]})
    ['  sft    wall=   12.0s grounded/all_rules_pass=0.900']
    """
    lines = []
    for s in report["stages"]:
        metrics = s.get("metrics", {})
        shown = " ".join(f"{k}={metrics[k]:.3f}" for k in SHOWN if isinstance(metrics.get(k), (int, float)))
        lines.append(f"  {s['stage']:6s} wall={s.get('wall_seconds', 0):7.1f}s {shown}".rstrip())
    return lines


def verdict_line(report: dict, bars: Bars) -> str:
    """``OK <vertical>: ...`` or ``FAILS: <each miss>; ... (<vertical>: ...)``, one line."""
    st = _Stages(report)
    final = st.order[-1] if st.order else None
    figure = f"{report.get('vertical')}: final={final} grounded={_fmt(st.grounded(final))} " \
             f"total={total_seconds(report):.0f}s"
    missed = failures(report, bars)
    return f"FAILS: {'; '.join(missed)} ({figure})" if missed else f"OK {figure}"


class ReportError(ValueError):
    """A run's report.json is missing or malformed; the message names the file and the field."""


def read_report(run: str | Path) -> tuple[Path, dict]:
    """``(run directory, report)`` from a run directory or a ``report.json`` path.

    Raises:
        ReportError: naming the file, and the field at fault.
    """
    path = Path(run)
    path = path / "report.json" if path.is_dir() else path
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report (is {run} a finished run directory?)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReportError(f"{path}: not a readable report.json: {err}") from None
    if not isinstance(report, dict) or not isinstance(report.get("stages"), list):
        raise ReportError(f"{path}: field 'stages' is missing or not a list")
    for i, stage in enumerate(report["stages"]):
        if not isinstance(stage, dict) or "stage" not in stage:
            raise ReportError(f"{path}: stages[{i}] has no field 'stage'")
    return path.parent, report


def _errors_exit_2(command):
    """``command(args)``, with a bad report printed as one ``vkit: error:`` line and exit status 2."""

    def run(args) -> int:
        try:
            return command(args)
        except ReportError as err:
            print(f"vkit: error: {err}", file=sys.stderr)
            return 2

    return run


def _check(args) -> int:
    _, report = read_report(args.run)
    bars = Bars(**{f.name: getattr(args, f.name) for f in fields(Bars)})
    print("stages:", [s["stage"] for s in report["stages"]])
    print("\n".join(stage_lines(report)))
    line = verdict_line(report, bars)
    print(line)
    return 0 if line.startswith("OK ") else 1


def _report(args) -> int:
    from core_training.report import write_report
    from core_training.seeds import seed_dirs

    dirs = seed_dirs(Path(args.run)) if Path(args.run).is_dir() and not (Path(args.run) / "report.json").exists() else {}
    if dirs:  # the output of `vkit run V --seeds ...`: its summary, with what each stage changed
        return _report_seeds(Path(args.run), dirs)
    run_dir, report = read_report(args.run)
    write_report(run_dir, report)
    print(f"{run_dir / 'report.md'}\n{run_dir / 'report.png'}")
    return 0


def _report_seeds(output: Path, dirs: dict) -> int:
    from core_training.checkpoints import load_json
    from core_training.registry import get_vertical
    from core_training.seeds import summarize_dir

    vertical = get_vertical(load_json(next(iter(dirs.values())) / "report.json")["vertical"])
    summarize_dir(output, vertical, sorted(dirs))
    print(output / "seeds.md")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``check`` and ``report`` subcommands to ``vkit``'s subparsers."""
    check = sub.add_parser("check", help="check a finished run against the quality bars (exit 1 on a miss)",
                           description=__doc__.split("\n\n>>>")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("run", help="run directory (or its report.json)")
    for f in fields(Bars):
        check.add_argument(f"--{f.name.replace('_', '-')}", type=float, default=f.default, metavar="X",
                           help=f"default {f.default:g}")
    check.set_defaults(fn=_errors_exit_2(_check))
    report = sub.add_parser("report", help="re-render a run's report.md and report.png from its report.json "
                            "(or, given a `--seeds` output, its seeds.md with what each stage changed)")
    report.add_argument("run", help="run directory (or its report.json), or the output of `vkit run V --seeds ...`")
    report.set_defaults(fn=_errors_exit_2(_report))


if __name__ == "__main__":  # python -m core_training.check RUN: the same as `vkit check RUN`
    parser = argparse.ArgumentParser(prog="vkit")
    register(parser.add_subparsers(dest="command", required=True))
    parsed = parser.parse_args(["check", *sys.argv[1:]])
    sys.exit(parsed.fn(parsed))
