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
