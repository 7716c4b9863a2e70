"""RL with verifiable rewards: TRL ``GRPOTrainer`` with the vertical's rules as reward functions
(one per rule, weighted, logged as ``rewards/<vertical>/<rule>/mean``); the router can be frozen."""

from trl import GRPOConfig, GRPOTrainer

from core_training.data import rl_dataset
from core_training.rewards import reward_functions
from core_training.stage import StageContext, fit, load_policy, trainer_kwargs


def grpo_args(ctx: StageContext, c, weights: list[float]) -> GRPOConfig:
    return GRPOConfig(
        **trainer_kwargs(ctx, c), num_generations=c.num_generations, max_completion_length=c.max_completion_length,
        temperature=c.temperature, beta=c.beta, reward_weights=weights,
        router_aux_loss_coef=0.0 if c.freeze_router else ctx.cfg.model.router_aux_loss_coef,
    )


def train(ctx: StageContext):
    c = ctx.cfg.rlvr
    funcs, weights = reward_functions(ctx.vertical, c.rule_weight, ctx.cfg.rewards)
    model, tokenizer, peft = load_policy(ctx, aux_loss=False, freeze=c.freeze_router)
    trainer = GRPOTrainer(model=model, reward_funcs=funcs, args=grpo_args(ctx, c, weights),
                          train_dataset=rl_dataset(ctx.vertical, ctx.vertical.load_rl_prompts()),
                          processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
