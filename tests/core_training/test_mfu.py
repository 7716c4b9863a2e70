"""MFU: the throughput arithmetic (hand-derived), active parameters of a tiny MoE, and the peak measured once."""

from __future__ import annotations

import math

import pytest

from core_training.mfu import active_parameters, matmul_peak, measure_matmul_peak, stage_throughput


def test_stage_throughput_by_hand():
    # 1,000 tokens/s x 6 FLOPs x 1M parameters = 6 GFLOP/s, a tenth of a 60 GFLOP/s peak
    result = stage_throughput(tokens=30_000, parameters=1_000_000, seconds=30, peak_flops=60e9)
    assert result == {"tokens_per_second": 1000.0, "model_flops_per_second": 6e9, "mfu": 0.1}
    assert stage_throughput(30_000, 1_000_000, 30, 60e9, flops_per_parameter=2)["mfu"] == pytest.approx(1 / 30, abs=1e-4)
    with pytest.raises(ValueError, match="seconds"):
        stage_throughput(1, 1, 0, 1e9)


def test_active_parameters_count_top_k_of_the_routed_experts(tiny_base):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_base)
    total = sum(p.numel() for p in model.parameters())
    routed = sum(p.numel() for n, p in model.named_parameters() if ".experts." in n)
    assert routed > 0
    top_k, experts = model.config.num_experts_per_tok, model.config.num_experts  # 2 of 4
    assert active_parameters(model) == round(total - routed / 2) == round(total - routed + routed * top_k / experts)


def test_the_peak_is_measured_once_and_cached(tmp_path):
    calls = []

    def measure(dtype):
        calls.append(dtype)
        return 1.5e11

    path = tmp_path / "peak.json"
    assert matmul_peak("fp32", cache=path, measure=measure) == 1.5e11
    assert matmul_peak("fp32", cache=path, measure=measure) == 1.5e11
    assert calls == ["fp32"]
    matmul_peak("bf16", cache=path, measure=measure)
    matmul_peak("fp32", cache=path, refresh=True, measure=measure)
    assert calls == ["fp32", "bf16", "fp32"]
    path.write_text("{not json", encoding="utf-8")
    assert matmul_peak("fp32", cache=path, measure=measure) == 1.5e11 and len(calls) == 4
    with pytest.raises(ValueError, match="fp16"):
        matmul_peak("fp16", cache=path, measure=measure)


def test_a_real_measurement_is_a_plausible_rate():
    flops = measure_matmul_peak("fp32", size=256, repeats=2)
    assert math.isfinite(flops) and 1e8 < flops < 1e16
