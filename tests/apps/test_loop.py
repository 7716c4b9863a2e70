"""`vkit loop`: the promotion rule, the simulated panel labelling through the store, and one micro round
end to end in a subprocess (bootstrap cpt,sft,rlvr -> sample -> label -> export -> rm,rlhf -> decide)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from apps.export import export_preferences
from apps.loop import (
    LoopOptions, label_round, latest_model, panel_annotate, policy_of, round_agreement, round_prompts, round_table,
    should_promote, training_pairs,
)
from apps.store import Store
from core_training.judge import make_panel
from core_training.registry import get_vertical

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1",
       "OMP_NUM_THREADS": "1"}


# --------------------------------------------------------------------------- fast


@pytest.mark.parametrize("before, after, win, promoted", [
    (0.50, 0.50, 0.75, True),           # pass held, judge prefers the candidate
    (0.25, 0.50, 0.51, True),
    (0.50, 0.25, 1.00, False),          # pass dropped
    (0.50, 0.50, 0.50, False),          # a tie with the judge is not a win
    (0.50, 0.75, 0.25, False),
    (math.nan, 0.50, 0.75, False),      # NaN never promotes
    (0.50, 0.50, math.nan, False),
])
def test_promotion_rule(before, after, win, promoted):
    decision, reason = should_promote(before, after, win)
    assert decision is promoted
    assert "grounded pass" in reason and "judge win rate" in reason


@pytest.fixture
def gaokao():
    return get_vertical("gaokao")


@pytest.fixture
def store(tmp_path):
    s = Store.open(f"sqlite:///{tmp_path / 'db.sqlite'}")
    yield s
    s.close()


def _gold_vs_bad(examples):
    return [{"id": ex["id"], "messages": list(ex["messages"]), "answer_a": ex["answer"],
             "answer_b": "不清楚，请自己查。"} for ex in examples]


def test_panel_labels_every_assignment_through_the_store(store, gaokao):
    examples = list(gaokao.load_rl_prompts())[:6]
    task_ids = label_round(store, gaokao, _gold_vs_bad(examples), examples, k=2, panel_size=3, round_name="round-1")
    assert len(task_ids) == 6

    sims = [u for u in store.users() if u.username.startswith("sim-gaokao-annotator-")]
    assert len(sims) == 3 and {u.role for u in sims} == {"annotator"}
    labelled = [lt for lt in store.labelled_tasks("gaokao") if lt.task.id in task_ids]
    assert sum(len(lt.annotations) for lt in labelled) == 6 * 2  # tasks x k
    for lt in labelled:
        assert lt.complete and len(set(lt.assigned)) == 2
        for a in lt.annotations:
            assert a.preference in ("a", "b", "tie") and set(a.rubric) == {"a", "b"}
            assert set(a.rubric["a"]) == set(gaokao.rubric_dimensions)
            assert all(0.0 <= v <= 1.0 for side in a.rubric.values() for v in side.values())
    assert {p.annotator: p.remaining for p in store.progress()} == {u.username: 0 for u in sims}
    # nothing left open: a second pass submits nothing (resubmission would bump revisions)
    panel = make_panel(gaokao, n=3)
    assert panel_annotate(store, panel, [u.username for u in sims], {t: examples[0] for t in task_ids}) == 0

    # the panel prefers the expert's answer to a non-answer, and the export says so
    export = export_preferences(store, "gaokao", Path(store.engine.url.database).parent / "prefs.jsonl")
    rows = [json.loads(line) for line in export.path.read_text(encoding="utf-8").splitlines()]
    gold = {ex["answer"] for ex in examples}
    assert rows and all(r["chosen"] in gold for r in rows)
    agreement = round_agreement(store, "gaokao", task_ids)
    assert agreement["items"] == 6 and agreement["kappa_pairs"] >= 1
    assert set(agreement["alpha"]) == set(gaokao.rubric_dimensions)


def test_next_round_takes_fresh_prompts(store, gaokao):
    prompts = list(gaokao.load_rl_prompts())
    assert [p["id"] for p in round_prompts(store, gaokao, 3)] == [p["id"] for p in prompts[:3]]
    label_round(store, gaokao, _gold_vs_bad(prompts[:3]), prompts[:3], k=1, panel_size=3, round_name="round-1")
    assert [p["id"] for p in round_prompts(store, gaokao, 3)] == [p["id"] for p in prompts[3:6]]


def test_current_model_resolution(tmp_path, micro_run):
    """On copies of a real `vkit run` directory (stages cpt, sft): its policy is sft, and a loop round
    whose candidate was rejected stands for the model it kept."""
    run = Path(shutil.copytree(micro_run, tmp_path / "runs" / "gaokao" / "20250101-000000"))
    assert policy_of(run) == run / "sft"  # not the run directory, although it has a config.json (the run's)
    assert policy_of(run / "cpt") == run / "cpt"  # a checkpoint stands for itself
    assert policy_of(tmp_path) is None
    assert latest_model(tmp_path / "runs", "gaokao") == run / "sft"

    rnd = Path(shutil.copytree(micro_run, tmp_path / "runs" / "gaokao" / "loop-1" / "round-1"))
    (rnd / "loop_report.json").write_text(json.dumps({"model_after": str(run / "sft"), "promoted": False}))
    os.utime(rnd / "loop_report.json", (2e9, 2e9))
    assert policy_of(rnd) == run / "sft"  # a rejected candidate is never the current model
    assert latest_model(tmp_path / "runs", "gaokao") == run / "sft"
    assert latest_model(tmp_path / "runs", "auto") is None


def test_options_and_command_line():
    from core_training.cli import build_parser

    args = build_parser().parse_args(["loop", "gaokao", "threads=1", "--preset", "micro", "--rounds", "2", "--k", "2"])
    assert args.fn.__module__ == "apps.loop" and (args.rounds, args.k, args.overrides) == (2, 2, ["threads=1"])
    with pytest.raises(ValueError, match="--k"):
        LoopOptions("gaokao", k=4)
    with pytest.raises(ValueError, match="--method"):
        LoopOptions("gaokao", method="ppo")


def test_rounds_train_on_the_export_after_the_verticals_own_pairs(gaokao):
    from core_training.cli import build_parser

    exported = [{"id": "gaokao-task-1", "messages": [{"role": "user", "content": "q"}], "chosen": "a", "rejected": "b"}]
    seeded = training_pairs(LoopOptions("gaokao"), gaokao, exported)
    assert len(seeded) == len(gaokao.load_preferences()) + 1 and seeded[-1] == {**exported[0], "source": "export"}
    assert {p["source"] for p in seeded[:-1]} == {"vertical"}  # split_pairs stratifies by source
    assert training_pairs(LoopOptions("gaokao", seed_pairs=False), gaokao, exported) == seeded[-1:]
    assert build_parser().parse_args(["loop", "gaokao", "--no-seed-pairs"]).seed_pairs is False
    assert build_parser().parse_args(["loop", "gaokao"]).seed_pairs is True


def test_docstring_examples():
    import doctest

    import apps.loop

    result = doctest.testmod(apps.loop)
    assert result.failed == 0 and result.attempted > 0


def test_round_table_shows_before_after_and_agreement():
    report = {"round": 1, "vertical": "gaokao", "method": "rlhf", "tasks": 8, "k": 2, "annotations": 16,
              "export": {"rows": 5}, "promoted": False, "reason": "why", "model_after": "m",
              "before": {"grounded/all_rules_pass": 0.25, "grounded/all_rules_pass/ci_low": 0.0,
                         "grounded/all_rules_pass/ci_high": 0.5, "closed_book/all_rules_pass": 0.0, "judge_win_rate": 0.5},
              "after": {"grounded/all_rules_pass": 0.25, "closed_book/all_rules_pass": None, "judge_win_rate": 0.625,
                        "judge_sign_test_p": 0.5},
              "trained_on": {"exported_pairs": 5, "rm_trained_on_exported": 4, "rm_held_out_exported": 1},
              "agreement": {"items": 8, "kappa": 0.4, "kappa_pairs": 3, "alpha": {"clarity": 0.5}, "alpha_mean": 0.5}}
    table = round_table(report)
    assert "| grounded all-rules pass (test, 95% CI) | 0.250 [0.000, 0.500] | 0.250 |" in table
    assert "| judge win rate vs current (sign test p) | 0.500 | 0.625 (p 0.500) |" in table
    assert "trained on: exported_pairs 5, rm_trained_on_exported 4, rm_held_out_exported 1" in table
    assert "Cohen's kappa 0.400" in table and "Krippendorff's alpha (rubric) mean 0.500" in table
    assert "KEEP current" in table and "n/a" in table


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_micro_loop_round_end_to_end(tmp_path):
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    args = [sys.executable, "-m", "core_training.cli", "loop", "gaokao", "--preset", "micro", "--db", db,
            "--rounds", "1", "--k", "3", "--prompts", "16", "threads=1"]  # from the micro policy k=2 x 8 all tied
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, env=ENV, timeout=580)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "| grounded all-rules pass (test, 95% CI) |" in proc.stdout and "decision:" in proc.stdout

    [loop_dir] = (tmp_path / "runs" / "gaokao").glob("loop-*")  # default --runs runs/ under the cwd
    assert (loop_dir / "round-0" / "rlvr" / "config.json").is_file()  # no model yet: bootstrapped
    report = json.loads((loop_dir / "round-1" / "loop_report.json").read_text(encoding="utf-8"))
    before, after = report["before"], report["after"]
    for side in (before, after):
        assert all(isinstance(side[k], float) for k in ("grounded/all_rules_pass", "judge_win_rate"))

    # the numbers are the round's own run: base = the current model, rlhf = the candidate
    run = {s["stage"]: s["metrics"] for s in json.loads((loop_dir / "round-1" / "report.json").read_text())["stages"]}
    assert list(run) == ["base", "rm", "rlhf"]
    assert before["grounded/all_rules_pass"] == run["base"]["grounded/all_rules_pass"]
    assert after["grounded/all_rules_pass"] == run["rlhf"]["grounded/all_rules_pass"]
    assert after["judge_win_rate"] == run["rlhf"]["judge_win_rate_vs_previous"]

    # every assignment was annotated through the store: tasks x k rows, by the simulated panel only
    store = Store.open(db)
    try:
        labelled = store.labelled_tasks("gaokao")
        assert len(labelled) == report["tasks"] > 0
        assert sum(len(lt.annotations) for lt in labelled) == report["tasks"] * 3 == report["annotations"]
        assert {a.annotator for lt in labelled for a in lt.annotations} <= set(report["annotators"])
    finally:
        store.close()

    export = Path(report["export"]["path"])
    rows = export.read_text(encoding="utf-8").splitlines()
    assert len(rows) == report["export"]["rows"] > 0
    assert {"id", "messages", "chosen", "rejected"} <= set(json.loads(rows[0]))
    card = Path(report["export"]["card"]).read_text(encoding="utf-8")
    header = yaml.safe_load(card.split("---")[1])
    assert header["configs"][0]["data_files"] == export.name and "## Agreement" in card

    # every exported label is used on purpose: trained on by rm, or held out to score it (never both, never neither)
    n = report["export"]["rows"]
    trained = report["trained_on"]
    assert trained["rm_trained_on_exported"] == run["rm"]["rm/train_pairs/export"] > 0
    assert trained["rm_held_out_exported"] == run["rm"].get("rm/held_out_pairs/export", 0)
    assert trained["rm_trained_on_exported"] + trained["rm_held_out_exported"] == n
    if n > 1:
        assert 0.0 <= run["rm"]["rm/accuracy/export"] <= 1.0  # scored on exported pairs it never saw
    assert "trained on: exported_pairs" in proc.stdout

    rule = after["grounded/all_rules_pass"] >= before["grounded/all_rules_pass"] and after["judge_win_rate"] > 0.5
    assert report["promoted"] is rule
    assert report["model_after"] == (report["candidate"] if rule else report["model_before"])
    assert report["model_before"] == str(loop_dir / "round-0" / "rlvr")
