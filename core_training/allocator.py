"""Keep freed large blocks in glibc's heap, so CPU training does not page-fault them back in every step.

glibc hands every allocation above its mmap threshold (128 KiB at start, raised adaptively) to a fresh
``mmap`` and unmaps it on free. A CPU training step allocates and frees tens of megabyte-sized tensors
(TRL's chunked LM-head tiles, their gradients, activations), so each step maps fresh pages and faults
every one of them in again: ``aten::fill_`` and ``aten::copy_`` on new buffers dominate a profile.
Raising the mmap threshold and the trim threshold keeps those blocks in the heap for reuse, and
``M_MMAP_MAX`` 0 does the same for blocks above the largest threshold glibc accepts (32 MiB; TRL's LM-head
tiles are 3000 tokens x the vocabulary, about 45 MB). Only speed changes, never a number: the same kernels
run on the same values. The cost: freed memory below the heap's top is not returned to the OS until the
process ends (a whole ``vkit run gaokao`` peaked at 2.75 GB resident). It made gaokao's sft stage about
15% faster with byte-identical checkpoints (docs/results/history.md, "Speed").

Set ``VKIT_TUNE_MALLOC=0`` to leave the allocator alone. On other C libraries (musl, macOS, Windows)
:func:`tune_malloc` does nothing and returns False.

>>> tune_malloc(enabled=False)
False
>>> import platform
>>> tune_malloc() == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
True
"""

from __future__ import annotations

import ctypes
import os
import platform

# mallopt(3) parameter numbers, from glibc's <malloc.h>
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -2, -3, -4

SETTINGS = ((M_MMAP_THRESHOLD, 32 << 20),  # the largest glibc accepts: blocks up to 32 MiB stay in the heap
            (M_TRIM_THRESHOLD, 1 << 30),  # return freed heap to the OS only past 1 GiB at its top
            (M_TOP_PAD, 64 << 20),  # grow the heap in 64 MiB steps, not one page at a time
            (M_MMAP_MAX, 0))  # no mmap at all: blocks over 32 MiB (the LM-head tiles) are reused from the heap too


def tune_malloc(enabled: bool | None = None) -> bool:
    """Apply :data:`SETTINGS` through ``mallopt``; returns whether glibc accepted all of them.

    ``enabled=None`` reads ``VKIT_TUNE_MALLOC`` (on unless it is ``0``).
    """
    if enabled is None:
        enabled = os.environ.get("VKIT_TUNE_MALLOC", "1") != "0"
    if not enabled or platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
