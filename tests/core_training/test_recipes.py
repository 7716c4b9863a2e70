"""Each stage's recipe trains the tiny MoE a few steps with its real TRL trainer: the trainable
parameters change, the metrics (loss, MoE load, per-rule rewards) are logged."""

from __future__ import annotations

import json

import pytest
import torch

from core_training.config import resolve_run_config
from core_training.data import split_pairs
from core_training.modeling import is_router_parameter, load_causal_lm
from core_training.recipes import recipe
from core_training.stage import StageContext

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]  # each test trains a few steps


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
    gated = [r["rm_gated_fraction"] for r in rows if "rm_gated_fraction" in r]
    assert gated and all(0.0 <= g <= 1.0 for g in gated)  # the rule gate ran on every logged step


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


def _family_config(family: str, tok):
    """Tiny configs for each MoE family vkit supports, plus a dense model (``--base`` takes any causal LM)."""
    from transformers import AutoConfig

    common = dict(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
                  pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None)
    moe = {
        "qwen2_moe": dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                          shared_expert_intermediate_size=32),
        "mixtral": dict(num_local_experts=4, num_experts_per_tok=2),
        "deepseek_v3": dict(n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=32, n_shared_experts=1,
                            first_k_dense_replace=1, n_group=1, topk_group=1, kv_lora_rank=16, q_lora_rank=None,
                            qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8),
        "olmoe": dict(num_experts=4, num_experts_per_tok=2),
        "qwen3": dict(),
    }[family]
    return AutoConfig.for_model(family, **common, **moe)


@pytest.mark.parametrize("family", ["qwen2_moe", "mixtral", "deepseek_v3", "olmoe", "qwen3"])
def test_sft_runs_on_each_family_with_lora(family, toy, tiny_base, tmp_path):
    """Each MoE family (and a dense model) trains under the sft recipe with LoRA on attention + experts."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from core_training.modeling import is_moe, load_tokenizer, lora_config, wrapped_names

    tok = load_tokenizer(tiny_base)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(_family_config(family, tok))
    base = tmp_path / family
    model.save_pretrained(base)
    tok.save_pretrained(base)
    ctx = _ctx("sft", toy, base, tmp_path)
    ctx.cfg.lora.enabled = True
    ctx.cfg.lora.target_parameters = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
    fresh = load_causal_lm(base)
    names = wrapped_names(get_peft_model(fresh, lora_config(fresh, ctx.cfg.lora)))
    assert not any(n.endswith(".gate") for n in names)
    if family != "qwen3":
        assert is_moe(model) and any("experts" in n for n in names), names
    trained, _ = recipe("sft").train(ctx)
    assert _changed(load_causal_lm(base), trained)


def test_resume_loads_every_weight_including_fused_experts(toy, tiny_base, tmp_path):
    """Resuming a stage starts from the last trainer checkpoint's weights, fused expert tensors included.

    (The trainer's own resume uses load_state_dict, which silently skips fused experts saved in the
    per-expert layout; vkit loads through from_pretrained first.)
    """
    from core_training.stage import load_policy

    ctx = _ctx("sft", toy, tiny_base, tmp_path)
    trained, _ = recipe("sft").train(ctx)  # micro: the last step is saved as a trainer checkpoint
    resumed, _, _ = load_policy(ctx, aux_loss=False)
    assert not _changed(trained, resumed)
    assert _changed(load_causal_lm(tiny_base), resumed)


@pytest.mark.parametrize("grouped", [False, True])
def test_sft_group_by_length_reaches_the_trainer(grouped, toy, tiny_base, tmp_path):
    """``sft.group_by_length=true`` batches examples of similar length (off by default, see config.py)."""
    from transformers.trainer_pt_utils import LengthGroupedSampler

    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1",
                                                            f"sft.group_by_length={str(grouped).lower()}"])
    ctx = StageContext(cfg=cfg, vertical=toy, stage="sft", input_path=tiny_base, work_dir=tmp_path / ".work",
                       run_dir=tmp_path)
    recipe("sft").train(ctx)
    sampler = ctx.extra["trainer"].get_train_dataloader().batch_sampler.sampler  # accelerate's BatchSampler wraps it
    assert isinstance(sampler, LengthGroupedSampler) == grouped


def test_reward_model_on_policy_round(toy, tiny_base, tmp_path, monkeypatch):
    """The rm stage samples the policy, the panel orders the answers, the pairs train the RM and are cached."""
    from core_training import onpolicy

    ctx = _ctx("rm", toy, tiny_base, tmp_path)
    ctx.cfg.rm.on_policy_prompts, ctx.cfg.rm.on_policy_samples, ctx.cfg.rm.on_policy_held_out = 6, 3, 0.5
    recipe("rm").train(ctx)
    rows = [json.loads(line) for line in (ctx.work_dir / onpolicy.ON_POLICY_FILE).read_text().splitlines()]
    train = [r for r in rows if r["split"] == "train"]
    held_out = ctx.extra["on_policy_held_out"]
    assert train and held_out and len(train) + len(held_out) == len(rows)
    assert not {r["prompt_id"] for r in train} & {r["prompt_id"] for r in held_out}  # split by prompt
    rl_ids = {ex["id"]: ex for ex in toy.load_rl_prompts()}
    prefer = onpolicy.panel_prefer(toy)
    for row in rows:
        assert row["chosen"] != row["rejected"] and row["prompt_id"] in rl_ids
        assert prefer(row["chosen"], row["rejected"], rl_ids[row["prompt_id"]]) == "a"
    static, _ = split_pairs(toy.load_preferences())
    assert len(ctx.extra["trainer"].train_dataset) == len(static) + len(train)
    assert ctx.extra["artifacts"][onpolicy.ON_POLICY_FILE].count("\n") == len(rows)
    assert f"rows: {len(rows)}" in ctx.extra["artifacts"]["on_policy_pairs.md"]

    def no_sampling(*args, **kwargs):
        raise AssertionError("a resumed rm stage must reuse the cached pairs")

    monkeypatch.setattr(onpolicy, "on_policy_pairs", no_sampling)
    assert onpolicy.on_policy_round(ctx) == train


def test_dpo_trains_on_the_on_policy_round_too(toy, tiny_base, tmp_path):
    from core_training import onpolicy

    ctx = _ctx("dpo", toy, tiny_base, tmp_path)
    ctx.cfg.dpo.on_policy_prompts, ctx.cfg.dpo.on_policy_samples = 4, 3
    before = load_causal_lm(tiny_base)
    model, _ = recipe("dpo").train(ctx)
    assert _changed(before, model)
    rows = [json.loads(line) for line in (ctx.work_dir / onpolicy.ON_POLICY_FILE).read_text().splitlines()]
    assert rows and all(r["split"] == "train" for r in rows)  # dpo holds no prompts out by default
    static, _ = split_pairs(toy.load_preferences())
    assert len(ctx.extra["trainer"].train_dataset) == len(static) + len(rows)
    assert "Generated by this run's dpo stage" in ctx.extra["artifacts"]["on_policy_pairs.md"]
