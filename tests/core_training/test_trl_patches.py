"""core_training.trl_patches: the TRL internals vkit patches still have the shape the patches expect
(these tests fail loudly on a TRL release that moved them); on CPU, TRL's fused LM head scores only the
labelled positions with the same loss, gradients and logged metrics as TRL's unpatched path; the row
blocks change no bit; an untested TRL falls back to TRL's own path with a warning."""

from __future__ import annotations

import functools

import pytest
import torch
import trl.trainer.utils as trl_utils
from trl import SFTConfig, SFTTrainer

from core_training.data import sft_dataset
from core_training import trl_patches
from core_training.trl_patches import compact_fused_head, row_blocked_tiles, rule_gated_grpo_trainer
from core_training.modeling import load_causal_lm, load_tokenizer

pytestmark = pytest.mark.timeout(300)


def test_installed_trl_is_the_release_the_patches_were_written_for():
    import trl

    assert trl.__version__.startswith(trl_patches.TESTED_TRL + "."), (
        f"TRL {trl.__version__} is installed but core_training/trl_patches.py was written for "
        f"{trl_patches.TESTED_TRL}.x: re-check every patched name, rerun these tests, then raise TESTED_TRL")


@pytest.mark.parametrize("module, name", sorted(trl_patches.EXPECTED))
def test_every_patched_trl_internal_still_has_its_shape(module, name):
    assert trl_patches.shape_problems(module, name) == [], "TRL changed shape under core_training/trl_patches.py"


def test_grpo_reward_tensor_is_completions_by_functions():
    """The rule gate reads TRL's reward tensor as (completions, reward functions): check TRL still says so."""
    import inspect

    from trl import GRPOTrainer

    source = inspect.getsource(GRPOTrainer._calculate_rewards)
    assert "rewards_per_func = torch.zeros(len(prompts), len(self.reward_funcs)" in source
    assert source.rstrip().endswith("return rewards_per_func")


def test_an_untested_trl_runs_trls_own_path_with_one_warning(monkeypatch):
    from trl import GRPOTrainer

    monkeypatch.setattr(trl_patches, "trl_version", lambda: "9.0.0")
    monkeypatch.setattr(trl_patches, "_warned", set())
    with pytest.warns(UserWarning) as caught:
        with compact_fused_head() as compact, row_blocked_tiles() as blocked:
            assert (compact, blocked) == (False, False)
            assert trl_utils._use_triton(torch.device("cpu")) is False
        assert rule_gated_grpo_trainer() is GRPOTrainer
        with compact_fused_head():
            pass  # warned once per patch, not per call
    assert len(caught) == 3 and all("TRL 9.0.0 is not 1.16.x" in str(w.message) for w in caught)


def test_the_tested_trl_gets_the_gated_trainer():
    from trl import GRPOTrainer

    gated = rule_gated_grpo_trainer(measured_only=1)
    assert gated is not GRPOTrainer and issubclass(gated, GRPOTrainer)
    assert "_calculate_rewards" in vars(gated)


@pytest.fixture
def trainer(toy, tiny_base, tmp_path):
    tokenizer = load_tokenizer(tiny_base)
    assert "{% generation %}" in tokenizer.chat_template  # so the prompt positions carry no label
    args = SFTConfig(output_dir=str(tmp_path), per_device_train_batch_size=8, max_length=128, bf16=False,
                     gradient_checkpointing=False, use_cpu=True, report_to=[], assistant_only_loss=True,
                     dataloader_drop_last=True)
    return SFTTrainer(model=load_causal_lm(tiny_base), args=args, processing_class=tokenizer,
                      train_dataset=sft_dataset(toy, toy.load_chains()))


def _step(trainer, batch):
    """One loss + backward on ``batch``: (loss, {param: grad}, last logged entropy and token accuracy)."""
    trainer.model.zero_grad()
    loss = trainer.compute_loss(trainer.model, dict(batch))
    loss.backward()
    grads = {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
    logged = trainer._metrics["train"]
    return loss.item(), grads, logged["entropy"][-1], logged["mean_token_accuracy"][-1]


def test_compact_head_matches_trl_full_scoring(trainer, monkeypatch):
    rows_seen: list[int] = []
    original_apply = trl_utils._ChunkedLogProbFunction.apply

    def spy(hidden, *args):
        rows_seen.append(hidden.shape[0])
        return original_apply(hidden, *args)

    monkeypatch.setattr(trl_utils._ChunkedLogProbFunction, "apply", spy)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    full = _step(trainer, batch)
    with compact_fused_head() as applied:
        compact = _step(trainer, batch)
    assert applied

    labels = batch["labels"][:, 1:]
    assert rows_seen == [labels.numel(), int((labels != -100).sum())]  # every position, then the labelled ones
    assert rows_seen[1] < rows_seen[0] / 2  # the prompt is most of each toy row
    assert compact[0] == pytest.approx(full[0], rel=1e-5)
    assert full[1].keys() == compact[1].keys() and full[1]
    for name, grad in full[1].items():
        torch.testing.assert_close(compact[1][name], grad, rtol=1e-4, atol=1e-6, msg=name)
    assert compact[2] == pytest.approx(full[2], rel=1e-5) and compact[3] == pytest.approx(full[3])


def test_patch_is_scoped_and_missing_name_is_a_no_op(monkeypatch):
    cpu = torch.device("cpu")
    assert trl_utils._use_triton(cpu) is False  # TRL's own check: no compact scoring on CPU
    with compact_fused_head() as applied:
        assert applied and trl_utils._use_triton(cpu) is True
    assert trl_utils._use_triton(cpu) is False
    monkeypatch.delattr(trl_utils, "_use_triton")
    monkeypatch.setattr(trl_patches, "_warned", set())
    with pytest.warns(UserWarning, match="compact_fused_head is off.*_use_triton is gone"):
        with compact_fused_head() as applied:
            assert applied is False


@pytest.mark.parametrize("chunk_size", [3584, 1000])  # one vocabulary tile, and several with a ragged last one
def test_row_blocked_tiles_change_no_bit(chunk_size, monkeypatch):
    """TRL's fused log-prob kernel with its tile folds run in row blocks: every output and gradient is the same
    tensor, bit for bit, including across a token-chunk boundary (4100 rows > TRL's 4096) and a ragged block."""
    import trl.kernels.chunked_logprob as kernel

    from core_training.trl_patches import ROW_BLOCK

    torch.manual_seed(0)
    hidden, weight = torch.randn(4100, 64), torch.randn(3584, 64) * 0.1
    targets = torch.randint(0, 3584, (4100,))

    def run():
        h, w = hidden.clone().requires_grad_(), weight.clone().requires_grad_()
        logprobs, entropy, _, mean_logits, is_top1 = trl_utils._ChunkedLogProbFunction.apply(
            h, w, None, targets, 0.7, chunk_size, None, 1.0, ("entropy", "mean_logits", "is_top1"))
        (0.01 * entropy.sum() - logprobs.sum()).backward()
        return logprobs, entropy, mean_logits, is_top1, h.grad, w.grad

    plain = run()
    blocks: list[int] = []
    original = kernel._backward_tile

    @functools.wraps(original)  # keeps the signature, which the patch checks before it applies
    def spy(tile, *args, **kwargs):
        blocks.append(tile.shape[0])
        return original(tile, *args, **kwargs)

    monkeypatch.setattr(kernel, "_backward_tile", spy)
    with row_blocked_tiles() as applied:
        blocked = run()
    assert applied and blocks and max(blocks) == ROW_BLOCK and sum(blocks) == 4100 * -(-3584 // chunk_size)
    for a, b in zip(plain, blocked):
        assert torch.equal(a, b)


@pytest.mark.gpu
def test_row_blocks_leave_accelerator_tiles_to_trls_whole_tile_fold():
    """On a CUDA tile the row-blocked fold calls TRL's fold once, on the whole tile, and changes no bit."""
    from core_training.trl_patches import _by_rows

    calls: list[int] = []

    def fold(tile, targets, out):
        calls.append(tile.shape[0])
        out += tile.sum(dim=1) + targets

    tile, targets = torch.randn(100, 64, device="cuda"), torch.randn(100, device="cuda")
    plain, blocked = torch.zeros(100, device="cuda"), torch.zeros(100, device="cuda")
    fold(tile, targets, plain)
    _by_rows(fold, 32)(tile, targets, blocked)
    assert calls == [100, 100] and torch.equal(plain, blocked)
