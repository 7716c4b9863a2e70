"""The training health monitor: a trainer callback in every stage that stops a run going wrong and rolls it back.

It reads what the trainer logs (TRL's GRPO keys: ``reward``, ``reward_std``, ``frac_reward_zero_std``,
``kl``, ``entropy``, ``clip_ratio/*``, ``completions/mean_length``, ``completions/clipped_ratio``,
``rewards/<fn>/mean|std``; every trainer's ``loss`` and ``grad_norm``) and the expert load
(:mod:`core_training.moe`). Each signal below is a condition on one logged row; it fires when it holds on
``monitor.patience`` consecutive logs (``non_finite`` at once). Thresholds: :class:`core_training.config.MonitorConfig`;
what each means and what to do: docs/rl-health.md.

On firing, the stage stops, the model is restored to the last checkpoint the monitor saw healthy (else
the stage's input), which becomes the stage's output; ``<stage>/health.json``, ``health/<stage>.png`` and
report.md's Health section say what fired and what to try; :class:`HealthError` ends the run with one line.
With ``monitor.on_failure: retry`` the stage first runs once more from its input at half the learning rate.

>>> from core_training.config import MonitorConfig
>>> watch = Watch(MonitorConfig(patience=2), rl=True)
>>> [watch.observe(step, {"completions/mean_length": n}) for step, n in [(1, 10), (2, 40), (3, 45)]]
[None, None, 'length_blowup']
>>> watch.fired
{'signal': 'length_blowup', 'step': 3, 'detail': 'mean completion length 45 > 3 x its first 10'}
"""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

from transformers import TrainerCallback

# Signal name -> what it watches (docs/rl-health.md lists thresholds and actions).
SIGNALS = {
    "non_finite": "NaN/inf in the loss or gradient norm",
    "loss_blowup": "loss far above its first logged value (supervised stages)",
    "zero_reward_std": "rewards identical within every group of completions (frac_reward_zero_std)",
    "kl": "KL to the reference above its bound",
    "entropy_collapse": "token entropy collapsed",
    "reward_drop": "reward fell from its peak and stayed down",
    "length_blowup": "mean completion length blew up",
    "truncation": "most completions cut at max_completion_length",
    "expert_load": "one expert takes a layer's tokens, or experts get none",
}
CURVES = ("loss", "grad_norm", "reward", "reward_std", "frac_reward_zero_std", "kl", "entropy",
          "clip_ratio/region_mean", "completions/mean_length", "completions/clipped_ratio", "moe/aux_loss",
          "moe/max_share", "moe/dead_fraction")
SIGNAL_KEYS = {"non_finite": ("loss", "grad_norm"), "loss_blowup": ("loss",), "zero_reward_std": ("frac_reward_zero_std",),
               "kl": ("kl",), "entropy_collapse": ("entropy",), "reward_drop": ("reward",),
               "length_blowup": ("completions/mean_length",), "truncation": ("completions/clipped_ratio",),
               "expert_load": ("moe/max_share", "moe/dead_fraction")}  # a row without them leaves the signal as it was
START_DIR, HEALTHY_DIR = "health-start", "health-ok"  # under the stage's work dir


from core_training.errors import HealthError  # noqa: E402,F401 (raised here; the CLI names it without this module)


def _num(row: dict, key: str) -> float | None:
    value = row.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


class Watch:
    """The signals' state over one training attempt: ``observe(step, row)`` returns the signal that fires."""

    def __init__(self, cfg, rl: bool):
        self.cfg, self.rl = cfg, rl
        self.first: dict[str, float] = {}
        self.streak: dict[str, int] = {}
        self.peak, self.stds = -math.inf, []
        self.watched: set[str] = set()
        self.fired: dict | None = None

    def observe(self, step: int, row: dict) -> str | None:
        """Update every signal with one logged row; the name of the signal that fires now, else None."""
        if self.fired:
            return None
        for name, detail in self.conditions(row).items():
            if not any(k in row for k in SIGNAL_KEYS[name]):
                continue
            self.watched.add(name)
            if detail is None:
                self.streak[name] = 0
                continue
            self.streak[name] = self.streak.get(name, 0) + 1
            if self.streak[name] >= (1 if name == "non_finite" else self.cfg.patience):
                self.fired = {"signal": name, "step": step, "detail": detail}
                return name
        return None

    @property
    def healthy(self) -> bool:
        """No signal fired and none is part-way through its patience."""
        return not self.fired and not any(self.streak.values())

    def conditions(self, row: dict) -> dict[str, str | None]:
        """Each watched signal's detail where its condition holds on ``row``, None where it does not."""
        out, c = {}, self.cfg
        bad = [f"{k}={row[k]}" for k in ("loss", "grad_norm") if _num(row, k) is not None and not math.isfinite(row[k])]
        out["non_finite"] = ", ".join(bad) or None
        if not self.rl:  # a supervised loss starts high and falls; GRPO's hovers near 0
            out["loss_blowup"] = self._above("loss", c.loss_blowup, row, "loss")
        else:  # supervised training is meant to sharpen the model (SFTTrainer logs entropy too)
            out["entropy_collapse"] = self._below_first(row, "entropy", c.entropy_floor)
        out["zero_reward_std"] = self._at_least(row, "frac_reward_zero_std", c.zero_std_fraction,
                                                "share of groups with zero reward std")
        kl = _num(row, "kl")
        out["kl"] = f"kl {kl:.3g} > monitor.max_kl={c.max_kl:g}" if kl is not None and kl > c.max_kl else None
        out["reward_drop"] = self._reward_drop(row)
        out["length_blowup"] = self._above("completions/mean_length", c.length_growth, row, "mean completion length")
        out["truncation"] = self._truncation(row)
        out["expert_load"] = self._expert_load(row)
        return out

    def _first(self, key: str, value: float) -> float:
        if key not in self.first and math.isfinite(value):
            self.first[key] = value
        return self.first.get(key, value)

    def _above(self, key: str, factor: float, row: dict, what: str) -> str | None:
        value = _num(row, key)
        if value is None or not math.isfinite(value):
            return None
        first = self._first(key, value)
        return f"{what} {value:.3g} > {factor:g} x its first {first:.3g}" if first > 0 and value > factor * first else None

    def _below_first(self, row: dict, key: str, floor: float) -> str | None:
        value = _num(row, key)
        if value is None:
            return None
        first = self._first(key, value)
        return f"{key} {value:.3g} < {floor:g} x its first {first:.3g}" if first > 0 and value < floor * first else None

    def _at_least(self, row: dict, key: str, bound: float, what: str) -> str | None:
        value = _num(row, key)
        return f"{what} {value:.3g} >= {bound:g}" if value is not None and value >= bound - 1e-9 else None

    def _reward_drop(self, row: dict) -> str | None:
        reward, std = _num(row, "reward"), _num(row, "reward_std")
        if reward is None:
            return None
        first = self._first("reward", reward)
        if std is not None:
            self.stds.append(std)
        self.peak = max(self.peak, reward)
        scale = self.cfg.reward_drop_stds * (sum(self.stds) / len(self.stds) if self.stds else 0.0)
        if self.peak > first and scale > 0 and reward < self.peak - scale:
            return f"reward {reward:.3g} < its peak {self.peak:.3g} - {self.cfg.reward_drop_stds:g} reward std"
        return None

    def _truncation(self, row: dict) -> str | None:
        value, bound = _num(row, "completions/clipped_ratio"), self.cfg.max_clipped_ratio
        if value is None:
            return None
        first = self._first("completions/clipped_ratio", value)
        return f"{value:.0%} of completions truncated (first {first:.0%})" if first < bound <= value + 1e-9 else None

    def _expert_load(self, row: dict) -> str | None:
        """A layer's top expert share, or the share of dead experts, that crossed its bound during the stage:
        a stage whose input was already unbalanced (the rollback could not help) does not fire."""
        bound = self.cfg.expert_max_share
        for key in sorted(k for k in row if k.startswith("moe/layer_") and k.endswith("/max_share")):
            share = _num(row, key)
            if share is not None and self._first(key, share) < bound <= share:
                layer = key.split("/")[1]
                return f"one expert took {share:.0%} of {layer}'s tokens (monitor.expert_max_share={bound:g})"
        dead, bound = _num(row, "moe/dead_fraction"), self.cfg.dead_expert_fraction
        if dead is not None and self._first("moe/dead_fraction", dead) < bound <= dead:
            return f"{dead:.0%} of experts got no token (monitor.dead_expert_fraction={bound:g})"
        return None


def suggestions(signal: str, stage: str, stage_cfg) -> list[str]:
    """What to try when ``signal`` fired in ``stage`` (concrete overrides from the stage's config).

    >>> from core_training.config import RLStageConfig
    >>> suggestions("zero_reward_std", "rlvr", RLStageConfig(max_steps=4, learning_rate=1e-5, num_generations=4))[0]
    'more completions per prompt: rlvr.num_generations=8'
    """
    lr = getattr(stage_cfg, "learning_rate", None)
    lower = f"a lower learning rate: {stage}.learning_rate={lr / 4:g}" if lr else "a lower learning rate"
    beta = max(2 * getattr(stage_cfg, "beta", 0.0), 0.04)
    kl = f"a higher KL coefficient: {stage}.beta={beta:g}"
    table = {
        "non_finite": [lower, f"longer warmup: {stage}.warmup_ratio=0.1", "model.dtype=float32 (never float16 on CPU)"],
        "loss_blowup": [lower, f"longer warmup: {stage}.warmup_ratio=0.1"],
        "zero_reward_std": [f"more completions per prompt: {stage}.num_generations={2 * getattr(stage_cfg, 'num_generations', 4)}",
                            f"a higher sampling temperature: {stage}.temperature=1.2",
                            "graded rules (partial scores) or prompts the policy sometimes passes"],
        "kl": [kl, lower],
        "entropy_collapse": [kl, lower, f"a higher sampling temperature: {stage}.temperature=1.2"],
        "reward_drop": [lower, kl, "fewer steps: stop near the peak step shown in the curves"],
        "length_blowup": ["a rule that pays for concise answers (a length rule in the vertical)", kl, lower],
        "truncation": ["a rule that pays for concise answers (a length rule in the vertical)",
                       f"a larger {stage}.max_completion_length if answers need it", lower],
        "expert_load": [f"freeze the router: {stage}.freeze_router=true (model.freeze_router=true for cpt/sft)",
                        "a larger model.router_aux_loss_coef (cpt, sft)", lower],
    }
    return table.get(signal, [lower])


# --------------------------------------------------------------------------- checkpoints


def _step_of(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


MODEL_FILES = ("config.json", "generation_config.json", "adapter_config.json")


def keep_model_files(checkpoint: Path, dest: Path) -> None:
    """Hard-link (else copy) a checkpoint's weights and configs into ``dest``, replacing it: the trainer
    deletes old checkpoints (``save_total_limit``), the links keep the files."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for f in checkpoint.iterdir():
        if f.is_file() and (f.name in MODEL_FILES or f.name.endswith(".safetensors") or f.name.endswith(".index.json")):
            try:
                os.link(f, tmp / f.name)
            except OSError:
                shutil.copy2(f, tmp / f.name)
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def load_weights(trainer, source: Path) -> None:
    """Put the weights saved in ``source`` back into ``trainer.model`` (a LoRA model: its adapter)."""
    model = trainer.model
    if hasattr(model, "peft_config"):
        trainer._load_from_checkpoint(str(source))  # the adapter, by the trainer's own reader
        return
    from core_training.modeling import weights_kwargs

    # from_pretrained, not load_state_dict of the file: it converts per-expert tensors to the fused layout
    saved = type(model).from_pretrained(str(source), local_files_only=True, **weights_kwargs())
    model.load_state_dict(saved.state_dict())


# --------------------------------------------------------------------------- the callback


class HealthMonitor(TrainerCallback):
    """Watches one stage's logs (after :class:`core_training.stage.RunLogger` has added the expert load),
    keeps the last healthy checkpoint's weights, and stops training when a signal fires."""

    def __init__(self, ctx, trainer):
        self.ctx, self.trainer, self.cfg = ctx, trainer, ctx.cfg.monitor
        self.rl = ctx.stage in ("rlvr", "rlhf")
        self.watch = Watch(self.cfg, self.rl)
        self.row_sets: list[list[dict]] = [[]]  # the logged rows of each attempt
        self.attempts: list[dict] = []
        self.healthy_step = 0  # the step of the weights in HEALTHY_DIR (0: the stage's start)
        args = trainer.args
        args.logging_nan_inf_filter = False  # a NaN loss is logged as NaN, not replaced by the running mean
        if self.cfg.save_steps:
            args.save_steps = min(args.save_steps, self.cfg.save_steps)

    @property
    def work(self) -> Path:
        return Path(self.ctx.work_dir)

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        start = self.work / START_DIR
        fresh = not start.is_dir()
        self.trainer.accelerator.wait_for_everyone()  # in several processes every rank decides before rank 0 writes
        if fresh:  # the rollback target until a checkpoint is confirmed; save_model gathers ZeRO-3's shards, rank 0 writes
            self.trainer.save_model(str(start))

    def on_log(self, args, state, control, logs=None, **kwargs):
        row = {"step": state.global_step, **{k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}}
        self.row_sets[-1].append(row)
        if self.watch.observe(state.global_step, row):
            control.should_training_stop, control.should_save = True, False
        elif self.watch.healthy:
            self._confirm(state.global_step - 1)

    def _confirm(self, upto: int) -> None:
        """The newest trainer checkpoint at or before step ``upto`` produced healthy logs: keep its weights."""
        found = [p for p in self.work.glob("checkpoint-*") if self.healthy_step < _step_of(p) <= upto]
        if found:
            newest = max(found, key=_step_of)
            if self.trainer.is_world_process_zero():  # one writer in several processes
                keep_model_files(newest, self.work / HEALTHY_DIR)
            self.healthy_step = _step_of(newest)

    def rollback_dir(self) -> Path:
        healthy = self.work / HEALTHY_DIR
        return healthy if healthy.is_dir() else self.work / START_DIR

    def end_attempt(self) -> None:
        """Record the attempt; after a firing, restore the last healthy weights and drop later checkpoints."""
        fired = self.watch.fired
        self.attempts.append({"learning_rate": self.trainer.args.learning_rate, "fired": fired,
                              "rolled_back_to_step": self.healthy_step if fired else None})
        if fired:
            load_weights(self.trainer, self.rollback_dir())
            for p in self.work.glob("checkpoint-*"):
                shutil.rmtree(p, ignore_errors=True)  # a rerun must not resume from an unhealthy checkpoint

    def restart_at_half_lr(self) -> None:
        """Ready a second attempt: the stage's starting weights, half the learning rate, a fresh optimizer."""
        load_weights(self.trainer, self.work / START_DIR)
        shutil.rmtree(self.work / HEALTHY_DIR, ignore_errors=True)
        self.trainer.args.learning_rate /= 2
        self.trainer.optimizer, self.trainer.lr_scheduler = None, None
        self.watch, self.healthy_step = Watch(self.cfg, self.rl), 0
        self.row_sets.append([])

    def report(self) -> dict:
        """What goes into ``<stage>/health.json``."""
        fired = self.watch.fired
        status = "rolled_back" if fired else ("retried" if len(self.attempts) > 1 else "healthy")
        first = next((a["fired"] for a in self.attempts if a["fired"]), None)
        return {"stage": self.ctx.stage, "status": status, "signal": first and first["signal"],
                "step": first and first["step"], "detail": first and first["detail"],
                "rolled_back_to_step": self.attempts[-1]["rolled_back_to_step"] if fired else None,
                "suggestions": suggestions(first["signal"], self.ctx.stage, getattr(self.ctx.cfg, self.ctx.stage))
                if first else [], "watched": sorted(self.watch.watched), "attempts": self.attempts,
                "rule_failures": rule_failures(self.trainer), "plot": f"health/{self.ctx.stage}.png" if first else None}


def rule_failures(trainer) -> dict[str, dict[str, int]]:
    """Per rule reward function, ``{"calls", "failures"}`` in this stage (fault isolation, core_training.rewards)."""
    funcs = getattr(trainer, "reward_funcs", None) or []
    return {f.__name__: f.counts() for f in funcs if hasattr(f, "counts")}


# --------------------------------------------------------------------------- stage hooks


def attach_health(ctx, trainer) -> HealthMonitor | None:
    """The stage's health monitor, added after the run logger (so it sees the expert load); None when off."""
    if not ctx.cfg.monitor.enabled:
        return None
    monitor = HealthMonitor(ctx, trainer)
    trainer.add_callback(monitor)
    return monitor


def train_watched(trainer, resume: str | None, health: HealthMonitor | None) -> None:
    """``trainer.train``; after a firing, roll back and (``on_failure: retry``) train once more at half the lr."""
    trainer.train(resume_from_checkpoint=resume)
    if health is None:
        return
    health.end_attempt()
    if health.watch.fired and health.cfg.on_failure == "retry":
        health.restart_at_half_lr()
        trainer.train()
        health.end_attempt()


def finish(ctx, health: HealthMonitor | None, model, tokenizer) -> None:
    """Record the stage's health; after a firing that stands, write the rolled-back model as the stage's
    output with its diagnosis, update report.md, and raise :class:`HealthError` (one line)."""
    if health is None:
        return
    report = health.report()
    text = json.dumps(report, ensure_ascii=False, indent=1)
    if report["plot"]:
        plot_curves(health.row_sets, report, ctx.run_dir / report["plot"])
    if report["status"] != "rolled_back":
        ctx.extra.setdefault("artifacts", {})["health.json"] = text
        return
    from core_training.io import atomic_dir

    with atomic_dir(ctx.run_dir / ctx.stage) as tmp:  # no vkit_stage.json: a rerun trains the stage again
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "health.json").write_text(text, encoding="utf-8")
    _rewrite_report(ctx.run_dir)
    raise HealthError(failure_line(report))


def failure_line(report: dict) -> str:
    """The one line a stopped run ends with.

    >>> failure_line({"stage": "rlvr", "signal": "kl", "step": 7, "detail": "kl 3 > monitor.max_kl=1",
    ...               "rolled_back_to_step": 5, "suggestions": ["a higher KL coefficient: rlvr.beta=0.04"]})
    'rlvr stopped: health signal kl fired at step 7 (kl 3 > monitor.max_kl=1); rolled back to step 5; try a higher KL coefficient: rlvr.beta=0.04; see rlvr/health.json'
    """
    where = f"step {report['rolled_back_to_step']}" if report["rolled_back_to_step"] else "the stage's input"
    tip = f"; try {report['suggestions'][0]}" if report["suggestions"] else ""
    return (f"{report['stage']} stopped: health signal {report['signal']} fired at step {report['step']} "
            f"({report['detail']}); rolled back to {where}{tip}; see {report['stage']}/health.json")


def _rewrite_report(run_dir: Path) -> None:
    """report.md again, now with the stopped stage's Health entry (the stages table is unchanged)."""
    from core_training.checkpoints import load_json
    from core_training.report import write_report

    path = Path(run_dir) / "report.json"
    if path.is_file():
        write_report(Path(run_dir), load_json(path))


def plot_curves(attempts: list[list[dict]], report: dict, path: Path) -> None:
    """The watched curves by step (each rule's mean reward too), one panel each, the firing step marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    per_rule = sorted({k for rows in attempts for r in rows for k in r if k.startswith("rewards/") and k.endswith("/mean")})
    keys = [k for k in (*CURVES, *per_rule) if any(k in r for rows in attempts for r in rows)]
    if not keys:
        return
    cols = min(3, len(keys))
    fig, axes = plt.subplots(-(-len(keys) // cols), cols, figsize=(5 * cols, 3 * -(-len(keys) // cols)), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for i, rows in enumerate(attempts):
            pts = [(r["step"], r[key]) for r in rows if key in r]
            if pts:
                ax.plot(*zip(*pts), marker=".", label=f"attempt {i + 1}")
        ax.set_title(key, fontsize=9)
        if report["step"] is not None:
            ax.axvline(report["step"], color="red", linestyle="--", linewidth=1)
    for ax in list(axes.flat)[len(keys):]:
        ax.axis("off")
    fig.suptitle(f"{report['stage']}: {report['signal']} fired at step {report['step']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
