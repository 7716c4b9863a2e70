"""Which weights LoRA adapts, resolved per model from what its modules are, never from a family's names.

Every weight of a decoder falls in one group (:func:`group_of`): ``attention`` (the attention projections,
MLA's low-rank ones and linear attention included), ``routed_experts`` (fused 3-D expert tensors, reached
through peft's ``target_parameters``; per-expert ``nn.Linear`` modules through ``target_modules``),
``shared_experts`` (the always-on experts of Qwen2-MoE, DeepSeek-V3, GLM-4.5), ``dense_mlp`` (the MLP of a
dense layer: DeepSeek's first ``first_k_dense_replace`` layers, Qwen's ``mlp_only_layers``), or ``router``
(the router and the shared-expert gate: never adapted). ``lora.groups`` names the groups to adapt; every
requested group the model has must end up wrapped (:func:`check_wrapped`): a group left frozen by a
pattern that missed it is an error naming it, never a silent freeze.

peft's parameter wrapper (the fused experts) has no dropout: with ``routed_experts`` requested,
``lora.dropout`` must be 0. Its rank is per expert: a 3-D tensor of E experts gets rank ``r`` for each.

>>> group_of("model.layers.0.self_attn.q_proj", 2), group_of("model.layers.3.mlp.experts", 3)
('attention', 'routed_experts')
>>> group_of("model.layers.0.mlp.gate", 2), group_of("model.layers.0.mlp.shared_expert_gate", 2)
('router', 'router')
>>> group_of("model.layers.0.mlp.router.layer", 2), group_of("model.layers.0.mlp.gate_proj", 2)
('router', 'dense_mlp')
>>> group_of("model.layers.1.mlp.shared_experts.up_proj", 2), group_of("model.layers.0.mlp.down_proj", 2)
('shared_experts', 'dense_mlp')
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from core_training.config import LORA_GROUPS as GROUPS

_ROUTER = re.compile(r"\.(gate|router|gate_network)(\.|$)|_gate$")  # the router, or a module inside it
_SHARED = re.compile(r"\.shared_experts?\.")
_EXPERTS = re.compile(r"\.experts(\.\d+)?(\.|$)")
_ATTENTION = re.compile(r"\.(self_attn|attention|attn|linear_attn|cross_attn)\.")
_MLP = re.compile(r"\.(mlp|feed_forward|ffn|block_sparse_moe)\.")


class LoraTargetError(ValueError):
    """A requested LoRA group cannot be adapted in this model, or the settings do not allow it."""


@dataclass
class Target:
    """One adapted weight: a Linear module (``module``) or a fused expert tensor (``parameter``)."""

    group: str
    name: str
    kind: str  # "module" or "parameter"
    shape: list[int]
    base_parameters: int
    lora_parameters: int


def group_of(name: str, ndim: int) -> str | None:
    """The group of the module (``ndim`` 2) or expert tensor (``ndim`` 3) called ``name``; None if no group."""
    if _ROUTER.search(name):
        return "router"
    if ndim == 3 or _EXPERTS.search(name):
        return "routed_experts"
    if _SHARED.search(name):
        return "shared_experts"
    if _ATTENTION.search(name):
        return "attention"
    if _MLP.search(name):
        return "dense_mlp"
    return None


def candidates(model, r: int) -> list[Target]:
    """Every Linear module and 3-D expert tensor of ``model`` that belongs to a group, with LoRA sizes at rank ``r``."""
    import torch

    found = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear):
            group = group_of(name, 2)
            if group and group != "router":
                out_f, in_f = module.weight.shape
                found.append(Target(group, name, "module", [out_f, in_f], module.weight.numel(), r * (in_f + out_f)))
        if isinstance(module, torch.nn.modules.conv._ConvNd):
            continue  # a convolution's 3-D kernel is not a stack of experts
        for pname, param in module.named_parameters(recurse=False):
            if param.ndim == 3:  # (experts, in, out) or (experts, out, in): rank r per expert
                experts, a, b = param.shape
                found.append(Target("routed_experts", f"{name}.{pname}", "parameter", list(param.shape),
                                    param.numel(), r * experts * (a + b)))
    return found


def resolve(model, groups, r: int, dropout: float) -> list[Target]:
    """The targets of the requested ``groups`` (those the model has); errors for unknown groups and settings
    peft cannot honour."""
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise LoraTargetError(f"lora.groups: unknown {unknown}; known: {', '.join(GROUPS)}")
    chosen = [t for t in candidates(model, r) if t.group in groups]
    if dropout and any(t.kind == "parameter" for t in chosen):
        raise LoraTargetError(f"lora.dropout={dropout}: peft adapts fused expert tensors (routed_experts) only with "
                              f"dropout 0; set lora.dropout=0 or leave routed_experts out of lora.groups")
    if not chosen:
        raise LoraTargetError(f"lora.groups {list(groups)}: none of them exists in this model")
    return chosen


def peft_config(targets: list[Target], cfg, task_type: str = "CAUSAL_LM"):
    """A peft ``LoraConfig`` naming every target exactly (full module and parameter names); ``SEQ_CLS`` (the
    reward model) also trains the new scoring head in full."""
    from peft import LoraConfig

    modules = [t.name for t in targets if t.kind == "module"]
    params = [t.name for t in targets if t.kind == "parameter"]
    return LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=cfg.dropout, target_modules=modules,
                      target_parameters=params or None, task_type=task_type, bias="none")


@contextmanager
def exact_targets():
    """Keep peft from renaming the targets: under transformers 5, peft rewrites any target named like a
    transformers-4 expert projection (``gate_proj``, ``up_proj``, ``down_proj``, ``w1``-``w3``) into the fused
    expert tensors and drops it from ``target_modules``, which silently freezes the shared experts and the
    dense-first MLPs of Qwen2-MoE, DeepSeek-V3 and GLM-4.5. vkit names every target in the current layout, so
    that conversion (meant for adapters trained under transformers 4) is switched off while wrapping."""
    try:
        from peft.utils import transformers_weight_conversion as conversion
    except ImportError:  # a peft without the conversion has nothing to switch off
        yield
        return
    original = getattr(conversion, "convert_peft_config_for_transformers", None)
    if original is None:
        yield
        return
    conversion.convert_peft_config_for_transformers = lambda *args, **kwargs: None
    try:
        yield
    finally:
        conversion.convert_peft_config_for_transformers = original


def apply_lora(model, cfg, task_type: str = "CAUSAL_LM") -> tuple:
    """``(peft_model, targets)``: ``model`` with LoRA on every target of ``cfg.groups``, checked to be wrapped."""
    from peft import get_peft_model

    targets = resolve(model, cfg.groups, cfg.r, cfg.dropout)
    with exact_targets():
        peft_model = get_peft_model(model, peft_config(targets, cfg, task_type))
    check_wrapped(peft_model, targets)
    return peft_model, targets


def adapt(model, cfg, extra: dict, task_type: str = "CAUSAL_LM", log=None):
    """What a stage trains with LoRA on: ``model`` wrapped (:func:`apply_lora`), the resolved targets printed and
    left in ``extra["artifacts"]["lora_targets.json"]`` (the pipeline writes it into ``RUN/<stage>/``)."""
    peft_model, targets = apply_lora(model, cfg, task_type)
    model_type = getattr(model.config, "model_type", type(model).__name__)
    (log or _write)(report_text(targets, model_type, cfg.groups))
    extra["artifacts"] = {**extra.get("artifacts", {}), "lora_targets.json": report_json(targets, model_type, cfg.groups)}
    return peft_model


def _write(text: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(text)  # on its own lines between progress bars


def adapted_weights(peft_model) -> set[str]:
    """Names (as in the unwrapped model) of the Linear modules and expert tensors that carry a LoRA adapter."""
    found = set()
    for name, module in peft_model.named_modules():
        if not hasattr(module, "lora_A") or not len(module.lora_A):
            continue
        name = name.removeprefix("base_model.model.").replace(".base_layer", "")
        param = getattr(module, "parameter_name", None)  # peft's ParamWrapper: one fused tensor of the module
        found.add(f"{name}.{param}" if param else name)
    return found


def check_wrapped(peft_model, targets: list[Target]) -> None:
    """Every resolved target carries a LoRA adapter after peft wrapped the model; else an error naming the group."""
    adapted = adapted_weights(peft_model)
    missed: dict[str, list[str]] = {}
    for t in targets:
        if t.name not in adapted:
            missed.setdefault(t.group, []).append(t.name)
    if missed:
        group, names = next(iter(missed.items()))
        raise LoraTargetError(f"lora: the {group} group would go unadapted ({len(names)} weights, e.g. {names[0]}): "
                              f"peft did not wrap them")


def layer_pattern(name: str) -> str:
    """``model.layers.7.mlp.experts.gate_up_proj`` -> ``model.layers.*.mlp.experts.gate_up_proj``."""
    return re.sub(r"\.\d+\.", ".*.", name)


def summary(targets: list[Target]) -> list[dict]:
    """One row per group and layer pattern: how many weights, their base and LoRA parameter counts."""
    rows: dict[tuple, dict] = {}
    for t in targets:
        row = rows.setdefault((GROUPS.index(t.group), layer_pattern(t.name)), {
            "group": t.group, "target": layer_pattern(t.name), "kind": t.kind, "count": 0,
            "base_parameters": 0, "lora_parameters": 0})
        row["count"] += 1
        row["base_parameters"] += t.base_parameters
        row["lora_parameters"] += t.lora_parameters
    return [rows[k] for k in sorted(rows)]


def report_text(targets: list[Target], model_type: str, groups) -> str:
    """The printed report: each target pattern with its counts, then the groups requested but absent."""
    lines = [f"LoRA targets ({model_type}):"]
    for row in summary(targets):
        lines.append(f"  {row['group']:15s} {row['target']:48s} x{row['count']:<3d} base {row['base_parameters']:>9,d}"
                     f"  lora {row['lora_parameters']:>8,d}")
    present = {t.group for t in targets}
    absent = [g for g in groups if g not in present]
    if absent:
        lines.append(f"  not in this model: {', '.join(absent)}")
    total = sum(t.lora_parameters for t in targets)
    lines.append(f"  total LoRA parameters: {total:,d}; routers: never adapted")
    return "\n".join(lines)


def report_json(targets: list[Target], model_type: str, groups) -> str:
    """``lora_targets.json``: the requested groups, a summary per pattern, and every target weight."""
    data = {"model_type": model_type, "groups": list(groups), "summary": summary(targets),
            "targets": [asdict(t) for t in targets]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
