"""RLHF: TRL ``GRPOTrainer`` against the trained reward model plus the vertical's rules (the rules
keep the policy honest while it chases the reward model).

With ``rlhf.gate_rm_on_rules`` (the default) a completion that breaks any rule gets the lowest
reward-model score in its batch (:func:`core_training.rewards.gate_on_rules`): the reward model
orders the answers that keep the rules and cannot buy a broken one. The trainer is TRL's, with only
the reward tensor post-processed (:func:`core_training.trl_patches.rule_gated_grpo_trainer`).
"""

from trl import GRPOConfig

from core_training.data import rl_dataset
from core_training.modeling import load_reward_model, load_tokenizer
from core_training.rewards import reward_functions
from core_training.stage import StageContext, fit, grpo_kwargs, grpo_trainer_class, load_policy, trainer_kwargs
from core_training.trl_patches import rule_gated_grpo_trainer


def train(ctx: StageContext):
    c = ctx.cfg.rlhf
    if ctx.reward_model_path is None:
        raise ValueError("rlhf needs a trained reward model: run the rm stage first (stages=...,rm,rlhf)")
    rm = load_reward_model(ctx.reward_model_path, ctx.cfg.model.dtype, ctx.cfg.model.experts_implementation)
    rm_tokenizer = load_tokenizer(ctx.reward_model_path)
    rm_tokenizer.padding_side = "right"
    funcs, weights = reward_functions(ctx.vertical, c.rule_weight, ctx.cfg.rewards)
    model, tokenizer, peft = load_policy(ctx, aux_loss=False, freeze=c.freeze_router)
    args = GRPOConfig(**trainer_kwargs(ctx, c), **grpo_kwargs(c), reward_weights=[c.rm_weight, *weights])
    held_out = len(ctx.vertical.held_out_rules)  # trailing reward columns that never gate
    gated = rule_gated_grpo_trainer(measured_only=held_out) if c.gate_rm_on_rules else None
    trainer_cls = grpo_trainer_class(c, gated)
    trainer = trainer_cls(model=model, reward_funcs=[rm, *funcs], args=args,
                          train_dataset=rl_dataset(ctx.vertical, ctx.vertical.load_rl_prompts()),
                          processing_class=tokenizer, reward_processing_classes=[rm_tokenizer] + [None] * len(funcs),
                          peft_config=peft)
    return fit(ctx, trainer, tokenizer)
