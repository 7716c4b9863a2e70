"""`vkit base from-config`: every shipped published config becomes a small base of the same architecture;
the published configs' traps give a note or a one-line error; a quantised checkpoint loads dequantised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core_training.base.from_config import FromConfigError, clean_published, from_config, read_config_json, shrink

PUBLISHED = Path(__file__).resolve().parents[2] / "core_training" / "assets" / "published_configs"
CONFIGS = sorted(PUBLISHED.glob("*.json"))

# what --shrink must keep: (field, how it may be spelled in the model's config object)
KEPT = {
    "experts": ("num_experts", "num_local_experts", "n_routed_experts"),
    "top_k": ("num_experts_per_tok",),
    "shared": ("n_shared_experts",),
    "groups": ("n_group", "topk_group", "topk_method", "scoring_func", "routed_scaling_factor", "norm_topk_prob"),
    "tied": ("tie_word_embeddings",),
}


def _published_value(data: dict, names: tuple[str, ...]):
    return next((data[n] for n in names if n in data), None)


def test_the_seven_published_models_and_more_are_shipped():
    names = {p.stem for p in CONFIGS}
    assert {"qwen3-30b-a3b", "qwen2-57b-a14b", "qwen3-235b-a22b", "mixtral-8x7b", "deepseek-v3", "olmoe-1b-7b",
            "gpt-oss-20b"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_shrunk_base_keeps_the_architecture(path, tmp_path):
    from transformers import AutoConfig

    published = read_config_json(path)
    meta = from_config(path, tmp_path / "base", log=lambda line: None)
    config = AutoConfig.from_pretrained(tmp_path / "base")
    assert config.model_type == published["model_type"] and meta["parameters"] < 6_000_000
    for names in KEPT.values():
        for name in names:
            if name in published:
                assert getattr(config, name) == published[name], name
    experts = _published_value(published, KEPT["experts"])
    assert experts and _published_value(config.to_dict(), KEPT["experts"]) == experts
    ratio = published["num_attention_heads"] // published["num_key_value_heads"]
    assert config.num_attention_heads // config.num_key_value_heads == ratio  # the GQA ratio
    assert config.num_hidden_layers < published["num_hidden_layers"] and config.hidden_size < published["hidden_size"]
    if published.get("first_k_dense_replace"):
        assert 0 < config.first_k_dense_replace < config.num_hidden_layers  # a dense first layer, then MoE layers
    if "kv_lora_rank" in published:  # MLA: the head dims keep their ratios
        assert config.qk_nope_head_dim / config.v_head_dim == published["qk_nope_head_dim"] / published["v_head_dim"]
        assert config.qk_rope_head_dim / config.v_head_dim == published["qk_rope_head_dim"] / published["v_head_dim"]
    if "layer_types" in published:  # both attention kinds survive the shrink
        assert set(config.layer_types) == set(published["layer_types"])
    assert json.loads((tmp_path / "base" / "vkit_base.json").read_text())["source"] == path.name


def test_deepseek_v3_traps_are_notes_not_crashes(tmp_path):
    notes: list[str] = []
    from_config(PUBLISHED / "deepseek-v3.json", tmp_path / "ds", log=notes.append)
    text = "\n".join(notes)
    assert "quantization_config (fp8) dropped" in text and "auto_map ignored" in text
    assert "torch_dtype=bfloat16" in text and "rope scaling kept: yarn" in text
    saved = json.loads((tmp_path / "ds" / "config.json").read_text())
    assert "quantization_config" not in saved and "auto_map" not in saved
    assert saved["rope_parameters"]["rope_type"] == "yarn" and saved["rope_parameters"]["factor"] == 40


@pytest.mark.parametrize(("data", "fragment"), [
    ({"model_type": "my_moe", "auto_map": {"AutoConfig": "x.Y"}}, "remote code, which vkit never runs"),
    ({"model_type": "my_moe"}, "not in the installed transformers"),
    ({"hidden_size": 8}, "no model_type"),
])
def test_unusable_configs_are_one_line_errors(data, fragment):
    with pytest.raises(FromConfigError, match=fragment):
        clean_published(data, "cfg.json")


def test_bad_json_names_file_and_line(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text('{\n  "model_type": "mixtral",\n  "hidden_size": ,\n}')
    with pytest.raises(FromConfigError, match=r"config.json:3:\d+: invalid JSON"):
        read_config_json(bad)


def test_rejected_values_name_the_file(tmp_path):
    data = read_config_json(PUBLISHED / "mixtral-8x7b.json")
    data["num_key_value_heads"] = 5  # 32 heads are not a multiple of 5
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data))
    with pytest.raises(FromConfigError, match="not a multiple"):
        from_config(path, tmp_path / "out", log=lambda line: None)


def test_full_size_build_is_refused_without_shrink(tmp_path):
    with pytest.raises(FromConfigError, match="pass --shrink"):
        from_config(PUBLISHED / "mixtral-8x7b.json", tmp_path / "out", shrink_it=False, log=lambda line: None)
    assert not (tmp_path / "out").exists()


def test_shrink_keeps_dense_first_and_sparse_step():
    data = {"hidden_size": 1024, "num_attention_heads": 16, "num_key_value_heads": 4, "num_hidden_layers": 24,
            "decoder_sparse_step": 2, "mlp_only_layers": [0, 12], "intermediate_size": 4096,
            "moe_intermediate_size": 512}
    small = shrink(data)
    # layers 0 (dense: mlp_only), 1 (sparse by step), 2 (dense by step): every kind, at its position
    assert small["decoder_sparse_step"] == 2 and small["mlp_only_layers"] == [0]
    assert small["num_hidden_layers"] == 3 and small["moe_intermediate_size"] / small["intermediate_size"] == 0.125


def test_cli_builds_a_base_and_reports_errors_in_one_line(tmp_path):
    cli = [sys.executable, "-m", "core_training.cli", "base", "from-config"]
    ok = subprocess.run([*cli, str(PUBLISHED / "olmoe-1b-7b.json"), "--shrink", "--out", str(tmp_path / "b")],
                        capture_output=True, text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert json.loads(ok.stdout.strip().splitlines()[-1])["model_type"] == "olmoe" and (tmp_path / "b" / "model.safetensors").is_file()
    (tmp_path / "remote.json").write_text(json.dumps({"model_type": "acme_moe", "auto_map": {"AutoConfig": "a.B"}}))
    bad = subprocess.run([*cli, str(tmp_path / "remote.json"), "--shrink", "--out", str(tmp_path / "c")],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1].startswith("vkit: error: ")
    assert "never runs" in bad.stderr and not (tmp_path / "c").exists()


@pytest.mark.parametrize(("quant", "expected"), [
    ({"quant_method": "fp8", "weight_block_size": [128, 128], "fmt": "e4m3"}, "FineGrainedFP8Config"),
    ({"quant_method": "mxfp4"}, "Mxfp4Config"),
    (None, None),
])
def test_quantised_base_loads_dequantised_with_a_message(quant, expected, tmp_path):
    from core_training.modeling import dequantise_kwargs

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "deepseek_v3", "quantization_config": quant}))
    said: list[str] = []
    kwargs = dequantise_kwargs(tmp_path, "bfloat16", log=said.append)
    if expected is None:
        assert kwargs == {} and not said
        return
    assert type(kwargs["quantization_config"]).__name__ == expected and kwargs["quantization_config"].dequantize
    assert len(said) == 1 and "dequantised to bfloat16" in said[0] and expected in said[0]


def test_a_quantisation_vkit_cannot_dequantise_is_refused(tmp_path):
    from core_training.modeling import QuantizedCheckpointError, dequantise_kwargs

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama", "quantization_config": {"quant_method": "gptq"}}))
    with pytest.raises(QuantizedCheckpointError, match="'gptq' cannot be trained as stored"):
        dequantise_kwargs(tmp_path)
