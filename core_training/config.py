"""Typed run configs: dataclass defaults <- preset <- vertical overrides <- YAML files <- ``key.sub=value``.

The first half is a small generic mechanism that works for any (nested, frozen or plain) dataclass:
:func:`from_dict` builds one from plain data with type checks and "did you mean" errors,
:func:`apply_overrides` applies command-line ``key.sub=value`` strings, :func:`load_config` layers
YAML files and overrides, :func:`to_dict` / :func:`config_hash` save and fingerprint the result.
The second half is vkit's schema (:class:`RunConfig`), whose defaults are the tiny CPU run.

>>> cfg = resolve_run_config(cli_overrides=["sft.learning_rate=1e-4", "stages=cpt,sft"])
>>> cfg.sft.learning_rate, cfg.stages, cfg.sft.max_steps
(0.0001, ['cpt', 'sft'], 180)
>>> resolve_run_config(preset="micro").rlvr.num_generations
2
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import difflib
import functools
import hashlib
import json
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence, TypeVar, Union

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value or key is invalid; the message names the source and the dotted key."""


# --------------------------------------------------------------------------- YAML parsing


class _YamlLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that also reads ``1e-4`` as a float (YAML 1.1 demands ``1.0e-4``)."""


_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_value(text: str) -> Any:
    """Parse one override value the way YAML would (``true`` -> True, ``1e-4`` -> 1e-4, ``null`` -> None).

    >>> parse_value("true"), parse_value("1e-4"), parse_value("[a, b]"), parse_value("cpt,sft")
    (True, 0.0001, ['a', 'b'], 'cpt,sft')
    """
    return yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml(path: str | Path) -> dict:
    """The mapping in a YAML config file; a ConfigError naming the file (and line) when it is not one."""
    return _read_yaml(path)


def _read_yaml(path: str | Path) -> dict:
    try:
        data = yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_YamlLoader)  # noqa: S506
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read YAML: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text (is it UTF-16, GBK or binary?); save the YAML as UTF-8") from None
    except yaml.YAMLError as exc:
        raise ConfigError(yaml_error_line(path, exc)) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return data


def yaml_error_line(path: str | Path, exc: yaml.YAMLError) -> str:
    """One line ``FILE:LINE:COLUMN: invalid YAML: problem`` (PyYAML's own message spans several lines).

    >>> try:
    ...     yaml.safe_load("a: [1, 2")
    ... except yaml.YAMLError as exc:
    ...     print(yaml_error_line("x.yaml", exc))
    x.yaml:1:9: invalid YAML: expected ',' or ']', but got '<stream end>'
    """
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"{where}: invalid YAML: {problem}"


# --------------------------------------------------------------------------- type checking


def _type_name(tp: Any) -> str:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin is not None:
        return f"{getattr(origin, '__name__', origin)}[{', '.join(_type_name(a) for a in args)}]"
    return "None" if tp is type(None) else getattr(tp, "__name__", str(tp))


def _did_you_mean(key: str, choices: Iterable[str], prefix: str = "") -> str:
    """A hint naming the closest choices, also matching initials (``lr`` -> ``learning_rate``)."""
    choices = list(choices)
    close = difflib.get_close_matches(key, choices, n=3, cutoff=0.6)
    close += [c for c in choices if "".join(p[0] for p in c.split("_") if p) == key and c not in close]
    return f" (did you mean {' or '.join(repr(_join(prefix, c)) for c in close)}?)" if close else ""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _coerce(tp: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the type ``tp`` and return it converted (int -> float, list -> tuple)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        return _coerce_union(tp, args, value, key)
    if origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if isinstance(value, Mapping):
            return _build(tp, value, key)
    elif origin in (list, tuple, cabc.Sequence) and isinstance(value, (list, tuple)):
        return _coerce_sequence(origin, args, value, key)
    elif origin in (dict, cabc.Mapping) and isinstance(value, Mapping):
        return {_coerce(args[0], k, key): _coerce(args[1], v, _join(key, str(k))) for k, v in value.items()}
    elif _scalar_ok(tp, value):
        return float(value) if tp is float else value
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {type(value).__name__} ({value!r})")


def _scalar_ok(tp: Any, value: Any) -> bool:
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return tp is type(None) and value is None or isinstance(tp, type) and isinstance(value, tp)


def _coerce_union(tp: Any, args: tuple, value: Any, key: str) -> Any:
    if value is None and type(None) in args:
        return None
    for arg in (a for a in args if a is not type(None)):
        try:
            return _coerce(arg, value, key)
        except ConfigError:
            continue
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {type(value).__name__} ({value!r})")


def _coerce_sequence(origin: Any, args: tuple, value: Sequence, key: str) -> Any:
    if origin is tuple and args and args[-1] is not Ellipsis:
        if len(args) != len(value):
            raise ConfigError(f"{key}: expected {len(args)} items, got {len(value)}")
        return tuple(_coerce(a, v, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    item = args[0] if args else Any
    items = [_coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    return tuple(items) if origin is tuple else items


@functools.lru_cache(maxsize=None)
def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}


def _default_of(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _build(cls: type[T], data: Mapping, path: str) -> T:
    types_ = _field_types(cls)
    for key in data:
        if key not in types_:
            raise ConfigError(f"unknown key {_join(path, str(key))!r}{_did_you_mean(str(key), types_, path)}")
    kwargs = {}
    for f in (f for f in dataclasses.fields(cls) if f.init):
        default, key = _default_of(f), _join(path, f.name)
        if f.name not in data:
            if default is dataclasses.MISSING:
                raise ConfigError(f"missing required key {key!r}")
            continue
        value = data[f.name]
        if dataclasses.is_dataclass(default) and isinstance(value, Mapping):
            value = deep_merge(to_dict(default), value)  # a partial section keeps the other defaults
        kwargs[f.name] = _coerce(types_[f.name], value, key)
    try:
        return cls(**kwargs)
    except ConfigError as exc:  # raised by __post_init__ validation
        raise ConfigError(f"{path}.{exc}" if path else str(exc)) from None


def from_dict(cls: type[T], data: Mapping[str, Any], where: str = "config") -> T:
    """Build the dataclass ``cls`` from plain data, checking every key and type.

    Nested sections given as partial mappings keep the defaults of the keys they omit.

    Args:
        cls: a dataclass (plain or frozen), possibly with nested dataclass fields.
        data: a mapping of field names to values.
        where: the source named in errors (a YAML path, ``"override 'a.b=1'"``, ...).

    Raises:
        ConfigError: an unknown key, a missing required key, a wrong type or a failed validation.

    >>> from_dict(EvalConfig, {"max_items": 8}).max_items
    8
    >>> from_dict(EvalConfig, {"max_item": 8})
    Traceback (most recent call last):
    ...
    core_training.config.ConfigError: config: unknown key 'max_item' (did you mean 'max_items'?)
    """
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"from_dict needs a dataclass type, got {cls!r}")
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    try:
        return _build(cls, data, "")
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def to_dict(obj: Any) -> Any:
    """Plain JSON/YAML-ready data from a (nested) dataclass: tuples become lists.

    >>> to_dict(EvalConfig())["modes"]
    ['closed_book', 'grounded']
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


def config_hash(obj: Any) -> str:
    """The sha256 hex digest of the canonical JSON of ``obj`` (a dataclass or plain data).

    >>> config_hash({"b": 1, "a": [1.0]}) == config_hash({"a": [1.0], "b": 1})
    True
    """
    canonical = json.dumps(to_dict(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def deep_merge(base: Mapping, update: Mapping) -> dict:
    """A new dict: ``update`` over ``base``, merging nested mappings key by key.

    >>> deep_merge({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}})
    {'a': {'x': 1, 'y': 3}}
    """
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = to_dict(value) if isinstance(value, Mapping) else value
    return merged


# --------------------------------------------------------------------------- overrides


def _field_type_at(cls: type, dotted: str) -> Any:
    """The declared type of ``dotted`` inside ``cls``; a ConfigError for a key that does not exist."""
    tp: Any = cls
    parts = dotted.split(".")
    for depth, part in enumerate(parts):
        if not dataclasses.is_dataclass(tp):
            raise ConfigError(f"{'.'.join(parts[:depth])!r} is a value, not a section (key {dotted!r})")
        types_ = _field_types(tp)
        if part not in types_:
            hint = _did_you_mean(part, types_, ".".join(parts[:depth]))
            raise ConfigError(f"unknown key {'.'.join(parts[: depth + 1])!r}{hint}")
        tp = types_[part]
    return tp


def _accepts(tp: Any, kind: type) -> bool:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        return any(_accepts(a, kind) for a in typing.get_args(tp))
    return (origin or tp) is kind or (kind is list and origin in (tuple, cabc.Sequence))


def _override_value(tp: Any, text: str) -> Any:
    """Parse ``text`` for a field of type ``tp``: comma lists for sequences, raw text for strings."""
    value = parse_value(text)
    if tp is None:
        return value
    if _accepts(tp, list) and (isinstance(value, str) or (value is None and text.strip() == "")):
        return [parse_value(part.strip()) for part in text.split(",") if part.strip()]
    if _accepts(tp, str) and not isinstance(value, str):
        try:
            _coerce(tp, value, "")
        except ConfigError:
            return text  # e.g. ``vertical=123`` or ``vertical=`` for a ``str`` field
    return value


def apply_overrides(cfg_dict: Mapping, overrides: Iterable[str], cls: type | None = None) -> dict:
    """Return a copy of ``cfg_dict`` with ``key.sub=value`` overrides applied.

    Values are parsed as YAML. With ``cls`` (the dataclass the dict describes), keys are checked
    and ``a,b`` becomes a list for list/tuple fields; without it, only a ``[a, b]`` value is a list.

    >>> apply_overrides({}, ["sft.learning_rate=1e-4", "lora.enabled=true", "stages=cpt,sft"], RunConfig)
    {'sft': {'learning_rate': 0.0001}, 'lora': {'enabled': True}, 'stages': ['cpt', 'sft']}
    """
    result = to_dict(cfg_dict)
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"override {item!r}: not of the form key.sub=value")
        try:
            tp = _field_type_at(cls, key) if cls is not None else None
        except ConfigError as exc:
            raise ConfigError(f"override {item!r}: {exc}") from None
        node = result
        *parents, leaf = key.split(".")
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        node[leaf] = _override_value(tp, text)
    return result


def _layer(cls: type, data: Mapping, where: str, yaml_paths: Sequence[str | Path], overrides: Sequence[str]) -> dict:
    """Merge ``data`` <- each YAML file <- each override, checking each layer so errors name it."""
    data = dict(data)
    from_dict(cls, data, where=where)
    for path in yaml_paths:
        data = deep_merge(data, _read_yaml(path))
        from_dict(cls, data, where=str(path))
    for item in overrides:
        data = apply_overrides(data, [item], cls)
        from_dict(cls, data, where=f"override {item!r}")
    return data


def load_config(
    cls: type[T], yaml_paths: Sequence[str | Path] = (), overrides: Sequence[str] = (), base: Mapping | None = None
) -> T:
    """Build ``cls`` from its defaults <- ``base`` <- each YAML file in order <- ``overrides``.

    Raises:
        ConfigError: naming the YAML file or the override at fault.
    """
    return from_dict(cls, _layer(cls, base or {}, "base config", yaml_paths, overrides))


# --------------------------------------------------------------------------- the schema

STAGES = ("cpt", "sft", "rlvr", "rm", "rlhf", "dpo")
EVAL_SETS = ("test", "dev", "paraphrase")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _require_steps_and_rate(max_steps: int, learning_rate: float) -> None:
    _require(max_steps >= 1, f"max_steps: must be >= 1, got {max_steps}")
    _require(math.isfinite(learning_rate) and learning_rate > 0,
             f"learning_rate: must be a finite number > 0, got {learning_rate}")


DTYPES = ("float32", "bfloat16", "float16", "float64")
PRECISIONS = ("fp32", "bf16", "fp8")
LORA_GROUPS = ("attention", "routed_experts", "shared_experts", "dense_mlp")
EVAL_MODES = ("closed_book", "grounded")


@dataclass
class ModelConfig:
    """Which base to load and the MoE knobs."""

    base: str | None = None  # local checkpoint directory; None -> the shipped tiny base
    dtype: str = "float32"  # weights' dtype: float32 or bfloat16 (never float16 on CPU)
    experts_implementation: str | None = None  # transformers' experts kernel (grouped_mm, eager ...); None = its default
    router_aux_loss_coef: float = 0.01  # MoE load-balancing loss weight in cpt and sft (logged as moe/aux_loss)
    freeze_router: bool = False  # keep the router fixed in cpt and sft too (RL stages have their own switch)
    # compute precision of training: fp32; bf16 autocast (CPUs with AVX-512 BF16/AMX, GPUs); fp8 through
    # accelerate's torchao/Transformer Engine backend on GPUs that have fp8 (compute capability >= 8.9)
    precision: str = "fp32"

    def __post_init__(self) -> None:
        _require(self.precision in PRECISIONS, f"precision: unknown {self.precision!r}; known: {', '.join(PRECISIONS)}")
        _require(self.dtype in DTYPES, f"dtype: unknown {self.dtype!r}{_did_you_mean(self.dtype, DTYPES)}; "
                                       f"known: {', '.join(DTYPES)}")


@dataclass
class LoraConfig:
    """LoRA adapters on the groups of weights named in ``groups`` (:mod:`core_training.lora_targets`), never a
    router. Each stage prints the resolved targets and writes them to ``RUN/<stage>/lora_targets.json``; a
    requested group the model has but peft would leave unadapted is an error naming it."""

    enabled: bool = False  # train LoRA adapters instead of all weights; merged when each stage ends
    r: int = 16  # rank (per expert for fused expert tensors)
    alpha: int = 32
    dropout: float = 0.0  # must be 0 with routed_experts: peft's wrapper of fused expert tensors has no dropout
    # attention, routed_experts (fused 3-D tensors via peft's target_parameters), shared_experts, dense_mlp
    # (dense-first layers); a group the model lacks is reported and skipped
    groups: list[str] = field(default_factory=lambda: ["attention", "routed_experts", "shared_experts", "dense_mlp"])

    def __post_init__(self) -> None:
        _require(self.r >= 1, f"r: must be >= 1, got {self.r}")
        _require(0.0 <= self.dropout < 1.0, f"dropout: must be in [0, 1), got {self.dropout}")
        unknown = [g for g in self.groups if g not in LORA_GROUPS]
        _require(bool(self.groups) and not unknown, f"groups: {unknown or 'none'}; known: {', '.join(LORA_GROUPS)}")


@dataclass
class TrainStageConfig:
    """One supervised-style stage (cpt, sft, rm, dpo)."""

    max_steps: int
    learning_rate: float
    per_device_batch_size: int = 16
    gradient_accumulation_steps: int = 1
    max_length: int = 512
    warmup_ratio: float = 0.05
    weight_decay: float = 0.0
    logging_steps: int = 10
    save_steps: int = 50
    lr_scheduler_type: str = "cosine"
    packing: bool = False  # sft: bfd packing, padding-free (position_ids); cpt always packs fixed blocks
    # sft: batches of similar length (transformers' LengthGroupedSampler), so fewer pad tokens are computed.
    # Off by default: faster, but it lowered the held-out grounded pass (docs/results/history.md).
    group_by_length: bool = False

    def __post_init__(self) -> None:
        _require_steps_and_rate(self.max_steps, self.learning_rate)
        _require(self.per_device_batch_size >= 1, "per_device_batch_size: must be >= 1")
        _require(self.gradient_accumulation_steps >= 1, "gradient_accumulation_steps: must be >= 1")
        _require(self.logging_steps >= 1 and self.save_steps >= 1, "logging_steps, save_steps: must be >= 1")
        _require(0.0 <= self.warmup_ratio <= 1.0, "warmup_ratio: must be in [0, 1]")


@dataclass
class PreferenceStageConfig(TrainStageConfig):
    """The rm and dpo stages: the preference pairs, plus (``on_policy_prompts`` > 0) one on-policy round.

    Before training, the policy the stage starts from answers ``on_policy_prompts`` RL prompts
    ``on_policy_samples`` times each (sampled at ``on_policy_temperature``, up to
    ``rlhf.max_completion_length`` tokens), the simulated panel orders every pair of different answers
    (:mod:`core_training.onpolicy`), and the pairs join the training set. The pairs of
    ``on_policy_held_out`` of the prompts are held out (rm: they measure ``rm/on_policy_accuracy``).
    """

    on_policy_prompts: int = 0  # RL prompts the policy answers for the on-policy round; 0 = no round
    on_policy_samples: int = 4  # answers sampled per prompt
    on_policy_temperature: float = 1.0  # their sampling temperature
    on_policy_held_out: float = 0.2  # share of the prompts whose pairs are held out

    def __post_init__(self) -> None:
        super().__post_init__()
        _require(self.on_policy_prompts >= 0, "on_policy_prompts: must be >= 0")
        _require(self.on_policy_samples >= 2, "on_policy_samples: a pair needs >= 2 answers per prompt")
        _require(self.on_policy_temperature > 0, "on_policy_temperature: must be > 0")
        _require(0.0 <= self.on_policy_held_out < 1.0, "on_policy_held_out: must be in [0, 1)")


@dataclass
class RLStageConfig:
    """One GRPO stage (rlvr, rlhf); ``rule_weight`` and ``rm_weight`` weigh the two reward sources."""

    max_steps: int
    learning_rate: float
    per_device_batch_size: int = 16
    num_generations: int = 8
    max_completion_length: int = 200
    temperature: float = 1.0
    beta: float = 0.0
    logging_steps: int = 5
    save_steps: int = 25
    freeze_router: bool = True
    rule_weight: float = 1.0
    rm_weight: float = 1.0
    # MoE: route each rollout's tokens to the experts they had while being generated, in the training
    # forward too (routing replay; docs/moe-rl.md). Routing agreement is logged either way.
    routing_replay: bool = False
    # token: GRPO's per-token importance ratio; sequence: GSPO's per-sequence ratio (steadier for MoE)
    importance_sampling_level: Literal["token", "sequence"] = "token"
    num_iterations: int = 1  # optimizer passes over each batch of rollouts; > 1 trains on rollouts of an older policy

    def __post_init__(self) -> None:
        _require_steps_and_rate(self.max_steps, self.learning_rate)
        _require(self.per_device_batch_size >= 1, "per_device_batch_size: must be >= 1")
        _require(self.num_iterations >= 1, f"num_iterations: must be >= 1, got {self.num_iterations}")
        _require(self.num_generations >= 2, "num_generations: GRPO needs >= 2 completions per prompt")
        _require(self.logging_steps >= 1 and self.save_steps >= 1, "logging_steps, save_steps: must be >= 1")
        _require(self.temperature > 0, "temperature: must be > 0")


@dataclass
class RLHFStageConfig(RLStageConfig):
    """The rlhf stage: GRPO against the reward model and the rules.

    ``gate_rm_on_rules`` floors the reward model's score of any completion that breaks a rule, so the
    reward model ranks rule-abiding answers and cannot pay for a broken rule
    (:func:`core_training.rewards.gate_on_rules`).
    """

    gate_rm_on_rules: bool = True  # a completion that breaks a rule gets the batch's lowest reward-model score


@dataclass
class EvalConfig:
    """Held-out evaluation.

    ``judge_samples`` > 0 adds a second judge comparison after rlhf/dpo: that many answers per eval item
    sampled (temperature 1) from the new policy and from the previous one, judged pair by pair
    (``judge_sampled/...`` metrics). It compares the two policies' distributions rather than their greedy
    answers, which mostly tie; it costs two sampling passes over the eval set.
    """

    max_items: int = 64  # eval items answered after each stage, at most
    max_new_tokens: int = 256  # tokens per greedy answer
    batch_size: int = 32  # answers generated together
    modes: list[str] = field(default_factory=lambda: ["closed_book", "grounded"])  # question only; question + facts
    # Eval sets measured after each stage: test (never used to choose anything; its metrics carry no
    # prefix), dev (for choosing settings: dev/...), paraphrase (questions written unlike the training
    # templates: paraphrase/...). dev and paraphrase are answered in grounded mode only.
    sets: list[str] = field(default_factory=lambda: ["test", "dev", "paraphrase"])
    judge: str = "rubric"  # rubric: the simulated held-out judge (offline); endpoint: an LLM behind judge_endpoint
    judge_endpoint: str | None = None  # an OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1
    judge_model: str | None = None  # the endpoint's model name (None: the first model it serves)
    judge_api_key_env: str = "VKIT_JUDGE_API_KEY"  # the environment variable holding the endpoint's API key
    judge_seed: int = 1234  # seed of the held-out judge (differs from the panel that made the training pairs)
    judge_samples: int = 0  # sampled answers per item for the second judge comparison; 0 = off

    def __post_init__(self) -> None:
        _require(self.judge_samples >= 0, "judge_samples: must be >= 0")
        for name in ("max_items", "max_new_tokens", "batch_size"):
            _require(getattr(self, name) >= 1, f"{name}: must be >= 1, got {getattr(self, name)}")
        bad_modes = [m for m in self.modes if m not in EVAL_MODES]
        _require(bool(self.modes) and not bad_modes, f"modes: {bad_modes or 'none'}; known: {', '.join(EVAL_MODES)}")
        unknown = [s for s in self.sets if s not in EVAL_SETS]
        _require(not unknown, f"sets: unknown {unknown}; known: {', '.join(EVAL_SETS)}")
        _require("test" in self.sets, "sets: must include 'test' (the metrics the quality bars read)")
        _require(self.judge in ("rubric", "endpoint"), f"judge: expected 'rubric' or 'endpoint', got {self.judge!r}")


@dataclass
class DataConfig:
    """Where the vertical's data comes from."""

    # An imported knowledge graph: the --out directory of `vkit kg import` (or its graph.json); None: the
    # vertical's own generated graph. VKIT_<VERTICAL>_GRAPH is an alias (this key wins when both are set).
    graph: str | None = None


LAUNCHERS = ("none", "accelerate")
DEEPSPEED_CONFIGS = ("zero2", "zero3", "zero3-offload")


@dataclass
class LaunchConfig:
    """How the training stages run: in the ``vkit run`` process (``none``), or each stage under ``accelerate
    launch`` in ``num_processes`` processes, DDP or DeepSpeed ZeRO (docs/scale-out.md). Evaluation, resume and
    the report stay in the ``vkit run`` process."""

    launcher: str = "none"  # none: train in this process; accelerate: each stage under `accelerate launch`
    num_processes: int = 1  # training processes of a stage, all machines together (launcher: accelerate)
    deepspeed: str | None = None  # zero2, zero3 or zero3-offload: DeepSpeed ZeRO with vkit's shipped config; null: DDP
    accelerate_config: str | None = None  # an `accelerate config` file (machines, network); the options above win

    def __post_init__(self) -> None:
        _require(self.launcher in LAUNCHERS, f"launcher: unknown {self.launcher!r}; known: {', '.join(LAUNCHERS)}")
        _require(self.num_processes >= 1, f"num_processes: must be >= 1, got {self.num_processes}")
        _require(self.deepspeed is None or self.deepspeed in DEEPSPEED_CONFIGS,
                 f"deepspeed: unknown {self.deepspeed!r}{_did_you_mean(str(self.deepspeed), DEEPSPEED_CONFIGS)}; "
                 f"known: {', '.join(DEEPSPEED_CONFIGS)}")
        launched = self.num_processes > 1 or self.deepspeed or self.accelerate_config
        _require(self.launcher == "accelerate" or not launched,
                 "num_processes, deepspeed, accelerate_config: need launcher: accelerate (--launcher accelerate)")


def cpu_threads(threads: int | None = None) -> int:
    """``threads``, or when None the CPUs this process may run on (its affinity, e.g. a container's or a
    SLURM job's share, not the whole machine's count).

    >>> cpu_threads(3)
    3
    >>> cpu_threads() >= 1
    True
    """
    if threads is not None:
        return threads
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def graph_env_var(vertical: str) -> str:
    """The environment variable a vertical reads its imported graph from: ``VKIT_<NAME>_GRAPH``.

    >>> graph_env_var("gaokao")
    'VKIT_GAOKAO_GRAPH'
    """
    return f"VKIT_{vertical.upper().replace('-', '_')}_GRAPH"


def validate_stages(stages: Sequence[str]) -> None:
    """Check stage names: known, not repeated, and not both ``dpo`` and ``rlhf``.

    >>> validate_stages(["cpt", "sft", "dpo", "rlhf"])
    Traceback (most recent call last):
    ...
    core_training.config.ConfigError: stages: 'dpo' and 'rlhf' are alternatives; keep one
    """
    for stage in stages:
        hint = _did_you_mean(stage, STAGES)
        _require(stage in STAGES, f"stages: unknown stage {stage!r}{hint}; known: {', '.join(STAGES)}")
    repeated = sorted({s for s in stages if list(stages).count(s) > 1})
    _require(not repeated, f"stages: {repeated} listed more than once")
    _require(not {"dpo", "rlhf"} <= set(stages), "stages: 'dpo' and 'rlhf' are alternatives; keep one")


@dataclass
class MonitorConfig:
    """The training health monitor (:mod:`core_training.monitor`, docs/rl-health.md), in every training stage.

    A signal fires when its condition holds on ``patience`` consecutive logged steps (non-finite loss or
    gradients fire at once); "(from below)" conditions fire only when the value crossed the bound during
    the stage (an input that was already there is not this stage's failure). The stage then stops, its output is the last checkpoint the monitor saw
    healthy (or the stage's input), ``<stage>/health.json`` and ``report.md`` say what fired, and the run
    exits with one line; with ``on_failure: retry`` the stage first runs once more at half the learning rate.
    """

    enabled: bool = True  # watch every training stage
    on_failure: Literal["stop", "retry"] = "stop"  # retry: rerun the stage once from its input at half the lr
    patience: int = 3  # consecutive logged steps a sustained signal must hold before it fires
    loss_blowup: float = 10.0  # supervised stages: loss above this many times the first logged loss
    zero_std_fraction: float = 1.0  # RL: frac_reward_zero_std at or above this (1.0: no group has any reward spread)
    max_kl: float = 1.0  # RL with beta > 0: KL to the reference above this
    entropy_floor: float = 0.1  # RL: token entropy below this fraction of its first logged value
    reward_drop_stds: float = 1.0  # RL: reward below its peak by this many batch reward stds
    length_growth: float = 3.0  # RL: mean completion length above this many times its first logged value
    max_clipped_ratio: float = 0.9  # RL: share of truncated completions at or above this (from below)
    expert_max_share: float = 0.95  # MoE: a layer's top expert gets at least this share of its tokens (from below)
    dead_expert_fraction: float = 0.5  # MoE: at least this share of (layer, expert) pairs get no token (from below)
    save_steps: int | None = None  # save trainer checkpoints at least this often, so a rollback loses fewer steps

    def __post_init__(self) -> None:
        _require(self.patience >= 1, f"patience: must be >= 1, got {self.patience}")
        for name in ("zero_std_fraction", "entropy_floor", "max_clipped_ratio", "expert_max_share",
                     "dead_expert_fraction"):
            _require(0.0 < getattr(self, name) <= 1.0, f"{name}: must be in (0, 1], got {getattr(self, name)}")
        for name in ("loss_blowup", "length_growth"):
            _require(getattr(self, name) > 1.0, f"{name}: must be > 1, got {getattr(self, name)}")
        _require(self.max_kl > 0 and self.reward_drop_stds > 0, "max_kl, reward_drop_stds: must be > 0")
        _require(self.save_steps is None or self.save_steps >= 1, "save_steps: must be >= 1 or null")


@dataclass
class RewardsConfig:
    """How rules run as rewards (:mod:`core_training.rewards`): a rule that raises or overruns its time
    budget scores ``None`` for that sample (TRL skips it) and counts as a failure of that rule."""

    rule_time_budget_s: float | None = 5.0  # seconds one rule may take on one answer; null = no budget
    max_rule_failure_rate: float = 0.5  # a stage stops when one rule fails on more than this share of its answers
    min_rule_calls: int = 32  # ... counted once the rule has scored at least this many answers in the stage

    def __post_init__(self) -> None:
        _require(self.rule_time_budget_s is None or self.rule_time_budget_s > 0, "rule_time_budget_s: must be > 0")
        _require(0.0 <= self.max_rule_failure_rate <= 1.0, "max_rule_failure_rate: must be in [0, 1]")
        _require(self.min_rule_calls >= 1, "min_rule_calls: must be >= 1")


@dataclass
class RunConfig:
    """Everything one ``vkit`` run needs; the defaults are the tiny CPU run."""

    vertical: str = ""  # the registered vertical to train (`vkit verticals` lists them)
    seed: int = 0  # seeds data order, sampling and initialisation
    output: str | None = None  # run directory; None -> runs/<vertical>/<timestamp>. Rerun to resume
    preset: str = "default"  # a named set of overrides: default, or micro (a seconds-scale smoke run)
    stages: list[str] = field(default_factory=lambda: ["cpt", "sft", "rlvr", "rm", "rlhf"])  # in order; dpo replaces rm,rlhf
    threads: int | None = None  # torch CPU threads; None = every CPU this process may use (cpu_threads)
    model: ModelConfig = field(default_factory=ModelConfig)
    lora: LoraConfig = field(default_factory=LoraConfig)
    data: DataConfig = field(default_factory=DataConfig)
    launch: LaunchConfig = field(default_factory=LaunchConfig)  # several processes: docs/scale-out.md
    # Defaults: the tiny CPU run (about 10 minutes for gaokao on 2 cores); how they were chosen:
    # docs/results/history.md.
    cpt: TrainStageConfig = field(default_factory=lambda: TrainStageConfig(max_steps=20, learning_rate=5e-4))
    sft: TrainStageConfig = field(
        default_factory=lambda: TrainStageConfig(max_steps=180, learning_rate=1e-3, logging_steps=20))
    rm: PreferenceStageConfig = field(default_factory=lambda: PreferenceStageConfig(max_steps=40, learning_rate=3e-4))
    dpo: PreferenceStageConfig = field(
        default_factory=lambda: PreferenceStageConfig(max_steps=40, learning_rate=5e-6, on_policy_held_out=0.0))
    rlvr: RLStageConfig = field(default_factory=lambda: RLStageConfig(max_steps=15, learning_rate=5e-6))
    rlhf: RLHFStageConfig = field(
        default_factory=lambda: RLHFStageConfig(max_steps=20, learning_rate=1e-5, rule_weight=2.0, rm_weight=2.0))
    eval: EvalConfig = field(default_factory=EvalConfig)
    monitor: MonitorConfig = field(default_factory=MonitorConfig)
    rewards: RewardsConfig = field(default_factory=RewardsConfig)

    def __post_init__(self) -> None:
        validate_stages(self.stages)
        _require(self.threads is None or self.threads >= 1, f"threads: must be >= 1, got {self.threads}")
        _require(self.preset in PRESETS, f"preset: unknown {self.preset!r}{_did_you_mean(self.preset, PRESETS)}")


def _micro_stage(steps: int, max_length: int = 512) -> dict:
    return dict(max_steps=steps, per_device_batch_size=4, max_length=max_length, logging_steps=1, save_steps=steps)


def _micro_rl(steps: int) -> dict:
    return dict(
        max_steps=steps,
        per_device_batch_size=4,
        num_generations=2,
        max_completion_length=32,
        logging_steps=1,
        save_steps=steps,
    )


PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "micro": {  # a seconds-long end-to-end smoke run
        "cpt": _micro_stage(4, max_length=256),
        "sft": _micro_stage(4, max_length=256),
        "rm": _micro_stage(2),
        "dpo": _micro_stage(2),
        "rlvr": _micro_rl(2),
        "rlhf": _micro_rl(2),
        "eval": {"max_items": 4, "max_new_tokens": 48, "batch_size": 4},
    },
}


DEFAULT_YAML_HEADER = """\
# vkit's defaults: every key of a run's config and its default value, for reference (a run gets these
# with no --config). Generated from core_training/config.py, and a test fails when it drifts; rebuild with
#   python -c "from core_training.config import default_yaml; print(default_yaml(), end='')" > core_training/configs/default.yaml
# To change settings, write a file with only the keys you change and pass it:
#   vkit run gaokao --config my.yaml [key.sub=value ...]
# Precedence, lowest first: these defaults < the vertical's config.yaml < --preset < --config files < key=value.
# docs/configuration.md explains every key.
"""


def default_yaml() -> str:
    """The text of ``core_training/configs/default.yaml``: every key of :class:`RunConfig` with its default."""
    body = yaml.safe_dump(to_dict(RunConfig()), sort_keys=False, allow_unicode=True, default_flow_style=False)
    return DEFAULT_YAML_HEADER + body


def resolve_run_config(
    vertical_overrides: Mapping[str, Any] | None = None,
    yaml_paths: Sequence[str | Path] = (),
    cli_overrides: Sequence[str] = (),
    preset: str | None = None,
) -> RunConfig:
    """Resolve a :class:`RunConfig`. Precedence, lowest first (the one statement of it; tested):

        RunConfig defaults < the vertical's settings (verticals/<v>/config.yaml) < the preset
        < each ``--config`` YAML file in order < each ``key.sub=value`` override in order

    The preset sits above the vertical's own tuning so that ``--preset micro`` shrinks every vertical.
    It is ``preset`` if given, else the last ``preset`` key set by a YAML file or the command line
    (so ``preset=micro`` works there too), else ``"default"``.

    Raises:
        ConfigError: naming the layer (vertical, YAML file, override) that is at fault.
    """
    vertical = _layer(RunConfig, vertical_overrides or {}, "vertical config_overrides", (), ())
    upper = _layer(RunConfig, {}, "config", yaml_paths, cli_overrides)
    name = preset if preset is not None else upper.get("preset", "default")
    if upper.get("preset", name) != name:
        raise ConfigError(f"preset={name!r} was passed but a config layer sets preset {upper['preset']!r}")
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}{_did_you_mean(name, PRESETS)}; known: {sorted(PRESETS)}")
    layered = deep_merge(deep_merge(deep_merge(vertical, PRESETS[name]), upper), {"preset": name})
    cfg = from_dict(RunConfig, layered, where="resolved config")
    return cfg if cfg.threads is not None else dataclasses.replace(cfg, threads=cpu_threads())
