"""`vkit base pretrain`: build the embedded tiny MoE base from a seed, reproducibly, on a CPU.

Trains the tokenizer (see ``core_training.tokenizer``) and a Qwen3-MoE-architecture model from scratch
on the general synthetic corpus (``core_training.base.corpus``) with the transformers ``Trainer`` on
fixed-length blocks packed by TRL's ``pack_dataset``, then scores its copy/lookup skills on held-out
tasks and writes a model card. Run::

    vkit base pretrain --output core_training/assets/tiny-moe-base   # ~36 min on 2 CPU cores (portable kernels)
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from transformers import DataCollatorForLanguageModeling

from core_training.io import last_checkpoint
from core_training.modeling import SHIPPED_BASE  # noqa: F401 - re-exported: where `vkit base pretrain` writes



@dataclass
class BaseConfig:
    seed: int = 0
    num_documents: int = 160_000
    tokenizer_documents: int = 30_000
    vocab_size: int = 3584
    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    num_experts: int = 8
    experts_per_token: int = 2
    moe_intermediate_size: int = 256
    # phase 0: a shallow model learns to copy on periodic texts, then grows to num_layers (see grow())
    phase0_layers: int = 2
    phase0_steps: int = 800
    phase0_max_length: int = 64
    phase0_batch_size: int = 32
    phase0_learning_rate: float = 1e-3
    # phase 1: broad mix, long blocks, big batches; phase 2: copy-heavy mix, more and smaller updates
    max_length: int = 512
    batch_size: int = 16
    max_steps: int = 800
    learning_rate: float = 2e-3
    phase2_documents: int = 120_000
    phase2_max_length: int = 384
    phase2_batch_size: int = 8
    phase2_steps: int = 2400
    phase2_learning_rate: float = 1.5e-3
    router_aux_loss_coef: float = 0.01
    threads: int = 2
    eval_items_per_task: int = 40


def build_model(cfg: BaseConfig, tokenizer):
    """A randomly initialised Qwen3-MoE sized by ``cfg`` (tied embeddings keep it small)."""
    import torch
    from transformers import AutoModelForCausalLM, Qwen3MoeConfig

    torch.manual_seed(cfg.seed)
    config = Qwen3MoeConfig(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.moe_intermediate_size * 2,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        moe_intermediate_size=cfg.moe_intermediate_size,
        num_experts=cfg.num_experts,
        num_experts_per_tok=cfg.experts_per_token,
        norm_topk_prob=True,
        router_aux_loss_coef=cfg.router_aux_loss_coef,
        output_router_logits=True,  # router aux loss during training; pretrain() turns it off before eval
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=None,
    )
    return AutoModelForCausalLM.from_config(config)


def pretrain(cfg: BaseConfig, output: Path, work_dir: Path | None = None) -> dict:
    """Build tokenizer, corpus and model; train; evaluate; save a checkpoint with a model card."""
    import torch

    from core_training.base.corpus import generate_corpus
    from core_training.base.skills import evaluate_skills
    from core_training.environment import describe
    from core_training.io import atomic_dir, atomic_write_json

    torch.set_num_threads(cfg.threads)
    started = time.time()
    docs = generate_corpus(cfg.num_documents, seed=cfg.seed)
    work_dir = work_dir or output.with_name(output.name + ".work")
    tokenizer = _tokenizer(cfg, docs, work_dir / "tokenizer")
    model, phase0 = _phase0(cfg, tokenizer, work_dir / "phase0")
    phases = [
        (work_dir, docs, cfg.max_length, cfg.batch_size, cfg.max_steps, cfg.learning_rate, 100),
        (work_dir / "phase2", generate_corpus(cfg.phase2_documents, seed=cfg.seed + 1, copy_heavy=True),
         cfg.phase2_max_length, cfg.phase2_batch_size, cfg.phase2_steps, cfg.phase2_learning_rate, 50),
    ]
    trainer = None
    for phase_dir, phase_docs, length, batch, steps, lr, warmup in phases:
        trainer = _train(model, tokenizer, phase_dir, packed_blocks(phase_docs, tokenizer, length), batch, steps, lr,
                         warmup=warmup, seed=cfg.seed)
        model = trainer.model
    train_seconds = time.time() - started
    model.config.output_router_logits = False  # generate() must not compute the aux loss
    skills = evaluate_skills(model, tokenizer, n=cfg.eval_items_per_task, seed=cfg.seed + 10_000)
    with atomic_dir(output) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        meta = {"config": asdict(cfg), "build_seconds": round(train_seconds, 1), "skills": skills,
                "parameters": sum(p.numel() for p in model.parameters()),
                "phase0_final_loss": _final_loss(phase0) if phase0 else None,
                "final_train_loss": _final_loss(trainer), "environment": describe()}
        atomic_write_json(Path(tmp) / "vkit_base.json", meta)
        (Path(tmp) / "README.md").write_text(model_card(meta), encoding="utf-8")
    return meta


def _train(model, tokenizer, phase_dir: Path, dataset, batch: int, steps: int, lr: float, warmup: int, seed: int,
           scheduler: str = "cosine"):
    """One pretraining phase with the transformers ``Trainer``; resumes from the phase's last checkpoint."""
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(
        output_dir=str(phase_dir), max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
        lr_scheduler_type=scheduler, warmup_steps=warmup, weight_decay=0.01, logging_steps=25, save_steps=200,
        save_total_limit=1, seed=seed, report_to=[], use_cpu=True, dataloader_num_workers=0,
    )
    trainer = Trainer(model=model, args=args, train_dataset=dataset,
                      data_collator=DataCollatorForLanguageModeling(tokenizer, mlm=False))
    trainer.train(resume_from_checkpoint=last_checkpoint(phase_dir))
    return trainer


def _phase0(cfg: BaseConfig, tokenizer, phase_dir: Path):
    """Phase 0: a ``phase0_layers``-deep model learns to copy on periodic texts, then grows to full depth.

    Copying needs an induction circuit, and measured on this CPU (docs/experiments/base_copy) it forms
    in a 2-layer model within about 500 steps of periodic texts while the 4-layer model, on the same data
    or on today's phase-1 mix, stays on the copy-nothing plateau for thousands of steps.
    Returns the grown model and the phase's trainer (None when the phase is off).
    """
    from core_training.base.corpus import periodic_corpus

    if cfg.phase0_steps <= 0:
        return build_model(cfg, tokenizer), None
    shallow = build_model(replace(cfg, num_layers=min(cfg.phase0_layers, cfg.num_layers)), tokenizer)
    # one text of length - 1 characters (one token each) plus the separator fills one block exactly
    texts = periodic_corpus(cfg.phase0_steps * cfg.phase0_batch_size, cfg.phase0_max_length - 1, seed=cfg.seed + 2)
    trainer = _train(shallow, tokenizer, phase_dir, packed_blocks(texts, tokenizer, cfg.phase0_max_length),
                     cfg.phase0_batch_size, cfg.phase0_steps, cfg.phase0_learning_rate, warmup=0, seed=cfg.seed,
                     scheduler="constant")
    return grow(trainer.model, cfg, tokenizer), trainer


def grow(shallow, cfg: BaseConfig, tokenizer):
    """A ``cfg``-sized model whose first layers are ``shallow``'s and whose new layers start with zero
    attention and expert outputs, so it computes exactly what ``shallow`` computes (progressive stacking).

    >>> import torch
    >>> from core_training.tokenizer import train_tokenizer
    >>> tok = train_tokenizer(["复述：甲乙丙 答：甲乙丙"] * 20, vocab_size=300)
    >>> tiny = BaseConfig(hidden_size=32, num_layers=3, num_heads=2, num_kv_heads=1, num_experts=2,
    ...                   moe_intermediate_size=16, phase0_layers=1)
    >>> shallow = build_model(replace(tiny, num_layers=1), tok)
    >>> deep = grow(shallow, tiny, tok)
    >>> ids = torch.tensor([[5, 6, 7, 8]])
    >>> deep.config.num_hidden_layers, torch.allclose(deep(input_ids=ids).logits, shallow(input_ids=ids).logits, atol=1e-5)
    (3, True)
    """
    import torch

    if shallow.config.num_hidden_layers == cfg.num_layers:
        return shallow
    deep = build_model(cfg, tokenizer)
    missing, unexpected = deep.load_state_dict(shallow.state_dict(), strict=False)
    if unexpected:
        raise ValueError(f"phase-0 model has weights the full model lacks: {unexpected[:3]}")
    with torch.no_grad():
        for name, param in deep.named_parameters():
            if name in missing and name.endswith(("o_proj.weight", "down_proj")):
                param.zero_()
    return deep


def _tokenizer(cfg: BaseConfig, docs: list[str], saved: Path):
    """Train the BPE tokenizer once and keep it in the work dir: a resumed build reuses that very file,
    so its checkpoints always meet the vocabulary they were trained with."""
    from core_training.base.corpus import _lexicon
    from core_training.io import atomic_dir
    from core_training.modeling import load_tokenizer
    from core_training.tokenizer import train_tokenizer

    if (saved / "tokenizer.json").is_file():
        return load_tokenizer(saved)
    chars = "".join(_lexicon()[3])
    tokenizer = train_tokenizer(docs[: cfg.tokenizer_documents] + [chars, chars], vocab_size=cfg.vocab_size)
    with atomic_dir(saved) as tmp:
        tokenizer.save_pretrained(tmp)
    return tokenizer


def packed_blocks(docs: list[str], tokenizer, length: int):
    """Tokenize documents, join them with ``<|endoftext|>`` and cut fixed-length blocks (TRL's "wrapped")."""
    from datasets import Dataset
    from trl.data_utils import pack_dataset

    sep = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    ids = tokenizer(docs, add_special_tokens=False)["input_ids"]
    ds = Dataset.from_dict({"input_ids": [x + [sep] for x in ids]})
    return pack_dataset(ds, seq_length=length, strategy="wrapped").select_columns(["input_ids"])


def _final_loss(trainer) -> float | None:
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return round(losses[-1], 4) if losses else None


def _built_on(meta: dict) -> str:
    """Where the base was built, from ``meta["environment"]`` (older metadata has none).

    >>> _built_on({"environment": {"cpu": "Xeon", "cpu_capability": "AVX512", "torch": "2.13.0",
    ...                            "trl": "1.16.0", "accelerator": "none"}})
    'Xeon (AVX512), torch 2.13.0, trl 1.16.0, accelerator none'
    >>> _built_on({})
    'a CPU'
    """
    from core_training.environment import summary

    return summary(meta["environment"]) if meta.get("environment") else "a CPU"


def _reproducible_on(meta: dict) -> str:
    """Where a rebuild gives these bytes: any AVX2 CPU when the build pinned the portable kernels.

    >>> _reproducible_on({"environment": {"cpu_capability": "AVX2", "mkl_cbwr": "AVX2,STRICT"}})[:60]
    'Built with portable CPU kernels (`ATEN_CPU_CAPABILITY=avx2 M'
    >>> _reproducible_on({"environment": {"cpu_capability": "AVX512"}})[:48]
    'A rebuild is byte-identical on the same CPU and '
    """
    from core_training.environment import PORTABLE_KERNELS, PORTABLE_PINS

    env = meta.get("environment") or {}
    if env.get("cpu_capability") == "AVX2" and env.get("mkl_cbwr") == PORTABLE_KERNELS["MKL_CBWR"]:
        return (f"Built with portable CPU kernels (`{PORTABLE_PINS}`, what `vkit base pretrain` sets unless `--native`):\n"
                "a rebuild with the same seed, threads and stack versions is byte-identical on any x86-64 CPU with AVX2.")
    return ("A rebuild is byte-identical on the same CPU and PyTorch instruction set (`ATEN_CPU_CAPABILITY`), not\n"
            "across them: another CPU or ISA rounds differently and trains a different base.")


def model_card(meta: dict) -> str:
    """The shipped base's model card (Hugging Face format)."""
    cfg, skills = meta["config"], meta["skills"]
    rows = "\n".join(f"| {k} | {v:.2f} |" for k, v in skills.items())
    return f"""---
license: apache-2.0
library_name: transformers
tags: [vkit, qwen3_moe, tiny, synthetic]
---
# vkit tiny MoE base

A {meta['parameters'] / 1e6:.1f}M-parameter Qwen3-MoE-architecture model ({cfg['num_layers']} layers, hidden
{cfg['hidden_size']}, {cfg['num_experts']} experts, top-{cfg['experts_per_token']} routing, tied embeddings), pretrained
from seed {cfg['seed']} by `vkit base pretrain` in {meta['build_seconds'] / 60:.1f} minutes on {_built_on(meta)}.
{_reproducible_on(meta)}
It is the embedded default that `vkit run` post-trains when no `--base` is given.

## Corpus and schedule
Three phases with TRL's "wrapped" packing and the transformers `Trainer` (router aux loss on).
Phase 0: a {cfg['phase0_layers']}-layer copy of the model trains {cfg['phase0_steps']} steps on periodic texts (a random run of
4-16 characters repeated; only copying predicts them) in {cfg['phase0_max_length']}-token blocks, batch
{cfg['phase0_batch_size']}, constant lr {cfg['phase0_learning_rate']} (final loss {meta.get('phase0_final_loss')}; about 1.7 once copying has formed, about 6.5 on
the copy-nothing plateau), then grows to {cfg['num_layers']} layers, the new ones starting with zero outputs. Then
{cfg['max_steps']} steps on {cfg['num_documents']:,} documents in {cfg['max_length']}-token blocks, batch {cfg['batch_size']},
lr {cfg['learning_rate']}; then {cfg['phase2_steps']} steps on {cfg['phase2_documents']:,} copy-heavy documents in
{cfg['phase2_max_length']}-token blocks, batch {cfg['phase2_batch_size']}, lr {cfg['phase2_learning_rate']} (more, smaller
updates: copying emerged only after a long loss plateau). Documents (`core_training/base/corpus.py`), nothing about any vertical:
table lookups (name→value, id→name, value→row), copying names and numbers, rows rewritten as JSON,
filtering and labelling rows by thresholds stated in the prompt, comparisons, sorting and arithmetic,
field extraction to JSON, about a third in the ChatML chat template, and plain Chinese word sequences
drawn from jieba's frequency dictionary (fluent-looking but meaningless text).

## Tokenizer
Byte-level BPE ({cfg['vocab_size']} entries) where every digit and every CJK character is its own unit,
so unseen names and numbers stay writable. ChatML template with `{{% generation %}}` markers.

## Its own copy/lookup checks (held-out tasks, greedy decoding, whole-answer exact match, {cfg['eval_items_per_task']} items each)
| skill | exact match |
|---|---|
{rows}

## What it cannot do
Exact match on whole answers is a strict bar (one wrong character of a 6-character random name fails
the item); what matters is that post-training can build on it: SFT on the gaokao chains from this base
copies ranks from the prompt correctly (see the README's run table). It knows no facts about the world
and writes no meaningful prose: it is a copying and formatting engine to be post-trained. Final training loss {meta['final_train_loss']}. Do not use it for anything
but testing and demonstrating the vkit pipeline.
"""
