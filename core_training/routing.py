"""Routing stability for MoE RL: rollout-vs-training routing agreement, routing replay, fp32 routing.

In GRPO the completions are sampled in one pass (``generate``: a prefill, then one token at a time
with a KV cache) and scored for the loss in another (one forward over prompt + completion). For an
MoE the two passes can send the same token to different experts: the numerics differ (cached
decoding, bf16, another inference engine), and the policy may have moved between the two (reused
rollouts). A token whose experts flip gets a log-probability from a different sub-network than the
one that sampled it, which inflates the importance ratio; published runs on Qwen3-30B-A3B collapsed
from it (Megatron-LM issue #4168).

:class:`RoutingTracker` hooks the router of every MoE layer (the supported families: qwen2_moe,
qwen3_moe, mixtral, olmoe, deepseek_v3, whose routers all return ``(router_logits, top-k weights,
top-k indices)``) and the decoder that runs them:

* while :meth:`RoutingTracker.recording` is on (the rollout), it keeps the top-k experts each layer
  chose for every token, as a ``(batch, layers, positions, k)`` tensor laid out like the training
  forward's ``prompt + completion`` (``-1`` where nothing was recorded);
* under :meth:`RoutingTracker.plan` (a forward over those rows), it counts, per layer, how many of the
  router's own top-k choices match the recorded ones (:meth:`RoutingTracker.pop_agreement`: the
  routing agreement) and, with ``replay=True``, routes every recorded token to the recorded experts
  (routing replay, as in Megatron-LM's ``--moe-enable-routing-replay`` and the R3 paper): the top-k
  *indices* are forced, the *weights* are recomputed from this forward's router logits at those
  indices, so gradients still reach the router weights of the chosen experts;
* with ``fp32=True``, routers whose logits come out in a lower precision are recomputed in fp32
  (deepseek_v3 routes in fp32 already).

Outside :meth:`RoutingTracker.recording` and :meth:`RoutingTracker.plan` the hooks change nothing.

The GRPO trainer that drives it is :func:`core_training.trl_patches.routed_grpo_trainer`.

>>> import torch
>>> recorded = torch.tensor([[[0, 1], [2, 3]]])  # 1 sequence, 2 positions, top-2
>>> own = torch.tensor([[[1, 0], [2, 0]]])
>>> matched_choices(recorded, own).tolist()  # order within the top-k does not matter
[[2, 1]]
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import torch
import torch.nn.functional as F

from core_training.moe import MoEMonitor

UNRECORDED = -1  # a position whose routing the rollout did not record (e.g. the last sampled token)


def router_modules(model) -> list[tuple[int, torch.nn.Module]]:
    """``(layer index, router module)`` for every MoE layer of ``model``, in layer order."""
    named = {id(m): n for n, m in model.named_modules()}
    out = []
    for module in MoEMonitor._routers(model):
        found = re.search(r"layers\.(\d+)\.", named[id(module)])
        out.append((int(found.group(1)) if found else len(out), module))
    return out


def decoder_of(model) -> torch.nn.Module:
    """The module that runs the decoder layers (it holds ``layers``), called with the token ids and mask."""
    for module in model.modules():
        if isinstance(getattr(module, "layers", None), torch.nn.ModuleList):
            return module
    raise ValueError(f"{type(model).__name__}: no decoder module with `layers` found")


def matched_choices(recorded: torch.Tensor, own: torch.Tensor) -> torch.Tensor:
    """How many of ``own``'s top-k experts are among ``recorded``'s, per token: ``(..., k) -> (...)``."""
    return (own.unsqueeze(-1) == recorded.unsqueeze(-2)).any(-1).sum(-1)


def rescore(router: torch.nn.Module, logits: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """The top-k weights ``router`` gives the experts ``indices`` (tokens, k) from its ``logits`` (tokens, E).

    The same arithmetic as each family's router after its top-k choice: deepseek_v3 (it has an
    ``e_score_correction_bias``) weighs by sigmoid scores, normalised when ``norm_topk_prob``, times
    ``routed_scaling_factor``; the others by softmax probabilities, normalised when ``norm_topk_prob``
    (mixtral has no such flag and always normalises).

    >>> class Router(torch.nn.Module):
    ...     norm_topk_prob = True
    >>> w = rescore(Router(), torch.tensor([[0.0, 0.0, 2.0]]), torch.tensor([[0, 1]]))
    >>> [round(x, 3) for x in w[0].tolist()]  # two equal logits, normalised over the pair
    [0.5, 0.5]
    """
    if hasattr(router, "e_score_correction_bias"):
        weights = logits.float().sigmoid().gather(1, indices)
        if router.norm_topk_prob:
            weights = weights / (weights.sum(-1, keepdim=True) + 1e-20)
        return weights * router.routed_scaling_factor
    weights = F.softmax(logits, dim=-1, dtype=torch.float).gather(1, indices)
    if getattr(router, "norm_topk_prob", True):
        weights = weights / weights.sum(-1, keepdim=True)
    return weights


def align(rows: torch.Tensor, length: int) -> torch.Tensor:
    """Recorded ``(batch, layers, positions, k)`` cut or padded (with :data:`UNRECORDED`) to ``length`` positions.

    >>> align(torch.zeros(1, 1, 2, 2, dtype=torch.long), 3)[0, 0].tolist()
    [[0, 0], [0, 0], [-1, -1]]
    """
    if rows.shape[2] >= length:
        return rows[:, :, :length]
    pad = rows.new_full((*rows.shape[:2], length - rows.shape[2], rows.shape[3]), UNRECORDED)
    return torch.cat([rows, pad], dim=2)


class RoutingTracker:
    """Hooks on ``model``'s routers: records rollout routing, measures agreement, replays (see the module doc)."""

    def __init__(self, model, replay: bool = False, fp32: bool = False):
        self.routers = router_modules(model)
        self.replay, self.fp32 = replay, fp32
        self._forward: tuple[int, int, torch.Tensor | None] | None = None  # (batch, positions, mask) under way
        self._recording: list[list[torch.Tensor]] | None = None
        self._done: list[list[torch.Tensor]] | None = None  # the last finished recording
        self._plan: torch.Tensor | None = None  # recorded rows for the forwards under plan(), consumed in order
        self._cursor, self._measure = 0, False
        self._engaged = False  # inside recording() or plan(): outside them the hooks change nothing
        self._rows: torch.Tensor | None = None  # this forward's slice of the plan, aligned to its positions
        self._matched = [0] * len(self.routers)
        self._chosen = [0] * len(self.routers)
        self._replaced = 0
        self.handles = []
        if self.routers:
            self.handles.append(decoder_of(model).register_forward_pre_hook(self._on_forward, with_kwargs=True))
            self.handles += [m.register_forward_hook(self._route_hook(i)) for i, (_, m) in enumerate(self.routers)]

    @property
    def active(self) -> bool:
        return bool(self.handles)

    # ----------------------------------------------------------------- what the trainer calls

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record the routing of every forward inside (a ``generate`` call); take it with :meth:`recorded`."""
        self._recording, self._engaged = [[] for _ in self.routers], True
        try:
            yield
        finally:
            self._done = self._recording
            self._recording, self._engaged = None, False

    def recorded(self) -> torch.Tensor | None:
        """The last recording as ``(batch, layers, positions, k)``: each forward's positions appended in order."""
        parts, self._done = self._done, None
        if not parts or not parts[0]:
            return None
        return torch.stack([torch.cat(layer, dim=1) for layer in parts], dim=1)

    @contextmanager
    def plan(self, rows: torch.Tensor | None, measure: bool = False) -> Iterator[None]:
        """Forwards inside run over ``rows`` (recorded routing, one row per sequence, in order): replayed when
        ``replay``, and, when ``measure``, counted for :meth:`pop_agreement`."""
        self._plan, self._cursor, self._measure, self._engaged = rows, 0, measure, True
        try:
            yield
        finally:
            self._plan, self._rows, self._measure, self._engaged = None, None, False, False

    def pop_agreement(self) -> dict[str, float]:
        """``routing/agreement`` (all layers), ``routing/layer_<l>/agreement`` and, with replay,
        ``routing/replaced`` (the share of choices replay changed) since the last call; empty if nothing was
        measured."""
        if not sum(self._chosen):
            return {}
        out = {"routing/agreement": sum(self._matched) / sum(self._chosen)}
        for (layer, _), matched, chosen in zip(self.routers, self._matched, self._chosen):
            if chosen:
                out[f"routing/layer_{layer}/agreement"] = matched / chosen
        if self.replay:
            out["routing/replaced"] = self._replaced / sum(self._chosen)
        self._matched, self._chosen, self._replaced = [0] * len(self.routers), [0] * len(self.routers), 0
        return out

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []

    # ----------------------------------------------------------------- hooks

    def _on_forward(self, module, args, kwargs) -> None:
        if not self._engaged:
            return
        ids = kwargs.get("input_ids", args[0] if args else None)
        ids = ids if ids is not None else kwargs["inputs_embeds"]
        batch, length = ids.shape[:2]
        mask = kwargs.get("attention_mask")
        mask = mask[:, -length:].bool() if isinstance(mask, torch.Tensor) and mask.dim() == 2 else None
        self._forward = (batch, length, mask)
        self._rows = None
        if self._plan is not None:
            rows = self._plan[self._cursor:self._cursor + batch]
            self._cursor += batch
            self._rows = align(rows, length) if len(rows) == batch else None

    def _route_hook(self, slot: int):
        def hook(module, args, output):
            return self._on_route(slot, module, args[0], output)

        return hook

    def _on_route(self, slot: int, router, hidden: torch.Tensor, output):
        if not self._engaged:
            return None
        logits, weights, indices = output
        batch, length, mask = self._forward
        changed = False
        if self.fp32 and router.weight.dtype != torch.float32 and not hasattr(router, "e_score_correction_bias"):
            logits = F.linear(hidden.reshape(-1, router.weight.shape[1]).float(), router.weight.float())
            indices = F.softmax(logits, dim=-1).topk(indices.shape[-1], dim=-1).indices
            changed = True
        k = indices.shape[-1]
        own = indices.view(batch, length, k)
        if self._recording is not None:
            self._recording[slot].append(own.detach().to(torch.int16 if router.weight.shape[0] < 2**15 else torch.long))
        if self._rows is not None:
            want = self._rows[:, slot].to(own.device, torch.long)  # (batch, length, k)
            valid = (want >= 0).all(-1)
            valid = valid & mask if mask is not None else valid
            if self._measure:
                self._matched[slot] += int(matched_choices(want, own)[valid].sum())
                self._chosen[slot] += int(valid.sum()) * k
            if self.replay:
                if self._measure:
                    self._replaced += int((k - matched_choices(want, own))[valid].sum())
                indices = torch.where(valid.unsqueeze(-1), want, own).view(-1, k)
                changed = True
        if not changed:
            return None
        return logits.to(output[0].dtype), rescore(router, logits, indices).to(weights.dtype), indices
