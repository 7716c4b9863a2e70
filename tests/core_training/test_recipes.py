"""Each stage's recipe trains the tiny MoE a few steps with its real TRL trainer: the trainable
parameters change, the metrics (loss, MoE load, per-rule rewards) are logged."""

from __future__ import annotations

import pytest
import torch

from core_training.config import resolve_run_config
from core_training.modeling import is_router_parameter, load_causal_lm
from core_training.recipes import recipe
from core_training.stage import StageContext

pytestmark = pytest.mark.timeout(300)


def _ctx(stage, toy, base, tmp_path, **kw):
    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1"])
    return StageContext(cfg=cfg, vertical=toy, stage=stage, input_path=base, work_dir=tmp_path / ".work" / stage,
                        run_dir=tmp_path, **kw)


def _changed(before, after) -> list[str]:
    after_params = dict(after.named_parameters())
    return [n for n, p in before.named_parameters() if not torch.equal(p, after_params[n])]


@pytest.mark.parametrize("stage", ["cpt", "sft", "rlvr", "dpo"])
def test_policy_stage_trains_and_logs(stage, toy, tiny_base, tmp_path, read_metrics):
    before = load_causal_lm(tiny_base)
    model, _ = recipe(stage).train(_ctx(stage, toy, tiny_base, tmp_path))
    changed = _changed(before, model)
    assert any("self_attn" in n for n in changed) and any("experts" in n for n in changed)
    rows = read_metrics(tmp_path, stage)
    assert rows and any("loss" in r for r in rows)
    assert any("moe/load_max_share" in r for r in rows)
    if stage in ("rlvr", "dpo"):  # the router is frozen in RL/preference stages
        assert not any(is_router_parameter(n) for n in changed)
    if stage == "rlvr":
        assert any("rewards/toy/number_copied/mean" in r for r in rows)


def test_reward_model_then_rlhf(toy, tiny_base, tmp_path, read_metrics):
    rm, _ = recipe("rm").train(_ctx("rm", toy, tiny_base, tmp_path))
    rm_dir = tmp_path / "rm"
    rm.save_pretrained(rm_dir)
    from core_training.modeling import load_tokenizer

    load_tokenizer(tiny_base).save_pretrained(rm_dir)
    assert read_metrics(tmp_path, "rm")
    before = load_causal_lm(tiny_base)
    model, _ = recipe("rlhf").train(_ctx("rlhf", toy, tiny_base, tmp_path, reward_model_path=rm_dir))
    assert _changed(before, model)
    rows = read_metrics(tmp_path, "rlhf")
    assert any(k.startswith("rewards/") and "number_copied" not in k for r in rows for k in r)


def test_lora_targets_attention_and_experts_never_router(toy, tiny_base, tmp_path):
    from peft import get_peft_model

    from core_training.modeling import lora_config, wrapped_names

    cfg = _ctx("sft", toy, tiny_base, tmp_path).cfg
    model = load_causal_lm(tiny_base)
    peft_model = get_peft_model(model, lora_config(model, cfg.lora))
    names = wrapped_names(peft_model)
    assert any(n.endswith("q_proj") for n in names)
    assert any("experts" in n for n in names)
    assert not any(n.endswith(".gate") for n in names)


def test_sft_with_lora_merges_into_a_plain_checkpoint(toy, tiny_base, tmp_path):
    ctx = _ctx("sft", toy, tiny_base, tmp_path)
    ctx.cfg.lora.enabled = True
    before = load_causal_lm(tiny_base)
    model, _ = recipe("sft").train(ctx)
    assert not any("lora" in n for n, _ in model.named_parameters())
    assert _changed(before, model)
