"""`vkit export RUN [--stage rlhf] --out DIR [--merge]`: a self-contained Hugging Face checkpoint of a run's policy.

The export is what another stack loads with ``AutoModelForCausalLM.from_pretrained(DIR)`` and nothing else:
safetensors weights, the tokenizer and its chat template, a generation config, and a model card
(``README.md``) naming the run, the stage, its base and its report (``vkit_report.md`` beside it), plus
``vkit_export.json`` recording where it came from. No code is exported and nothing needs vkit.

``RUN`` is a run directory (the last policy stage it finished, or ``--stage``), a stage's checkpoint, or a
LoRA adapter directory (a trainer checkpoint of a LoRA stage: ``adapter_config.json``), which needs
``--merge``: its base is loaded, the adapters are merged in, and the merged weights are exported. vkit's own
stage outputs are merged already (each LoRA stage merges when it ends), so ``--merge`` changes nothing there.

    vkit export runs/gaokao/20261207-101500 --out exports/gaokao-advisor
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from core_training.checkpoints import POLICY_PREFERENCE, is_checkpoint, load_json, run_policy
from core_training.inputs import InputError


def is_adapter(path: Path) -> bool:
    """Whether ``path`` holds a peft adapter (``adapter_config.json``) rather than a full model."""
    return (Path(path) / "adapter_config.json").is_file()


def source_of(run: Path, stage: str | None) -> tuple[Path, str | None]:
    """``(checkpoint or adapter directory, stage)`` that ``run`` and ``stage`` name; an InputError otherwise."""
    run = Path(run)
    if stage is not None:
        if stage not in POLICY_PREFERENCE:
            raise InputError(f"--stage {stage!r}: not a policy stage; one of {', '.join(POLICY_PREFERENCE)}")
        path = run / stage
        if not (is_checkpoint(path) or is_adapter(path)):
            raise InputError(f"{run}: has no finished {stage} checkpoint at {path}")
        return path, stage
    if is_checkpoint(run) or is_adapter(run):
        return run, None
    found = run_policy(run)
    if found is None:
        raise InputError(f"{run}: neither a checkpoint, an adapter, nor a run directory with a finished policy stage")
    return found


def load_source(path: Path, merge: bool):
    """The model to export, ``merged`` flag: a full checkpoint as is; an adapter merged into its base (needs merge)."""
    from core_training.modeling import load_causal_lm

    if not is_adapter(path):
        return load_causal_lm(path), False
    if not merge:
        raise InputError(f"{path}: holds LoRA adapters, not a full model: pass --merge to merge them into their "
                         f"base for a self-contained checkpoint")
    from peft import PeftModel

    from core_training.lora_targets import exact_targets

    base_path = load_json(path / "adapter_config.json").get("base_model_name_or_path")
    if not base_path or not is_checkpoint(Path(base_path)):
        raise InputError(f"{path / 'adapter_config.json'}: base_model_name_or_path {base_path!r} is not a local "
                         f"checkpoint directory")
    with exact_targets():  # the adapter names its targets in the current layout
        model = PeftModel.from_pretrained(load_causal_lm(base_path), str(path))
    return model.merge_and_unload(), True


def model_card(run: Path, source: Path, stage: str | None, merged: bool, report: dict | None) -> str:
    """``README.md`` of the export: what it is, where it came from, its stage's headline metrics."""
    lines = ["---", "library_name: transformers", "tags: [vkit, moe]", "---", "",
             f"# {run.name}{f' ({stage})' if stage else ''}", "",
             f"Exported by `vkit export` from `{run.name}`{f', stage `{stage}`' if stage else ''}"
             f"{' (LoRA adapters merged)' if merged else ''}."]
    if report:
        lines += [f"Vertical: `{report.get('vertical')}`; base: `{Path(str(report.get('base'))).name}`.",
                  "The run's report is `vkit_report.md` beside this card.", ""]
        row = next((r for r in report.get("stages", []) if r.get("stage") == stage), None)
        if row:
            lines += ["| metric | value |", "|---|---|"]
            lines += [f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |"
                      for k, v in sorted(row.get("metrics", {}).items()) if "/" not in k or k.count("/") == 1][:40]
    lines += ["", "Load it with transformers alone:", "", "```python",
              "from transformers import AutoModelForCausalLM, AutoTokenizer",
              "model = AutoModelForCausalLM.from_pretrained(PATH)",
              "tokenizer = AutoTokenizer.from_pretrained(PATH)", "```", ""]
    return "\n".join(lines)


def run_of(source: Path) -> Path:
    """The run directory a stage checkpoint lies in (its parent when that holds a ``report.json``), else itself."""
    return source.parent if (source.parent / "report.json").is_file() else source


def export(run: str | Path, out: str | Path, stage: str | None = None, merge: bool = False) -> dict:
    """Write the export into ``out`` (atomically); returns what ``vkit_export.json`` records."""
    from core_training.io import atomic_dir, atomic_write_json
    from core_training.modeling import load_tokenizer

    source, stage = source_of(Path(run), stage)
    model, merged = load_source(source, merge)
    tokenizer = load_tokenizer(source)
    run_dir = run_of(source)
    report = load_json(run_dir / "report.json") if (run_dir / "report.json").is_file() else None
    stage = stage or (source.name if report else None)
    record = {"run": run_dir.name, "stage": stage, "source": str(source), "merged": merged,
              "model_type": model.config.model_type}
    with atomic_dir(out) as tmp:
        save_model(model, tokenizer, tmp)
        (tmp / "README.md").write_text(model_card(run_dir, source, stage, merged, report), encoding="utf-8")
        if (run_dir / "report.md").is_file():
            shutil.copyfile(run_dir / "report.md", tmp / "vkit_report.md")
        atomic_write_json(tmp / "vkit_export.json", record)
    return record


def save_model(model, tokenizer, out: Path) -> None:
    """Weights as safetensors, the tokenizer with its chat template, and a generation config that stops at the
    tokenizer's end of turn and pads with its pad token."""
    from transformers import GenerationConfig

    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False  # generate() breaks with it on
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                                               bos_token_id=tokenizer.bos_token_id, do_sample=False)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    if not (out / "chat_template.jinja").is_file() and getattr(tokenizer, "chat_template", None):
        (out / "chat_template.jinja").write_text(tokenizer.chat_template, encoding="utf-8")


def main(args) -> int:
    """``vkit export``: print the export's directory and record."""
    from core_training.inputs import check_output

    check_output(args.out, "--out")
    if Path(args.out).exists() and any(Path(args.out).iterdir()):
        raise InputError(f"--out {args.out}: exists and is not empty; choose a new directory")
    record = export(args.run, args.out, args.stage, args.merge)
    print(json.dumps(record, ensure_ascii=False))
    print(f"export: {args.out}")
    return 0


def register(sub) -> None:
    """The ``vkit export`` subcommand."""
    ex = sub.add_parser("export", help="write a run's policy as a self-contained Hugging Face checkpoint")
    ex.add_argument("run", help="a run directory, a stage checkpoint, or a LoRA adapter directory")
    ex.add_argument("--stage", help="the policy stage to export (default: the last one the run finished)")
    ex.add_argument("--out", required=True, help="a new directory for the export")
    ex.add_argument("--merge", action="store_true", help="merge LoRA adapters into their base (needed for an adapter)")
    ex.set_defaults(fn=main)
