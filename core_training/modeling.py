"""Loading models and tokenizers by path, LoRA on MoE, router freezing.

Nothing is ever fetched from a hub: a base is the shipped tiny MoE (``base=None``) or a local
checkpoint directory. A hub id gets a clear error.

>>> is_router_parameter("model.layers.0.mlp.gate.weight")
True
>>> is_router_parameter("model.layers.0.mlp.experts.gate_up_proj")
False
"""

from __future__ import annotations

import re
from pathlib import Path

# The tiny MoE base shipped with the package (``vkit base pretrain`` rebuilds it); a path, so importing
# this module stays cheap (no transformers, no pretraining code).
SHIPPED_BASE = Path(__file__).resolve().parent / "assets" / "tiny-moe-base"

ROUTER_PARAM = re.compile(r"(\.gate\.(weight|bias|e_score_correction_bias)$)|(\.router\.)")


class BaseNotFoundError(FileNotFoundError):
    pass


class PickleWeightsError(ValueError):
    """Weights only in a pickle format (``*.bin``, ``*.pt``), which can run code when loaded."""


_PICKLE = {"allowed": False}  # set once per process by ``--allow-pickle``


def allow_pickle(allowed: bool = True) -> None:
    """Let weights load from pickle files (``pytorch_model.bin``) as well as safetensors (``--allow-pickle``)."""
    _PICKLE["allowed"] = allowed


def weights_kwargs() -> dict:
    """``from_pretrained`` arguments every model load passes: safetensors only unless pickle is allowed,
    and never code shipped with a checkpoint.

    >>> allow_pickle(False); weights_kwargs()
    {'use_safetensors': True, 'trust_remote_code': False}
    """
    return {"use_safetensors": None if _PICKLE["allowed"] else True, "trust_remote_code": False}


def check_safetensors(path: str | Path, what: str = "base") -> None:
    """Refuse a checkpoint directory whose weights are only pickle files, unless pickle is allowed.

    Raises:
        PickleWeightsError: naming the directory and the way out.
    """
    path = Path(path)
    if _PICKLE["allowed"] or any(path.glob("*.safetensors")):
        return
    pickles = sorted(p.name for p in path.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".pkl"))
    if pickles:
        raise PickleWeightsError(f"{what} {str(path)!r} has weights only as pickle ({', '.join(pickles)}), which can "
                                 f"run code when loaded: convert them to safetensors, or pass --allow-pickle if you "
                                 f"trust the files")


def resolve_base(base: str | None) -> Path:
    """The checkpoint directory for ``base`` (``None`` = the shipped tiny MoE base)."""
    path = Path(base) if base else SHIPPED_BASE
    if (path / "config.json").is_file():
        return path
    if base and not path.exists() and re.fullmatch(r"[\w.-]+/[\w.-]+", base):
        raise BaseNotFoundError(
            f"base {base!r} looks like a hub id, but vkit never downloads models: download it yourself "
            f"and pass the local directory, e.g. --base /models/{base.split('/')[-1]}")
    if not base:
        raise BaseNotFoundError(f"the shipped base is missing at {path}: rebuild it with `vkit base pretrain`")
    raise BaseNotFoundError(f"base {str(path)!r} is not a checkpoint directory (no config.json there)")


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.model_input_names = ["input_ids", "attention_mask"]
    return tok


class QuantizedCheckpointError(ValueError):
    """A checkpoint stored in a quantised format that cannot be trained and that vkit cannot dequantise."""


# quantised formats transformers can load dequantised (trainable): quant_method -> its config class
DEQUANTISABLE = {"fp8": "FineGrainedFP8Config", "mxfp4": "Mxfp4Config"}


def dequantise_kwargs(path: str | Path, dtype: str = "bfloat16", log=None) -> dict:
    """``from_pretrained`` arguments that load a quantised checkpoint dequantised, so it can train.

    A DeepSeek-V3-style block-wise fp8 checkpoint loads through transformers' own
    ``FineGrainedFP8Config(dequantize=True)`` (GPT-OSS's mxfp4 through ``Mxfp4Config(dequantize=True)``), with a
    message saying so; any other quantisation is refused, never trained as loaded. Empty for a plain checkpoint.

    Raises:
        QuantizedCheckpointError: a quantisation method vkit cannot dequantise.
    """
    import json

    try:
        config = json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    quant = config.get("quantization_config") if isinstance(config, dict) else None
    if not quant:
        return {}
    method = quant.get("quant_method") if isinstance(quant, dict) else None
    if method not in DEQUANTISABLE:
        raise QuantizedCheckpointError(
            f"{Path(path) / 'config.json'}: quantization_config.quant_method {method!r} cannot be trained as stored and "
            f"vkit dequantises only {', '.join(DEQUANTISABLE)}: dequantise the checkpoint first")
    import transformers

    (log or _stderr)(f"vkit: {path} is stored in {method}: loading it dequantised to {dtype} for training "
                     f"(transformers' {DEQUANTISABLE[method]}(dequantize=True)); stage outputs are saved unquantised")
    return {"quantization_config": getattr(transformers, DEQUANTISABLE[method])(dequantize=True)}


def _stderr(line: str) -> None:
    import sys

    print(line, file=sys.stderr)


def load_causal_lm(path: str | Path, dtype: str = "float32", experts_implementation: str | None = None):
    """A causal LM from a local directory, with the router aux loss off (stages switch it on); a quantised
    checkpoint loads dequantised (:func:`dequantise_kwargs`)."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs = {"experts_implementation": experts_implementation} if experts_implementation else {}
    kwargs.update(dequantise_kwargs(path, dtype))
    check_safetensors(path, "checkpoint")
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=getattr(torch, dtype), local_files_only=True,
                                                 **kwargs, **weights_kwargs())
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False  # generate() breaks with it on
    return model


def load_reward_model(path: str | Path, dtype: str = "float32", experts_implementation: str | None = None):
    """A one-score sequence classifier (a reward model, or a policy gaining a new scoring head) from a local
    directory, in ``dtype`` like the policy, a quantised checkpoint dequantised, with the router aux loss off."""
    import torch
    from transformers import AutoModelForSequenceClassification

    kwargs = {"experts_implementation": experts_implementation} if experts_implementation else {}
    kwargs.update(dequantise_kwargs(path, dtype))
    check_safetensors(path, "checkpoint")
    model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1, dtype=getattr(torch, dtype),
                                                               local_files_only=True, **kwargs, **weights_kwargs())
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False
    return model


def is_moe(model) -> bool:
    return any(is_router_parameter(n) for n, _ in model.named_parameters())


def is_router_parameter(name: str) -> bool:
    return bool(ROUTER_PARAM.search(name))


def freeze_router(model) -> int:
    """Stop gradients into every router; returns how many tensors were frozen."""
    frozen = 0
    for name, param in model.named_parameters():
        if is_router_parameter(name) and param.requires_grad:
            param.requires_grad_(False)
            frozen += 1
    return frozen


def lora_config(model, cfg):
    """A peft ``LoraConfig`` for ``model`` naming every weight of ``cfg.groups`` (never a router); wrap with
    :func:`core_training.lora_targets.apply_lora`, which also checks every group was reached."""
    from core_training.lora_targets import peft_config, resolve

    return peft_config(resolve(model, cfg.groups, cfg.r, cfg.dropout), cfg)


def wrapped_names(model) -> list[str]:
    """Names of the modules/parameters peft wrapped (for checking what LoRA actually touched)."""
    return sorted({n.rsplit(".lora_", 1)[0] for n, _ in model.named_parameters() if ".lora_" in n})
