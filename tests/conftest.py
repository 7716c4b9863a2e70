"""Shared fixtures: a tiny tokenizer, a tiny Qwen3-MoE built from config, and a toy vertical.

Nothing here touches a hub: the model is built from a config and saved to a temp directory, which
is what every stage loads by path.
"""

from __future__ import annotations

import json
import os
import random
import tempfile

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# vkit's cache (file hashes, the matmul peak) away from the user's own
os.environ.setdefault("VKIT_CACHE_DIR", os.path.join(tempfile.gettempdir(), "vkit-test-cache"))

from core_training.contract import Rule, RuleResult, Vertical  # noqa: E402


def _toy_example(i: int, rng: random.Random) -> dict:
    n = rng.randint(10, 999)
    return {"id": f"toy-{i}", "messages": [{"role": "user", "content": f"数字{n}是多少？"}],
            "answer": f"答案：{n}", "truth": {"n": n}}


def number_copied(response: str, example) -> RuleResult:
    """Passes when the answer states the asked number.

    >>> number_copied("答案：12", {"truth": {"n": 12}}).passed
    True
    """
    want = str(example["truth"]["n"])
    return RuleResult.ok() if want in response else RuleResult.fail(f"{want} not in answer")


def has_prefix(response: str, example) -> RuleResult:
    return RuleResult.ok() if response.startswith("答案") else RuleResult.fail("no 答案 prefix")


def concise(response: str, example) -> RuleResult:
    """A graded rule (up to 10 characters is best, 40 or more scores 0), so rewards vary even for an
    untrained model; like every rule it passes only at score 1.0.

    >>> concise("x" * 10, {}).passed, concise("x" * 25, {}).score, concise("x" * 25, {}).passed
    (True, 0.5, False)
    """
    score = min(1.0, max(0.0, (40 - len(response)) / 30))
    return RuleResult(score, score == 1.0, f"{len(response)} characters")


def toy_vertical() -> Vertical:
    rng = random.Random(0)
    examples = [_toy_example(i, rng) for i in range(40)]
    prefs = [{**ex, "chosen": ex["answer"], "rejected": "答案：0"} for ex in examples]
    corpus = [f"数字{rng.randint(0, 999)}是一个数。" for _ in range(60)]
    return Vertical(
        name="toy", description="copy a number", system_prompt="你是助手。",
        rules=(Rule("number_copied", number_copied), Rule("has_prefix", has_prefix, weight=0.5),
               Rule("concise", concise)),
        retrieve=lambda q: "".join(ch for ch in q if ch.isdigit()) or "无",
        rubric=lambda r, e: {"clarity": 1.0 if len(r) < 12 else 0.5, "accuracy": float(str(e["truth"]["n"]) in r)},
        rubric_dimensions=("clarity", "accuracy"),
        load_graph=dict, load_cpt_corpus=lambda: {"train": corpus[:50], "eval": corpus[50:]},
        load_chains=lambda: examples[:30], load_rl_prompts=lambda: examples[:30],
        load_preferences=lambda: prefs, load_eval_set=lambda: examples[30:],
    )


@pytest.fixture(scope="session")
def toy():
    return toy_vertical()


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory):
    """A tiny Qwen3-MoE (hidden 32, 2 layers, 4 experts, top-2) and its tokenizer, saved by path."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3MoeConfig

    from core_training.tokenizer import train_tokenizer

    texts = [f"数字{i}是多少？答案：{i} 你是助手。无一个数" for i in range(200)]
    tok = train_tokenizer(texts, vocab_size=300, min_frequency=1)
    torch.manual_seed(0)
    config = Qwen3MoeConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, moe_intermediate_size=32, num_experts=4,
                            num_experts_per_tok=2, max_position_embeddings=512, tie_word_embeddings=True,
                            pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id, bos_token_id=None)
    model = AutoModelForCausalLM.from_config(config)
    path = tmp_path_factory.mktemp("tiny-base")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def micro_run(tmp_path_factory):
    """A real run directory, made by the real CLI: `vkit run gaokao --preset micro --stages cpt,sft`.

    Tests that need "what `vkit run` leaves" use this (or copies of it), never a hand-made directory:
    a hand-made one once hid that `vkit app --model RUN_DIR` failed on every real run.
    """
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("micro-run") / "run"
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "run", "gaokao", "--preset", "micro",
                           "--stages", "cpt,sft", "--output", str(out), "threads=1"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture
def read_metrics():
    """``read_metrics(run_dir, stage)``: the rows a stage logged to ``metrics.jsonl``."""

    def read(run_dir, stage: str) -> list[dict]:
        path = run_dir / "metrics.jsonl"
        rows = map(json.loads, path.read_text().splitlines()) if path.exists() else []
        return [r for r in rows if r["stage"] == stage]

    return read


TRAINING_FIXTURES = ("micro_run",)  # fixtures that train a model: a test using one is slow


def pytest_collection_modifyitems(config, items):
    """Tests using a training fixture are marked ``slow``; tests marked ``gpu`` are skipped where no CUDA
    device is present (everything else runs on CPU)."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in TRAINING_FIXTURES):
            item.add_marker(pytest.mark.slow)
    gpu_tests = [item for item in items if item.get_closest_marker("gpu")]
    if not gpu_tests:
        return
    import torch

    if not torch.cuda.is_available():
        for item in gpu_tests:
            item.add_marker(pytest.mark.skip(reason="needs a CUDA device"))
