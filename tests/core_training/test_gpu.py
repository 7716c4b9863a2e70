"""On a CUDA machine: the whole pipeline on a shrunk Qwen3-30B-A3B in bf16 with LoRA, and the device paths of
generation and evaluation. Skipped without CUDA (tests/conftest.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core_training.base.from_config import from_config

pytestmark = [pytest.mark.gpu, pytest.mark.slow, pytest.mark.timeout(1800)]

QWEN3_30B = Path(__file__).resolve().parents[2] / "core_training" / "assets" / "published_configs" / "qwen3-30b-a3b.json"


def test_pipeline_on_shrunk_qwen3_30b_in_bf16_with_lora(tmp_path):
    base, out = tmp_path / "base", tmp_path / "run"
    from_config(QWEN3_30B, base, log=lambda line: None)
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "run", "gaokao", "--base", str(base), "--preset",
                           "micro", "--output", str(out), "lora.enabled=true", "model.dtype=bfloat16",
                           "model.precision=bf16"], capture_output=True, text=True, timeout=1700)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert [r["stage"] for r in report["stages"]] == ["base", "cpt", "sft", "rlvr", "rm", "rlhf"]
    for stage in ("cpt", "sft", "rlvr", "rm", "rlhf"):
        targets = json.loads((out / stage / "lora_targets.json").read_text())
        assert {row["group"] for row in targets["summary"]} == {"attention", "routed_experts"}
    assert report["stages"][-1]["environment"]["accelerator"] != "none"  # it trained on the GPU


def test_generation_and_perplexity_run_on_the_gpu(tmp_path, toy):
    import torch

    from core_training.evaluate import perplexity
    from core_training.generation import generate
    from core_training.modeling import load_causal_lm, load_tokenizer

    from_config(QWEN3_30B, tmp_path / "base", log=lambda line: None)
    model = load_causal_lm(tmp_path / "base", "bfloat16").to("cuda")
    tok = load_tokenizer(tmp_path / "base")
    answers = generate(model, tok, [[{"role": "user", "content": "你好"}]] * 2, max_new_tokens=4)
    assert len(answers) == 2 and next(model.parameters()).device.type == "cuda"
    assert torch.isfinite(torch.tensor(perplexity(model, tok, ["数字12是一个数。"])))
