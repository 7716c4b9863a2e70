"""The health monitor (core_training/monitor.py): each failure mode induced on the tiny MoE is caught, named,
rolled back (the stage's output is the last healthy weights) and ends in one line; the detectors on
synthetic logs; ``monitor.on_failure=retry``."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import TrainerCallback

from core_training.config import MonitorConfig, resolve_run_config
from core_training.contract import Rule, RuleResult
from core_training.modeling import load_causal_lm, load_tokenizer
from core_training.monitor import HEALTHY_DIR, HealthError, Watch
from core_training.recipes import recipe
from core_training.stage import StageContext


def _ctx(stage, vertical, base, tmp_path, *overrides):
    cfg = resolve_run_config(preset="micro", cli_overrides=[f"output={tmp_path}", "vertical=toy", "threads=1",
                                                            "monitor.patience=2", *overrides])
    return StageContext(cfg=cfg, vertical=vertical, stage=stage, input_path=base, work_dir=tmp_path / ".work" / stage,
                        run_dir=tmp_path)


def _stopped(ctx) -> tuple[HealthError, dict]:
    """Train the stage, expecting the monitor to stop it; the error and the stage's health.json."""
    with pytest.raises(HealthError) as caught:
        recipe(ctx.stage).train(ctx)
    return caught.value, json.loads((ctx.run_dir / ctx.stage / "health.json").read_text())


def _assert_rolled_back(ctx, health: dict, error: HealthError) -> None:
    """The stage's output holds exactly the weights the monitor kept as healthy (the input when none was)."""
    from core_training.cli import user_errors

    assert isinstance(error, user_errors()) and "\n" not in str(error)  # the CLI prints it as one line, exit 2
    assert f"health signal {health['signal']} fired at step {health['step']}" in str(error)
    kept = ctx.work_dir / HEALTHY_DIR
    expected = load_causal_lm(kept if kept.is_dir() else ctx.input_path).state_dict()
    assert bool(health["rolled_back_to_step"]) == kept.is_dir()  # a step > 0 only when a checkpoint was kept
    output = load_causal_lm(ctx.run_dir / ctx.stage).state_dict()
    assert expected.keys() == output.keys()
    assert all(torch.equal(expected[k], output[k]) for k in expected)
    assert health["suggestions"] and (ctx.run_dir / health["plot"]).is_file()
    assert not list(ctx.work_dir.glob("checkpoint-*"))  # a rerun starts the stage over, never from a bad checkpoint
    assert not (ctx.run_dir / ctx.stage / "vkit_stage.json").exists()  # ... and does not take it as finished


def _with_rules(vertical, *rules):
    from dataclasses import replace

    return replace(vertical, rules=tuple(rules))


# --------------------------------------------------------------------------- induced failures (they train)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_absurd_learning_rate_is_caught_and_rolled_back(toy, tiny_base, tmp_path):
    ctx = _ctx("sft", toy, tiny_base, tmp_path, "sft.learning_rate=1e4", "sft.max_steps=6", "sft.save_steps=1")
    error, health = _stopped(ctx)
    assert health["signal"] in ("non_finite", "loss_blowup") and health["status"] == "rolled_back"
    _assert_rolled_back(ctx, health, error)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_constant_reward_fires_zero_reward_std(toy, tiny_base, tmp_path):
    constant = _with_rules(toy, Rule("always_one", lambda r, ex: RuleResult.ok()))
    ctx = _ctx("rlvr", constant, tiny_base, tmp_path, "rlvr.max_steps=4", "rlvr.max_completion_length=8")
    error, health = _stopped(ctx)
    assert health["signal"] == "zero_reward_std" and health["step"] == 2
    _assert_rolled_back(ctx, health, error)


def pays_for_length(response: str, example) -> RuleResult:
    """A hackable reward: the longer the answer, the better (up to 24 characters).

    >>> pays_for_length("x" * 12, {}).score
    0.5
    """
    score = min(1.0, len(response) / 24)
    return RuleResult(score, score == 1.0, f"{len(response)} characters")


@pytest.fixture(scope="module")
def terse_base(tiny_base, tmp_path_factory):
    """The tiny base made to end its answers early: a shared direction added to every token embedding
    dominates the residual stream, and the end-of-sequence embedding leans further along it. The routers
    ignore that direction, so tokens are routed as before instead of all alike."""
    from core_training.modeling import is_router_parameter

    model, tokenizer = load_causal_lm(tiny_base), load_tokenizer(tiny_base)
    with torch.no_grad():
        emb = model.get_input_embeddings().weight  # (vocab, hidden); tied with the LM head
        direction = torch.nn.functional.normalize(torch.randn(emb.shape[1], generator=torch.Generator().manual_seed(0)),
                                                  dim=0)
        emb += direction
        emb[tokenizer.eos_token_id] += 1.0 * direction
        for name, param in model.named_parameters():
            if is_router_parameter(name):  # (experts, hidden): drop each row's component along the direction
                param -= (param @ direction)[:, None] * direction[None, :]
    path = tmp_path_factory.mktemp("terse-base")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_reward_for_length_fires_length_blowup(toy, terse_base, tmp_path):
    greedy = _with_rules(toy, Rule("pays_for_length", pays_for_length))
    ctx = _ctx("rlvr", greedy, terse_base, tmp_path, "rlvr.max_steps=12", "rlvr.learning_rate=1e-2",
               "rlvr.max_completion_length=24", "rlvr.num_generations=4", "rlvr.save_steps=1",
               "monitor.length_growth=2.0")
    error, health = _stopped(ctx)
    assert health["signal"] in ("length_blowup", "truncation")
    _assert_rolled_back(ctx, health, error)


class ForceRouterOntoOneExpert(TrainerCallback):
    """After optimizer step ``at``, zero every router (the router is frozen): all experts tie, so top-k picks
    the same experts for every token from then on."""

    def __init__(self, at: int):
        self.at = at

    def on_step_end(self, args, state, control, model=None, **kwargs):
        from core_training.modeling import is_router_parameter

        if state.global_step == self.at:
            with torch.no_grad():
                for name, param in model.named_parameters():
                    if is_router_parameter(name):
                        param.zero_()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_router_forced_onto_one_expert_fires_expert_load(toy, tiny_base, tmp_path):
    ctx = _ctx("sft", toy, tiny_base, tmp_path, "sft.max_steps=6", "sft.save_steps=1", "model.freeze_router=true")
    ctx.extra["callbacks"] = [ForceRouterOntoOneExpert(at=3)]
    error, health = _stopped(ctx)
    assert health["signal"] == "expert_load" and health["step"] == 5  # steps 4 and 5 route all alike (patience 2)
    assert health["rolled_back_to_step"] == 2  # checkpoint 3 holds the zeroed routers; 2 was confirmed by log 3
    _assert_rolled_back(ctx, health, error)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_retry_runs_the_stage_again_at_half_the_learning_rate(toy, tiny_base, tmp_path):
    ctx = _ctx("sft", toy, tiny_base, tmp_path, "sft.learning_rate=1e4", "sft.max_steps=6", "monitor.on_failure=retry")
    error, health = _stopped(ctx)  # half of an absurd rate is still absurd: both attempts fire
    assert [a["learning_rate"] for a in health["attempts"]] == [1e4, 5e3]
    assert all(a["fired"] for a in health["attempts"])
    _assert_rolled_back(ctx, health, error)


# --------------------------------------------------------------------------- detectors on synthetic logs


def _fires(rows, rl=True, **cfg) -> dict | None:
    watch = Watch(MonitorConfig(**{"patience": 2, **cfg}), rl=rl)
    for step, row in enumerate(rows, 1):
        watch.observe(step, row)
    return watch.fired


@pytest.mark.parametrize("rows, signal, step", [
    ([{"loss": 1.0, "grad_norm": 1.0}, {"loss": 1.0, "grad_norm": float("inf")}], "non_finite", 2),
    ([{"loss": 2.0}, {"loss": 30.0}, {"loss": 50.0}], "loss_blowup", 3),
    ([{"frac_reward_zero_std": 0.5}, {"frac_reward_zero_std": 1.0}, {"frac_reward_zero_std": 1.0}], "zero_reward_std", 3),
    ([{"kl": 0.1}, {"kl": 2.0}, {"kl": 3.0}], "kl", 3),
    ([{"entropy": 2.0}, {"entropy": 0.1}, {"entropy": 0.05}], "entropy_collapse", 3),
    ([{"reward": r, "reward_std": 0.2} for r in (0.1, 0.5, 0.9, 0.5, 0.4)], "reward_drop", 5),
    ([{"completions/clipped_ratio": c} for c in (0.1, 0.95, 1.0)], "truncation", 3),
    ([{"moe/max_share": 0.5, "moe/layer_1/max_share": 0.5, "moe/dead_fraction": 0.0},
      {"moe/max_share": 0.5, "moe/layer_1/max_share": 0.5, "moe/dead_fraction": 0.5},
      {"moe/max_share": 0.97, "moe/layer_1/max_share": 0.97, "moe/dead_fraction": 0.0}], "expert_load", 3),
])
def test_each_detector_fires_on_its_signal(rows, signal, step):
    fired = _fires(rows, rl=signal != "loss_blowup")
    assert fired and (fired["signal"], fired["step"]) == (signal, step)


@pytest.mark.parametrize("rows", [
    [{"loss": 2.0, "grad_norm": 1.0}, {"loss": 1.5, "grad_norm": 0.8}, {"loss": 1.2, "grad_norm": 0.7}],
    [{"frac_reward_zero_std": 1.0}, {"frac_reward_zero_std": 0.5}, {"frac_reward_zero_std": 1.0}],  # not sustained
    [{"reward": r, "reward_std": 0.2} for r in (0.1, 0.5, 0.9, 0.8, 0.85)],  # a dip smaller than one reward std
    [{"completions/clipped_ratio": 1.0}, {"completions/clipped_ratio": 1.0}, {"completions/clipped_ratio": 1.0}],
    [{"kl": 0.5}, {"train_runtime": 3.0}, {"kl": 0.6}],
    # a layer already this unbalanced in the stage's input (the shipped base's last layer is): not this stage's doing
    [{"moe/max_share": 0.99, "moe/layer_3/max_share": 0.99, "moe/dead_fraction": 0.1}] * 3,
])
def test_a_healthy_or_unsustained_log_fires_nothing(rows):
    assert _fires(rows) is None


def test_supervised_stages_may_sharpen_their_entropy():
    """SFTTrainer logs token entropy too; falling is what supervised training is for."""
    rows = [{"entropy": 3.0}, {"entropy": 0.1}, {"entropy": 0.05}]
    assert _fires(rows, rl=False) is None and _fires(rows, rl=True)["signal"] == "entropy_collapse"


def test_a_row_without_the_signal_keeps_its_streak():
    """The trainer's final summary row (no loss, no reward) neither fires nor resets a signal."""
    rows = [{"kl": 2.0}, {"train_runtime": 3.0}, {"kl": 2.0}]
    assert _fires(rows)["signal"] == "kl"


def test_healthy_report_section_lists_the_watched_signals(tmp_path):
    from core_training.report import health_section

    (tmp_path / "rlvr").mkdir()
    (tmp_path / "rlvr" / "health.json").write_text(json.dumps({"status": "healthy", "watched": ["kl", "non_finite"],
                                                               "rule_failures": {"toy/a": {"calls": 8, "failures": 2}}}))
    text = health_section(tmp_path, {"config": {"stages": ["sft", "rlvr"]}, "stages": []})
    assert "- rlvr: no signal fired (watched: kl, non_finite)" in text and "toy/a 2/8" in text
