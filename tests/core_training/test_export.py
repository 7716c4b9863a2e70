"""`vkit export`: a run's policy round-trips through a self-contained Hugging Face checkpoint (logits within
1e-5), loadable by transformers alone; a LoRA stage's adapter checkpoint exports merged with ``--merge``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core_training.export import export, is_adapter
from core_training.inputs import InputError
from core_training.modeling import load_causal_lm

pytestmark = [pytest.mark.timeout(1500)]

IDS = torch.tensor([[5, 17, 42, 99, 7, 3, 250, 11], [8, 8, 19, 64, 120, 2, 31, 77]])


def _logits(model) -> torch.Tensor:
    model.eval()
    with torch.no_grad():
        return model(input_ids=IDS).logits


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    """A real LoRA run by the real CLI: `vkit run gaokao --preset micro --stages sft lora.enabled=true`."""
    out = tmp_path_factory.mktemp("lora-run") / "run"
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "run", "gaokao", "--preset", "micro",
                           "--stages", "sft", "--output", str(out), "threads=1", "lora.enabled=true", "lora.r=4"],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def test_export_round_trips_the_policy(micro_run, tmp_path):
    from transformers import AutoModelForCausalLM

    record = export(micro_run, tmp_path / "export")
    out = tmp_path / "export"
    assert record["stage"] == "sft" and record["run"] == micro_run.name and not record["merged"]
    for name in ("model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja", "generation_config.json",
                 "README.md", "vkit_report.md", "vkit_export.json"):
        assert (out / name).is_file(), name
    assert not list(out.glob("*.py")) and "auto_map" not in json.loads((out / "config.json").read_text())
    card = (out / "README.md").read_text()
    assert micro_run.name in card and "sft" in card and "vkit_report.md" in card
    exported = AutoModelForCausalLM.from_pretrained(out)
    assert (_logits(exported) - _logits(load_causal_lm(micro_run / "sft"))).abs().max() < 1e-5


def test_export_loads_with_transformers_alone(micro_run, tmp_path):
    export(micro_run, tmp_path / "export", stage="cpt")
    script = ("import sys\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n"
              f"p = {str(tmp_path / 'export')!r}\n"
              "m = AutoModelForCausalLM.from_pretrained(p); t = AutoTokenizer.from_pretrained(p)\n"
              "ids = t.apply_chat_template([{'role': 'user', 'content': '你好'}], add_generation_prompt=True, "
              "return_tensors='pt', return_dict=True)\n"
              "out = m.generate(**ids, max_new_tokens=4)\n"
              "assert not any(k.startswith('core_training') for k in sys.modules)\n"
              "print('loaded', out.shape[1] > ids['input_ids'].shape[1])\n")
    proc = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path, env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and "loaded True" in proc.stdout, proc.stderr[-2000:]


def test_lora_adapter_exports_merged(lora_run, tmp_path):
    """The LoRA stage's last trainer checkpoint holds only adapters: merged into its base, it is the stage's policy."""
    adapters = sorted(lora_run.glob(".work/sft-*/checkpoint-*"))
    assert adapters and is_adapter(adapters[-1])
    with pytest.raises(InputError, match="pass --merge"):
        export(adapters[-1], tmp_path / "unmerged")
    record = export(adapters[-1], tmp_path / "merged", merge=True)
    assert record["merged"] and not (tmp_path / "unmerged").exists()
    policy = load_causal_lm(lora_run / "sft")
    assert (_logits(load_causal_lm(tmp_path / "merged")) - _logits(policy)).abs().max() < 1e-5
    assert (lora_run / "sft" / "lora_targets.json").is_file()


def test_cli_export_and_its_errors(micro_run, tmp_path):
    cli = [sys.executable, "-m", "core_training.cli", "export"]
    ok = subprocess.run([*cli, str(micro_run), "--stage", "sft", "--out", str(tmp_path / "e")], capture_output=True,
                        text=True, timeout=600)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert (tmp_path / "e" / "model.safetensors").is_file()
    again = subprocess.run([*cli, str(micro_run), "--out", str(tmp_path / "e")], capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 2 and "not empty" in again.stderr
    missing = subprocess.run([*cli, str(micro_run), "--stage", "rlhf", "--out", str(tmp_path / "f")],
                             capture_output=True, text=True, timeout=600)
    assert missing.returncode == 2 and "no finished rlhf checkpoint" in missing.stderr
