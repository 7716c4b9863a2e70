"""Reward model: TRL ``RewardTrainer`` on the expert panel's preference pairs (or an annotation
export), initialised from the current policy with a scalar head.

With ``rm.on_policy_prompts`` > 0 the stage first runs one on-policy round
(:func:`core_training.onpolicy.on_policy_round`): the policy it starts from answers RL prompts, the
simulated panel orders its answers, and those pairs join the training set.
"""

from transformers import AutoModelForSequenceClassification
from trl import RewardConfig, RewardTrainer

from core_training.data import preference_dataset, split_pairs
from core_training.modeling import load_tokenizer
from core_training.onpolicy import on_policy_round
from core_training.stage import StageContext, fit, trainer_kwargs, weights_source


def train(ctx: StageContext):
    c = ctx.cfg.rm
    pairs, _held_out = split_pairs(ctx.preferences or ctx.vertical.load_preferences())
    pairs += on_policy_round(ctx)
    tokenizer = load_tokenizer(ctx.input_path)
    model = AutoModelForSequenceClassification.from_pretrained(weights_source(ctx), num_labels=1, local_files_only=True)
    model.config.pad_token_id = tokenizer.pad_token_id
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False
    args = RewardConfig(**trainer_kwargs(ctx, c), max_length=c.max_length)
    trainer = RewardTrainer(model=model, args=args, train_dataset=preference_dataset(ctx.vertical, pairs),
                            processing_class=tokenizer)
    return fit(ctx, trainer, tokenizer)
