"""Speed of vkit's sft and rlvr stages against plain TRL trainers with their default settings.

Same tiny MoE (the shipped base unless --base), same data (gaokao unless --vertical), same batch size;
each side runs in its own fresh process, one after the other. Prints tokens/s, seconds/step and the ratios.
Sides: ``plain`` (TRL's defaults), ``plain-fp32`` (the same minus bf16 autocast and gradient
checkpointing, which vkit turns off on CPU), ``plain-bf16`` (only gradient checkpointing off: bf16
autocast pays off on CPUs with bf16 matrix units such as AMX) and ``vkit`` (the stage recipe, compact LM
head and row-blocked tile folds included). Each result names the CPU and the ISA PyTorch dispatches to.

    .venv/bin/python bench/bench_train.py --steps 20 [--base PATH] [--threads 2] [--vertical realestate]
                                          [--stages sft,rlvr] [--sides plain,plain-fp32,plain-bf16,vkit]

Not a test: a measurement. Numbers depend on the machine; compare only within one run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _context(stage: str, steps: int, base: str | None, out: Path, threads: int, vertical: str):
    from core_training.config import resolve_run_config
    from core_training.modeling import resolve_base
    from core_training.registry import get_vertical
    from core_training.stage import StageContext

    v = get_vertical(vertical)
    over = [f"{stage}.max_steps={steps}", f"{stage}.save_steps={steps * 10}", f"{stage}.logging_steps=1",
            f"threads={threads}"]
    cfg = resolve_run_config(dict(v.config_overrides), cli_overrides=over)
    return StageContext(cfg=cfg, vertical=v, stage=stage, input_path=resolve_base(base), work_dir=out / "work",
                        run_dir=out)


# The plain sides: TRL's defaults, then with its two GPU-minded defaults turned off one at a time.
# ``plain-fp32`` is what vkit sets on CPU, so vkit/plain-fp32 is what vkit adds beyond settings;
# ``plain-bf16`` keeps bf16 autocast (fast where the CPU has bf16 matrix units, e.g. AMX).
PLAIN_SIDES = {"plain": {}, "plain-fp32": {"bf16": False, "gradient_checkpointing": False},
               "plain-bf16": {"gradient_checkpointing": False}}


def _plain_trainer(stage: str, ctx, steps: int, out: Path, side: str = "plain"):
    """The plain library path: the TRL trainer with its defaults, only batch/steps/lengths matched."""
    import torch
    from trl import GRPOConfig, GRPOTrainer, SFTConfig, SFTTrainer

    from core_training.data import rl_dataset, sft_dataset
    from core_training.modeling import load_causal_lm, load_tokenizer
    from core_training.rewards import reward_functions

    model, tok = load_causal_lm(ctx.input_path), load_tokenizer(ctx.input_path)
    common = dict(output_dir=str(out / "plain"), max_steps=steps, logging_steps=1, report_to=[], save_strategy="no",
                  use_cpu=not torch.cuda.is_available())  # the only change a CPU needs
    common.update(PLAIN_SIDES[side])
    if stage == "sft":
        c = ctx.cfg.sft
        args = SFTConfig(**common, per_device_train_batch_size=c.per_device_batch_size, max_length=c.max_length)
        return SFTTrainer(model=model, args=args, train_dataset=sft_dataset(ctx.vertical, ctx.vertical.load_chains()),
                          processing_class=tok)
    c = ctx.cfg.rlvr
    funcs, weights = reward_functions(ctx.vertical)
    args = GRPOConfig(**common, per_device_train_batch_size=c.per_device_batch_size, num_generations=c.num_generations,
                      max_completion_length=c.max_completion_length, reward_weights=weights)
    return GRPOTrainer(model=model, reward_funcs=funcs, args=args, processing_class=tok,
                       train_dataset=rl_dataset(ctx.vertical, ctx.vertical.load_rl_prompts()))


def _tokens(trainer) -> float:
    hist = [h for h in trainer.state.log_history if "num_tokens" in h]
    return float(hist[-1]["num_tokens"]) if hist else float("nan")


def measure(side: str, stage: str, steps: int, base: str | None, threads: int, vertical: str = "gaokao") -> dict:
    """Run one side in this process; returns seconds/step (after a warm-up step) and tokens/s.

    The side's checkpoints and logs go to a temporary directory that is removed afterwards.
    """
    with tempfile.TemporaryDirectory(prefix=f"bench-{side}-{stage}-") as out:
        return _measure(side, stage, steps, base, threads, vertical, Path(out))


def _measure(side: str, stage: str, steps: int, base: str | None, threads: int, vertical: str, out: Path) -> dict:
    import torch
    from transformers import TrainerCallback

    torch.set_num_threads(threads)
    ctx = _context(stage, steps, base, out, threads, vertical)
    stamps: list[float] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            stamps.append(time.perf_counter())

    if side == "vkit":
        from core_training.allocator import tune_malloc
        from core_training.recipes import recipe

        tune_malloc()  # as the vkit command does at start

        ctx.extra["callbacks"] = [Clock()]
        recipe(stage).train(ctx)
        trainer = ctx.extra["trainer"]
    else:
        trainer = _plain_trainer(stage, ctx, steps, out, side)
        trainer.add_callback(Clock())
        trainer.train()
    per_step = (stamps[-1] - stamps[0]) / max(len(stamps) - 1, 1)
    tokens = _tokens(trainer)
    return {"side": side, "stage": stage, "steps": steps, "s_per_step": per_step,
            "tokens_per_s": tokens / len(stamps) / per_step if tokens == tokens else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--base")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--stages", default="sft,rlvr")
    ap.add_argument("--vertical", default="gaokao")
    ap.add_argument("--sides", default="plain,plain-fp32,vkit",
                    help="plain: TRL defaults; plain-fp32: minus bf16 and gradient checkpointing; "
                         "plain-bf16: minus gradient checkpointing only")
    ap.add_argument("--one", nargs=2, metavar=("SIDE", "STAGE"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    unknown = [s for s in a.sides.split(",") if s != "vkit" and s not in PLAIN_SIDES]
    if unknown:
        ap.error(f"--sides: unknown side(s) {unknown}; choose from vkit, {', '.join(PLAIN_SIDES)}")
    if a.one:
        print("RESULT " + json.dumps(measure(a.one[0], a.one[1], a.steps, a.base, a.threads, a.vertical)))
        return
    results = {}
    for stage in a.stages.split(","):
        for side in a.sides.split(","):
            cmd = [sys.executable, __file__, "--one", side, stage, "--steps", str(a.steps), "--threads", str(a.threads),
                   "--vertical", a.vertical]
            cmd += ["--base", a.base] if a.base else []
            proc = subprocess.run(cmd, capture_output=True, text=True)
            line = [l for l in proc.stdout.splitlines() if l.startswith("RESULT ")]
            if not line:
                sys.exit(f"{side} {stage} failed:\n{proc.stderr[-3000:]}")
            results[(side, stage)] = json.loads(line[0][7:])
    from core_training.environment import describe, summary

    print(f"measured on {summary(describe())}, {a.threads} threads, {a.steps} steps, {a.vertical}")
    print(f"{'stage':6s} {'side':10s} {'s/step':>8s} {'tokens/s':>10s}")
    for (side, stage), r in results.items():
        print(f"{stage:6s} {side:10s} {r['s_per_step']:8.3f} {r['tokens_per_s']:10.0f}")
    for stage in a.stages.split(","):
        v = results.get(("vkit", stage))
        for side in [s for s in a.sides.split(",") if s != "vkit"]:
            p = results[(side, stage)]
            if v:
                print(f"{stage}: vkit/{side} tokens/s = {v['tokens_per_s'] / p['tokens_per_s']:.2f}x, "
                      f"{side}/vkit s/step = {p['s_per_step'] / v['s_per_step']:.2f}x")


if __name__ == "__main__":
    main()
