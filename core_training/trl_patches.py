"""Every place vkit reaches into TRL's internals, in one module, guarded by the TRL version it was written for.

Three patches, each with TRL's own path as the fallback:

* :func:`compact_fused_head`: TRL's fused, chunked LM head (``trl.trainer.utils.add_fused_lm_head``,
  used by the SFT, GRPO and DPO trainers) scores only the labelled positions when Triton runs the
  kernel, and *every* position elsewhere, so that compiling backends see one tile shape per batch.
  Eager CPU compiles nothing, yet pays for the projection, softmax and backward of every prompt and
  padding position. While active, TRL's device check (``_use_triton``) answers yes for CPU tensors, so
  only labelled positions are scored. The kernel and its results are TRL's own: the loss, gradients
  and logged metrics are unchanged (``tests/core_training/test_trl_patches.py``).
* :func:`row_blocked_tiles`: TRL's torch fold of each [tokens, vocab] LM-head tile
  (``trl.kernels.chunked_logprob._forward_tile`` / ``_backward_tile``: about ten elementwise passes) runs
  :data:`ROW_BLOCK` rows at a time on CPU, so each block stays in cache. Every operation in the fold is
  row-wise, so every output and gradient is bit-identical; the matrix products still run on the whole
  tile. The measured gain and the upstream proposal: ``docs/upstream/trl-cpu-tiles.md``.
* :func:`rule_gated_grpo_trainer`: a ``GRPOTrainer`` subclass whose ``_calculate_rewards`` gates the
  reward model's column on the rule columns (:func:`core_training.rewards.gate_on_rules`).
* :func:`routed_grpo_trainer`: a ``GRPOTrainer`` subclass that records the MoE routing of each rollout,
  logs its agreement with the training forward, and (``replay=True``) replays it there
  (:mod:`core_training.routing`).

On a TRL release other than :data:`TESTED_TRL`, or one where a patched name or signature changed,
each patch is skipped with one warning naming it, and TRL's own path runs (the CPU speed-ups are lost;
rlhf trains against the ungated reward model). ``tests/core_training/test_trl_patches.py`` fails loudly
on such a release, so an upgrade shows up in CI before it shows up in a run.

>>> import torch, trl.trainer.utils as U
>>> with compact_fused_head():
...     U._use_triton(torch.device("cpu"))
True
>>> U._use_triton(torch.device("cpu"))
False
"""

from __future__ import annotations

import inspect
import warnings
from contextlib import contextmanager, nullcontext
from typing import Iterator

TESTED_TRL = "1.16"  # the TRL minor release these patches were written and tested against
ROW_BLOCK = 32  # rows per block: 32 x 3584 fp32 = 459 KB, inside a core's L2

# The TRL internals each patch relies on: (module, name) -> the parameter names it must have.
EXPECTED = {
    ("trl.trainer.utils", "_use_triton"): ("device",),
    ("trl.kernels.chunked_logprob", "_forward_tile"): ("tile", "tile_stride", "targets"),
    ("trl.kernels.chunked_logprob", "_backward_tile"): ("tile", "tile_stride", "targets"),
    ("trl", "GRPOTrainer._calculate_rewards"): ("self", "inputs", "prompts", "completions", "completion_ids_list"),
    ("trl", "GRPOTrainer._generate"): ("self", "prompts"),
    ("trl", "GRPOTrainer._generate_and_score_completions"): ("self", "inputs"),
    ("trl", "GRPOTrainer._get_per_token_logps_and_entropies"): ("self", "model", "input_ids", "attention_mask"),
    ("trl", "GRPOTrainer._compute_loss"): ("self", "model", "inputs"),
}
_warned: set[str] = set()


def trl_version() -> str:
    import trl

    return trl.__version__


def _resolve(module: str, dotted: str):
    import importlib

    obj = importlib.import_module(module)
    for part in dotted.split("."):
        obj = getattr(obj, part, None)
    return obj


def shape_problems(module: str, name: str) -> list[str]:
    """What differs from :data:`EXPECTED` for one patched TRL name: empty when it still fits.

    >>> shape_problems("trl.trainer.utils", "_use_triton")
    []
    """
    target, want = _resolve(module, name), EXPECTED[(module, name)]
    if target is None:
        return [f"{module}.{name} is gone"]
    got = tuple(inspect.signature(target).parameters)
    return [] if got[: len(want)] == want else [f"{module}.{name} takes {got}, not {want}"]


def patchable(patch: str, *names: tuple[str, str]) -> bool:
    """True when TRL is the tested release and every name fits; else one warning per patch, and False."""
    problems = [] if trl_version().startswith(TESTED_TRL + ".") else [f"TRL {trl_version()} is not {TESTED_TRL}.x"]
    if not problems:
        problems = [p for module, name in names for p in shape_problems(module, name)]
    if problems and patch not in _warned:
        _warned.add(patch)
        warnings.warn(f"vkit: {patch} is off, TRL's own path runs instead: {'; '.join(problems)}", stacklevel=3)
    return not problems


@contextmanager
def compact_fused_head() -> Iterator[bool]:
    """While active, TRL's fused LM head scores only labelled positions of CPU tensors; yields whether it applied."""
    if not patchable("compact_fused_head", ("trl.trainer.utils", "_use_triton")):
        yield False
        return
    import trl.trainer.utils as trl_utils

    original = trl_utils._use_triton

    def compact(device) -> bool:
        return device.type == "cpu" or original(device)

    trl_utils._use_triton = compact
    try:
        yield True
    finally:
        trl_utils._use_triton = original


def _by_rows(fold, rows: int):
    """``fold`` applied to ``rows`` rows of a CPU tile at a time; every tensor argument with one entry per
    tile row (targets, running statistics, gradients) is sliced alongside, everything else passed as is."""
    import torch

    def blocked(tile, *args, **kwargs):
        if tile.device.type != "cpu":  # an accelerator without Triton: blocks would only add kernel launches
            return fold(tile, *args, **kwargs)
        n = tile.shape[0]
        for start in range(0, n, rows):
            end = min(start + rows, n)
            sliced = [a[start:end] if isinstance(a, torch.Tensor) and a.dim() >= 1 and a.shape[0] == n else a
                      for a in args]
            fold(tile[start:end], *sliced, **kwargs)

    return blocked


@contextmanager
def row_blocked_tiles(rows: int = ROW_BLOCK) -> Iterator[bool]:
    """While active, TRL's torch fold of each LM-head tile runs ``rows`` rows at a time; yields whether it applied.

    >>> import trl.kernels.chunked_logprob as K
    >>> with row_blocked_tiles():
    ...     K._backward_tile.__name__
    'blocked'
    >>> K._backward_tile.__name__
    '_backward_tile'
    """
    folds = ("_forward_tile", "_backward_tile")
    if not patchable("row_blocked_tiles", *(("trl.kernels.chunked_logprob", n) for n in folds)):
        yield False
        return
    import trl.kernels.chunked_logprob as kernel

    originals = {name: getattr(kernel, name) for name in folds}
    for name, fold in originals.items():
        setattr(kernel, name, _by_rows(fold, rows))
    try:
        yield True
    finally:
        for name, fold in originals.items():
            setattr(kernel, name, fold)


def rule_gated_grpo_trainer(measured_only: int = 0) -> type:
    """A ``GRPOTrainer`` whose first reward function (the reward model) is gated by the rule rewards.

    The last ``measured_only`` reward columns are held-out rules, which never gate. On an untested TRL
    (or a changed ``_calculate_rewards``) this warns and returns TRL's plain ``GRPOTrainer``.
    """
    from trl import GRPOTrainer

    if not patchable("rlhf's rule gate", ("trl", "GRPOTrainer._calculate_rewards")):
        return GRPOTrainer
    from core_training.rewards import gate_on_rules

    class RuleGatedGRPOTrainer(GRPOTrainer):
        def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
            rewards = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
            rewards, gated = gate_on_rules(rewards, measured_only=measured_only)
            mode = "train" if self.model.training else "eval"
            self._metrics[mode]["rm_gated_fraction"].append(gated.float().mean().item())
            return rewards

    return RuleGatedGRPOTrainer


ROUTING_KEY = "routing_rollout"  # the rollout's recorded routing, carried in TRL's batch dict with the other tensors


def routed_grpo_trainer(base: type | None = None, replay: bool = False, fp32: bool = True) -> type:
    """``base`` (default ``GRPOTrainer``) with MoE routing tracked from each rollout to its training forward.

    Every rollout's routing is recorded while TRL generates (:class:`core_training.routing.RoutingTracker`)
    and travels with the batch (TRL shuffles and splits it with the completions). Each training forward
    logs ``routing/agreement`` and ``routing/layer_<l>/agreement``; with ``replay`` the recorded experts are
    used there and in the old- and reference-policy forwards of the same batch. Where the policy's
    ratio to the rollout policy is not identically 1 (``num_iterations`` > 1), ``importance_ratio/std``
    and ``importance_ratio/max`` (over the completion tokens) show its spread. ``fp32`` routes in fp32.
    A dense model, vLLM or continuous batching (whose forwards the hooks cannot follow) trains untracked.
    On an untested TRL (or a changed signature) this warns and returns ``base`` unchanged.
    """
    from trl import GRPOTrainer

    base = base or GRPOTrainer
    names = ("_generate", "_generate_and_score_completions", "_get_per_token_logps_and_entropies", "_compute_loss")
    if not patchable("routing tracking", *(("trl", f"GRPOTrainer.{n}") for n in names)):
        return base
    from core_training.routing import RoutingTracker

    class RoutedGRPOTrainer(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            tracked = not (self.use_vllm or self.use_transformers_continuous_batching)
            self.routing = RoutingTracker(self.accelerator.unwrap_model(self.model), replay=replay, fp32=fp32) \
                if tracked else None
            self._routing_rows, self._routing_measure, self._last_logps = None, False, None

        def train(self, *args, **kwargs):
            try:
                return super().train(*args, **kwargs)
            finally:  # the trained model is evaluated and saved next: plain routing again, no hooks
                if self.routing:
                    self.routing.close()

        def _generate(self, prompts):
            if not (self.routing and self.routing.active):
                return super()._generate(prompts)
            with self.routing.recording():
                out = super()._generate(prompts)
            self._routing_rows = self.routing.recorded()  # the old/reference forwards of this batch use it
            return out

        def _generate_and_score_completions(self, inputs):
            try:
                out = super()._generate_and_score_completions(inputs)
                if self._routing_rows is not None:
                    out[ROUTING_KEY] = self._routing_rows
            finally:
                self._routing_rows = None
            return out

        def _get_per_token_logps_and_entropies(self, model, input_ids, attention_mask, *args, **kwargs):
            tracked = self.routing and self.routing.active
            with self.routing.plan(self._routing_rows, self._routing_measure) if tracked else nullcontext():
                out = super()._get_per_token_logps_and_entropies(model, input_ids, attention_mask, *args, **kwargs)
            if self._routing_measure:
                self._last_logps = out[0].detach()
            return out

        def _compute_loss(self, model, inputs):
            self._routing_rows, self._routing_measure = inputs.get(ROUTING_KEY), True
            try:
                loss = super()._compute_loss(model, inputs)
            finally:
                self._routing_rows, self._routing_measure = None, False
            mode = "train" if self.model.training else "eval"
            for key, value in (self.routing.pop_agreement() if self.routing else {}).items():
                self._metrics[mode][key].append(value)
            self._log_ratio_spread(mode, inputs)
            return loss

        def _log_ratio_spread(self, mode: str, inputs) -> None:
            import torch

            old, new, self._last_logps = inputs.get("old_per_token_logps"), self._last_logps, None
            if old is None or new is None:
                return
            mask = inputs["completion_mask"].bool()
            ratio = torch.exp(new - old)[mask]
            if ratio.numel():
                self._metrics[mode]["importance_ratio/std"].append(ratio.std(unbiased=False).item())
                self._metrics[mode]["importance_ratio/max"].append(ratio.max().item())

    return RoutedGRPOTrainer
