"""Results that tell the truth: the defects of issue 22, each with a test that failed before its fix.

- new labels (an annotation export) are trained on and scored on held-out pairs, never silently unused;
- a base retrained in place is a new base (its stage keys change);
- changing evaluation settings re-evaluates, it never retrains;
- an LLM judge behind an OpenAI-compatible endpoint, position-swapped, tested against a local stand-in.
"""

from __future__ import annotations

import json
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core_training.config import ConfigError, resolve_run_config
from core_training.data import pair_source, preference_pairs, split_pairs, with_source
from core_training.judge import verdict_counts
from core_training.pipeline import STAGE_FILE, run_pipeline

pytestmark = pytest.mark.timeout(600)


def exported_pairs(n: int) -> list[dict]:
    """Pairs shaped like an annotation export (``<vertical>-task-N`` ids sort before the vertical's own)."""
    return [{"id": f"gaokao-task-{i}", "messages": [{"role": "user", "content": f"数字{100 + i}是多少？"}],
             "chosen": f"答案：{100 + i}", "rejected": "答案：0"} for i in range(n)]


def vertical_pairs(n: int) -> list[dict]:
    return [{"id": f"gk-pref-{i:04d}", "messages": [{"role": "user", "content": f"数字{500 + i}是多少？"}],
             "chosen": f"答案：{500 + i}", "rejected": "答案：1"} for i in range(n)]


def test_every_exported_label_is_trained_on_or_held_out_on_purpose():
    """The loop's mix (270 of the vertical's pairs, then 29 exported): most exported pairs train, a few are
    held out to score the reward model, and neither side depends on ids or on the order of the list."""
    pairs = [*with_source(vertical_pairs(270), "vertical"), *with_source(exported_pairs(29), "export")]
    train, held = split_pairs(pairs)
    exported_train = [p for p in train if pair_source(p) == "export"]
    exported_held = [p for p in held if pair_source(p) == "export"]
    assert len(exported_train) == 26 and len(exported_held) == 3
    assert len([p for p in held if pair_source(p) == "vertical"]) == 27
    assert {p["id"] for p in exported_train} | {p["id"] for p in exported_held} == {f"gaokao-task-{i}" for i in range(29)}
    train2, held2 = split_pairs(list(reversed(pairs)))
    assert {p["id"] for p in held2} == {p["id"] for p in held}
    assert not {json.dumps(p["messages"]) for p in train} & {json.dumps(p["messages"]) for p in held}


def test_pairs_on_one_prompt_stay_on_one_side():
    prompt = [{"role": "user", "content": "同一个问题"}]
    pairs = [{"id": f"x{i}", "messages": prompt, "chosen": f"a{i}", "rejected": "b"} for i in range(5)]
    pairs += vertical_pairs(20)
    train, held = split_pairs(pairs)
    sides = {("train" if p in train else "held") for p in pairs if p["messages"] == prompt}
    assert len(sides) == 1


def test_preferences_given_are_an_export_and_the_vertical_pairs_are_not_mixed_in(toy):
    assert {pair_source(p) for p in preference_pairs(toy, exported_pairs(3))} == {"export"}
    assert {pair_source(p) for p in preference_pairs(toy)} == {"vertical"}


def _cfg(tmp_path, *overrides):
    return resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1",
                                                             *overrides])


def test_rm_trains_on_the_export_and_is_scored_on_its_held_out_pairs(toy, tiny_base, tmp_path):
    """``--preferences``: the rm stage trains on the export and is scored on export pairs it never saw."""
    cfg = _cfg(tmp_path, "stages=rm", f"model.base={tiny_base}")
    exported = [{**ex, "id": f"toy-task-{i}", "chosen": ex["answer"], "rejected": "答案：0"}
                for i, ex in enumerate(toy.load_eval_set() + toy.load_chains())]
    report = run_pipeline(cfg, toy, preferences=exported, log=lambda m: None)
    metrics = report["stages"][1]["metrics"]
    train, held = split_pairs(preference_pairs(toy, exported))
    assert metrics["rm/train_pairs/export"] == len(train) > 0 and "rm/train_pairs/vertical" not in metrics
    assert metrics["rm/held_out_pairs/export"] == len(held) > 0
    assert 0.0 <= metrics["rm/accuracy/export"] <= 1.0 and metrics["rm/accuracy"] == metrics["rm/accuracy/export"]


def _messages(tmp_path, cfg, vertical):
    logged: list[str] = []
    run_pipeline(cfg, vertical, log=logged.append)
    return logged


def test_a_base_retrained_in_place_is_a_new_base(toy, tiny_base, tmp_path):
    """Same path, same file sizes, other weights: every stage runs again (the key hashes contents)."""
    import torch
    from transformers import AutoModelForCausalLM

    base = tmp_path / "base"
    shutil.copytree(tiny_base, base)
    cfg = _cfg(tmp_path / "run", "stages=cpt", f"model.base={base}")
    _messages(tmp_path, cfg, toy)
    first = json.loads((tmp_path / "run" / "cpt" / STAGE_FILE).read_text())["key"]
    assert any("skipped" in m for m in _messages(tmp_path, cfg, toy))
    size = (base / "model.safetensors").stat().st_size
    model = AutoModelForCausalLM.from_pretrained(base)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    model.save_pretrained(base)  # retrained in place: the same files, the same sizes
    assert (base / "model.safetensors").stat().st_size == size
    logged = _messages(tmp_path, cfg, toy)
    assert "[cpt] running" in " ".join(logged)
    assert json.loads((tmp_path / "run" / "cpt" / STAGE_FILE).read_text())["key"] != first


def test_changed_eval_settings_re_evaluate_without_retraining(toy, tiny_base, tmp_path):
    dev = replace(toy, load_dev_set=lambda: toy.load_chains()[:4])
    cfg = _cfg(tmp_path, "stages=cpt", f"model.base={tiny_base}")
    _messages(tmp_path, cfg, dev)
    weights = tmp_path / "cpt" / "model.safetensors"
    stat, record = weights.stat(), json.loads((tmp_path / "cpt" / STAGE_FILE).read_text())
    speed = record["metrics"]  # the stage's training throughput, against this machine's matmul peak
    assert speed["train/tokens"] > 0 and speed["train/tokens_per_second"] > 0 and 0 < speed["train/mfu"] < 1
    assert "dev/grounded/all_rules_pass" in record["metrics"] and "dev/closed_book/all_rules_pass" not in record["metrics"]
    changed = _cfg(tmp_path, "stages=cpt", f"model.base={tiny_base}", "eval.max_new_tokens=8", "eval.sets=test")
    logged = _messages(tmp_path, changed, dev)
    assert any("[cpt] trained with the same config and inputs; the eval settings changed: re-evaluating" in m
               for m in logged)
    assert not any("[cpt] running" in m for m in logged)
    after = json.loads((tmp_path / "cpt" / STAGE_FILE).read_text())
    assert weights.stat().st_mtime_ns == stat.st_mtime_ns and after["key"] == record["key"]  # not retrained
    assert after["eval_key"] != record["eval_key"] and "dev/grounded/all_rules_pass" not in after["metrics"]
    assert after["metrics"]["train/mfu"] == speed["train/mfu"]  # training was not re-measured: it did not rerun
    rows = [json.loads(line) for line in (tmp_path / "cpt" / "samples.jsonl").read_text().splitlines()]
    assert {r["set"] for r in rows} == {"test"}
    assert any("skipped" in m for m in _messages(tmp_path, changed, dev))  # and now it is up to date


# --------------------------------------------------------------------------- the endpoint judge


class StandIn(BaseHTTPRequestHandler):
    """An OpenAI-compatible stand-in: prefers the answer that states the asked number; ``biased`` always says A."""

    biased = False
    requests: list[dict] = []

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def _reply(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._reply({"object": "list", "data": [{"id": "stand-in-judge", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(body)
        text = body["messages"][-1]["content"]
        asked = "".join(ch for ch in text.split("【问题】")[1].split("【已知事实】")[0] if ch.isdigit())
        a = text.split("【回答A】")[1].split("【回答B】")[0]
        b = text.split("【回答B】")[1]
        verdict = "A" if self.biased else ("A" if asked in a and asked not in b else "B" if asked in b else "TIE")
        self._reply({"choices": [{"message": {"role": "assistant", "content": verdict}}]})


@pytest.fixture
def stand_in():
    handler = type("Handler", (StandIn,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_endpoint_judge_swaps_positions_and_cancels_order_bias(toy, stand_in):
    from core_training.judge import judge_for

    handler, url = stand_in
    examples = toy.load_eval_set()[:3]
    right = [ex["answer"] for ex in examples]
    wrong = ["答案：0"] * 3
    cfg = _cfg("unused", "eval.judge=endpoint", f"eval.judge_endpoint={url}").eval
    judge = judge_for(toy, cfg)
    assert verdict_counts(judge, right, wrong, examples) == {"wins": 3, "losses": 0, "ties": 0}
    assert verdict_counts(judge, wrong, right, examples) == {"wins": 0, "losses": 3, "ties": 0}
    assert len(handler.requests) == 12 and {r["model"] for r in handler.requests} == {"stand-in-judge"}
    first, second = handler.requests[0]["messages"][-1]["content"], handler.requests[1]["messages"][-1]["content"]
    assert first.index(right[0]) < first.index(wrong[0]) and second.index(wrong[0]) < second.index(right[0])
    handler.biased = True  # a judge that always picks the first position
    assert verdict_counts(judge, right, wrong, examples) == {"wins": 0, "losses": 0, "ties": 3}


def test_endpoint_judge_in_a_run_and_its_errors(toy, tiny_base, tmp_path, stand_in):
    handler, url = stand_in
    cfg = _cfg(tmp_path, "stages=sft,dpo", f"model.base={tiny_base}", "eval.judge=endpoint",
               f"eval.judge_endpoint={url}", "dpo.learning_rate=0.05", "dpo.max_steps=4", "eval.max_new_tokens=12")
    report = run_pipeline(cfg, toy, log=lambda m: None)
    dpo = report["stages"][-1]["metrics"]
    n = len(toy.load_eval_set()[: cfg.eval.max_items])
    assert sum(dpo[f"judge/{k}_vs_previous"] for k in ("wins", "losses", "ties")) == n

    def grounded(stage):
        rows = [json.loads(line) for line in (tmp_path / stage / "samples.jsonl").read_text().splitlines()]
        return [r["response"] for r in rows if r["mode"] == "grounded"]

    differing = sum(a != b for a, b in zip(grounded("dpo"), grounded("sft")))
    assert differing > 0 and len(handler.requests) == 2 * differing  # identical answers tie without a call
    with pytest.raises(ConfigError, match="eval.judge_endpoint: eval.judge=endpoint needs the endpoint's URL"):
        run_pipeline(_cfg(tmp_path / "no-url", "eval.judge=endpoint", f"model.base={tiny_base}"), toy)
    assert not (tmp_path / "no-url" / "base").exists()  # refused before anything ran
    from core_training.llm_judge import JudgeEndpointError, endpoint_judge

    down = endpoint_judge(toy, _cfg(tmp_path, "eval.judge=endpoint", "eval.judge_endpoint=http://127.0.0.1:9/v1").eval)
    with pytest.raises(JudgeEndpointError, match="judge endpoint http://127.0.0.1:9/v1/models"):
        down.prefer("a", "b", toy.load_eval_set()[0])


def test_base_pretrain_without_output_never_writes_into_the_package(tmp_path, monkeypatch):
    """`vkit base pretrain` with no --output builds into runs/base/<timestamp> under the working directory;
    the shipped base (inside the installed package) is replaced only when named."""
    import core_training
    from core_training import cli
    from core_training.base import pretrain as pretrain_module

    seen = []
    monkeypatch.setattr(pretrain_module, "pretrain", lambda cfg, output: seen.append(output) or dict.fromkeys(
        ("parameters", "build_seconds", "skills", "final_train_loss", "environment")))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["base", "pretrain", "--native", "max_steps=1"]) == 0
    [output] = seen
    package = Path(core_training.__file__).resolve().parent
    assert output.resolve().is_relative_to(tmp_path / "runs" / "base")
    assert not output.resolve().is_relative_to(package)


def test_the_graph_a_run_uses_is_in_its_config(monkeypatch, tmp_path):
    """``data.graph`` reaches the vertical (through its VKIT_<V>_GRAPH variable) and the variable alone is
    recorded as ``data.graph``, so config.json and the report say what data the run used."""
    from core_training.cli import use_graph

    monkeypatch.setenv("VKIT_GAOKAO_GRAPH", "")  # records the variable's state, restored after the test
    assert use_graph(resolve_run_config(), "gaokao").data.graph is None
    cfg = use_graph(resolve_run_config(cli_overrides=[f"data.graph={tmp_path}"]), "gaokao")
    import os

    assert cfg.data.graph == str(tmp_path) and os.environ["VKIT_GAOKAO_GRAPH"] == str(tmp_path)
    monkeypatch.setenv("VKIT_GAOKAO_GRAPH", "kg/elsewhere")
    assert use_graph(resolve_run_config(), "gaokao").data.graph == "kg/elsewhere"


def test_several_seeds_give_mean_and_sd_per_stage(toy, tiny_base, tmp_path):
    from core_training.seeds import run_seeds

    cfg = _cfg(tmp_path, "stages=sft", f"model.base={tiny_base}", "eval.max_new_tokens=8", "sft.learning_rate=0.01")
    summary = run_seeds(cfg, toy, [0, 1], tmp_path / "seeds", log=lambda m: None)
    reports = [json.loads((tmp_path / "seeds" / f"seed-{s}" / "report.json").read_text()) for s in (0, 1)]
    assert [r["config"]["seed"] for r in reports] == [0, 1]
    ppl = [r["stages"][1]["metrics"]["perplexity"] for r in reports]
    entry = summary["stages"]["sft"]["perplexity"]
    assert entry["values"] == ppl and entry["mean"] == pytest.approx(sum(ppl) / 2, abs=1e-6)
    assert entry["sd"] == pytest.approx(abs(ppl[0] - ppl[1]) / 2 ** 0.5, abs=1e-6) and entry["sd"] > 0
    assert json.loads((tmp_path / "seeds" / "seeds.json").read_text())["seeds"] == [0, 1]
    assert "| sft |" in (tmp_path / "seeds" / "seeds.md").read_text()


def test_what_rl_changed_is_measured_item_by_item_across_seeds(toy, tiny_base, tmp_path, monkeypatch):
    """The seeds' summary says what rlvr changed on the test items: the re-checked answers reproduce each
    stage's reported pass rate, and the paired change equals the change in the reports, pooled over seeds."""
    from core_training.effects import ALL, read_responses
    from core_training.seeds import run_seeds, summarize_dir

    cfg = _cfg(tmp_path, "stages=sft,rlvr", f"model.base={tiny_base}", "eval.max_new_tokens=8",
               "sft.learning_rate=0.01", "rlvr.max_steps=2", "rlvr.max_completion_length=8")
    run_seeds(cfg, toy, [0, 1], tmp_path / "seeds", log=lambda m: None)
    reports = [json.loads((tmp_path / "seeds" / f"seed-{s}" / "report.json").read_text()) for s in (0, 1)]
    passed = {st: [next(r for r in rep["stages"] if r["stage"] == st)["metrics"]["grounded/all_rules_pass"]
                   for rep in reports] for st in ("sft", "rlvr")}
    effect = summarize_dir(tmp_path / "seeds", toy)["effects"]["test"]["pairs"]["sft->rlvr"][ALL]
    assert effect["before"] == pytest.approx(sum(passed["sft"]) / 2)
    assert effect["after"] == pytest.approx(sum(passed["rlvr"]) / 2)
    assert effect["delta"] == pytest.approx(effect["after"] - effect["before"])
    assert effect["ci_low"] <= effect["delta"] <= effect["ci_high"]
    assert effect["n"] == len(read_responses(tmp_path / "seeds" / "seed-0" / "sft")) > 0
    text = (tmp_path / "seeds" / "seeds.md").read_text()
    assert "What each stage changed (test)" in text and "| rubric/clarity |" in text and "| rlvr | 0 |" in text
    (tmp_path / "seeds" / "seeds.md").unlink()  # `vkit report OUTPUT` re-renders it from the seeds' runs
    import argparse

    from core_training import check, registry

    monkeypatch.setattr(registry, "get_vertical", lambda name: toy)
    assert check._report(argparse.Namespace(run=str(tmp_path / "seeds"))) == 0
    assert (tmp_path / "seeds" / "seeds.md").read_text() == text


def test_an_eval_set_the_data_cannot_build_is_left_unmeasured_but_test_is_required(toy, tmp_path):
    """A paraphrase set about entities an imported graph lacks is skipped (with a warning); the test set
    is what the bars read, so its failure stops the run; an empty optional set is not measured either."""
    from core_training.contract import DataError
    from core_training.pipeline import eval_sets
    from core_training.readiness import first_problem, run_builders

    def lacks():
        raise DataError("paraphrase: the graph has no 湖北")

    cfg = _cfg(tmp_path)
    vertical = replace(toy, load_paraphrase_set=lacks, load_dev_set=list)
    assert list(eval_sets(vertical, cfg)) == ["test"]
    assert first_problem("toy", run_builders(vertical)) is None  # not a reason to refuse training
    with pytest.raises(DataError, match="no 湖北"):
        eval_sets(replace(toy, load_eval_set=lacks), cfg)
    assert "load_eval_set" in first_problem("toy", run_builders(replace(toy, load_eval_set=lacks)))


@pytest.mark.parametrize("name", ["effects", "seeds", "stats"])
def test_examples_in_the_truth_modules_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"core_training.{name}"))
    assert result.attempted > 0 and result.failed == 0
