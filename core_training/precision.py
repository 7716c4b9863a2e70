"""Training precision (``model.precision``): fp32, bf16 autocast, or fp8 through accelerate's maintained backends.

- ``fp32``: full precision (weights in ``model.dtype``; bfloat16 weights on a GPU train under bf16 autocast).
- ``bf16``: bf16 autocast over fp32 master weights, on a GPU or on a CPU (fast where it has AVX-512 BF16 or
  AMX; ``bench/bench_precision.py`` measures it against fp32 for the sft stage).
- ``fp8``: accelerate's fp8 mixed precision through torchao (preferred) or Transformer Engine, only on a CUDA
  GPU with fp8 tensor cores (compute capability 8.9 or more: Ada, Hopper, Blackwell); anywhere else a
  one-line error. float16 on a CPU is refused: its matmuls are about a thousand times slower there.

>>> check_precision("fp32", "float32", cuda=None)
>>> check_precision("fp8", "float32", cuda=None)
Traceback (most recent call last):
...
core_training.precision.PrecisionError: model.precision=fp8 needs a CUDA GPU with fp8 (compute capability >= 8.9: Ada, Hopper, Blackwell); this machine has none: use bf16 or fp32
>>> trainer_precision("bf16", "float32", cuda=None)
{'bf16': True}
"""

from __future__ import annotations

import importlib.util
import os

FP8_MIN_CAPABILITY = (8, 9)


class PrecisionError(ValueError):
    """A precision or dtype this machine cannot train in."""


def fp8_backend() -> str | None:
    """accelerate's name of an installed fp8 backend: ``AO`` (torchao) first, then ``TE`` (Transformer Engine)."""
    for module, name in (("torchao", "AO"), ("transformer_engine", "TE")):
        if importlib.util.find_spec(module) is not None:
            return name
    return None


def _cuda_capability() -> tuple[int, int] | None:
    import torch

    return torch.cuda.get_device_capability() if torch.cuda.is_available() else None


def check_precision(precision: str, dtype: str, cuda: tuple[int, int] | None | bool = True) -> None:
    """Refuse what this machine cannot train: fp8 without an fp8 GPU or backend, float16 weights on a CPU.

    ``cuda`` is the GPU's compute capability (``True``: look it up; ``None``: no GPU).
    """
    capability = _cuda_capability() if cuda is True else cuda
    if dtype == "float16" and capability is None:
        raise PrecisionError("model.dtype=float16 on a CPU: float16 matmuls are about 1000x slower there; "
                             "use bfloat16 or float32")
    if precision != "fp8":
        return
    if capability is None:
        raise PrecisionError("model.precision=fp8 needs a CUDA GPU with fp8 (compute capability >= 8.9: Ada, Hopper, "
                             "Blackwell); this machine has none: use bf16 or fp32")
    if tuple(capability) < FP8_MIN_CAPABILITY:
        raise PrecisionError(f"model.precision=fp8: this GPU (compute capability {capability[0]}.{capability[1]}) has "
                             f"no fp8 tensor cores (8.9 or more needed): use bf16")
    if fp8_backend() is None:
        raise PrecisionError("model.precision=fp8 trains through accelerate's torchao or Transformer Engine backend, "
                             "and neither is installed: pip install torchao")


def trainer_precision(precision: str, dtype: str, cuda: tuple[int, int] | None | bool = True) -> dict:
    """The trainer arguments for ``precision`` (checked first); fp8 is handed to accelerate through its
    environment variables (``ACCELERATE_MIXED_PRECISION``, ``ACCELERATE_FP8_BACKEND``), which the trainer reads."""
    capability = _cuda_capability() if cuda is True else cuda
    check_precision(precision, dtype, capability)
    if precision == "fp8":
        os.environ["ACCELERATE_MIXED_PRECISION"] = "fp8"
        os.environ.setdefault("ACCELERATE_FP8_BACKEND", fp8_backend() or "AO")
        return {"bf16": False}
    return {"bf16": precision == "bf16" or (dtype == "bfloat16" and capability is not None)}
