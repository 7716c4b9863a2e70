"""RL with verifiable rewards: TRL ``GRPOTrainer`` with the vertical's rules as reward functions
(one per rule, weighted, logged as ``rewards/<vertical>/<rule>/mean``; held-out rules at weight 0).
MoE: the router frozen by default, no aux loss, routing agreement logged, routing replay optional
(:func:`core_training.stage.grpo_kwargs`, docs/moe-rl.md)."""

from trl import GRPOConfig

from core_training.data import rl_dataset
from core_training.rewards import reward_functions
from core_training.stage import StageContext, fit, grpo_kwargs, grpo_trainer_class, load_policy, trainer_kwargs


def grpo_args(ctx: StageContext, c, weights: list[float]) -> GRPOConfig:
    return GRPOConfig(**trainer_kwargs(ctx, c), **grpo_kwargs(c), reward_weights=weights)


def train(ctx: StageContext):
    c = ctx.cfg.rlvr
    funcs, weights = reward_functions(ctx.vertical, c.rule_weight, ctx.cfg.rewards)
    model, tokenizer, peft = load_policy(ctx, aux_loss=False, freeze=c.freeze_router)
    trainer = grpo_trainer_class(c)(model=model, reward_funcs=funcs, args=grpo_args(ctx, c, weights),
                                    train_dataset=rl_dataset(ctx.vertical, ctx.vertical.load_rl_prompts()),
                                    processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
