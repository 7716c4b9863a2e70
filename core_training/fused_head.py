"""Score only the labelled positions in TRL's fused LM head on CPU, too.

TRL 1.16's SFT, GRPO and DPO trainers compute the loss through a fused, chunked LM head
(``trl.trainer.utils.add_fused_lm_head``). It scores only the positions that carry a label when
Triton runs the kernel, and *every* position elsewhere, so that compiling backends (Neuron) see one
tile shape per batch. Eager CPU compiles nothing, yet it pays for the projection, softmax and
backward of every prompt and padding position: in vkit's SFT (answers are ~40% of the tokens) that
was about 1 s of a 2.6 s step on 2 cores, and GRPO's training forward scores its long prompts the same
way. :func:`compact_fused_head` flips that one decision (the name TRL's fused forward looks up when it
picks the rows to score) for CPU tensors while a trainer runs. The kernel and its results are
TRL's own: the loss, the gradients and the logged per-token metrics are unchanged
(``tests/core_training/test_fused_head.py`` checks them against the unpatched path), and TRL's own
device check still decides everything else.

If a TRL release drops the name, :func:`compact_fused_head` does nothing (and the test fails, so the
upgrade shows up).

:func:`row_blocked_tiles` speeds up the same kernel's torch path (CPU) without changing a bit: it runs
TRL's per-tile fold (``_forward_tile``, ``_backward_tile``: about ten elementwise passes over a
[tokens, vocab] tile, 3000 x 3584 fp32 = 43 MB in vkit's sft, out of cache on every pass) on
:data:`ROW_BLOCK` rows at a time, so each block's passes stay in cache. Every operation in the fold is
row-wise, so each row gets the same values; the projection and gradient matrix products still run on
the whole tile, so the weight gradient is summed in TRL's order (unlike smaller token tiles,
``docs/experiments/cpu-token-tiles.patch``). Measured (2026-12-04, 2-core Xeon, 3100 tokens, vocab 3584,
hidden 128): forward + backward 0.29-0.31 -> 0.11-0.13 s, logprobs, entropy and both gradients
bit-identical (``tests/core_training/test_fused_head.py``).

>>> import torch, trl.trainer.utils as U
>>> with compact_fused_head():
...     U._use_triton(torch.device("cpu"))
True
>>> U._use_triton(torch.device("cpu"))
False
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

_NAME = "_use_triton"  # the device check TRL's fused forward calls to choose compact scoring
_FOLDS = ("_forward_tile", "_backward_tile")  # trl.kernels.chunked_logprob's torch fallbacks of its Triton kernels
ROW_BLOCK = 32  # rows per block: 32 x 3584 fp32 = 459 KB, inside a core's L2


@contextmanager
def compact_fused_head() -> Iterator[bool]:
    """While active, TRL's fused LM head scores only labelled positions of CPU tensors; yields whether it applied."""
    import trl.trainer.utils as trl_utils

    original = getattr(trl_utils, _NAME, None)
    if original is None:
        yield False
        return

    def compact(device) -> bool:
        return device.type == "cpu" or original(device)

    setattr(trl_utils, _NAME, compact)
    try:
        yield True
    finally:
        setattr(trl_utils, _NAME, original)


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
    import trl.kernels.chunked_logprob as kernel

    originals = {name: getattr(kernel, name, None) for name in _FOLDS}
    if None in originals.values():
        yield False
        return
    for name, fold in originals.items():
        setattr(kernel, name, _by_rows(fold, rows))
    try:
        yield True
    finally:
        for name, fold in originals.items():
            setattr(kernel, name, fold)
