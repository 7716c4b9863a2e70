"""Expert-load tracking for MoE models, independent of the trainer in use.

Forward hooks on every router record which experts each token was sent to and the router
probabilities; :meth:`MoEMonitor.pop_metrics` turns what was seen since the last call into
``moe/aux_loss`` (the Switch-Transformer load-balancing loss, averaged over layers),
``moe/load/expert_<i>`` (each expert's share of routed slots, averaged over layers) and, per router
layer ``<l>``, ``moe/layer_<l>/max_share`` and ``moe/layer_<l>/min_share`` (the largest and smallest
share of the layer's tokens that chose an expert among their top-k: 1.0 means every token went there)
and ``moe/layer_<l>/load_entropy`` (the entropy of the layer's load over experts divided by its
maximum, ``log E``: 1.0 is a perfectly even load, 0.0 every slot on one expert). ``moe/max_share``,
``moe/min_share`` are the extremes over layers and ``moe/dead_experts`` counts the (layer, expert)
pairs that received no token. The health monitor (:mod:`core_training.monitor`) reads them.

>>> import torch
>>> aux = load_balancing_loss(torch.tensor([[10.0, 0.0], [10.0, 0.0]]), top_k=1)
>>> round(float(aux), 3)  # all tokens to expert 0 with probability ~1: E * f0 * P0 = 2 * 1 * 1
2.0
>>> layer_load_metrics(torch.tensor([4.0, 4.0, 0.0, 0.0]), tokens=4)  # top-2 of 4, all tokens on experts 0 and 1
{'max_share': 1.0, 'min_share': 0.0, 'load_entropy': 0.5, 'dead_experts': 2}
"""

from __future__ import annotations

import math

import torch

from core_training.modeling import is_router_parameter


def load_balancing_loss(router_logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """``E * sum_i f_i * P_i`` for logits of shape (tokens, experts)."""
    probs = router_logits.float().softmax(-1)  # (T, E)
    num_experts = probs.shape[-1]
    chosen = probs.topk(top_k, dim=-1).indices  # (T, k)
    f = torch.zeros(num_experts).scatter_add_(0, chosen.flatten(), torch.ones(chosen.numel())) / chosen.numel()
    return num_experts * (f * probs.mean(0)).sum()


def layer_load_metrics(counts: torch.Tensor, tokens: int) -> dict[str, float]:
    """One layer's load: ``counts[i]`` = tokens that chose expert ``i`` among their top-k, of ``tokens``."""
    share = counts / max(tokens, 1)  # (E,) share of the layer's tokens per expert
    slots = counts / counts.sum()  # (E,) sums to 1
    nonzero = slots[slots > 0]
    entropy = float(-(nonzero * nonzero.log()).sum()) / math.log(len(counts)) if len(counts) > 1 else 1.0
    return {"max_share": round(float(share.max()), 4), "min_share": round(float(share.min()), 4),
            "load_entropy": round(entropy, 4), "dead_experts": int((counts == 0).sum())}


class MoEMonitor:
    """Registers hooks on the routers of ``model`` and accumulates per-layer expert load."""

    def __init__(self, model, top_k: int | None = None):
        self.top_k = top_k or getattr(model.config, "num_experts_per_tok", 2)
        self.counts: dict[int, torch.Tensor] = {}  # router layer -> (E,) top-k choices per expert
        self.tokens: dict[int, int] = {}  # router layer -> tokens routed
        self.aux: list[float] = []
        self.handles = [m.register_forward_hook(self._hook_for(layer)) for layer, m in enumerate(self._routers(model))]

    @staticmethod
    def _routers(model) -> list:
        routers = []
        for name, module in model.named_modules():
            own = [n for n, _ in module.named_parameters(recurse=False)]
            if own and all(is_router_parameter(f"{name}.{n}") for n in own) and "weight" in own:
                routers.append(module)
        return routers

    def _hook_for(self, layer: int):
        def hook(module, inputs, output) -> None:
            self._record(layer, output)

        return hook

    def _record(self, layer: int, output) -> None:
        logits = output[0] if isinstance(output, tuple) else output
        logits = logits.detach().reshape(-1, logits.shape[-1])  # (tokens, experts)
        if logits.shape[0] == 0:
            return
        chosen = logits.topk(self.top_k, dim=-1).indices.flatten()
        counts = torch.bincount(chosen, minlength=logits.shape[-1]).float()
        self.counts[layer] = counts if layer not in self.counts else self.counts[layer] + counts
        self.tokens[layer] = self.tokens.get(layer, 0) + logits.shape[0]
        self.aux.append(float(load_balancing_loss(logits, self.top_k)))

    def pop_metrics(self) -> dict[str, float]:
        if not self.counts:
            return {}
        total = sum(self.counts.values())
        share = total / total.sum()
        out = {f"moe/load/expert_{i}": round(float(s), 4) for i, s in enumerate(share)}
        out["moe/load_max_share"] = round(float(share.max()), 4)
        out["moe/aux_loss"] = round(sum(self.aux) / len(self.aux), 4)
        layers = {layer: layer_load_metrics(c, self.tokens[layer]) for layer, c in sorted(self.counts.items())}
        for layer, found in layers.items():
            out.update({f"moe/layer_{layer}/{k}": v for k, v in found.items() if k != "dead_experts"})
        out["moe/max_share"] = max(m["max_share"] for m in layers.values())
        out["moe/min_share"] = min(m["min_share"] for m in layers.values())
        out["moe/dead_experts"] = sum(m["dead_experts"] for m in layers.values())
        out["moe/dead_fraction"] = round(out["moe/dead_experts"] / sum(len(c) for c in self.counts.values()), 4)
        self.counts, self.tokens, self.aux = {}, {}, []
        return out

    @property
    def active(self) -> bool:
        return bool(self.handles)

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []
