"""Reward model: TRL ``RewardTrainer`` on the expert panel's preference pairs (or an annotation
export), initialised from the current policy with a scalar head.

With ``rm.on_policy_prompts`` > 0 the stage first runs one on-policy round
(:func:`core_training.onpolicy.on_policy_round`): the policy it starts from answers RL prompts, the
simulated panel orders its answers, and those pairs join the training set.

The model loads in ``model.dtype`` like the policy; with ``lora.enabled`` it trains LoRA adapters on the
same groups as the policy stages plus the whole new scoring head, merged when the stage ends.
"""

from transformers import set_seed
from trl import RewardConfig, RewardTrainer

from core_training.data import preference_dataset, preference_pairs, source_counts, split_pairs, with_source
from core_training.lora_targets import adapt
from core_training.modeling import load_reward_model, load_tokenizer
from core_training.onpolicy import on_policy_round
from core_training.stage import StageContext, fit, trainer_kwargs, weights_source


def train(ctx: StageContext):
    c = ctx.cfg.rm
    pairs, _held_out = split_pairs(preference_pairs(ctx.vertical, ctx.preferences))
    pairs += with_source(on_policy_round(ctx), "on_policy")
    ctx.extra["train_pairs"] = source_counts(pairs)  # reported as <stage>/train_pairs/<source>
    tokenizer = load_tokenizer(ctx.input_path)
    set_seed(ctx.cfg.seed)  # the new scoring head is drawn here: the same head whatever ran before (or a resume)
    m = ctx.cfg.model
    model = load_reward_model(weights_source(ctx), m.dtype, m.experts_implementation)
    model.config.pad_token_id = tokenizer.pad_token_id
    if ctx.cfg.lora.enabled:
        model = adapt(model, ctx.cfg.lora, ctx.extra, task_type="SEQ_CLS")
    args = RewardConfig(**trainer_kwargs(ctx, c), max_length=c.max_length)
    trainer = RewardTrainer(model=model, args=args, train_dataset=preference_dataset(ctx.vertical, pairs),
                            processing_class=tokenizer)
    return fit(ctx, trainer, tokenizer)
