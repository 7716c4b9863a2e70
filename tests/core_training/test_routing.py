"""Routing agreement and routing replay (core_training/routing.py) on tiny models of each MoE family."""

from __future__ import annotations

import pytest
import torch

from core_training.routing import RoutingTracker, router_modules

FAMILIES = ["qwen3_moe", "qwen2_moe", "mixtral", "olmoe", "deepseek_v3"]
VOCAB = 64


def tiny_moe(family: str, seed: int = 0):
    """A 2-layer MoE of ``family`` with 4 experts, top-2, built from config (deepseek_v3: layer 0 dense)."""
    from transformers import AutoConfig, AutoModelForCausalLM

    common = dict(vocab_size=VOCAB, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=4, max_position_embeddings=128, pad_token_id=0, eos_token_id=1, bos_token_id=None)
    moe = {
        "qwen3_moe": dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32),
        "qwen2_moe": dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=32,
                          shared_expert_intermediate_size=32),
        "mixtral": dict(num_local_experts=4, num_experts_per_tok=2),
        "olmoe": dict(num_experts=4, num_experts_per_tok=2),
        "deepseek_v3": dict(n_routed_experts=4, num_experts_per_tok=2, moe_intermediate_size=32, n_shared_experts=1,
                            first_k_dense_replace=1, n_group=1, topk_group=1, kv_lora_rank=16, q_lora_rank=None,
                            qk_rope_head_dim=8, qk_nope_head_dim=8, v_head_dim=8),
    }[family]
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.for_model(family, **common, **moe))
    for _, router in router_modules(model):  # some families initialise routers at zero: every token would tie
        torch.nn.init.normal_(router.weight, std=0.5)
    return model.eval()


def _batch(seed: int = 1, rows: int = 3, length: int = 7):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(2, VOCAB, (rows, length), generator=g)
    mask = torch.ones_like(ids)
    mask[0, :2] = 0  # one left-padded row, as GRPO pads its prompts
    return ids, mask


def _used_experts(model) -> tuple[list, list]:
    """A hook after the tracker's on every router: the top-k indices the experts actually received."""
    used, handles = [], []
    for _, router in router_modules(model):
        handles.append(router.register_forward_hook(lambda m, a, out: used.append(out[2].clone())))
    return used, handles


@pytest.mark.parametrize("family", FAMILIES)
def test_rescore_reproduces_each_family_router(family):
    """With the router's own choice, the replay's recomputed weights equal the family's own weights."""
    from core_training.routing import rescore

    model = tiny_moe(family)
    for _, router in router_modules(model):
        hidden = torch.randn(10, 32)
        logits, weights, indices = router(hidden)
        assert torch.allclose(rescore(router, logits, indices).to(weights.dtype), weights, atol=1e-6)


@pytest.mark.parametrize("family", FAMILIES)
def test_agreement_is_one_when_routing_is_deterministic_and_replay_on(family):
    model = tiny_moe(family)
    ids, mask = _batch()
    tracker = RoutingTracker(model, replay=True)
    with torch.no_grad():
        with tracker.recording():
            reference = model(input_ids=ids, attention_mask=mask).logits
        recorded = tracker.recorded()
        with tracker.plan(recorded, measure=True):
            replayed = model(input_ids=ids, attention_mask=mask).logits
    found = tracker.pop_agreement()
    assert recorded.shape == (3, len(router_modules(model)), 7, 2)
    assert found["routing/agreement"] == 1.0 and found["routing/replaced"] == 0.0
    assert all(found[f"routing/layer_{layer}/agreement"] == 1.0 for layer, _ in router_modules(model))
    assert torch.equal(reference, replayed)  # replaying the router's own choice changes nothing


@pytest.mark.parametrize("family", FAMILIES)
def test_replay_forces_the_recorded_experts_when_the_router_moved(family):
    model = tiny_moe(family)
    ids, mask = _batch()
    tracker = RoutingTracker(model, replay=True)
    with torch.no_grad():
        with tracker.recording():
            model(input_ids=ids, attention_mask=mask)
        recorded = tracker.recorded()
        for _, router in router_modules(model):  # the policy moved between rollout and training
            router.weight.add_(torch.randn_like(router.weight))
        used, handles = _used_experts(model)
        with tracker.plan(recorded, measure=True):
            model(input_ids=ids, attention_mask=mask)
    found = tracker.pop_agreement()
    assert found["routing/agreement"] < 1.0 and found["routing/replaced"] == pytest.approx(1 - found["routing/agreement"])
    for slot, indices in enumerate(used):
        got = indices.view(3, 7, 2)[mask.bool()]
        want = recorded[:, slot].long()[mask.bool()]
        assert torch.equal(got.sort(-1).values, want.sort(-1).values)
    for handle in handles:
        handle.remove()


def test_agreement_below_one_without_replay_and_the_experts_follow_the_router():
    model = tiny_moe("qwen3_moe")
    ids, mask = _batch()
    tracker = RoutingTracker(model, replay=False)
    with torch.no_grad():
        with tracker.recording():
            model(input_ids=ids, attention_mask=mask)
        recorded = tracker.recorded()
        for _, router in router_modules(model):
            router.weight.add_(torch.randn_like(router.weight))
        used, _ = _used_experts(model)
        with tracker.plan(recorded, measure=True):
            model(input_ids=ids, attention_mask=mask)
    found = tracker.pop_agreement()
    assert 0.0 < found["routing/agreement"] < 1.0 and "routing/replaced" not in found
    moved = [not torch.equal(u.view(3, 7, 2)[mask.bool()].sort(-1).values,
                             recorded[:, slot].long()[mask.bool()].sort(-1).values) for slot, u in enumerate(used)]
    assert any(moved)  # without replay the experts are the moved router's


def test_replay_keeps_gradients_through_the_router():
    model = tiny_moe("qwen3_moe").train()
    ids, mask = _batch()
    tracker = RoutingTracker(model, replay=True)
    with torch.no_grad(), tracker.recording():
        model(input_ids=ids, attention_mask=mask)
    recorded = tracker.recorded()
    with tracker.plan(recorded):
        model(input_ids=ids, attention_mask=mask, labels=ids).loss.backward()
    assert all(router.weight.grad is not None and router.weight.grad.abs().sum() > 0
               for _, router in router_modules(model))


def test_generation_routing_lines_up_with_the_training_forward():
    """Recorded during ``generate`` (prefill, then cached single-token steps), the routing lines up with
    one forward over prompt + completion: in fp32 with unchanged weights they agree on (almost) every choice."""
    model = tiny_moe("qwen3_moe")
    ids, mask = _batch(length=5)
    tracker = RoutingTracker(model)
    with torch.no_grad():
        with tracker.recording():
            out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=6, do_sample=False,
                                 pad_token_id=0, eos_token_id=None)
        recorded = tracker.recorded()
        full_mask = torch.cat([mask, torch.ones(3, out.shape[1] - 5, dtype=mask.dtype)], dim=1)
        assert recorded.shape[2] == out.shape[1] - 1  # the last sampled token was never fed back
        with tracker.plan(recorded, measure=True):
            model(input_ids=out, attention_mask=full_mask)
    assert tracker.pop_agreement()["routing/agreement"] >= 0.99


def test_fp32_routing_recomputes_low_precision_router_logits():
    model = tiny_moe("qwen3_moe").to(torch.bfloat16)
    ids, mask = _batch()
    tracker = RoutingTracker(model, fp32=True)
    router = router_modules(model)[0][1]
    hidden = []
    router.register_forward_pre_hook(lambda m, a: hidden.append(a[0].detach()))
    used, _ = _used_experts(model)
    with torch.no_grad(), tracker.plan(None):
        model(input_ids=ids, attention_mask=mask)
    logits32 = hidden[0].reshape(-1, 32).float() @ router.weight.float().T
    assert torch.equal(used[0].sort(-1).values, logits32.softmax(-1).topk(2).indices.sort(-1).values)
    tracker.close()


def _rl_ctx(toy, base, tmp_path, *overrides):
    from core_training.config import resolve_run_config
    from core_training.stage import StageContext

    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1",
                                                            "rlvr.max_steps=2", "rlvr.max_completion_length=8",
                                                            *overrides])
    return StageContext(cfg=cfg, vertical=toy, stage="rlvr", input_path=base, work_dir=tmp_path / ".work",
                        run_dir=tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("replay", [False, True])
def test_rlvr_logs_routing_agreement_and_replays(replay, toy, tiny_base, tmp_path, read_metrics):
    """The rlvr recipe's trainer records each rollout's routing, logs the agreement per layer and, reusing
    rollouts for a second pass (the policy moved), the importance-ratio spread; replay replaces choices. The
    MoE RL settings reach TRL: no aux loss, the importance-sampling level (GSPO), the iterations."""
    from core_training.recipes import recipe

    level = "sequence" if replay else "token"
    ctx = _rl_ctx(toy, tiny_base, tmp_path, f"rlvr.routing_replay={str(replay).lower()}", "rlvr.num_iterations=2",
                  "rlvr.freeze_router=false", f"rlvr.importance_sampling_level={level}")
    recipe("rlvr").train(ctx)
    trainer = ctx.extra["trainer"]
    assert not trainer.aux_loss_enabled  # no router aux loss in RL, even with the router training
    assert trainer.importance_sampling_level == level and trainer.num_iterations == 2
    rows = read_metrics(tmp_path, "rlvr")
    agreement = [r["routing/agreement"] for r in rows if "routing/agreement" in r]
    assert agreement and all(0.0 <= a <= 1.0 for a in agreement)
    assert all(f"routing/layer_{layer}/agreement" in r for r in rows if "routing/agreement" in r for layer in (0, 1))
    assert any("importance_ratio/std" in r for r in rows)
    assert any("routing/replaced" in r for r in rows) == replay


@pytest.mark.slow
def test_routing_hooks_are_removed_when_training_ends(toy, tiny_base, tmp_path):
    """The trained policy is evaluated and saved after the stage: with no hook left on any router."""
    from core_training.recipes import recipe

    ctx = _rl_ctx(toy, tiny_base, tmp_path, "rlvr.max_steps=1")
    model, _ = recipe("rlvr").train(ctx)
    assert not ctx.extra["trainer"].routing.active
    assert all(not router._forward_hooks for _, router in router_modules(model))
