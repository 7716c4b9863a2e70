"""LoRA target resolution: groups, never a router, peft's own limits, and the check that every group was reached."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from core_training.base.from_config import from_config
from core_training.config import ConfigError, LoraConfig
from core_training.lora_targets import (GROUPS, LoraTargetError, adapt, apply_lora, check_wrapped, peft_config,
                                        resolve)
from core_training.modeling import is_router_parameter, load_causal_lm

PUBLISHED = Path(__file__).resolve().parents[2] / "core_training" / "assets" / "published_configs"


@pytest.fixture(scope="module")
def deepseek(tmp_path_factory):
    """A shrunk DeepSeek-V3: attention (MLA), routed and shared experts, and a dense first layer."""
    path = tmp_path_factory.mktemp("ds") / "base"
    from_config(PUBLISHED / "deepseek-v3.json", path, log=lambda line: None)
    return path


def _cfg(**kw):
    return SimpleNamespace(**{"r": 4, "alpha": 8, "dropout": 0.0, "groups": list(GROUPS), **kw})


def test_every_group_resolved_and_no_router(deepseek):
    targets = resolve(load_causal_lm(deepseek), GROUPS, 4, 0.0)
    assert {t.group for t in targets} == set(GROUPS)
    assert not any(is_router_parameter(t.name + ".weight") or is_router_parameter(t.name) for t in targets)
    experts = [t for t in targets if t.group == "routed_experts"]
    assert experts and all(t.kind == "parameter" and len(t.shape) == 3 for t in experts)
    assert {t.name.rsplit(".", 1)[1] for t in experts} == {"gate_up_proj", "down_proj"}
    assert any(t.name == "model.layers.0.mlp.gate_proj" and t.group == "dense_mlp" for t in targets)


def test_adapted_parameters_are_exactly_the_reported_lora_sizes(deepseek):
    extra: dict = {}
    model = adapt(load_causal_lm(deepseek), _cfg(), extra, log=lambda text: None)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    import json

    report = json.loads(extra["artifacts"]["lora_targets.json"])
    assert trainable == sum(t["lora_parameters"] for t in report["targets"]) > 0
    assert {row["group"] for row in report["summary"]} == set(GROUPS)


def test_peft_name_conversion_would_freeze_groups_and_is_caught(deepseek):
    """Without exact_targets, peft (under transformers 5) maps `gate_proj`/`up_proj`/`down_proj` to the fused
    experts and silently drops the dense-first MLP and the shared experts: the check names the group."""
    from peft import get_peft_model

    model = load_causal_lm(deepseek)
    targets = resolve(model, GROUPS, 4, 0.0)
    wrapped = get_peft_model(model, peft_config(targets, _cfg()))
    with pytest.raises(LoraTargetError, match="(shared_experts|dense_mlp) group would go unadapted"):
        check_wrapped(wrapped, targets)


def test_only_the_requested_groups_train(deepseek):
    model, targets = apply_lora(load_causal_lm(deepseek), _cfg(groups=["attention", "shared_experts"]))
    assert {t.group for t in targets} == {"attention", "shared_experts"}
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and not any(".experts." in n and "shared" not in n for n in trainable)


def test_dropout_with_fused_experts_names_the_fix(deepseek):
    with pytest.raises(LoraTargetError, match="lora.dropout=0.1: .*routed_experts"):
        resolve(load_causal_lm(deepseek), GROUPS, 4, 0.1)
    assert resolve(load_causal_lm(deepseek), ["attention"], 4, 0.1)  # Linear targets take dropout


def test_unknown_group_is_a_config_error():
    with pytest.raises(ConfigError, match="groups: \\['experts'\\]"):
        LoraConfig(groups=["experts"])
