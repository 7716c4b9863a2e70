"""One rank of a stage that :mod:`core_training.launcher` runs under ``accelerate launch``.

    accelerate launch --num_processes 2 --multi_gpu --module core_training.launch_worker RUN/.work/sft-KEY/launch/spec.json

Every rank rebuilds the stage's context from ``spec.json`` and runs the stage's recipe unchanged; the
trainer finds the process group (and the DeepSpeed config, passed as ``TrainingArguments.deepspeed``).
Each rank writes its output to ``rank-<r>.log`` (rank 0 also to the console) and a summary of what it
trained to ``rank-<r>.json``. Then the weights are consolidated into one plain Hugging Face checkpoint
(``model/``; under ZeRO-3 every rank takes part in gathering them) and rank 0 writes ``result.json``.
Under ZeRO-3 the MoE blocks (the modules holding a router's experts) are DeepSpeed leaf modules, through
accelerate's own setting (``ACCELERATE_DEEPSPEED_MOE_LAYER_CLS_NAMES``): otherwise ranks whose tokens
reach different experts wait on each other's parameter fetches forever.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from pathlib import Path

MOE_LEAF_ENV = "ACCELERATE_DEEPSPEED_MOE_LAYER_CLS_NAMES"


class _Tee:
    """A text stream writing to a file and, for rank 0, to the console too."""

    def __init__(self, file, echo):
        self.file, self.echo = file, echo

    def write(self, text):
        self.file.write(text)
        if self.echo is not None:
            self.echo.write(text)
        return len(text)

    def flush(self):
        self.file.flush()
        if self.echo is not None:
            self.echo.flush()

    def isatty(self):
        return False


@contextlib.contextmanager
def rank_output(path: Path, echo: bool):
    """Send this process's Python output (prints, logging, progress bars) to ``path``, and to the console
    too when ``echo``. Entered before transformers is imported, so its log handlers write here."""
    with open(path, "w", encoding="utf-8", buffering=1) as file:
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = _Tee(file, saved[0] if echo else None), _Tee(file, saved[1] if echo else None)
        try:
            yield
        except BaseException:
            import traceback

            traceback.print_exc()  # into the rank's log: the launcher quotes its last line
            raise
        finally:
            sys.stdout, sys.stderr = saved


def moe_block_class_names(checkpoint: str) -> list[str]:
    """Class names of the modules that hold a router's experts (``Qwen3MoeSparseMoeBlock`` ...), found on a
    weightless copy of the checkpoint's architecture."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(checkpoint, local_files_only=True, trust_remote_code=False)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    return sorted({type(m).__name__ for m in model.modules() if isinstance(getattr(m, "experts", None), torch.nn.Module)})


class RankRecorder:
    """Counts the sequences and tokens this rank trained on, and fingerprints its first batch (ranks given
    the same data would show the same fingerprint)."""

    def __init__(self):
        self.examples, self.tokens, self.first_batch = 0, 0, None

    def hook(self, module, args, kwargs):
        import torch

        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None or not (module.training and torch.is_grad_enabled()):
            return  # generation and evaluation forwards are not training
        self.examples, self.tokens = self.examples + ids.shape[0], self.tokens + ids.numel()
        if self.first_batch is None:
            self.first_batch = hashlib.sha256(ids.detach().cpu().numpy().tobytes()).hexdigest()[:16]

    def callback(self):
        from transformers import TrainerCallback

        recorder = self

        class _Attach(TrainerCallback):
            def on_train_begin(self, args, state, control, model=None, **kwargs):
                model.register_forward_pre_hook(recorder.hook, with_kwargs=True)

        return _Attach()


def summary(trainer, recorder: RankRecorder, rank: int) -> dict:
    """What this rank did: its place in the world, the engine, and what it trained on."""
    acc = trainer.accelerator
    plugin = getattr(acc.state, "deepspeed_plugin", None)
    leaves = sum(1 for m in trainer.model.modules() if getattr(m, "_z3_leaf", False))
    return {"rank": rank, "world_size": acc.num_processes, "distributed_type": str(acc.distributed_type),
            "backend": getattr(acc.state, "backend", None), "zero_stage": plugin.zero_stage if plugin else None,
            "z3_leaf_modules": leaves, "moe_leaf_classes": os.environ.get(MOE_LEAF_ENV), "global_step": trainer.state.global_step, "examples": recorder.examples,
            "tokens": recorder.tokens, "first_batch": recorder.first_batch}


def consolidated_state(trainer):
    """The full state dict, gathered from ZeRO-3's shards onto rank 0 (every rank must call this); None where
    each rank holds every weight (DDP, ZeRO-2, or a stage restored from its last checkpoint without training,
    whose weights were never partitioned)."""
    engine = trainer.model_wrapped
    if hasattr(engine, "_zero3_consolidated_16bit_state_dict") and engine.zero_optimization_partition_weights():
        return trainer.accelerator.get_state_dict(engine)
    return None


def json_extra(extra: dict) -> dict:
    """The JSON-serialisable part of a recipe's ``ctx.extra`` (not the trainer or callbacks)."""
    out = {}
    for key, value in extra.items():
        try:
            json.dumps(value)
        except TypeError:
            continue
        out[key] = value
    return out


def save_result(ctx, trainer, model, tokenizer, launch_dir: Path, rank: int) -> None:
    """The consolidated checkpoint in ``launch_dir/model`` and, last, ``result.json`` (rank 0)."""
    import shutil

    from core_training.io import atomic_write_json

    state = consolidated_state(trainer)
    if rank != 0:
        return
    out = launch_dir / "model"
    shutil.rmtree(out, ignore_errors=True)
    model.save_pretrained(out, state_dict=state)
    tokenizer.save_pretrained(out)
    atomic_write_json(launch_dir / "result.json", {"extra": json_extra(ctx.extra)})


def engine_overrides(deepspeed_config: str | None) -> dict:
    """The trainer arguments of a rank: DeepSpeed's config, and on a machine without GPUs a process group
    set up here. (Given a DeepSpeed config, transformers sets accelerate's state up without a backend, which
    on CPU means one process; gloo named here makes it see every rank.)"""
    import torch

    if not deepspeed_config:
        return {}
    overrides = {"deepspeed": deepspeed_config, "use_cpu": False}
    if not torch.cuda.is_available():
        from accelerate import PartialState

        PartialState(backend="gloo")
        overrides["accelerator_config"] = {"use_configured_state": True}
    return overrides


def train_rank(spec: dict, launch_dir: Path, rank: int) -> None:
    import torch

    from core_training.config import RunConfig, from_dict
    from core_training.recipes import recipe
    from core_training.registry import get_vertical
    from core_training.stage import StageContext

    cfg = from_dict(RunConfig, spec["config"], where=str(launch_dir / "spec.json"))
    torch.set_num_threads(cfg.threads)
    overrides = engine_overrides(spec["deepspeed"])
    if spec["deepspeed"] and spec["deepspeed"].endswith(("zero3.json", "zero3-offload.json")):
        os.environ.setdefault(MOE_LEAF_ENV, ",".join(moe_block_class_names(spec["input_path"])))
    recorder = RankRecorder()
    rm = spec["reward_model_path"]
    ctx = StageContext(cfg=cfg, vertical=get_vertical(cfg.vertical), stage=spec["stage"],
                       input_path=Path(spec["input_path"]), work_dir=Path(spec["work_dir"]),
                       run_dir=Path(spec["run_dir"]), reward_model_path=Path(rm) if rm else None,
                       preferences=spec["preferences"], extra={"callbacks": [recorder.callback()]},
                       trainer_overrides=overrides)
    model, tokenizer = recipe(ctx.stage).train(ctx)
    trainer = ctx.extra["trainer"]
    (launch_dir / f"rank-{rank}.json").write_text(json.dumps(summary(trainer, recorder, rank), indent=2) + "\n",
                                                  encoding="utf-8")
    save_result(ctx, trainer, model, tokenizer, launch_dir, rank)
    trainer.accelerator.wait_for_everyone()


def main(argv: list[str] | None = None) -> int:
    spec_path = Path((argv if argv is not None else sys.argv[1:])[0])
    launch_dir, rank = spec_path.parent, int(os.environ.get("RANK", "0"))
    with rank_output(launch_dir / f"rank-{rank}.log", echo=rank == 0):
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        train_rank(spec, launch_dir, rank)
    return 0


if __name__ == "__main__":
    sys.exit(main())
