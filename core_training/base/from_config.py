"""`vkit base from-config CONFIG.json --shrink --out DIR`: a randomly initialised base from a published MoE config.

A user tries their real target architecture on a laptop before renting GPUs: the published ``config.json``
of Qwen3-30B-A3B, Mixtral, DeepSeek-V3 ... (examples in ``core_training/assets/published_configs/``) is
read by the installed transformers' own config class, and ``--shrink`` scales width and depth down while
keeping what makes the architecture itself (:func:`shrink`): the expert count, top-k, shared experts,
dense-first layers, the GQA ratio, the MLA dimensions' ratios, the routing method, tied embeddings and the
attention-layer pattern. The base gets the shipped tokenizer (or ``--tokenizer``)::

    vkit base from-config core_training/assets/published_configs/qwen3-30b-a3b.json --shrink --out bases/qwen3
    vkit run gaokao --base bases/qwen3 --stages sft,rlvr --preset micro lora.enabled=true

Published configs carry traps, each met with a note or a one-line error (:func:`clean_published`):
``quantization_config`` (random weights are never quantised), ``auto_map`` (remote code never runs),
``torch_dtype`` / ``dtype`` (a CPU base is float32; ``model.dtype`` picks the training dtype), and
``rope_scaling`` (kept; transformers reads it as ``rope_parameters``).

>>> scale_width(768, 64 / 2048)
24
>>> gqa_heads(32, 4), gqa_heads(16, 16), gqa_heads(28, 4)
((8, 1), (4, 4), (7, 1))
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

TARGET_HIDDEN = 64  # the shrunk model's hidden size when the config names its own head_dim
TARGET_HEAD_DIM = 16
MIN_HEADS = 4
WIDTH_KEYS = ("intermediate_size", "moe_intermediate_size", "shared_expert_intermediate_size", "q_lora_rank",
              "kv_lora_rank")
MLA_HEAD_KEYS = ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
FULL_SIZE_LIMIT = 2_000_000_000  # parameters: above this an unshrunk build is refused (it would not fit a laptop)


class FromConfigError(ValueError):
    """A published config that cannot become a base; the message names the file and the field."""


def read_config_json(path: str | Path) -> dict:
    """The JSON object in ``path``; a one-line error naming the file (and line) otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise FromConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise FromConfigError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise FromConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict):
        raise FromConfigError(f"{path}: expected a JSON object (a model's config.json), got {type(data).__name__}")
    return data


def clean_published(data: dict, where: str = "config") -> tuple[dict, list[str]]:
    """Drop what a randomly initialised CPU base cannot carry, with one note per trap met.

    >>> cfg, notes = clean_published({"model_type": "mixtral", "torch_dtype": "bfloat16",
    ...                               "auto_map": {"AutoConfig": "x.Y"}})
    >>> sorted(cfg), len(notes)
    (['model_type'], 2)
    >>> clean_published({"model_type": "my_moe", "auto_map": {"AutoConfig": "x.Y"}})
    Traceback (most recent call last):
    ...
    core_training.base.from_config.FromConfigError: config: model_type 'my_moe' is not in the installed transformers; its auto_map names remote code, which vkit never runs: use a model type transformers ships
    """
    from transformers import CONFIG_MAPPING

    data, notes = dict(data), []
    model_type = data.get("model_type")
    if not isinstance(model_type, str):
        raise FromConfigError(f"{where}: no model_type (is this a model's config.json?)")
    if model_type not in CONFIG_MAPPING:
        remote = "; its auto_map names remote code, which vkit never runs" if "auto_map" in data else ""
        raise FromConfigError(f"{where}: model_type {model_type!r} is not in the installed transformers{remote}: "
                              f"use a model type transformers ships")
    if data.pop("auto_map", None):
        notes.append(f"auto_map ignored: remote code never runs; transformers' own {model_type} is used")
    quant = data.pop("quantization_config", None)
    if quant:
        method = quant.get("quant_method", "?") if isinstance(quant, dict) else "?"
        notes.append(f"quantization_config ({method}) dropped: a random base is built unquantised")
    dtypes = {k: data.pop(k) for k in ("torch_dtype", "dtype") if k in data}
    if dtypes:
        said = ", ".join(f"{k}={v}" for k, v in dtypes.items())
        notes.append(f"{said} not kept: the base is saved in float32 (model.dtype picks the training dtype)")
    rope = data.get("rope_scaling") or data.get("rope_parameters")
    if isinstance(rope, dict) and (rope.get("rope_type") or rope.get("type")) not in (None, "default"):
        kind = rope.get("rope_type") or rope.get("type")
        notes.append(f"rope scaling kept: {kind}, factor {rope.get('factor')} (transformers reads it as rope_parameters)")
    data.pop("architectures", None)  # the saved base names its own class
    data.pop("transformers_version", None)
    return data, notes


def scale_width(size: int | None, factor: float, multiple: int = 8) -> int | None:
    """``size * factor`` rounded up to a multiple of ``multiple`` (at least ``multiple``); None stays None."""
    if size is None:
        return None
    return max(multiple, multiple * math.ceil(size * factor / multiple))


def gqa_heads(heads: int, kv_heads: int | None) -> tuple[int, int]:
    """``(heads, kv_heads)`` with the published query-per-KV ratio, at least ``MIN_HEADS`` query heads."""
    kv_heads = kv_heads or heads
    if heads % kv_heads:
        raise FromConfigError(f"num_attention_heads {heads} is not a multiple of num_key_value_heads {kv_heads}")
    ratio = heads // kv_heads
    kv = max(1, MIN_HEADS // ratio)
    return kv * ratio, kv


def layer_signatures(data: dict) -> tuple[list[str], list[tuple]]:
    """The per-layer list fields (``layer_types``, ``mlp_layer_types`` ...) and, for every layer, what kind of
    layer it is: its value in each list, dense-first or not, in ``mlp_only_layers`` or not, sparse by step or not."""
    layers = data["num_hidden_layers"]
    lists = sorted(k for k, v in data.items() if isinstance(v, list) and len(v) == layers and k != "mlp_only_layers")
    first_k = data.get("first_k_dense_replace") or 0
    only = set(data.get("mlp_only_layers") or [])
    step = max(1, data.get("decoder_sparse_step") or 1)
    return lists, [(tuple(data[k][i] for k in lists), i < first_k, i in only, (i + 1) % step == 0)
                   for i in range(layers)]


def shrunk_depth(data: dict) -> dict:
    """Few layers with every kind of layer the published model has, in its order: each run of equal layers
    becomes one layer (a sparse step above 1 keeps its positions), cut where every kind has appeared; at least
    two layers.

    >>> shrunk_depth({"num_hidden_layers": 61, "first_k_dense_replace": 3})
    {'num_hidden_layers': 2, 'first_k_dense_replace': 1}
    >>> shrunk_depth({"num_hidden_layers": 24, "layer_types": ["sliding_attention", "full_attention"] * 12})
    {'num_hidden_layers': 2, 'layer_types': ['sliding_attention', 'full_attention']}
    >>> shrunk_depth({"num_hidden_layers": 8, "layer_types": ["linear", "linear", "linear", "full"] * 2})
    {'num_hidden_layers': 2, 'layer_types': ['linear', 'full']}
    """
    lists, signatures = layer_signatures(data)
    if (data.get("decoder_sparse_step") or 1) > 1:
        sequence = signatures  # layer i is sparse by its index: positions must stay
    else:
        sequence = [sig for i, sig in enumerate(signatures) if i == 0 or sig != signatures[i - 1]]
    kinds = set(sequence)
    cut = next(i for i in range(1, len(sequence) + 1) if set(sequence[:i]) == kinds)
    new = (sequence[:cut] + [sequence[cut - 1]] * 2)[: max(cut, 2)]
    out: dict[str, Any] = {"num_hidden_layers": len(new)}
    for j, key in enumerate(lists):
        out[key] = [sig[0][j] for sig in new]
    if data.get("first_k_dense_replace"):
        out["first_k_dense_replace"] = sum(1 for sig in new if sig[1])
    if data.get("mlp_only_layers"):
        out["mlp_only_layers"] = [j for j, sig in enumerate(new) if sig[2]]
    if "max_window_layers" in data:
        out["max_window_layers"] = len(new)
    return out


def shrunk_width(data: dict) -> dict:
    """Heads (same GQA ratio), head dims and every width scaled by one factor, so the width ratios are kept.

    >>> w = shrunk_width({"hidden_size": 2048, "num_attention_heads": 32, "num_key_value_heads": 4, "head_dim": 128,
    ...                   "intermediate_size": 6144, "moe_intermediate_size": 768})
    >>> w["hidden_size"], w["num_attention_heads"], w["num_key_value_heads"], w["moe_intermediate_size"]
    (64, 8, 1, 24)
    """
    heads, kv = gqa_heads(data["num_attention_heads"], data.get("num_key_value_heads"))
    out: dict[str, Any] = {"num_attention_heads": heads, "num_key_value_heads": kv}
    mla = "kv_lora_rank" in data
    if data.get("head_dim") or mla:  # the head size is its own field: the hidden size is free
        hidden = TARGET_HIDDEN
        if data.get("head_dim") and not mla:
            out["head_dim"] = TARGET_HEAD_DIM
    else:  # head size = hidden / heads
        hidden = heads * TARGET_HEAD_DIM
    out["hidden_size"] = hidden
    factor = hidden / data["hidden_size"]
    for key in WIDTH_KEYS:
        if data.get(key) is not None:
            out[key] = scale_width(data[key], factor)
    if mla:  # MLA head dims keep their ratios: v_head_dim -> TARGET_HEAD_DIM
        head_factor = TARGET_HEAD_DIM / data["v_head_dim"]
        out.update({k: scale_width(data[k], head_factor, multiple=2) for k in MLA_HEAD_KEYS if data.get(k)})
        out["head_dim"] = out.get("qk_rope_head_dim")
    return out


def shrink(data: dict) -> dict:
    """The config with width and depth scaled down; experts, top-k, groups, shared experts and routing unchanged."""
    return {**data, **shrunk_width(data), **shrunk_depth(data)}


def with_tokenizer(data: dict, tokenizer) -> dict:
    """The vocabulary and special-token ids of ``tokenizer`` (the base is trained with it)."""
    return {**data, "vocab_size": len(tokenizer), "pad_token_id": tokenizer.pad_token_id,
            "eos_token_id": tokenizer.eos_token_id, "bos_token_id": tokenizer.bos_token_id}


def build_config(data: dict, where: str):
    """transformers' own config class for ``data['model_type']``; its complaints become one line naming the file."""
    from transformers import AutoConfig

    fields = {k: v for k, v in data.items() if k != "model_type"}
    try:
        return AutoConfig.for_model(data["model_type"], **fields)
    except Exception as exc:  # transformers' validators raise their own types too
        raise FromConfigError(f"{where}: transformers rejects this {data['model_type']} config: {_first_line(exc)}") \
            from None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def count_parameters(config) -> int:
    """Parameters of the model ``config`` describes, counted without allocating them (meta device)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sum(p.numel() for p in model.parameters())


def smoke_test(model, where: str) -> None:
    """One forward and backward pass on a padded batch, so a shrink this architecture does not accept is a
    one-line error here, not a crash in the first training step."""
    import torch

    ids = torch.arange(16).reshape(2, 8) % model.config.vocab_size
    mask = torch.ones_like(ids)
    mask[0, :3] = 0  # left padding, as in generation
    try:
        model(input_ids=ids, attention_mask=mask, labels=ids).loss.backward()
    except Exception as exc:  # any failure of this architecture's code at the shrunk size
        raise FromConfigError(f"{where}: the shrunk {model.config.model_type} does not run: {_first_line(exc)}") \
            from None
    model.zero_grad(set_to_none=True)


def shape_summary(before: dict, after: dict) -> dict[str, list]:
    """``{field: [published, shrunk]}`` for every field the shrink changed."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v and k != "vocab_size"}


def from_config(config_path: str | Path, out: str | Path, shrink_it: bool = True, tokenizer_path: str | Path | None = None,
                seed: int = 0, log=print) -> dict:
    """Build and save the base; returns what ``vkit_base.json`` records (source, notes, shape changes, size).

    Raises:
        FromConfigError: the config cannot become a base (unknown model type, bad JSON, rejected values, too big).
    """
    import torch
    from transformers import AutoModelForCausalLM

    from core_training.modeling import SHIPPED_BASE, load_tokenizer

    published = read_config_json(config_path)
    data, notes = clean_published(published, str(config_path))
    tokenizer = load_tokenizer(tokenizer_path or SHIPPED_BASE)
    try:
        shaped = shrink(data) if shrink_it else data
    except (KeyError, TypeError, ZeroDivisionError) as exc:  # a field the shrink needs is missing or null
        raise FromConfigError(f"{config_path}: cannot shrink this {data['model_type']} config: {_first_line(exc)} "
                              f"(vkit shrinks configs with num_hidden_layers, hidden_size and the head counts)") from None
    config = build_config(with_tokenizer(shaped, tokenizer), str(config_path))
    try:
        parameters = count_parameters(config)
    except Exception as exc:  # the model class rejects the config at construction
        raise FromConfigError(f"{config_path}: transformers cannot build this {data['model_type']}: "
                              f"{_first_line(exc)}") from None
    if not shrink_it and parameters > FULL_SIZE_LIMIT:
        raise FromConfigError(f"{config_path}: {parameters / 1e9:.1f}B parameters at full size; pass --shrink for a "
                              f"base that trains on a CPU")
    for note in notes:
        log(f"vkit: {config_path}: {note}")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    smoke_test(model, str(config_path))
    out = Path(out)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    meta = {"source": Path(config_path).name, "model_type": data["model_type"], "shrunk": shrink_it, "seed": seed,
            "parameters": parameters, "notes": notes, "shape": shape_summary(data, shaped),
            "tokenizer": "shipped" if tokenizer_path is None else Path(tokenizer_path).name}
    (out / "vkit_base.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta
