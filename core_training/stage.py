"""What every recipe shares: the stage context, trainer arguments, model preparation, logging, saving.

A recipe (``core_training/recipes/<stage>.py``) reads top to bottom as: build the dataset, build the
TRL config from :func:`trainer_kwargs`, load the model with :func:`load_policy`, make the trainer,
then :func:`fit`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from core_training.config import RunConfig
from core_training.contract import Vertical
from core_training.trl_patches import compact_fused_head, row_blocked_tiles
from core_training.io import append_jsonl, last_checkpoint
from core_training.lora_targets import adapt
from core_training.modeling import freeze_router, load_causal_lm, load_tokenizer
from core_training.precision import trainer_precision
from core_training.moe import MoEMonitor


@dataclass
class StageContext:
    """Where a stage reads from and writes to."""

    cfg: RunConfig
    vertical: Vertical
    stage: str
    input_path: Path  # the policy checkpoint this stage starts from
    work_dir: Path  # the trainer's own checkpoints, for resuming
    run_dir: Path
    reward_model_path: Path | None = None
    preferences: list | None = None  # overrides the vertical's pairs (e.g. an annotation export)
    extra: dict[str, Any] = field(default_factory=dict)  # "callbacks": extra TrainerCallbacks
    # trainer arguments a launcher sets (core_training/launch_worker.py: the DeepSpeed config, the device)
    trainer_overrides: dict[str, Any] = field(default_factory=dict)


class RunLogger(TrainerCallback):
    """Writes every trainer log (plus MoE load metrics) to ``metrics.jsonl`` and TensorBoard."""

    def __init__(self, ctx: StageContext, monitor: MoEMonitor | None):
        self.ctx, self.monitor, self.writer = ctx, monitor, None

    def on_log(self, args, state, control, logs=None, **kwargs):
        moe = self.monitor.pop_metrics() if self.monitor else {}
        if logs is not None:
            logs.update(moe)  # the callbacks after this one (the health monitor) see the expert load too
        if not state.is_world_process_zero:  # in several processes (core_training/launcher.py) rank 0 writes
            return
        if self.writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(self.ctx.run_dir / "tensorboard" / self.ctx.stage))
        row = {**(logs or {}), **moe}
        append_jsonl(self.ctx.run_dir / "metrics.jsonl", {"stage": self.ctx.stage, "step": state.global_step, **row})
        for key, value in row.items():
            if isinstance(value, (int, float)) and math.isfinite(value):
                self.writer.add_scalar(f"{self.ctx.stage}/{key}", value, state.global_step)
        self.writer.flush()

    def on_train_end(self, args, state, control, **kwargs):
        if self.writer is not None:
            self.writer.close()


def trainer_kwargs(ctx: StageContext, stage_cfg) -> dict[str, Any]:
    """Arguments every TRL config shares; stage-specific ones are added by the recipe."""
    import torch

    return {**dict(
        output_dir=str(ctx.work_dir), max_steps=stage_cfg.max_steps, learning_rate=stage_cfg.learning_rate,
        per_device_train_batch_size=stage_cfg.per_device_batch_size,
        gradient_accumulation_steps=getattr(stage_cfg, "gradient_accumulation_steps", 1),
        warmup_steps=float(getattr(stage_cfg, "warmup_ratio", 0.0)), weight_decay=getattr(stage_cfg, "weight_decay", 0.0),
        lr_scheduler_type=getattr(stage_cfg, "lr_scheduler_type", "cosine"), logging_steps=stage_cfg.logging_steps,
        save_steps=stage_cfg.save_steps, save_total_limit=1, seed=ctx.cfg.seed, data_seed=ctx.cfg.seed,
        # TRL's configs default to bf16 + gradient checkpointing; both slow a tiny model on a CPU
        **trainer_precision(ctx.cfg.model.precision, ctx.cfg.model.dtype), gradient_checkpointing=False,
        report_to=[], use_cpu=not torch.cuda.is_available(), dataloader_num_workers=0, save_only_model=False,
        train_sampling_strategy="group_by_length" if getattr(stage_cfg, "group_by_length", False) else "random",
        # tokens for the stage's tokens/s and MFU (GRPO counts prompt + completion tokens itself)
        **({} if ctx.stage in ("rlvr", "rlhf") else {"include_num_input_tokens_seen": "non_padding"}),
    ), **ctx.trainer_overrides}


def weights_source(ctx: StageContext) -> str:
    """Where a full-tuning stage loads its weights: the last trainer checkpoint when resuming.

    The trainer's own resume loads ``model.safetensors`` with a plain ``load_state_dict``, which
    misses fused MoE expert tensors saved in the per-expert layout (transformers converts them only in
    ``from_pretrained``); loading through ``from_pretrained`` first restores every weight, and the
    trainer then restores the optimizer, scheduler, RNG and step.
    """
    resume = last_checkpoint(ctx.work_dir)
    return resume if resume and not ctx.cfg.lora.enabled else str(ctx.input_path)


def load_policy(ctx: StageContext, aux_loss: bool, freeze: bool = False):
    """The starting checkpoint (wrapped with LoRA adapters when ``lora.enabled``), its tokenizer, and None (kept
    for the recipes' ``peft_config=``: the model is wrapped already)."""
    m = ctx.cfg.model
    model = load_causal_lm(weights_source(ctx), m.dtype, m.experts_implementation)
    if hasattr(model.config, "output_router_logits"):
        # the model adds router_aux_loss_coef * aux to its loss; TRL reads `num_experts`, which DeepSeek-V3
        # configs lack (they say n_routed_experts), so those train without the aux loss (logged by MoEMonitor)
        model.config.output_router_logits = aux_loss and hasattr(model.config, "num_experts")
        model.config.router_aux_loss_coef = m.router_aux_loss_coef
    if freeze or m.freeze_router:
        freeze_router(model)
    if ctx.cfg.lora.enabled:  # wrapped here, every requested group checked reached (core_training/lora_targets.py)
        model = adapt(model, ctx.cfg.lora, ctx.extra)
    return model, load_tokenizer(ctx.input_path), None


def grpo_kwargs(c) -> dict[str, Any]:
    """The ``GRPOConfig`` arguments both RL stages (rlvr, rlhf) take from their config ``c``, with vkit's MoE
    RL defaults (the reasons: docs/moe-rl.md).

    No router aux loss, whatever ``model.router_aux_loss_coef`` says: TRL's GRPO otherwise adds the
    architecture's own coefficient (0.001 for Qwen3-MoE), a load-balancing objective from pretraining that
    pulls the policy away from the reward, and that with the router frozen (the default) can only act
    through the layers below it. GSPO (``importance_sampling_level="sequence"``) takes the GSPO paper's
    loss and clipping range, as TRL's documentation gives them.

    >>> from core_training.config import RLStageConfig
    >>> gspo = grpo_kwargs(RLStageConfig(max_steps=1, learning_rate=1e-5, importance_sampling_level="sequence"))
    >>> gspo["router_aux_loss_coef"], gspo["loss_type"], gspo["epsilon"]
    (0.0, 'grpo', 0.0003)
    """
    gspo = dict(loss_type="grpo", epsilon=3e-4, epsilon_high=4e-4) if c.importance_sampling_level == "sequence" else {}
    return dict(num_generations=c.num_generations, max_completion_length=c.max_completion_length,
                temperature=c.temperature, beta=c.beta, num_iterations=c.num_iterations,
                importance_sampling_level=c.importance_sampling_level, router_aux_loss_coef=0.0, **gspo)


def grpo_trainer_class(c, base: type | None = None) -> type:
    """``base`` (TRL's ``GRPOTrainer`` by default) tracking MoE routing from rollout to training: agreement
    logged, replayed when ``c.routing_replay``, routing logits in fp32 (:mod:`core_training.routing`)."""
    from core_training.trl_patches import routed_grpo_trainer

    return routed_grpo_trainer(base, replay=c.routing_replay, fp32=True)


def aux_loss_coef(ctx: StageContext, model) -> float:
    """The router aux-loss weight TRL should apply: 0 where TRL cannot compute it.

    TRL reads ``config.num_experts``, which DeepSeek-V3 configs lack (``n_routed_experts``); those
    models train without the aux loss (their expert load is still logged by :class:`MoEMonitor`).
    """
    return ctx.cfg.model.router_aux_loss_coef if hasattr(model.config, "num_experts") else 0.0


def attach_logging(ctx: StageContext, trainer) -> MoEMonitor:
    monitor = MoEMonitor(trainer.model)
    trainer.add_callback(RunLogger(ctx, monitor if monitor.active else None))
    return monitor


class TrainingClock(TrainerCallback):
    """This attempt's training tokens and seconds (a resumed stage counts only what it trains now), for the
    stage's tokens/s and MFU (:func:`core_training.pipeline.training_speed`)."""

    def __init__(self, extra: dict):
        self.extra, self.start = extra, (0.0, 0)

    def on_train_begin(self, args, state, control, **kwargs):
        import time

        self.start = (time.perf_counter(), int(state.num_input_tokens_seen or 0))

    def on_train_end(self, args, state, control, **kwargs):
        import time

        began, tokens = self.start
        self.extra["clock"] = {"tokens": int(state.num_input_tokens_seen or 0) - tokens,
                               "seconds": time.perf_counter() - began}


def fit(ctx: StageContext, trainer, tokenizer):
    """Train, resuming from the trainer's last checkpoint if there is one; return ``(model, tokenizer)``.

    LoRA adapters are merged so that every stage's output is a plain checkpoint that the next stage,
    the apps and outside tools load by path. The pipeline saves it (atomically, with the stage's
    evaluation); the trainer's final checkpoint in ``ctx.work_dir`` covers a kill in between.
    """
    from core_training.monitor import attach_health, finish, train_watched

    monitor = attach_logging(ctx, trainer)
    health = attach_health(ctx, trainer)  # core_training/monitor.py: stops, rolls back, retries (monitor.*)
    for callback in ctx.extra.get("callbacks", ()):  # e.g. the benchmark's clock
        trainer.add_callback(callback)
    trainer.add_callback(TrainingClock(ctx.extra))
    ctx.extra["trainer"] = trainer
    # TRL's fused LM head skips unlabelled positions on CPU too, and folds its tiles in cache-sized row blocks
    resume = last_checkpoint(ctx.work_dir)
    if resume and trained_steps(resume) >= trainer.args.max_steps:
        restore_final(ctx, trainer, resume)  # resuming there would train one step past max_steps
    else:
        with compact_fused_head(), row_blocked_tiles():  # core_training/trl_patches.py; same numbers, less time
            train_watched(trainer, resume, health)
    monitor.close()
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False
    finish(ctx, health, model, tokenizer)  # after a rollback: writes the stage's output and raises HealthError
    return model, tokenizer


def trained_steps(checkpoint: str) -> int:
    """The optimizer steps a trainer checkpoint holds (its ``trainer_state.json``'s ``global_step``)."""
    import json

    return int(json.loads((Path(checkpoint) / "trainer_state.json").read_text(encoding="utf-8"))["global_step"])


def restore_final(ctx: StageContext, trainer, checkpoint: str) -> None:
    """Take a stage's weights from its final checkpoint without training.

    ``Trainer.train(resume_from_checkpoint=...)`` runs one optimizer step before it checks
    ``max_steps``, so a resume from the last checkpoint would train step ``max_steps + 1``. A full
    tuning stage already loaded the checkpoint's weights (:func:`weights_source`); a LoRA stage loads
    its adapter here.
    """
    if ctx.cfg.lora.enabled and hasattr(trainer.model, "peft_config"):
        trainer._load_from_checkpoint(checkpoint)  # the adapter weights, by the trainer's own reader
