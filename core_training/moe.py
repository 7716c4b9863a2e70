"""Expert-load tracking for MoE models, independent of the trainer in use.

Forward hooks on every router record which experts each token was sent to and the router
probabilities; :meth:`MoEMonitor.pop_metrics` turns what was seen since the last call into
``moe/aux_loss`` (the Switch-Transformer load-balancing loss, averaged over layers) and
``moe/load/expert_<i>`` (each expert's share of routed tokens, averaged over layers).

>>> import torch
>>> aux = load_balancing_loss(torch.tensor([[10.0, 0.0], [10.0, 0.0]]), top_k=1)
>>> round(float(aux), 3)  # all tokens to expert 0 with probability ~1: E * f0 * P0 = 2 * 1 * 1
2.0
"""

from __future__ import annotations

import torch

from core_training.modeling import is_router_parameter


def load_balancing_loss(router_logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """``E * sum_i f_i * P_i`` for logits of shape (tokens, experts)."""
    probs = router_logits.float().softmax(-1)  # (T, E)
    num_experts = probs.shape[-1]
    chosen = probs.topk(top_k, dim=-1).indices  # (T, k)
    f = torch.zeros(num_experts).scatter_add_(0, chosen.flatten(), torch.ones(chosen.numel())) / chosen.numel()
    return num_experts * (f * probs.mean(0)).sum()


class MoEMonitor:
    """Registers hooks on the routers of ``model`` and accumulates per-expert load."""

    def __init__(self, model, top_k: int | None = None):
        self.top_k = top_k or getattr(model.config, "num_experts_per_tok", 2)
        self.counts: torch.Tensor | None = None
        self.aux: list[float] = []
        self.handles = [m.register_forward_hook(self._hook) for m in self._routers(model)]

    @staticmethod
    def _routers(model) -> list:
        routers = []
        for name, module in model.named_modules():
            own = [n for n, _ in module.named_parameters(recurse=False)]
            if own and all(is_router_parameter(f"{name}.{n}") for n in own) and "weight" in own:
                routers.append(module)
        return routers

    def _hook(self, module, inputs, output) -> None:
        logits = output[0] if isinstance(output, tuple) else output
        logits = logits.detach().reshape(-1, logits.shape[-1])  # (tokens, experts)
        if logits.shape[0] == 0:
            return
        chosen = logits.topk(self.top_k, dim=-1).indices.flatten()
        counts = torch.bincount(chosen, minlength=logits.shape[-1]).float()
        self.counts = counts if self.counts is None else self.counts + counts
        self.aux.append(float(load_balancing_loss(logits, self.top_k)))

    def pop_metrics(self) -> dict[str, float]:
        if self.counts is None:
            return {}
        share = self.counts / self.counts.sum()
        out = {f"moe/load/expert_{i}": round(float(s), 4) for i, s in enumerate(share)}
        out["moe/load_max_share"] = round(float(share.max()), 4)
        out["moe/aux_loss"] = round(sum(self.aux) / len(self.aux), 4)
        self.counts, self.aux = None, []
        return out

    @property
    def active(self) -> bool:
        return bool(self.handles)

    def close(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []
