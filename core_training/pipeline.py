"""`vkit run`: base → cpt → sft → rlvr → rm → rlhf (or dpo), evaluating the base and every stage.

Each stage writes ``RUN/<stage>/`` atomically: the checkpoint plus ``vkit_stage.json`` (its key,
metrics and wall time). A stage whose directory holds a matching key (a hash of its config, its
input's key and the data) is skipped on a rerun; an interrupted stage resumes from the trainer's last
checkpoint in ``RUN/.work/<stage>-<key>`` (a changed config never resumes from a stale checkpoint).
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from core_training.checkpoints import load_json
from core_training.config import RunConfig, config_hash, cpu_threads, to_dict
from core_training.contract import Vertical
from core_training.io import atomic_dir, atomic_write_json, last_checkpoint, read_jsonl
from core_training.modeling import load_causal_lm, load_tokenizer, resolve_base
from core_training.rundir import checkpoint_step, clean_stale_dirs, read_stage_file, run_lock, trim_metrics

POLICY_STAGES = ("cpt", "sft", "rlvr", "rlhf", "dpo")
STAGE_FILE = "vkit_stage.json"


@dataclass
class StageRecord:
    stage: str
    key: str
    wall_seconds: float
    metrics: dict
    checkpoint: str
    extra: dict = field(default_factory=dict)
    environment: dict = field(default_factory=dict)  # core_training.environment.describe() where it ran
    eval_key: str = ""  # the evaluation settings and sets the metrics were measured with (see eval_key)

    def row(self) -> dict:
        row = {"stage": self.stage, "wall_seconds": round(self.wall_seconds, 1), "metrics": self.metrics,
               "checkpoint": self.checkpoint}
        return {**row, "environment": self.environment} if self.environment else row


def default_output(vertical: str) -> Path:
    return Path("runs") / vertical / time.strftime("%Y%m%d-%H%M%S")


def data_fingerprint(vertical: Vertical, preferences: list | None) -> str:
    """A hash of every dataset the training stages read, so changed data is never mistaken for a finished
    stage. The evaluation sets are not in it: they are in :func:`eval_key`, and a change there re-evaluates."""
    from core_training.data import preference_pairs

    data = {"chains": vertical.load_chains(), "rl": vertical.load_rl_prompts(),
            "prefs": preference_pairs(vertical, preferences), "cpt": vertical.load_cpt_corpus(),
            "system": vertical.system_prompt}
    return config_hash(data)


def stage_key(cfg: RunConfig, stage: str, input_key: str, data_key: str) -> str:
    """What a stage's training depends on: its config, the model settings, the seed, its input and the data.
    Evaluation settings are not part of it (a changed ``eval.*`` re-evaluates, it never retrains). A launcher's
    processes and engine are (N processes train on N times the batch, and DeepSpeed's checkpoints resume only
    under DeepSpeed); the key of a stage trained in the ``vkit run`` process is what it always was."""
    stage_cfg = to_dict(getattr(cfg, stage)) if hasattr(cfg, stage) else {}
    launch = {"launch": to_dict(cfg.launch)} if cfg.launch.launcher != "none" else {}
    return config_hash({"stage": stage, "stage_cfg": stage_cfg, "model": to_dict(cfg.model), "lora": to_dict(cfg.lora),
                        "seed": cfg.seed, "input": input_key, "data": data_key, **launch})[:16]


def eval_key(cfg: RunConfig, vertical: Vertical) -> str:
    """What a stage's metrics depend on besides its checkpoint: the eval settings and the eval sets."""
    return config_hash({"eval": to_dict(cfg.eval), "sets": eval_sets(vertical, cfg), "seed": cfg.seed,
                        "system": vertical.system_prompt})[:16]


def load_record(stage_dir: Path, key: str) -> StageRecord | None:
    """The finished stage in ``stage_dir`` if its key matches, else None (a stale or foreign stage)."""
    path = stage_dir / STAGE_FILE
    if not path.is_file():
        return None
    rec = read_stage_file(path)  # None (with a warning) if corrupt: the stage runs again
    return StageRecord(**rec) if rec and rec.get("key") == key else None


def base_key(base_path: Path) -> str:
    """A hash of the base checkpoint's file contents (so a base retrained in place never reuses a stage).

    Each file's sha256 is cached by path, size and modification time (:func:`core_training.io.file_sha256`),
    so a large base is read once, not on every run.
    """
    from core_training.io import file_sha256

    files = sorted(p for p in base_path.iterdir() if p.is_file())
    return config_hash({"files": [(p.name, file_sha256(p)) for p in files]})[:16]


def samples_of(run_dir: Path, stage: str, eval_set: str = "test") -> dict[str, list[str]]:
    """A finished stage's answers to one eval set, by mode (rows without a ``set`` are the test set's)."""
    path = run_dir / stage / "samples.jsonl"
    rows = read_jsonl(path) if path.is_file() else []
    out: dict[str, list[str]] = {}
    for row in rows:
        if row.get("set", "test") == eval_set:
            out.setdefault(row["mode"], []).append(row["response"])
    return out


def set_prefix(name: str) -> str:
    """Metric keys of the test set have no prefix (``grounded/all_rules_pass``); others are ``dev/...``."""
    return "" if name == "test" else f"{name}/"


def evaluate_stage(stage: str, model, tokenizer, vertical: Vertical, cfg: RunConfig, run_dir: Path,
                   prev_policy: str | None, extra: dict | None = None, preferences: list | None = None
                   ) -> tuple[dict, dict[str, dict[str, list[str]]]]:
    """The metrics a stage reports, and its answers by eval set and mode.

    Policies: rule pass rates with intervals per mode on the test set (no key prefix) and, in grounded
    mode, on the dev and paraphrase sets (``dev/...``, ``paraphrase/...``); perplexity; after rlhf/dpo the
    judge's comparison with the previous policy on each set. The rm stage: accuracy on the held-out pairs
    of the very split it trained on, overall and per source (``rm/accuracy/export``), and the pair counts.
    ``extra`` is what the stage's recipe left in ``StageContext.extra``.
    """
    from core_training.evaluate import evaluate_policy, perplexity

    extra = extra or {}
    metrics = {f"{stage}/train_pairs/{src}": n for src, n in extra.get("train_pairs", {}).items()}
    if stage == "rm":
        return {**metrics, **rm_metrics(model, tokenizer, vertical, preferences, extra)}, {}
    samples: dict[str, dict[str, list[str]]] = {}
    for name, examples in eval_sets(vertical, cfg).items():
        modes = cfg.eval.modes if name == "test" else [m for m in cfg.eval.modes if m == "grounded"]
        found, samples[name] = evaluate_policy(model, tokenizer, vertical, examples, modes, cfg.eval.max_new_tokens,
                                               cfg.eval.batch_size)
        metrics.update({set_prefix(name) + k: v for k, v in found.items()})
    metrics["perplexity"] = perplexity(model, tokenizer, vertical.load_cpt_corpus()["eval"])
    if stage in ("rlhf", "dpo") and prev_policy:
        metrics.update(judge_stage(model, tokenizer, vertical, cfg, run_dir, prev_policy, samples))
    return metrics, samples


def rm_metrics(model, tokenizer, vertical: Vertical, preferences: list | None, extra: dict) -> dict:
    """``rm/accuracy`` on the held-out pairs (never trained on), per source, and the held-out counts."""
    from core_training.data import pair_source, preference_pairs, source_counts, split_pairs
    from core_training.evaluate import reward_model_accuracy

    _, held_out = split_pairs(preference_pairs(vertical, preferences))
    metrics = {"rm/accuracy": reward_model_accuracy(model, tokenizer, vertical, held_out)}
    for source, n in source_counts(held_out).items():
        metrics[f"rm/held_out_pairs/{source}"] = n
        mine = [p for p in held_out if pair_source(p) == source]
        metrics[f"rm/accuracy/{source}"] = reward_model_accuracy(model, tokenizer, vertical, mine)
    on_policy = extra.get("on_policy_held_out")
    if on_policy:
        metrics["rm/on_policy_accuracy"] = reward_model_accuracy(model, tokenizer, vertical, on_policy)
    return metrics


def judge_stage(model, tokenizer, vertical: Vertical, cfg: RunConfig, run_dir: Path, prev_policy: str,
                samples: dict[str, dict[str, list[str]]]) -> dict:
    """The judge's wins/losses/ties of this policy's grounded answers over the previous policy's, per eval set
    (``judge_win_rate_vs_previous`` on test, ``dev/judge_win_rate_vs_previous`` ...), and the sampled judge."""
    from core_training.judge import judge_for, rate_of, verdict_counts

    judge, metrics, sets = judge_for(vertical, cfg.eval), {}, eval_sets(vertical, cfg)
    for name, answers in samples.items():
        old = samples_of(run_dir, prev_policy, name).get("grounded")
        if "grounded" not in answers or not old:
            continue
        counts = verdict_counts(judge, answers["grounded"], old, sets[name])
        metrics[f"{set_prefix(name)}judge_win_rate_vs_previous"] = rate_of(counts)
        metrics.update(judge_metrics(f"{set_prefix(name)}judge", counts))
    if cfg.eval.judge_samples:
        previous = Path(load_json(run_dir / prev_policy / STAGE_FILE)["checkpoint"])  # the base's is its path
        metrics.update(sampled_judge(judge, model, tokenizer, vertical, cfg, previous, sets["test"]))
    return metrics


def judge_metrics(prefix: str, counts: dict[str, int]) -> dict:
    """``<prefix>/{wins,losses,ties}_vs_previous`` and the sign test's ``<prefix>/sign_test_p_vs_previous``."""
    from core_training.judge import sign_test_p

    return {**{f"{prefix}/{k}_vs_previous": v for k, v in counts.items()},
            f"{prefix}/sign_test_p_vs_previous": sign_test_p(counts)}


def sampled_judge(judge, model, tokenizer, vertical: Vertical, cfg: RunConfig, previous: Path, examples) -> dict:
    """``judge_sampled/...``: the judge on ``eval.judge_samples`` sampled answers per item from each policy."""
    from core_training.evaluate import sampled_judge_counts
    from core_training.judge import rate_of

    counts = sampled_judge_counts(judge, vertical, examples, (model, tokenizer), open_policy(previous, cfg),
                                  cfg.eval.judge_samples, cfg.eval.max_new_tokens, cfg.eval.batch_size, cfg.seed)
    return {"judge_sampled/win_rate_vs_previous": rate_of(counts), **judge_metrics("judge_sampled", counts)}


def sample_lines(samples: dict[str, dict[str, list[str]]], sets: dict[str, list]) -> str:
    """``samples.jsonl``: one ``{"set", "mode", "id", "response"}`` row per answer."""
    lines = [json.dumps({"set": name, "mode": mode, "id": ex["id"], "response": r}, ensure_ascii=False)
             for name, by_mode in samples.items() for mode, rs in by_mode.items() for ex, r in zip(sets[name], rs)]
    return "\n".join(lines) + ("\n" if lines else "")


def write_stage(stage_dir: Path, record: StageRecord, samples_text: str, model, tokenizer, save_checkpoint: bool,
                artifacts: dict[str, str] | None = None) -> None:
    """Write one finished stage (checkpoint, samples, ``artifacts`` as name -> text, record) into place
    with a single rename."""
    with atomic_dir(stage_dir) as tmp:
        for name, text in (artifacts or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        if save_checkpoint:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        (tmp / "samples.jsonl").write_text(samples_text, encoding="utf-8")
        atomic_write_json(tmp / STAGE_FILE, record.__dict__)


def run_stage(stage: str, key: str, cfg: RunConfig, vertical: Vertical, run_dir: Path, policy_path: Path,
              rm_path: Path | None, prev_policy: str | None, preferences: list | None) -> StageRecord:
    """Train (unless ``base``), evaluate, and write ``RUN/<stage>/`` atomically."""
    from core_training.environment import describe
    from core_training.launcher import train_stage
    from core_training.stage import StageContext

    started, extra = time.time(), {}
    if stage == "base":
        model, tokenizer = open_policy(policy_path, cfg)
    else:
        ctx = StageContext(cfg=cfg, vertical=vertical, stage=stage, input_path=policy_path,
                           work_dir=run_dir / ".work" / f"{stage}-{key}", run_dir=run_dir, reward_model_path=rm_path,
                           preferences=preferences)
        model, tokenizer = train_stage(ctx)  # in this process, or under accelerate launch (core_training/launcher.py)
        extra = ctx.extra
    trained = time.time()
    metrics, samples = evaluate_stage(stage, model, tokenizer, vertical, cfg, run_dir, prev_policy, extra, preferences)
    metrics.update(training_speed(stage, extra.get("clock"), model, cfg))
    metrics.update(rule_failure_metrics(extra.get("artifacts", {}).get("health.json")))
    checkpoint = str(policy_path) if stage == "base" else str(run_dir / stage)
    timing = {"train_seconds": round(trained - started, 1), "eval_seconds": round(time.time() - trained, 1)}
    record = StageRecord(stage, key, time.time() - started, metrics, checkpoint, extra=timing,
                         environment=describe(), eval_key=eval_key(cfg, vertical))
    write_stage(run_dir / stage, record, sample_lines(samples, eval_sets(vertical, cfg)), model, tokenizer,
                stage != "base", extra.get("artifacts"))
    return record


def rule_failure_metrics(health_text: str | None) -> dict[str, int]:
    """``train/rule_calls/<rule>`` and ``train/rule_failures/<rule>`` (a rule that raised or overran its time
    budget while scoring this stage's rollouts) from the stage's ``health.json``; empty without RL rewards.

    >>> rule_failure_metrics('{"rule_failures": {"gaokao/tiers_ordered": {"calls": 480, "failures": 2}}}')
    {'train/rule_calls/gaokao/tiers_ordered': 480, 'train/rule_failures/gaokao/tiers_ordered': 2}
    """
    counts = json.loads(health_text).get("rule_failures") or {} if health_text else {}
    out = {}
    for rule, c in counts.items():
        out[f"train/rule_calls/{rule}"], out[f"train/rule_failures/{rule}"] = c["calls"], c["failures"]
    return out


def training_speed(stage: str, clock: dict | None, model, cfg: RunConfig) -> dict:
    """``train/tokens_per_second`` and ``train/mfu`` of a stage's training (this attempt's), against this machine's
    measured matmul peak (:mod:`core_training.mfu`, measured once and cached). FLOPs per token: 6N for the
    supervised stages; 8N for GRPO (2N to generate a completion token, 6N to train on it), N = the active
    parameters (routed experts at top_k / num_experts). Empty for the base, or when nothing was trained."""
    from core_training.mfu import GENERATION_FLOPS_PER_PARAMETER, TRAINING_FLOPS_PER_PARAMETER, active_parameters, \
        matmul_peak, stage_throughput

    if not clock or clock["tokens"] <= 0 or clock["seconds"] <= 0:
        return {}
    flops = TRAINING_FLOPS_PER_PARAMETER + (GENERATION_FLOPS_PER_PARAMETER if stage in ("rlvr", "rlhf") else 0)
    dtype = "bf16" if cfg.model.dtype == "bfloat16" or cfg.model.precision == "bf16" else "fp32"
    speed = stage_throughput(clock["tokens"], active_parameters(model), clock["seconds"], matmul_peak(dtype), flops)
    return {"train/tokens": clock["tokens"], "train/tokens_per_second": round(speed["tokens_per_second"], 1),
            "train/mfu": speed["mfu"], "train/peak_flops": matmul_peak(dtype)}


def reevaluate_stage(record: StageRecord, cfg: RunConfig, vertical: Vertical, run_dir: Path, prev_policy: str | None,
                     preferences: list | None) -> StageRecord:
    """Evaluate a finished stage's checkpoint again (the eval settings or sets changed, its training did not):
    new metrics and samples, the same checkpoint; the record is rewritten last, so a kill re-evaluates again."""
    from dataclasses import replace

    from core_training.environment import describe
    from core_training.io import atomic_write_text

    started = time.time()
    model, tokenizer = open_stage_model(record, cfg)
    extra = {"train_pairs": {k.rsplit("/", 1)[1]: v for k, v in record.metrics.items()
                             if k.startswith(f"{record.stage}/train_pairs/")}}
    metrics, samples = evaluate_stage(record.stage, model, tokenizer, vertical, cfg, run_dir, prev_policy, extra,
                                      preferences)
    keep = {k: v for k, v in record.metrics.items()  # the round's pairs and the training clock are not re-measured
            if k.startswith(("rm/on_policy_accuracy", "train/"))}
    train_seconds = record.extra.get("train_seconds", record.wall_seconds)
    timing = {**record.extra, "train_seconds": train_seconds, "eval_seconds": round(time.time() - started, 1)}
    record = replace(record, metrics={**keep, **metrics}, extra=timing, environment=describe(),
                     wall_seconds=train_seconds + timing["eval_seconds"], eval_key=eval_key(cfg, vertical))
    stage_dir = run_dir / record.stage
    atomic_write_text(stage_dir / "samples.jsonl", sample_lines(samples, eval_sets(vertical, cfg)))
    atomic_write_json(stage_dir / STAGE_FILE, record.__dict__)
    return record


def open_stage_model(record: StageRecord, cfg: RunConfig):
    """The model a finished stage left: the reward model for ``rm``, else the policy."""
    if record.stage != "rm":
        return open_policy(Path(record.checkpoint), cfg)
    from core_training.modeling import load_reward_model

    path = Path(record.checkpoint)
    return load_reward_model(path, cfg.model.dtype, cfg.model.experts_implementation), load_tokenizer(path)


def _log(message: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(message)  # keeps summary lines on their own line between progress bars


def run_pipeline(cfg: RunConfig, vertical: Vertical, preferences: list | None = None, log=_log) -> dict:
    """Run every stage in ``cfg.stages`` after evaluating the base; skip stages already finished.

    The base is resolved before anything is written; the run directory is locked for the whole run
    (a second runner is refused), and what a killed attempt left half-written is removed first.
    """
    from core_training.readiness import require_ready

    run_dir = Path(cfg.output) if cfg.output else default_output(vertical.name)
    base_path = resolve_base(cfg.model.base)
    require_ready(vertical)  # a graph the vertical cannot train on stops here, in one line, before anything is written
    with run_lock(run_dir):
        clean_stale_dirs(run_dir, log)
        return _run_stages(cfg, vertical, preferences, log, run_dir, base_path)


def _run_stages(cfg: RunConfig, vertical: Vertical, preferences: list | None, log, run_dir: Path,
                base_path: Path) -> dict:
    import torch

    from core_training.report import summary_line

    torch.set_num_threads(cpu_threads(cfg.threads))
    atomic_write_json(run_dir / "config.json", to_dict(cfg))
    from core_training.judge import judge_for

    judge_for(vertical, cfg.eval)  # a judge the config cannot build fails now, not after training
    data_key = data_fingerprint(vertical, preferences)
    policy_path, policy_key, prev_policy, rm_path, rm_key = base_path, base_key(base_path), None, None, ""
    records: list[StageRecord] = []
    for stage in ["base", *cfg.stages]:
        key = stage_key(cfg, stage, policy_key + (rm_key if stage == "rlhf" else ""), data_key)
        record = load_record(run_dir / stage, key)
        if record is None:
            log(f"[{stage}] running (output {run_dir / stage})")
            resume_from = last_checkpoint(run_dir / ".work" / f"{stage}-{key}")  # the work_dir run_stage uses
            trim_metrics(run_dir / "metrics.jsonl", stage, checkpoint_step(resume_from))  # a killed attempt's rows
            record = run_stage(stage, key, cfg, vertical, run_dir, policy_path, rm_path, prev_policy, preferences)
        elif record.eval_key != eval_key(cfg, vertical):
            log(f"[{stage}] trained with the same config and inputs; the eval settings changed: re-evaluating")
            record = reevaluate_stage(record, cfg, vertical, run_dir, prev_policy, preferences)
        else:
            log(f"[{stage}] already finished with the same config and inputs: skipped")
        records.append(record)
        log(summary_line(record.row()))
        save_report(run_dir, cfg, vertical, str(base_path), records)
        if stage == "rm":
            rm_path, rm_key = run_dir / "rm", key
        elif stage != "base" or prev_policy is None:
            policy_path = run_dir / stage if stage != "base" else base_path
            policy_key, prev_policy = key, stage
    return save_report(run_dir, cfg, vertical, str(base_path), records)


def save_report(run_dir: Path, cfg: RunConfig, vertical: Vertical, base: str, records: list[StageRecord]) -> dict:
    from core_training.report import write_report

    report = {"vertical": vertical.name, "base": base, "run_dir": str(run_dir), "config": to_dict(cfg),
              "held_out_rules": [r.name for r in vertical.held_out_rules], "stages": [r.row() for r in records]}
    write_report(run_dir, report)
    return report


def eval_examples(vertical: Vertical, cfg: RunConfig) -> list:
    """The test set's items a run evaluates (the first ``eval.max_items``)."""
    return list(vertical.load_eval_set())[: cfg.eval.max_items]


EVAL_SET_LOADERS = {"test": "load_eval_set", "dev": "load_dev_set", "paraphrase": "load_paraphrase_set"}


def eval_sets(vertical: Vertical, cfg: RunConfig) -> dict[str, list]:
    """The eval sets a run measures (``eval.sets`` that the vertical has), each its first ``eval.max_items``.

    ``test`` is never used to choose anything; ``dev`` is for choosing settings; ``paraphrase`` holds
    questions written unlike the training templates.
    """
    from core_training.contract import DataError

    sets = {}
    for name in cfg.eval.sets:
        loader = getattr(vertical, EVAL_SET_LOADERS[name])
        if loader is None:
            continue
        try:
            examples = list(loader())[: cfg.eval.max_items]
        except DataError as error:  # e.g. a paraphrase set about entities an imported graph lacks
            if name == "test":
                raise
            _warn_once(f"{vertical.name}: the {name} set is not measured: {str(error).splitlines()[0]}")
            continue
        if examples:
            sets[name] = examples
    return sets


@functools.lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    _log(f"warning: {message}")


def open_policy(path: Path, cfg: RunConfig):
    return load_causal_lm(path, cfg.model.dtype, cfg.model.experts_implementation), load_tokenizer(path)
