"""What a result was measured on: the CPU, its vector instruction set, and the stack's versions.

Training on a CPU is deterministic on one machine, not across machines: PyTorch and its math libraries
pick kernels by instruction set (AVX2, AVX-512, AMX) and round differently, and a few hundred training
steps amplify that into different answers (the same base build and the same gaokao run gave different
results on an AVX2 and an AVX-512 machine; docs/results/history.md). So every stage
record (``vkit_stage.json``, ``report.json``) and the base's ``vkit_base.json`` carry this description,
and two results can be told apart before they are compared.

:data:`PORTABLE_KERNELS` removes the difference where it matters most, the base build: PyTorch's own
kernels pinned to their AVX2 build and MKL in its AVX2 conditional-numerical-reproducibility mode give
the same bytes on every x86-64 CPU with AVX2 (measured on an AVX-512 machine: MKL limited to AVX2 and
PyTorch's kernels set to any ISA from outside give one digest; without the pins, four settings gave four).

>>> env = describe()
>>> sorted(env) == sorted(FIELDS)
True
>>> env["torch"] == __import__("torch").__version__
True
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

FIELDS = ("python", "torch", "transformers", "trl", "peft", "cpu", "cpu_capability", "mkl_cbwr", "accelerator")


# read once, when torch and MKL load: set them before either is imported (``portable_env``)
PORTABLE_KERNELS = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT"}
PORTABLE_PINS = " ".join(f"{k}={v}" for k, v in PORTABLE_KERNELS.items())  # as shown in messages and cards


def _cpuinfo(field: str) -> str | None:
    """The first ``field`` value in Linux ``/proc/cpuinfo``, or None where there is none."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(field):
                return line.split(":", 1)[-1].strip()
    return None


def has_avx2() -> bool:
    """Whether this CPU has AVX2 (Linux ``/proc/cpuinfo`` flags; False where they cannot be read)."""
    return "avx2" in (_cpuinfo("flags") or "").split()


def portable_env(environ: dict | None = None) -> dict[str, str]:
    """``environ`` (default ``os.environ``) with :data:`PORTABLE_KERNELS` set, overriding the caller's.

    >>> env = portable_env({"ATEN_CPU_CAPABILITY": "avx512", "HOME": "/root"})
    >>> env["ATEN_CPU_CAPABILITY"], env["MKL_CBWR"], env["HOME"]
    ('avx2', 'AVX2,STRICT', '/root')
    """
    return {**(os.environ if environ is None else environ), **PORTABLE_KERNELS}


def kernels_are_portable(environ: dict | None = None) -> bool:
    """Whether ``environ`` (default ``os.environ``) already pins :data:`PORTABLE_KERNELS`.

    >>> kernels_are_portable({"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2,STRICT"})
    True
    >>> kernels_are_portable({"ATEN_CPU_CAPABILITY": "avx2"})
    False
    """
    environ = os.environ if environ is None else environ
    return all(environ.get(k) == v for k, v in PORTABLE_KERNELS.items())


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    return _cpuinfo("model name") or platform.processor() or platform.machine()


def describe() -> dict[str, str]:
    """Versions, CPU model, the ISA PyTorch's CPU kernels dispatch to, and the accelerator if any."""
    import peft
    import torch
    import transformers
    import trl

    accelerator = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {"python": platform.python_version(), "torch": torch.__version__,
            "transformers": transformers.__version__, "trl": trl.__version__, "peft": peft.__version__,
            "cpu": cpu_model(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkl_cbwr": os.environ.get("MKL_CBWR", "auto"), "accelerator": accelerator}


def summary(env: dict) -> str:
    """One line for reports.

    >>> summary({"cpu": "Xeon", "cpu_capability": "AVX512", "torch": "2.13.0", "trl": "1.16.0",
    ...          "accelerator": "none"})
    'Xeon (AVX512), torch 2.13.0, trl 1.16.0, accelerator none'
    """
    return (f"{env.get('cpu', '?')} ({env.get('cpu_capability', '?')}), torch {env.get('torch', '?')}, "
            f"trl {env.get('trl', '?')}, accelerator {env.get('accelerator', '?')}")
