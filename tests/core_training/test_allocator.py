"""core_training.allocator: the malloc tuning the vkit command applies changes speed, never a number."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from core_training.allocator import tune_malloc

pytestmark = pytest.mark.timeout(300)

# A few training steps of a tiny Qwen3-MoE on tensors large enough (16 x 256 x 3584 logits, ~59 MB) that
# glibc would map them fresh every step untuned; prints a digest of the trained weights.
STEPS = """
import hashlib, sys, torch
from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM
from core_training.allocator import tune_malloc
print("tuned", tune_malloc(), file=sys.stderr)
torch.manual_seed(0); torch.set_num_threads(2)
cfg = Qwen3MoeConfig(vocab_size=3584, hidden_size=64, intermediate_size=128, moe_intermediate_size=64,
                     num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                     num_experts=4, num_experts_per_tok=2)
model = Qwen3MoeForCausalLM(cfg)
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
for _ in range(3):
    x = torch.randint(0, cfg.vocab_size, (16, 256))
    model(input_ids=x, labels=x).loss.backward(); opt.step(); opt.zero_grad()
h = hashlib.sha256()
for name, p in sorted(model.state_dict().items()):
    h.update(p.detach().numpy().tobytes())
print(h.hexdigest())
"""


def _trained_digest(tune: str) -> str:
    env = {**os.environ, "VKIT_TUNE_MALLOC": tune, "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", STEPS], env=env, capture_output=True, text=True, check=True)
    applies = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert f"tuned {tune == '1' and applies}" in out.stderr
    return out.stdout.strip()


def test_tuned_and_untuned_training_give_byte_identical_weights():
    untuned, tuned = _trained_digest("0"), _trained_digest("1")
    assert len(untuned) == 64 and untuned == tuned


def test_env_var_turns_it_off(monkeypatch):
    monkeypatch.setenv("VKIT_TUNE_MALLOC", "0")
    assert tune_malloc() is False
