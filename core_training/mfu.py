"""Model FLOPs utilisation: how far a stage's throughput is from what this machine's matrix units can do.

``matmul_peak(dtype)`` measures the machine's matmul rate once (a square matmul, best of a few runs) and
keeps it in vkit's cache dir (``matmul_peak.json``), keyed by CPU model, accelerator, torch version and
thread count, so every later run reads it instead of measuring again. ``stage_throughput`` turns a stage's
tokens, parameter count and seconds into tokens/s and MFU:

    MFU = tokens/s x FLOPs per token / peak FLOP/s,   FLOPs per token = 6 x N (training: forward 2N,
    backward 4N) or 2 x N (generation), N = the parameters a token passes through.

For a mixture of experts N is the *active* parameters (:func:`active_parameters`): the dense ones plus
``top_k / num_experts`` of the routed experts'. Attention's sequence-length term is left out, as in the
usual 6N estimate (it is small next to 6N at the sequence lengths vkit trains on).

>>> stage_throughput(tokens=120_000, parameters=3_400_000, seconds=60, peak_flops=200e9)
{'tokens_per_second': 2000.0, 'model_flops_per_second': 40800000000.0, 'mfu': 0.204}
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

logger = logging.getLogger(__name__)

PEAK_FILE = "matmul_peak.json"
DTYPES = ("fp32", "bf16")
TRAINING_FLOPS_PER_PARAMETER = 6  # per token: forward 2, backward 4
GENERATION_FLOPS_PER_PARAMETER = 2


def stage_throughput(tokens: int, parameters: int, seconds: float, peak_flops: float,
                     flops_per_parameter: int = TRAINING_FLOPS_PER_PARAMETER) -> dict[str, float]:
    """Tokens/s, model FLOP/s and MFU of a stage that processed ``tokens`` tokens in ``seconds``.

    Args:
        tokens: tokens the stage's forward (and backward) passes processed (padding excluded if known).
        parameters: active parameters per token (:func:`active_parameters`).
        seconds: the stage's training seconds.
        peak_flops: the machine's peak FLOP/s in the stage's dtype (:func:`matmul_peak`).
        flops_per_parameter: 6 for training, 2 for generation.
    """
    if seconds <= 0 or peak_flops <= 0:
        raise ValueError(f"seconds ({seconds}) and peak_flops ({peak_flops}) must be positive")
    tokens_per_second = tokens / seconds
    model_flops = tokens_per_second * flops_per_parameter * parameters
    return {"tokens_per_second": round(tokens_per_second, 1), "model_flops_per_second": model_flops,
            "mfu": round(model_flops / peak_flops, 4)}


def active_parameters(model) -> int:
    """Parameters one token passes through: all of them, with routed experts counted at ``top_k / num_experts``.

    Routed experts are the parameters under ``.experts.`` (fused 3-D expert weights, or per-expert Linears);
    shared experts and routers count in full.
    """
    config = getattr(model, "config", None)
    experts = next((getattr(config, n) for n in ("num_experts", "num_local_experts", "n_routed_experts")
                    if getattr(config, n, None)), None)
    top_k = getattr(config, "num_experts_per_tok", None)
    total = routed = 0
    for name, parameter in model.named_parameters():
        total += parameter.numel()
        if ".experts." in name and "shared" not in name:
            routed += parameter.numel()
    if not experts or not top_k:
        return total
    return round(total - routed + routed * top_k / experts)


def measure_matmul_peak(dtype: str = "fp32", size: int | None = None, repeats: int = 5) -> float:
    """FLOP/s of one ``size`` x ``size`` matmul in ``dtype`` on this process's device and threads, best of
    ``repeats``. ``size`` defaults to 1024 on a CPU and 8192 on a GPU (a smaller one leaves a GPU half idle).
    Other jobs on the machine lower the result: a warning says so when the load exceeds the cores."""
    import os

    import torch

    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = size or (8192 if device == "cuda" else 1024)
    if device == "cpu" and hasattr(os, "getloadavg") and os.getloadavg()[0] > (os.cpu_count() or 1):
        logger.warning("measuring the %s matmul peak while the machine is busy (load %.1f): it will read low; "
                       "measure again on a quiet machine with matmul_peak(refresh=True)", dtype, os.getloadavg()[0])
    a = torch.randn(size, size, device=device).to(torch_dtype)
    b = torch.randn(size, size, device=device).to(torch_dtype)
    best = float("inf")
    for _ in range(repeats + 1):  # the first run warms up the kernels
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        torch.matmul(a, b)
        if device == "cuda":
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best


def machine_key() -> str:
    """What the peak depends on: CPU model, accelerator, torch version and CPU threads."""
    import torch

    from core_training.environment import cpu_model

    accelerator = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return f"{cpu_model()} | {accelerator} | torch {torch.__version__} | {torch.get_num_threads()} threads"


def matmul_peak(dtype: str = "fp32", cache: Path | None = None, refresh: bool = False,
                measure=measure_matmul_peak) -> float:
    """This machine's matmul peak in ``dtype`` (FLOP/s): read from ``cache`` (default: vkit's cache dir), or
    measured once and written there (``refresh`` measures again). A cache file that does not parse is
    measured over and rewritten."""
    from core_training.io import cache_dir

    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: use one of {', '.join(DTYPES)}")
    path = cache or cache_dir() / PEAK_FILE
    peaks, key = _read_peaks(path), machine_key()
    if refresh or dtype not in peaks.get(key, {}):
        peaks.setdefault(key, {})[dtype] = measure(dtype)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(peaks, ensure_ascii=False, indent=1), encoding="utf-8")
    return peaks[key][dtype]


def _read_peaks(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        peaks = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        logger.warning("%s: not JSON (%s); measuring the matmul peak again", path, error)
        return {}
    return peaks if isinstance(peaks, dict) else {}
