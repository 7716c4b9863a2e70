"""Typed configs: from_dict type checks, overrides, YAML layering, presets and the shipped YAML files."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import pytest

from core_training.config import (
    PRESETS,
    ConfigError,
    RunConfig,
    apply_overrides,
    config_hash,
    from_dict,
    load_config,
    resolve_run_config,
    to_dict,
)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Inner:
    size: int = 1
    ratio: float = 0.5


@dataclass
class Outer:
    name: str
    mode: Literal["fast", "slow"] = "fast"
    maybe: Optional[int] = None
    tags: list[str] = field(default_factory=list)
    pair: tuple[int, ...] = (1, 2)
    inner: Inner = field(default_factory=Inner)


# --------------------------------------------------------------------------- from_dict


def test_from_dict_builds_nested_frozen_dataclass_and_converts_types():
    cfg = from_dict(Outer, {"name": "x", "maybe": 3, "tags": ["a"], "pair": [4, 5], "inner": {"ratio": 2}})
    assert cfg == Outer(name="x", maybe=3, tags=["a"], pair=(4, 5), inner=Inner(size=1, ratio=2.0))
    assert isinstance(cfg.inner.ratio, float) and isinstance(cfg.pair, tuple)


def test_partial_section_keeps_other_defaults():
    cfg = from_dict(RunConfig, {"sft": {"learning_rate": 1e-4}})
    assert cfg.sft.learning_rate == 1e-4 and cfg.sft.max_steps == 180


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": 3}, "name: expected str, got int (3)"),
        ({"name": "x", "mode": "medium"}, "mode: expected one of 'fast', 'slow', got 'medium'"),
        ({"name": "x", "maybe": "3"}, "maybe: expected int | None, got str ('3')"),
        ({"name": "x", "tags": "a"}, "tags: expected list[str], got str ('a')"),
        ({"name": "x", "tags": ["a", 1]}, "tags[1]: expected str, got int (1)"),
        ({"name": "x", "inner": {"size": 1.5}}, "inner.size: expected int, got float (1.5)"),
        ({"name": "x", "inner": {"size": True}}, "inner.size: expected int, got bool (True)"),
        ({"name": "x", "inner": {"ratio": "0.1"}}, "inner.ratio: expected float, got str ('0.1')"),
        ({}, "missing required key 'name'"),
    ],
)
def test_wrong_types_name_key_expected_and_got(data, fragment):
    with pytest.raises(ConfigError) as err:
        from_dict(Outer, data, where="my.yaml")
    assert str(err.value).startswith("my.yaml: ") and fragment in str(err.value)


def test_bool_is_not_an_int_and_int_is_not_a_bool():
    with pytest.raises(ConfigError, match="lora.enabled: expected bool, got int"):
        from_dict(RunConfig, {"lora": {"enabled": 1}})


def test_unknown_key_names_full_dotted_key_and_suggests():
    with pytest.raises(ConfigError) as err:
        from_dict(RunConfig, {"rlvr": {"num_generation": 4}})
    assert "unknown key 'rlvr.num_generation' (did you mean 'rlvr.num_generations'" in str(err.value)


def test_unknown_key_without_close_match_has_no_hint():
    with pytest.raises(ConfigError) as err:
        from_dict(RunConfig, {"zzz": 1})
    assert str(err.value) == "config: unknown key 'zzz'"


def test_initials_suggest_long_names():
    with pytest.raises(ConfigError, match=r"'sft.lr' \(did you mean 'sft.learning_rate'\?\)"):
        from_dict(RunConfig, {"sft": {"lr": 1e-4}})


# --------------------------------------------------------------------------- overrides


def test_apply_overrides_parses_yaml_scalars_and_comma_lists():
    overrides = ["sft.learning_rate=1e-4", "lora.enabled=true", "stages=cpt,sft", "model.base=null"]
    assert apply_overrides({}, overrides, RunConfig) == {
        "sft": {"learning_rate": 1e-4},
        "lora": {"enabled": True},
        "stages": ["cpt", "sft"],
        "model": {"base": None},
    }


def test_apply_overrides_does_not_mutate_input_and_keeps_siblings():
    base = {"sft": {"max_steps": 3}}
    out = apply_overrides(base, ["sft.learning_rate=0.5"], RunConfig)
    assert base == {"sft": {"max_steps": 3}} and out == {"sft": {"max_steps": 3, "learning_rate": 0.5}}


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("stages=sft", ["sft"]),
        ("stages=[cpt, sft]", ["cpt", "sft"]),
        ("stages=", []),
        ("pair=3,4", [3, 4]),
        ("name=123", "123"),  # str field: the raw text, not the int YAML would make
        ("maybe=null", None),
    ],
)
def test_override_values_follow_field_types(override, expected):
    key = override.partition("=")[0]
    cls = RunConfig if key == "stages" else Outer
    assert apply_overrides({}, [override], cls)[key] == expected


def test_override_without_cls_is_plain_yaml():
    assert apply_overrides({}, ["a.b=1,2", "c=[1, 2]"]) == {"a": {"b": "1,2"}, "c": [1, 2]}


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("sft", "not of the form key.sub=value"),
        ("sft..lr=1", "not of the form key.sub=value"),
        ("sft.lerning_rate=1", "unknown key 'sft.lerning_rate' (did you mean 'sft.learning_rate'?)"),
        ("seed.x=1", "'seed' is a value, not a section"),
    ],
)
def test_bad_overrides(override, fragment):
    with pytest.raises(ConfigError) as err:
        apply_overrides({}, [override], RunConfig)
    assert f"override {override!r}" in str(err.value) and fragment in str(err.value)


# --------------------------------------------------------------------------- load_config, to_dict, hash


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_load_config_layers_defaults_yaml_files_then_overrides(tmp_path):
    first = _write(tmp_path / "a.yaml", "seed: 1\nsft:\n  learning_rate: 1e-4\n  max_steps: 7\n")
    second = _write(tmp_path / "b.yaml", "seed: 2\nsft: {max_steps: 9}\n")
    cfg = load_config(RunConfig, [first, second], ["seed=3"])
    assert (cfg.seed, cfg.sft.learning_rate, cfg.sft.max_steps, cfg.sft.per_device_batch_size) == (3, 1e-4, 9, 16)


def test_load_config_errors_name_the_yaml_file(tmp_path):
    good = _write(tmp_path / "good.yaml", "seed: 1\n")
    bad = _write(tmp_path / "bad.yaml", "sft:\n  max_step: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: unknown key 'sft.max_step'"):
        load_config(RunConfig, [good, bad])
    with pytest.raises(ConfigError, match=r"top level must be a mapping"):
        load_config(RunConfig, [_write(tmp_path / "list.yaml", "- 1\n")])
    with pytest.raises(ConfigError, match=r"override 'seed=x': seed: expected int, got str"):
        load_config(RunConfig, [good], ["seed=x"])


def test_to_dict_round_trips_and_is_json_ready():
    cfg = resolve_run_config(cli_overrides=["lora.enabled=true"], preset="micro")
    data = to_dict(cfg)
    assert from_dict(RunConfig, json.loads(json.dumps(data))) == cfg
    assert data == dataclasses.asdict(cfg)


def test_config_hash_is_sha256_of_canonical_json():
    assert config_hash({"b": [1, 2], "a": "é"}) == hashlib.sha256('{"a":"é","b":[1,2]}'.encode()).hexdigest()
    assert config_hash(RunConfig()) == config_hash(RunConfig())
    assert config_hash(RunConfig()) != config_hash(RunConfig(seed=1))


# --------------------------------------------------------------------------- schema, presets, resolve


def test_defaults_are_the_tiny_cpu_run():
    cfg = RunConfig()
    assert cfg.stages == ["cpt", "sft", "rlvr", "rm", "rlhf"] and cfg.threads is None and cfg.model.base is None
    steps = {s: (getattr(cfg, s).max_steps, getattr(cfg, s).learning_rate) for s in ("cpt", "sft", "rm", "dpo")}
    assert steps == {"cpt": (20, 5e-4), "sft": (180, 1e-3), "rm": (40, 3e-4), "dpo": (40, 5e-6)}
    assert (cfg.rlvr.max_steps, cfg.rlvr.learning_rate, cfg.rlhf.max_steps) == (15, 5e-6, 20)
    assert cfg.lora.groups == ["attention", "routed_experts", "shared_experts", "dense_mlp"]
    assert cfg.model.precision == "fp32"


def test_threads_default_to_the_cpus_this_process_may_use():
    import os

    assert resolve_run_config().threads == len(os.sched_getaffinity(0))
    assert resolve_run_config(cli_overrides=["threads=1"]).threads == 1


@pytest.mark.parametrize(
    ("stages", "fragment"),
    [
        (["cpt", "sfft"], "unknown stage 'sfft' (did you mean 'sft'?)"),
        (["sft", "sft"], "['sft'] listed more than once"),
        (["sft", "dpo", "rm", "rlhf"], "'dpo' and 'rlhf' are alternatives"),
    ],
)
def test_stage_validation(stages, fragment):
    with pytest.raises(ConfigError) as err:
        from_dict(RunConfig, {"stages": stages})
    assert fragment in str(err.value)


def test_stage_field_validation_names_the_stage():
    with pytest.raises(ConfigError, match=r"rlhf\.num_generations: GRPO needs >= 2"):
        resolve_run_config(cli_overrides=["rlhf.num_generations=1"])


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ("rm.on_policy_samples=1", r"rm\.on_policy_samples: a pair needs >= 2 answers"),
        ("rm.on_policy_prompts=-1", r"rm\.on_policy_prompts: must be >= 0"),
        ("rm.on_policy_held_out=1.0", r"rm\.on_policy_held_out: must be in \[0, 1\)"),
        ("rm.on_policy_temperature=0", r"rm\.on_policy_temperature: must be > 0"),
        ("eval.judge_samples=-1", r"eval\.judge_samples: must be >= 0"),
    ],
)
def test_on_policy_round_settings_are_checked(override, fragment):
    with pytest.raises(ConfigError, match=fragment):
        resolve_run_config(cli_overrides=[override])


def test_micro_preset_shrinks_every_stage():
    cfg = resolve_run_config(preset="micro")
    for stage in ("cpt", "sft", "rm", "dpo", "rlvr", "rlhf"):
        section = getattr(cfg, stage)
        assert 2 <= section.max_steps <= 4 and section.per_device_batch_size == 4
    assert (cfg.rlvr.num_generations, cfg.rlvr.max_completion_length) == (2, 32)
    assert (cfg.cpt.max_length, cfg.sft.max_length) == (256, 256)
    assert (cfg.eval.max_items, cfg.eval.max_new_tokens, cfg.preset) == (4, 48, "micro")


def test_resolve_order_vertical_preset_yaml_cli(tmp_path):
    vertical = {"sft": {"max_steps": 10, "learning_rate": 0.1, "warmup_ratio": 0.2}, "seed": 5}
    yaml_file = _write(tmp_path / "run.yaml", "sft:\n  learning_rate: 0.2\n  warmup_ratio: 0.3\n")
    cfg = resolve_run_config(vertical, [yaml_file], ["sft.warmup_ratio=0.4"], preset="micro")
    assert (cfg.sft.max_length, cfg.sft.max_steps, cfg.seed) == (256, 4, 5)  # preset beats vertical
    assert (cfg.sft.learning_rate, cfg.sft.warmup_ratio) == (0.2, 0.4)  # YAML, CLI


def test_preset_can_come_from_the_command_line_but_not_twice():
    assert resolve_run_config(cli_overrides=["preset=micro"]).rlvr.num_generations == 2
    with pytest.raises(ConfigError, match="preset='default' was passed"):
        resolve_run_config(cli_overrides=["preset=micro"], preset="default")
    with pytest.raises(ConfigError, match="unknown preset 'mikro' \\(did you mean 'micro'\\?\\)"):
        resolve_run_config(preset="mikro")


def test_vertical_override_errors_name_the_vertical():
    with pytest.raises(ConfigError, match="vertical config_overrides: unknown key 'sft.steps'"):
        resolve_run_config({"sft": {"steps": 3}})


def test_every_preset_resolves():
    for name in PRESETS:
        assert resolve_run_config(preset=name).preset == name


SHIPPED_YAMLS = sorted(REPO.glob("core_training/configs/*.yaml")) + sorted(REPO.glob("verticals/*/configs/*.yaml"))


@pytest.mark.parametrize("path", SHIPPED_YAMLS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_shipped_yaml_loads(path):
    assert isinstance(resolve_run_config(yaml_paths=[path]), RunConfig)


def test_default_yaml_is_the_real_defaults():
    """core_training/configs/default.yaml lists every key with its real default (it once said rlhf weights 1.0
    while the code used 2.0), is what default_yaml() generates, and its header's launch command parses."""
    from core_training.config import cpu_threads, default_yaml, read_yaml, to_dict

    path = REPO / "core_training/configs/default.yaml"
    text = path.read_text(encoding="utf-8")
    assert text == default_yaml(), "stale: regenerate with the command in the file's header"
    assert read_yaml(path) == to_dict(RunConfig())
    machine = dataclasses.replace(RunConfig(), threads=cpu_threads())  # threads: the CPUs this process may use
    assert resolve_run_config(yaml_paths=[path]) == machine
    launches = [line.split("#")[1].strip() for line in text.splitlines() if line.lstrip("# ").startswith("vkit ")]
    from core_training.cli import build_parser

    for launch in launches:
        args = build_parser().parse_args(shlex.split(launch.split("[")[0])[1:])  # "[key.sub=value ...]" is usage
        assert args.command == "run"


def test_precedence_defaults_vertical_preset_config_files_overrides(tmp_path):
    """Each layer wins over the ones below it: defaults < vertical < preset < --config files < key=value."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("sft: {logging_steps: 3, warmup_ratio: 0.3, weight_decay: 0.3}\n")
    second.write_text("sft: {warmup_ratio: 0.4, weight_decay: 0.4}\n")
    vertical = {"sft": {"lr_scheduler_type": "constant", "max_steps": 999, "logging_steps": 7, "warmup_ratio": 0.1}}
    cfg = resolve_run_config(vertical, [first, second], ["sft.weight_decay=0.5"], preset="micro")
    assert cfg.sft.learning_rate == RunConfig().sft.learning_rate  # set nowhere: the default
    assert cfg.sft.lr_scheduler_type == "constant"  # the vertical's, which micro's sft section does not set
    assert cfg.sft.max_steps == 4  # the preset over the vertical
    assert cfg.sft.logging_steps == 3  # a --config file over the preset (micro sets logging_steps=1)
    assert cfg.sft.warmup_ratio == 0.4  # a later --config file over an earlier one
    assert cfg.sft.weight_decay == 0.5  # key=value over every file


def test_vertical_settings_live_in_their_yaml():
    """Each in-repo vertical's settings are its config.yaml (commented), not Python dicts."""
    from core_training.config import read_yaml
    from core_training.registry import get_vertical

    for name in ("gaokao", "auto", "realestate"):
        path = REPO / "verticals" / name / "config.yaml"
        assert get_vertical(name).config_overrides == read_yaml(path)
        assert sum(line.strip().startswith("#") or " # " in line for line in path.read_text().splitlines()) >= 5
