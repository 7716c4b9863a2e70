"""Stages under ``accelerate launch`` (core_training/launcher.py): two real processes on this CPU (gloo), DDP and
DeepSpeed ZeRO-2/ZeRO-3. Each launched test checks that both ranks trained on different data (their
``rank-<r>.json``), that the consolidated result loads with ``AutoModelForCausalLM``, and that the loss tracks a
single-process run of the same global batch (2 ranks x 2 sequences against 1 process x 4)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from core_training.config import ConfigError, resolve_run_config
from core_training.inputs import InputError
from core_training.launcher import DEEPSPEED_DIR, check_launch, launch_command, train_launched
from core_training.launch_worker import moe_block_class_names

TESTS = Path(__file__).resolve().parents[1]
TOY_MODULE = f"import sys\nsys.path.insert(0, {str(TESTS)!r})\nfrom conftest import toy_vertical\nVERTICAL = toy_vertical()\n"
SFT = ["sft.max_steps=3", "sft.warmup_ratio=0", "sft.lr_scheduler_type=constant"]
RLVR = ["rlvr.max_steps=2", "rlvr.num_generations=2"]  # 32-token answers: the graded rule varies


# ---------------------------------------------------------------------------------------------- fast checks


def test_every_shipped_deepspeed_config_is_valid_json_with_its_stage():
    stages = {p.stem: json.loads(p.read_text())["zero_optimization"]["stage"] for p in DEEPSPEED_DIR.glob("*.json")}
    assert stages == {"zero2": 2, "zero3": 3, "zero3-offload": 3}
    zero3 = json.loads((DEEPSPEED_DIR / "zero3.json").read_text())["zero_optimization"]
    assert zero3["stage3_gather_16bit_weights_on_model_save"]  # a ZeRO-3 save is one consolidated checkpoint


def test_launch_options_need_the_launcher():
    with pytest.raises(ConfigError, match="need launcher: accelerate"):
        resolve_run_config(cli_overrides=["launch.deepspeed=zero2"])
    with pytest.raises(ConfigError, match="did you mean 'zero3'"):
        resolve_run_config(cli_overrides=["launch.launcher=accelerate", "launch.deepspeed=zero4"])


def test_deepspeed_command_and_a_config_file(tmp_path):
    cfg = resolve_run_config(cli_overrides=["launch.launcher=accelerate", "launch.num_processes=16",
                                            "launch.deepspeed=zero3", f"launch.accelerate_config={tmp_path}/a.yaml"])
    cmd = launch_command(cfg.launch, Path("spec.json"))
    assert cmd[cmd.index("--config_file") + 1] == f"{tmp_path}/a.yaml" and "--main_process_port" not in cmd
    assert cmd[cmd.index("--deepspeed_config_file") + 1] == str(DEEPSPEED_DIR / "zero3.json")
    assert "--multi_gpu" not in cmd and cmd[-3:] == ["--module", "core_training.launch_worker", "spec.json"]


def test_check_launch_refuses_a_missing_config_file_and_lora_under_zero3(tmp_path):
    missing = resolve_run_config(cli_overrides=["launch.launcher=accelerate", f"launch.accelerate_config={tmp_path}/x"])
    with pytest.raises(InputError, match="no such file"):
        check_launch(missing)
    lora = resolve_run_config(cli_overrides=["launch.launcher=accelerate", "launch.deepspeed=zero3", "lora.enabled=true"])
    with pytest.raises(InputError, match="use --deepspeed zero2"):
        check_launch(lora)


@pytest.mark.parametrize("family,config", [
    ("Qwen3MoeSparseMoeBlock", dict(model_type="qwen3_moe", num_experts=4, num_experts_per_tok=2)),
    ("DeepseekV3MoE", dict(model_type="deepseek_v3", n_routed_experts=4, num_experts_per_tok=2, first_k_dense_replace=1,
                           n_group=1, topk_group=1, kv_lora_rank=16, q_lora_rank=16, qk_rope_head_dim=8,
                           qk_nope_head_dim=8, v_head_dim=8)),
])
def test_moe_blocks_found_for_zero3_leaves(family, config, tmp_path):
    """The class accelerate registers as a ZeRO-3 leaf: the module holding the experts (DeepSpeed's own
    default list names only the Mixtral and Qwen MoE blocks)."""
    from transformers import AutoConfig

    model_type = config.pop("model_type")
    small = dict(vocab_size=64, hidden_size=32, intermediate_size=64, moe_intermediate_size=16, num_hidden_layers=2,
                 num_attention_heads=4, num_key_value_heads=4)
    AutoConfig.for_model(model_type, **small, **config).save_pretrained(tmp_path)
    assert moe_block_class_names(str(tmp_path)) == [family]


# ------------------------------------------------------------------------------------ two real processes


@pytest.fixture
def toy_target(tmp_path, monkeypatch):
    """The toy vertical as a ``module:attr`` the ranks import (they are fresh interpreters)."""
    (tmp_path / "launch_toy.py").write_text(TOY_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    return "launch_toy:VERTICAL"


def _ctx(stage, toy, base, out, target, overrides):
    from core_training.stage import StageContext

    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={out}", f"vertical={target}", "threads=1",
                                                            *overrides])
    return StageContext(cfg=cfg, vertical=toy, stage=stage, input_path=base, work_dir=out / ".work" / stage, run_dir=out)


def _single_process_losses(stage, toy, base, out, target, overrides, batch_key):
    """The same stage in this process at twice the per-device batch (the launched run's global batch)."""
    from core_training.recipes import recipe

    ctx = _ctx(stage, toy, base, out, target, [*overrides, f"{batch_key}=4"])
    recipe(stage).train(ctx)
    return _losses(out, stage)


def _losses(run_dir, stage):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in rows if r["stage"] == stage and "loss" in r]


def _check_ranks(launch_dir, zero_stage):
    ranks = [json.loads((launch_dir / f"rank-{r}.json").read_text()) for r in (0, 1)]
    for r, summary in enumerate(ranks):
        assert summary["rank"] == r and summary["world_size"] == 2 and summary["zero_stage"] == zero_stage
        assert summary["examples"] > 0 and summary["global_step"] > 0
    assert ranks[0]["first_batch"] != ranks[1]["first_batch"]  # each rank trained on its own share of the batch
    return ranks


def _loads_and_changed(path, base):
    import torch
    from transformers import AutoModelForCausalLM

    trained, start = AutoModelForCausalLM.from_pretrained(path), AutoModelForCausalLM.from_pretrained(base)
    before = dict(start.named_parameters())
    return [n for n, p in trained.named_parameters() if not torch.equal(p, before[n])]


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("deepspeed", [None, "zero2", "zero3"])
def test_sft_in_two_processes(deepspeed, toy, tiny_base, tmp_path, toy_target):
    engine = [f"launch.deepspeed={deepspeed}"] if deepspeed else []
    launched = [*SFT, "sft.per_device_batch_size=2", "launch.launcher=accelerate", "launch.num_processes=2", *engine]
    ctx = _ctx("sft", toy, tiny_base, tmp_path / "launched", toy_target, launched)
    launch_dir = ctx.work_dir / "launch"
    if deepspeed == "zero2":  # resume: a launch killed after its step-2 checkpoint, from DeepSpeed's checkpoint
        train_launched(_ctx("sft", toy, tiny_base, tmp_path / "launched", toy_target, [*launched, "sft.max_steps=2"]))
        assert (ctx.work_dir / "checkpoint-2").is_dir()
        (launch_dir / "result.json").unlink()
    model, _ = train_launched(ctx)
    ranks = _check_ranks(launch_dir, {None: None, "zero2": 2, "zero3": 3}[deepspeed])
    if deepspeed == "zero2":
        assert [r["examples"] for r in ranks] == [2, 2]  # one step (2 sequences per rank) after the resume
    if deepspeed == "zero3":
        assert ranks[0]["moe_leaf_classes"] == "Qwen3MoeSparseMoeBlock" and ranks[0]["z3_leaf_modules"] == 2
    assert {"rank-0.log", "rank-1.log", "rank-0.json", "rank-1.json"} <= set(ctx.extra["artifacts"])
    changed = _loads_and_changed(launch_dir / "model", tiny_base)
    assert any("experts" in n for n in changed) and any("self_attn" in n for n in changed)
    single = _single_process_losses("sft", toy, tiny_base, tmp_path / "single", toy_target, SFT,
                                    "sft.per_device_batch_size")
    multi = _losses(ctx.run_dir, "sft")
    assert len(multi) == len(single) == 3
    for a, b in zip(multi, single):  # the per-rank mean of token means against one mean over all the tokens
        assert math.isclose(a, b, rel_tol=0.05), (multi, single)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_rlvr_under_zero3(toy, tiny_base, tmp_path, toy_target):
    launched = [*RLVR, "rlvr.per_device_batch_size=2", "launch.launcher=accelerate", "launch.num_processes=2",
                "launch.deepspeed=zero3"]
    ctx = _ctx("rlvr", toy, tiny_base, tmp_path / "launched", toy_target, launched)
    train_launched(ctx)
    _check_ranks(ctx.work_dir / "launch", 3)
    changed = _loads_and_changed(ctx.work_dir / "launch" / "model", tiny_base)
    assert changed and not any(n.endswith("mlp.gate.weight") for n in changed)  # the router stays frozen
    single = _single_process_losses("rlvr", toy, tiny_base, tmp_path / "single", toy_target, RLVR,
                                    "rlvr.per_device_batch_size")
    multi = _losses(ctx.run_dir, "rlvr")
    assert len(multi) == len(single) == 2
    # GRPO's loss depends on the answers sampled (each rank samples with its own seed): its scale is compared
    assert all(math.isfinite(x) and abs(x) < 0.5 for x in multi + single), (multi, single)
    assert abs(sum(multi) / len(multi) - sum(single) / len(single)) < 0.2, (multi, single)
