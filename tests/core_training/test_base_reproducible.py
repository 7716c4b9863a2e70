"""`vkit base pretrain` is reproducible across processes: same seed, same bytes.

Two clean full rebuilds once gave two different bases (different tokenizers, copy skill 0.60 vs 0.00):
the corpus generator iterated a set of strings, whose order follows each process's string-hash seed.
These tests build in separate processes with different ``PYTHONHASHSEED`` values, so any dependence on
hash order shows up as a difference.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS_DIGEST = (
    "import hashlib, json\n"
    "from core_training.base.corpus import generate_corpus\n"
    "docs = generate_corpus(400, seed=3) + generate_corpus(200, seed=4, copy_heavy=True)\n"
    "print(hashlib.sha256(json.dumps(docs, ensure_ascii=False).encode()).hexdigest())\n"
)

MICRO_BUILD = (
    "import sys\n"
    "from pathlib import Path\n"
    "from core_training.base.pretrain import BaseConfig, pretrain\n"
    "cfg = BaseConfig(num_documents=300, tokenizer_documents=300, vocab_size=700, hidden_size=32, num_layers=2,\n"
    "                 phase0_layers=1, phase0_steps=2, phase0_max_length=16, phase0_batch_size=2,\n"
    "                 num_heads=2, num_kv_heads=1, num_experts=4, moe_intermediate_size=32, max_length=64,\n"
    "                 batch_size=4, max_steps=3, phase2_documents=100, phase2_max_length=64, phase2_batch_size=4,\n"
    "                 phase2_steps=2, threads=1, eval_items_per_task=1)\n"
    "pretrain(cfg, Path(sys.argv[1]))\n"
)


def _run(code: str, hash_seed: str, *args: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip()


def test_corpus_is_the_same_under_different_hash_seeds():
    digests = {_run(CORPUS_DIGEST, seed) for seed in ("1", "2")}
    assert len(digests) == 1, digests


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_micro_base_build_is_byte_identical_across_processes(tmp_path):
    builds = [tmp_path / "a", tmp_path / "b"]
    for seed, out in zip(("1", "2"), builds):
        _run(MICRO_BUILD, seed, str(out))
    a, b = builds
    assert json.loads((a / "tokenizer.json").read_text()) == json.loads((b / "tokenizer.json").read_text())
    assert _digest(a / "model.safetensors") == _digest(b / "model.safetensors")
    env = json.loads((a / "vkit_base.json").read_text())["environment"]  # bytes are equal on one machine only
    assert env["cpu_capability"] and env["torch"] == json.loads((b / "vkit_base.json").read_text())["environment"]["torch"]
    card = (a / "README.md").read_text()  # the model card names the machine it was built on
    assert f"({env['cpu_capability']}), torch {env['torch']}" in card and "ATEN_CPU_CAPABILITY" in card


def test_a_resumed_build_reuses_the_tokenizer_it_started_with(tmp_path):
    """The tokenizer is trained once per work dir; a resumed build must not retrain it (its checkpoints
    were trained with that vocabulary), even when the corpus it is handed differs."""
    from core_training.base.corpus import generate_corpus
    from core_training.base.pretrain import BaseConfig, _tokenizer

    cfg = BaseConfig(tokenizer_documents=200, vocab_size=600)
    saved = tmp_path / "work" / "tokenizer"
    first = _tokenizer(cfg, generate_corpus(200, seed=1), saved)
    assert (saved / "tokenizer.json").is_file()
    again = _tokenizer(cfg, generate_corpus(200, seed=2), saved)
    fresh = _tokenizer(cfg, generate_corpus(200, seed=2), tmp_path / "other")
    assert again.get_vocab() == first.get_vocab()
    assert fresh.get_vocab() != first.get_vocab()  # the corpus does matter, so reuse is what kept it equal
    assert again.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False) == \
        first.apply_chat_template([{"role": "user", "content": "你好"}], tokenize=False)


MICRO_OVERRIDES = [  # MICRO_BUILD's config, as `vkit base pretrain` key=value overrides
    "num_documents=300", "tokenizer_documents=300", "vocab_size=700", "hidden_size=32", "num_layers=2",
    "phase0_layers=1", "phase0_steps=2", "phase0_max_length=16", "phase0_batch_size=2", "num_heads=2",
    "num_kv_heads=1", "num_experts=4", "moe_intermediate_size=32", "max_length=64", "batch_size=4", "max_steps=3",
    "phase2_documents=100", "phase2_max_length=64", "phase2_batch_size=4", "phase2_steps=2", "threads=1",
    "eval_items_per_task=1",
]


def _cli_build(out: Path, outside_env: dict, *flags: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": "0", **outside_env}
    for key in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS"):
        if key not in outside_env:
            env.pop(key, None)
    result = subprocess.run([sys.executable, "-m", "core_training.cli", "base", "pretrain", "--output", str(out),
                             *flags, *MICRO_OVERRIDES], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _environment(path: Path) -> dict:
    return json.loads((path / "vkit_base.json").read_text())["environment"]


@pytest.mark.slow
def test_the_build_pins_portable_kernels_whatever_the_isa_outside(tmp_path):
    """`vkit base pretrain` builds under PORTABLE_KERNELS, so what the caller's environment selects does not
    reach the bytes. A second CPU is emulated on this one: MKL limited to AVX2 and PyTorch's kernels set to
    their baseline build from outside. ``--native`` keeps the caller's kernels, and there the same outside
    setting does change the bytes: the variables do reach a build that does not pin them."""
    from core_training.environment import has_avx2

    if not has_avx2():
        pytest.skip("portable kernels need AVX2")
    here, other, native = tmp_path / "here", tmp_path / "other", tmp_path / "native"
    built_here = _cli_build(here, {})
    _cli_build(other, {"MKL_ENABLE_INSTRUCTIONS": "AVX2", "ATEN_CPU_CAPABILITY": "default"})
    built_native = _cli_build(native, {"ATEN_CPU_CAPABILITY": "default"}, "--native")
    assert "portable CPU kernels" in built_here.stderr and "portable CPU kernels" not in built_native.stderr
    assert _digest(here / "model.safetensors") == _digest(other / "model.safetensors")
    assert _digest(native / "model.safetensors") != _digest(here / "model.safetensors")
    assert _environment(here)["cpu_capability"] == "AVX2" and _environment(here)["mkl_cbwr"] == "AVX2,STRICT"
    assert _environment(native)["cpu_capability"] == "DEFAULT" and _environment(native)["mkl_cbwr"] == "auto"
    assert "any x86-64 CPU with AVX2" in (here / "README.md").read_text()
    assert "same CPU and PyTorch instruction set" in (native / "README.md").read_text()
