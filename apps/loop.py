"""``vkit loop``: rounds of the data flywheel, labelled by a simulated expert panel.

    vkit loop VERTICAL [--db URL] [--run DIR] [--preset micro] [--rounds N] [--method rlhf|dpo]
                       [--output DIR] [--runs DIR] [--prompts 32] [--k 3] [--temperature 1.0] [--no-seed-pairs]
                       [key.sub=value ...]

One round:

1. **current model**: ``--run DIR`` (a loop round: the model it kept; a run: its last policy stage; or
   a checkpoint), else the newest of those under ``--runs``/VERTICAL/; with none, a ``cpt,sft,rlvr``
   run is trained first into ``OUTPUT/round-0``;
2. **sample**: two answers at ``--temperature`` to each of ``--prompts`` RL prompts (the next ones no
   earlier loop in this store used), one pairwise task per prompt (``Store.create_tasks_from_samples``);
3. **annotate**: the panel of ``make_panel(vertical, n=3)`` (lenient to strict, different noise) are
   the users ``sim-<vertical>-annotator-<i>`` (accounts of kind ``simulated``); each task gets ``--k``
   of them (``Store.assign``), and each reads its assignments and submits a preference plus rubric
   scores for both answers with ``Store.assignments_for`` / ``Store.submit_annotation``, the calls the
   annotation app makes for a human;
4. **export**: ``export_preferences`` writes ``ROUND/preferences.jsonl`` and its data card: every
   complete majority-vote pair of the vertical in the store (earlier rounds and human labels count);
   the card says which labels came from the simulated panel (from the annotators' account kind);
5. **train**: ``run_pipeline`` with stages ``rm,rlhf`` (or ``dpo``) from the current model into ``ROUND``,
   on the exported pairs plus the vertical's own preference pairs (the labels of "round 0"; a team's
   reward model learns from every label it has; ``--no-seed-pairs`` trains on the export alone);
6. **promote** the candidate only if its grounded all-rules pass rate did not drop *and* the held-out
   judge (``make_judge``, which the panel never was) prefers it to the current model on the eval set
   (win rate > 0.5); else the current model stays;
7. **report**: a before/after table on stdout and ``ROUND/loop_report.json``.

``--rounds N`` starts each round from the model the previous one kept. A round whose
``loop_report.json`` exists (same ``--output``) is not run again. The rounds live in ``OUTPUT``
(default ``RUNS/VERTICAL/loop-<timestamp>``): ``round-0`` (bootstrap, if any), ``round-1``, ...
"""

from __future__ import annotations

import argparse
import math
import random
import secrets
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from core_training.checkpoints import load_json, policy_checkpoint

REPORT = "loop_report.json"
SOURCE = "loop"
SIM_PREFIX = "sim-"
METHODS = {"rlhf": ["rm", "rlhf"], "dpo": ["dpo"]}
PASS_KEYS = ("grounded/all_rules_pass", "closed_book/all_rules_pass")  # on the test set, never used to choose
INTERVAL_KEYS = tuple(f"{k}/ci_{side}" for k in PASS_KEYS for side in ("low", "high"))


class LoopError(RuntimeError):
    """A round cannot go on (no pairs to label or to train on); the message says why."""


@dataclass(frozen=True)
class LoopOptions:
    """What ``vkit loop`` was asked for (see the module docstring)."""

    vertical: str
    db: str = "sqlite:///annotations.db"
    run: str | None = None
    output: str | None = None
    runs: str = "runs"
    preset: str | None = None
    rounds: int = 1
    method: str = "rlhf"
    prompts: int = 32
    k: int = 3
    panel_size: int = 3
    temperature: float = 1.0
    seed_pairs: bool = True
    overrides: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"--method must be one of {sorted(METHODS)}, got {self.method!r}")
        if self.rounds < 1 or self.prompts < 1 or self.temperature <= 0:
            raise ValueError("--rounds and --prompts must be >= 1 and --temperature > 0")
        if not 1 <= self.k <= self.panel_size:
            raise ValueError(f"--k must be between 1 and the panel size ({self.panel_size}), got {self.k}")


# --------------------------------------------------------------------------- the current model


def policy_of(path: Path) -> Path | None:
    """The model ``path`` stands for: a round's kept model, a run's last policy stage, or a checkpoint."""
    if (path / REPORT).is_file():
        return Path(load_json(path / REPORT)["model_after"])
    return policy_checkpoint(path)


def latest_model(runs: Path, vertical: str) -> Path | None:
    """The newest model under ``runs/vertical``: plain runs, and the rounds of earlier loops."""
    root = Path(runs) / vertical
    found = [*root.glob("*/report.json"), *root.glob("*/round-*/" + REPORT), *root.glob("*/round-0/report.json")]
    for marker in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True):
        if model := policy_of(marker.parent):
            return model
    return None


def current_model(opts: LoopOptions) -> Path | None:
    if opts.run:
        model = policy_of(Path(opts.run))
        if model is None:
            raise LoopError(f"--run {opts.run}: neither a loop round, a run with a policy stage, nor a checkpoint")
        return model
    return latest_model(Path(opts.runs), opts.vertical)


# --------------------------------------------------------------------------- configs and training


def run_config(opts: LoopOptions, vertical, output: Path, stages: Sequence[str], base: Path | None = None):
    """The vertical's config with ``--preset`` and the overrides, for ``stages`` from ``base`` into ``output``."""
    from core_training.config import resolve_run_config

    cfg = resolve_run_config(dict(vertical.config_overrides), (), [*opts.overrides, f"vertical={vertical.name}"],
                             opts.preset)
    cfg = replace(cfg, stages=list(stages), output=str(output))
    cfg.model = replace(cfg.model, base=str(base) if base else cfg.model.base)
    return cfg


def bootstrap(opts: LoopOptions, vertical, out: Path) -> Path:
    """No model yet: train ``cpt,sft,rlvr`` into ``out/round-0`` and return its rlvr checkpoint."""
    from core_training.pipeline import run_pipeline

    print(f"[loop] no {vertical.name} model found: training cpt,sft,rlvr into {out / 'round-0'}", flush=True)
    run_pipeline(run_config(opts, vertical, out / "round-0", ["cpt", "sft", "rlvr"]), vertical)
    return out / "round-0" / "rlvr"


def finished_bootstrap(out: Path) -> Path | None:
    """The rlvr checkpoint of this loop's own bootstrap run, once it is complete (else None: rerun resumes)."""
    model = out / "round-0" / "rlvr"
    return model if (model / "config.json").is_file() else None


def training_pairs(opts: LoopOptions, vertical, exported: list) -> list:
    """The pairs the round trains on: the export, after the vertical's own pairs unless ``--no-seed-pairs``."""
    from core_training.data import VERTICAL_SOURCE, with_source

    own = with_source(vertical.load_preferences(), VERTICAL_SOURCE) if opts.seed_pairs else []
    return [*own, *with_source(exported, "export")]  # split_pairs stratifies by source: the export trains


def train_candidate(opts: LoopOptions, vertical, current: Path, round_dir: Path, rows: list) -> tuple[dict, Any]:
    """``rm,rlhf`` (or ``dpo``) from ``current`` on the exported rows (plus the vertical's own pairs unless
    ``--no-seed-pairs``); the base stage re-evaluates ``current``."""
    from core_training.pipeline import run_pipeline

    if not rows:  # nothing new was labelled: a round without new labels is not a round
        raise LoopError(f"{round_dir.name}: every pair was a tie or a split vote: nothing to train on "
                        "(try more --prompts or a larger --k)")
    cfg = run_config(opts, vertical, round_dir, METHODS[opts.method], base=current)
    return run_pipeline(cfg, vertical, preferences=training_pairs(opts, vertical, rows)), cfg


# --------------------------------------------------------------------------- sampling pairs


def round_prompts(store, vertical, n: int) -> list:
    """The next ``n`` RL prompts after those earlier loops in this store already turned into tasks."""
    prompts = list(vertical.load_rl_prompts())
    used = sum(t.source.startswith(SOURCE) for t in store.tasks(vertical.name))
    return [prompts[(used + i) % len(prompts)] for i in range(min(n, len(prompts)))]


def sample(model, tokenizer, conversations: Sequence[list], n: int, max_new_tokens: int, temperature: float,
           seed: int, batch_size: int = 16) -> list[list[str]]:
    """``n`` sampled answers (temperature > 0) to each conversation, as GRPO samples them (no top-k/top-p cut)."""
    import torch

    from core_training.generation import generate

    torch.manual_seed(seed)
    flat = generate(model, tokenizer, conversations, max_new_tokens=max_new_tokens, batch_size=batch_size,
                    temperature=temperature, num_samples=n)
    return [flat[i : i + n] for i in range(0, len(flat), n)]


def sample_pairs(model_path: Path, vertical, examples: Sequence, cfg, temperature: float, seed: int) -> list[dict]:
    """Two sampled answers per example from ``model_path`` (grounded), as store pairs; identical ones dropped."""
    import torch

    from core_training.data import prompt_messages, user_text
    from core_training.pipeline import open_policy

    torch.set_num_threads(cfg.threads)
    model, tokenizer = open_policy(model_path, cfg)
    convs = [prompt_messages(vertical, ex, "grounded") for ex in examples]
    answers = sample(model, tokenizer, convs, 2, cfg.eval.max_new_tokens, temperature, seed, cfg.eval.batch_size)
    return [{"id": ex["id"], "messages": list(ex["messages"]), "answer_a": a, "answer_b": b,
             "context": vertical.retrieve(user_text(ex["messages"])),
             "source": f"item={ex['id']} A,B=samples T={temperature} model={model_path}"}
            for ex, (a, b) in zip(examples, answers) if a and b and a != b]


# --------------------------------------------------------------------------- the simulated panel


def panel_users(store, panel) -> list[str]:
    """The panel as annotator accounts ``sim-<annotator name>`` of kind ``simulated`` (created once; nobody
    logs in as them). The kind is what lets an export's data card say its labels are simulated."""
    existing = {u.username: u for u in store.users()}
    names = [SIM_PREFIX + a.name for a in panel]
    for name in names:
        if name not in existing:
            store.create_user(name, secrets.token_urlsafe(24), role="annotator", kind="simulated")
        elif existing[name].kind != "simulated":
            raise LoopError(f"account {name!r} exists but is not a simulated account: "
                            "the panel will not label under it")
    return names


def rubric_scores(annotator, response: str, example: Mapping) -> dict[str, float]:
    """The vertical's rubric as ``annotator`` reads it: each dimension plus its seeded noise, clipped to [0, 1]."""
    from core_training.judge import stable_seed

    rng = random.Random(stable_seed(annotator.seed, "rubric", example.get("id"), response))
    scores = annotator.vertical.rubric(response, example)
    return {d: round(min(1.0, max(0.0, float(v) + annotator.noise * rng.gauss(0.0, 1.0))), 4)
            for d, v in scores.items()}


def judgement(annotator, task, example: Mapping) -> tuple[str, dict]:
    """What ``annotator`` submits for ``task``: its preference and rubric scores for both answers."""
    rubric = {"a": rubric_scores(annotator, task.answer_a, example),
              "b": rubric_scores(annotator, task.answer_b, example)}
    return annotator.prefer(task.answer_a, task.answer_b, example), rubric


def panel_annotate(store, panel, users: Sequence[str], examples: Mapping[int, Mapping]) -> int:
    """Each simulated annotator works through its open assignments on the tasks in ``examples``
    (task id -> the example it asks about) like a human in the app; returns how many it submitted."""
    submitted = 0
    for annotator, user in zip(panel, users):
        for assignment in store.assignments_for(user):
            example = examples.get(assignment.task.id)
            if assignment.done or example is None:
                continue
            preference, rubric = judgement(annotator, assignment.task, example)
            store.submit_annotation(user, assignment.id, preference, rubric=rubric)
            submitted += 1
    return submitted


def label_round(store, vertical, pairs: Sequence[dict], examples: Sequence, k: int, panel_size: int,
                round_name: str) -> list[int]:
    """Tasks from ``pairs``, ``k`` simulated annotators each, every assignment submitted; the task ids."""
    from core_training.judge import make_panel

    by_id = {ex["id"]: ex for ex in examples}
    task_ids = store.create_tasks_from_samples(vertical.name, pairs, source=f"{SOURCE}:{round_name}")
    panel = make_panel(vertical, n=panel_size)
    users = panel_users(store, panel)
    store.assign(task_ids, users, k=k)
    panel_annotate(store, panel, users, {tid: by_id[p["id"]] for tid, p in zip(task_ids, pairs)})
    return task_ids


def round_agreement(store, vertical: str, task_ids: Sequence[int]) -> dict:
    """Cohen's kappa (preferences) and Krippendorff's alpha (rubric) over this round's tasks only."""
    from apps.agreement import agreement_report

    ids = set(task_ids)
    report = agreement_report([lt for lt in store.labelled_tasks(vertical) if lt.task.id in ids])
    alphas = [a for a in report["alpha"].values() if not math.isnan(a)]
    return {**report, "alpha_mean": sum(alphas) / len(alphas) if alphas else math.nan}


# --------------------------------------------------------------------------- promotion and the report


def should_promote(before_pass: float, after_pass: float, judge_win_rate: float) -> tuple[bool, str]:
    """Promote only if the grounded all-rules pass rate did not drop and the judge win rate is > 0.5.

    NaN anywhere means no promotion.

    >>> should_promote(0.5, 0.5, 0.75)
    (True, 'grounded pass 0.500 -> 0.500 (did not drop), judge win rate 0.750 > 0.5')
    >>> should_promote(0.5, 0.25, 0.75)[0], should_promote(0.25, 0.5, 0.5)[0]
    (False, False)
    """
    kept = after_pass >= before_pass - 1e-9
    wins = judge_win_rate > 0.5
    why = (f"grounded pass {before_pass:.3f} -> {after_pass:.3f} ({'did not drop' if kept else 'dropped'}), "
           f"judge win rate {judge_win_rate:.3f} {'>' if wins else '<='} 0.5")
    return kept and wins, why


def outcome(report: dict, cfg, vertical, method: str) -> tuple[dict, dict]:
    """Before (the current model, re-evaluated as the round's ``base``) and after (the candidate)."""
    from core_training.judge import judge_for, win_rate
    from core_training.pipeline import eval_examples, samples_of

    metrics = {s["stage"]: s["metrics"] for s in report["stages"]}
    run_dir = Path(report["run_dir"])
    old, new = samples_of(run_dir, "base").get("grounded"), samples_of(run_dir, method).get("grounded")
    if not old or not new:
        raise LoopError("promotion needs grounded samples: keep 'grounded' in eval.modes")
    win = win_rate(judge_for(vertical, cfg.eval), new, old, eval_examples(vertical, cfg))
    keys = PASS_KEYS + INTERVAL_KEYS
    before = {**{k: metrics["base"].get(k, math.nan) for k in keys}, "judge_win_rate": 0.5}
    after = {**{k: metrics[method].get(k, math.nan) for k in keys}, "judge_win_rate": win,
             "judge_sign_test_p": metrics[method].get("judge/sign_test_p_vs_previous", math.nan)}
    return before, after


def _f(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def _ci(side: dict, key: str) -> str:
    low, high = side.get(f"{key}/ci_low"), side.get(f"{key}/ci_high")
    return _f(side.get(key)) + (f" [{_f(low)}, {_f(high)}]" if low is not None and high is not None else "")


def round_table(r: dict) -> str:
    """The before/after table of one round, its panel agreement and the decision (Markdown)."""
    b, a, ag = r["before"], r["after"], r["agreement"]
    rows = [("grounded all-rules pass (test, 95% CI)", _ci(b, "grounded/all_rules_pass"), _ci(a, "grounded/all_rules_pass")),
            ("closed-book all-rules pass (test, 95% CI)", _ci(b, "closed_book/all_rules_pass"),
             _ci(a, "closed_book/all_rules_pass")),
            ("judge win rate vs current (sign test p)", _f(b["judge_win_rate"]),
             f"{_f(a['judge_win_rate'])} (p {_f(a.get('judge_sign_test_p'))})")]
    alphas = ", ".join(f"{d} {_f(v)}" for d, v in ag["alpha"].items())
    return "\n".join([
        f"round {r['round']} · {r['vertical']} · {r['method']}: {r['tasks']} tasks × k={r['k']} = "
        f"{r['annotations']} simulated annotations, {r['export']['rows']} pairs exported",
        "", "| metric | before (current) | after (candidate) |", "|---|---|---|",
        *[f"| {name} | {x} | {y} |" for name, x, y in rows], "",
        f"panel agreement over {ag['items']} tasks: Cohen's kappa {_f(ag['kappa'])} (mean of {ag['kappa_pairs']} "
        f"annotator pairs); Krippendorff's alpha (rubric) mean {_f(ag['alpha_mean'])} ({alphas or 'none'})",
        "trained on: " + ", ".join(f"{k} {_f(v) if isinstance(v, float) else v}" for k, v in r.get("trained_on", {}).items()),
        f"decision: {'PROMOTE' if r['promoted'] else 'KEEP current'}: {r['reason']}",
        f"model now: {r['model_after']}",
    ])


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


# --------------------------------------------------------------------------- rounds


def run_round(opts: LoopOptions, vertical, store, current: Path, round_dir: Path, number: int) -> dict:
    """One round (see the module docstring); writes and returns ``round_dir/loop_report.json``'s content."""
    from apps.export import export_preferences
    from core_training.io import atomic_write_json
    from core_training.judge import stable_seed

    started = time.time()
    cfg = run_config(opts, vertical, round_dir, METHODS[opts.method], base=current)
    examples = round_prompts(store, vertical, opts.prompts)
    seed = stable_seed(SOURCE, cfg.seed, vertical.name, number, examples[0]["id"]) % 2**31
    pairs = sample_pairs(current, vertical, examples, cfg, opts.temperature, seed)
    if not pairs:
        raise LoopError(f"round {number}: the two samples were identical for every prompt; raise --temperature")
    task_ids = label_round(store, vertical, pairs, examples, opts.k, opts.panel_size, round_dir.name)
    agreement = round_agreement(store, vertical.name, task_ids)
    export = export_preferences(store, vertical.name, round_dir / "preferences.jsonl")
    print(f"[loop] round {number}: {len(task_ids)} tasks labelled, {export.rows} pairs exported to {export.path} "
          f"(labels: {export.label_source})", flush=True)
    rows = load_rows(export.path)
    seed_pairs = len(training_pairs(opts, vertical, rows)) - len(rows)
    if seed_pairs:
        print(f"[loop] round {number}: training on {len(rows)} exported + {seed_pairs} {vertical.name} pairs",
              flush=True)
    report, cfg = train_candidate(opts, vertical, current, round_dir, rows)
    before, after = outcome(report, cfg, vertical, opts.method)
    promoted, reason = should_promote(before["grounded/all_rules_pass"], after["grounded/all_rules_pass"],
                                      after["judge_win_rate"])
    annotations = sum(len(lt.annotations) for lt in store.labelled_tasks(vertical.name) if lt.task.id in task_ids)
    result = {"vertical": vertical.name, "round": number, "method": opts.method, "model_before": str(current),
              "candidate": str(round_dir / opts.method), "promoted": promoted, "reason": reason,
              "model_after": str(round_dir / opts.method if promoted else current), "before": before, "after": after,
              "agreement": agreement, "tasks": len(task_ids), "task_ids": task_ids, "k": opts.k,
              "annotations": annotations, "annotators": panel_names(vertical, opts.panel_size), "db": store.url,
              "export": {"path": str(export.path), "card": str(export.card_path), "rows": export.rows,
                         "counts": export.counts, "label_source": export.label_source},
              "trained_on": trained_on(report, export.rows, seed_pairs),
              "wall_seconds": round(time.time() - started, 1)}
    atomic_write_json(round_dir / REPORT, _json_safe(result))
    return result


def trained_on(report: dict, exported: int, seed_pairs: int) -> dict:
    """What the round's stages really trained and scored on, from their own metrics: the exported pairs each
    stage trained on, and those held out to score the reward model (never trained on)."""
    metrics = {s["stage"]: s["metrics"] for s in report["stages"]}
    out = {"exported_pairs": exported, "vertical_pairs": seed_pairs}
    for stage in ("rm", "dpo"):
        if stage in metrics:
            out[f"{stage}_trained_on_exported"] = metrics[stage].get(f"{stage}/train_pairs/export", 0)
    if "rm" in metrics:
        out["rm_held_out_exported"] = metrics["rm"].get("rm/held_out_pairs/export", 0)
        out["rm_accuracy_on_held_out_exported"] = metrics["rm"].get("rm/accuracy/export")
    return out


def load_rows(path: Path) -> list:
    from core_training.io import read_jsonl

    return read_jsonl(path)


def panel_names(vertical, n: int) -> list[str]:
    from core_training.judge import make_panel

    return [SIM_PREFIX + a.name for a in make_panel(vertical, n=n)]


def default_output(opts: LoopOptions) -> Path:
    return Path(opts.runs) / opts.vertical / time.strftime("loop-%Y%m%d-%H%M%S")


def run_loop(opts: LoopOptions) -> list[dict]:
    """``opts.rounds`` rounds, each from the model the previous one kept; prints each round's table."""
    from apps.store import Store
    from core_training.registry import get_vertical

    vertical = get_vertical(opts.vertical)
    opts = replace(opts, vertical=vertical.name)
    out = (Path(opts.output) if opts.output else default_output(opts)).resolve()
    store = Store.open(opts.db)
    try:
        current = (current_model(opts) or finished_bootstrap(out) or bootstrap(opts, vertical, out)).resolve()
        results = []
        for number in range(1, opts.rounds + 1):
            round_dir = out / f"round-{number}"
            if (round_dir / REPORT).is_file():
                print(f"[loop] round {number} already decided ({round_dir / REPORT}): skipped", flush=True)
                result = load_json(round_dir / REPORT)
            else:
                print(f"[loop] round {number}: current model {current}", flush=True)
                result = run_round(opts, vertical, store, current, round_dir, number)
            print(f"\n{round_table(result)}\n", flush=True)
            current = Path(result["model_after"])
            results.append(result)
    finally:
        store.close()
    print(f"loop reports: {out}/round-*/{REPORT}")
    return results


# --------------------------------------------------------------------------- command line


def add_loop_command(subparsers) -> argparse.ArgumentParser:
    """``vkit loop`` (registered by :func:`apps.cli.register`)."""
    help_text = "rounds of the data flywheel with a simulated expert panel: sample, label, train, promote"
    p = subparsers.add_parser("loop", help=help_text, description=f"{help_text}.\n\n{__doc__}",
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("vertical")
    p.add_argument("--db", default=LoopOptions.db, help="annotation store URL (default %(default)s)")
    p.add_argument("--run", help="start from this loop round, run or checkpoint (default: the newest under --runs)")
    p.add_argument("--output", help="loop directory (default RUNS/VERTICAL/loop-<timestamp>)")
    p.add_argument("--runs", default="runs", help="where runs are found and written (default %(default)s)")
    p.add_argument("--preset", help="micro = a seconds-scale smoke run")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--method", choices=sorted(METHODS), default="rlhf", help="rlhf = rm then rlhf; or dpo")
    p.add_argument("--prompts", type=int, default=LoopOptions.prompts, help="RL prompts (tasks) per round")
    p.add_argument("--k", type=int, default=LoopOptions.k, help="simulated annotators per task (overlap)")
    p.add_argument("--temperature", type=float, default=LoopOptions.temperature)
    p.add_argument("--no-seed-pairs", dest="seed_pairs", action="store_false",
                   help="train on the exported pairs alone (default: after the vertical's own pairs)")
    p.add_argument("overrides", nargs="*", help="run config key.sub=value overrides (e.g. threads=1)")
    p.set_defaults(fn=main)
    return p


def main(args: argparse.Namespace) -> int:
    import sys

    try:
        opts = LoopOptions(vertical=args.vertical, db=args.db, run=args.run, output=args.output, runs=args.runs,
                           preset=args.preset, rounds=args.rounds, method=args.method, prompts=args.prompts,
                           k=args.k, temperature=args.temperature, seed_pairs=args.seed_pairs,
                           overrides=tuple(args.overrides))
    except ValueError as err:
        print(f"vkit loop: error: {err}", file=sys.stderr)
        return 2
    try:
        run_loop(opts)
    except LoopError as err:
        print(f"vkit loop: error: {err}", file=sys.stderr)
        return 1
    return 0
