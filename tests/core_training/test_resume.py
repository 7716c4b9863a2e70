"""A resumed stage equals an unkilled one, and loading weights runs no code.

Resuming from a stage's final trainer checkpoint trains no extra step (the trainer would train step
``max_steps + 1``); the reward model's new scoring head does not depend on what ran before it; weights
load from safetensors only unless pickle is allowed; code shipped with a checkpoint never runs.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from core_training.config import resolve_run_config
from core_training.modeling import PickleWeightsError, allow_pickle, load_causal_lm, load_tokenizer
from core_training.recipes import recipe
from core_training.stage import StageContext

pytestmark = pytest.mark.timeout(300)


def _ctx(stage, toy, base, run_dir, *overrides):
    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={run_dir}", "vertical=toy", "threads=1", *overrides])
    return StageContext(cfg=cfg, vertical=toy, stage=stage, input_path=base, work_dir=run_dir / ".work" / stage,
                        run_dir=run_dir)


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("lora", [False, True])
def test_resume_from_the_final_checkpoint_trains_no_extra_step(lora, toy, tiny_base, tmp_path, read_metrics):
    # a constant schedule: an extra step would change the weights (cosine hides it at learning rate 0)
    overrides = ["sft.lr_scheduler_type=constant", f"lora.enabled={str(lora).lower()}"]
    trained, _ = recipe("sft").train(_ctx("sft", toy, tiny_base, tmp_path, *overrides))
    first, logged = _state(trained), read_metrics(tmp_path, "sft")
    assert (tmp_path / ".work" / "sft" / "checkpoint-4" / "trainer_state.json").is_file()  # micro: 4 steps, saved
    resumed, _ = recipe("sft").train(_ctx("sft", toy, tiny_base, tmp_path, *overrides))  # e.g. killed during eval
    assert _same(first, _state(resumed))
    assert read_metrics(tmp_path, "sft") == logged  # no step 5 was trained or logged


def test_reward_head_does_not_depend_on_earlier_randomness(toy, tiny_base, tmp_path):
    """An unkilled run reaches rm after other stages drew random numbers, a resumed one does not: the
    new scoring head must be the same either way (it is drawn from the run's seed)."""
    heads = []
    for i, noise in enumerate((1, 2)):
        torch.manual_seed(noise)
        torch.rand(noise * 7)  # stands for whatever the earlier stages drew
        model, _ = recipe("rm").train(_ctx("rm", toy, tiny_base, tmp_path / str(i), "rm.max_steps=1"))
        heads.append(_state(model))
    assert _same(*heads)


def save_as_pickle(checkpoint) -> None:
    """Replace a checkpoint's ``model.safetensors`` by the same weights in ``pytorch_model.bin``."""
    torch.save(load_causal_lm(checkpoint).state_dict(), checkpoint / "pytorch_model.bin")
    (checkpoint / "model.safetensors").unlink()


@pytest.fixture
def pickle_only_base(tiny_base, tmp_path):
    """The tiny base with its weights as ``pytorch_model.bin`` (what an old or foreign checkpoint holds)."""
    base = tmp_path / "bin-base"
    shutil.copytree(tiny_base, base)
    save_as_pickle(base)
    assert (base / "pytorch_model.bin").is_file()
    yield base
    allow_pickle(False)


def test_pickle_weights_are_refused_unless_allowed(pickle_only_base):
    with pytest.raises(PickleWeightsError, match=r"pytorch_model\.bin.*--allow-pickle"):
        load_causal_lm(pickle_only_base)
    allow_pickle(True)
    assert load_causal_lm(pickle_only_base) is not None


def test_a_resume_checkpoint_with_pickle_weights_is_refused(toy, tiny_base, tmp_path):
    ctx = _ctx("sft", toy, tiny_base, tmp_path)
    recipe("sft").train(ctx)
    checkpoint = tmp_path / ".work" / "sft" / "checkpoint-4"
    save_as_pickle(checkpoint)  # planted pickle weights
    with pytest.raises(PickleWeightsError, match="checkpoint-4"):
        recipe("sft").train(_ctx("sft", toy, tiny_base, tmp_path))


def test_code_shipped_with_a_checkpoint_never_runs(tiny_base, tmp_path):
    base = tmp_path / "remote-code"
    shutil.copytree(tiny_base, base)
    marker = tmp_path / "code-ran"
    (base / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    config = json.loads((base / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "evil.Config", "AutoModelForCausalLM": "evil.Model"}
    (base / "config.json").write_text(json.dumps(config))
    tokenizer_config = json.loads((base / "tokenizer_config.json").read_text())
    tokenizer_config["auto_map"] = {"AutoTokenizer": ["evil.Tokenizer", "evil.Tokenizer"]}
    (base / "tokenizer_config.json").write_text(json.dumps(tokenizer_config))
    load_causal_lm(base)
    load_tokenizer(base)
    assert not marker.exists()  # with trust_remote_code=True either load would have run evil.py


class _RunsCode:
    """Unpickling this opens (creates) a file: what a planted pickle could do."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_planted_pickle_among_the_trainer_resume_files_runs_no_code(toy, tiny_base, tmp_path):
    """The optimizer, scheduler and RNG states are pickle files; the trainer reads them with torch's
    restricted ``weights_only`` unpickler, which refuses anything but tensors and plain data."""
    import pickle

    recipe("sft").train(_ctx("sft", toy, tiny_base, tmp_path, "sft.max_steps=2", "sft.save_steps=2"))
    checkpoint = tmp_path / ".work" / "sft" / "checkpoint-2"
    marker = tmp_path / "code-ran"
    (checkpoint / "optimizer.pt").write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(pickle.UnpicklingError, match="[Ww]eights only load failed"):
        recipe("sft").train(_ctx("sft", toy, tiny_base, tmp_path, "sft.max_steps=4", "sft.save_steps=2"))
    assert not marker.exists()
