"""`vkit run`: base → cpt → sft → rlvr → rm → rlhf (or dpo), evaluating the base and every stage.

Each stage writes ``RUN/<stage>/`` atomically: the checkpoint plus ``vkit_stage.json`` (its key,
metrics and wall time). A stage whose directory holds a matching key (a hash of its config, its
input's key and the data) is skipped on a rerun; an interrupted stage resumes from the trainer's last
checkpoint in ``RUN/.work/<stage>-<key>`` (a changed config never resumes from a stale checkpoint).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from core_training.config import RunConfig, config_hash, to_dict
from core_training.contract import Vertical
from core_training.io import atomic_dir, atomic_write_json, read_jsonl
from core_training.modeling import load_causal_lm, load_tokenizer, resolve_base

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

    def row(self) -> dict:
        row = {"stage": self.stage, "wall_seconds": round(self.wall_seconds, 1), "metrics": self.metrics,
               "checkpoint": self.checkpoint}
        return {**row, "environment": self.environment} if self.environment else row


def default_output(vertical: str) -> Path:
    return Path("runs") / vertical / time.strftime("%Y%m%d-%H%M%S")


def data_fingerprint(vertical: Vertical, preferences: list | None) -> str:
    """A hash of every dataset the stages read, so changed data is never mistaken for a finished stage."""
    data = {"chains": vertical.load_chains(), "rl": vertical.load_rl_prompts(), "eval": vertical.load_eval_set(),
            "prefs": preferences or vertical.load_preferences(), "cpt": vertical.load_cpt_corpus(),
            "system": vertical.system_prompt}
    return config_hash(data)


def stage_key(cfg: RunConfig, stage: str, input_key: str, data_key: str) -> str:
    stage_cfg = to_dict(getattr(cfg, stage)) if hasattr(cfg, stage) else {}
    return config_hash({"stage": stage, "stage_cfg": stage_cfg, "model": to_dict(cfg.model), "lora": to_dict(cfg.lora),
                        "seed": cfg.seed, "eval": to_dict(cfg.eval), "input": input_key, "data": data_key})[:16]


def load_record(stage_dir: Path, key: str) -> StageRecord | None:
    """The finished stage in ``stage_dir`` if its key matches, else None (a stale or foreign stage)."""
    path = stage_dir / STAGE_FILE
    if not path.is_file():
        return None
    rec = json.loads(path.read_text(encoding="utf-8"))
    return StageRecord(**rec) if rec.get("key") == key else None


def base_key(base_path: Path) -> str:
    files = sorted(p for p in base_path.iterdir() if p.is_file())
    return config_hash({"base": str(base_path.resolve()), "files": [(p.name, p.stat().st_size) for p in files]})[:16]


def samples_of(run_dir: Path, stage: str) -> dict[str, list[str]]:
    path = run_dir / stage / "samples.jsonl"
    rows = read_jsonl(path) if path.is_file() else []
    out: dict[str, list[str]] = {}
    for row in rows:
        out.setdefault(row["mode"], []).append(row["response"])
    return out


def evaluate_stage(stage: str, model, tokenizer, vertical: Vertical, cfg: RunConfig, run_dir: Path,
                   prev_policy: str | None, extra: dict | None = None) -> tuple[dict, dict[str, list[str]]]:
    """The metrics a stage reports: rule pass rates per mode, perplexity, RM accuracy, judge win rate.

    ``extra`` is what the stage's recipe left in ``StageContext.extra`` (the rm stage's held-out
    on-policy pairs).
    """
    from core_training.data import split_pairs
    from core_training.evaluate import evaluate_policy, perplexity, reward_model_accuracy
    from core_training.judge import make_judge, rate_of, verdict_counts

    if stage == "rm":
        _, held_out = split_pairs(vertical.load_preferences())
        metrics = {"rm/accuracy": reward_model_accuracy(model, tokenizer, vertical, held_out)}
        on_policy = (extra or {}).get("on_policy_held_out")
        if on_policy:
            metrics["rm/on_policy_accuracy"] = reward_model_accuracy(model, tokenizer, vertical, on_policy)
        return metrics, {}
    examples = eval_examples(vertical, cfg)
    metrics, samples = evaluate_policy(model, tokenizer, vertical, examples, cfg.eval.modes,
                                       cfg.eval.max_new_tokens, cfg.eval.batch_size)
    metrics["perplexity"] = perplexity(model, tokenizer, vertical.load_cpt_corpus()["eval"])
    if stage in ("rlhf", "dpo") and prev_policy and "grounded" in samples:
        judge = make_judge(vertical, cfg.eval.judge_seed)
        old = samples_of(run_dir, prev_policy)["grounded"]
        counts = verdict_counts(judge, samples["grounded"], old, examples)
        metrics["judge_win_rate_vs_previous"] = rate_of(counts)
        metrics.update(judge_metrics("judge", counts))
        if cfg.eval.judge_samples:
            previous = Path(load_json(run_dir / prev_policy / STAGE_FILE)["checkpoint"])  # the base's is its path
            metrics.update(sampled_judge(judge, model, tokenizer, vertical, cfg, previous, examples))
    return metrics, samples


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


def write_stage(stage_dir: Path, record: StageRecord, samples: dict[str, list[str]], examples, model, tokenizer,
                save_checkpoint: bool, artifacts: dict[str, str] | None = None) -> None:
    """Write one finished stage (checkpoint, samples, ``artifacts`` as name -> text, record) into place
    with a single rename."""
    with atomic_dir(stage_dir) as tmp:
        for name, text in (artifacts or {}).items():
            (tmp / name).write_text(text, encoding="utf-8")
        if save_checkpoint:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
        lines = [json.dumps({"mode": mode, "id": ex["id"], "response": r}, ensure_ascii=False)
                 for mode, rs in samples.items() for ex, r in zip(examples, rs)]
        (tmp / "samples.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
        atomic_write_json(tmp / STAGE_FILE, record.__dict__)


def run_stage(stage: str, key: str, cfg: RunConfig, vertical: Vertical, run_dir: Path, policy_path: Path,
              rm_path: Path | None, prev_policy: str | None, preferences: list | None) -> StageRecord:
    """Train (unless ``base``), evaluate, and write ``RUN/<stage>/`` atomically."""
    from core_training.environment import describe
    from core_training.recipes import recipe
    from core_training.stage import StageContext

    started, extra = time.time(), {}
    if stage == "base":
        model, tokenizer = open_policy(policy_path, cfg)
    else:
        ctx = StageContext(cfg=cfg, vertical=vertical, stage=stage, input_path=policy_path,
                           work_dir=run_dir / ".work" / f"{stage}-{key}", run_dir=run_dir, reward_model_path=rm_path,
                           preferences=preferences)
        model, tokenizer = recipe(stage).train(ctx)
        extra = ctx.extra
    metrics, samples = evaluate_stage(stage, model, tokenizer, vertical, cfg, run_dir, prev_policy, extra)
    checkpoint = str(policy_path) if stage == "base" else str(run_dir / stage)
    record = StageRecord(stage, key, time.time() - started, metrics, checkpoint, environment=describe())
    write_stage(run_dir / stage, record, samples, eval_examples(vertical, cfg), model, tokenizer, stage != "base",
                extra.get("artifacts"))
    return record


def _log(message: str) -> None:
    from tqdm.auto import tqdm

    tqdm.write(message)  # keeps summary lines on their own line between progress bars


def run_pipeline(cfg: RunConfig, vertical: Vertical, preferences: list | None = None, log=_log) -> dict:
    """Run every stage in ``cfg.stages`` after evaluating the base; skip stages already finished."""
    import torch

    from core_training.report import summary_line

    torch.set_num_threads(cfg.threads)
    run_dir = Path(cfg.output) if cfg.output else default_output(vertical.name)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run_dir / "config.json", to_dict(cfg))
    base_path = resolve_base(cfg.model.base)
    data_key = data_fingerprint(vertical, preferences)
    policy_path, policy_key, prev_policy, rm_path, rm_key = base_path, base_key(base_path), None, None, ""
    records: list[StageRecord] = []
    for stage in ["base", *cfg.stages]:
        key = stage_key(cfg, stage, policy_key + (rm_key if stage == "rlhf" else ""), data_key)
        record = load_record(run_dir / stage, key)
        if record is None:
            log(f"[{stage}] running (output {run_dir / stage})")
            record = run_stage(stage, key, cfg, vertical, run_dir, policy_path, rm_path, prev_policy, preferences)
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
              "stages": [r.row() for r in records]}
    write_report(run_dir, report)
    return report


def load_json(path: Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


def eval_examples(vertical: Vertical, cfg: RunConfig) -> list:
    return list(vertical.load_eval_set())[: cfg.eval.max_items]


def open_policy(path: Path, cfg: RunConfig):
    return load_causal_lm(path, cfg.model.dtype, cfg.model.experts_implementation), load_tokenizer(path)
