"""Reward model: TRL ``RewardTrainer`` on the expert panel's preference pairs (or an annotation
export), initialised from the current policy with a scalar head.

With ``rm.on_policy_prompts`` > 0 the stage first runs one on-policy round
(:func:`core_training.onpolicy.on_policy_round`): the policy it starts from answers RL prompts, the
simulated panel orders its answers, and those pairs join the training set.
"""

from transformers import AutoModelForSequenceClassification, set_seed
from trl import RewardConfig, RewardTrainer

from core_training.data import preference_dataset, preference_pairs, source_counts, split_pairs, with_source
from core_training.modeling import load_tokenizer, weights_kwargs
from core_training.onpolicy import on_policy_round
from core_training.stage import StageContext, fit, trainer_kwargs, weights_source


def train(ctx: StageContext):
    c = ctx.cfg.rm
    pairs, _held_out = split_pairs(preference_pairs(ctx.vertical, ctx.preferences))
    pairs += with_source(on_policy_round(ctx), "on_policy")
    ctx.extra["train_pairs"] = source_counts(pairs)  # reported as <stage>/train_pairs/<source>
    tokenizer = load_tokenizer(ctx.input_path)
    set_seed(ctx.cfg.seed)  # the new scoring head is drawn here: the same head whatever ran before (or a resume)
    model = AutoModelForSequenceClassification.from_pretrained(weights_source(ctx), num_labels=1, local_files_only=True,
                                                               **weights_kwargs())
    model.config.pad_token_id = tokenizer.pad_token_id
    if hasattr(model.config, "output_router_logits"):
        model.config.output_router_logits = False
    args = RewardConfig(**trainer_kwargs(ctx, c), max_length=c.max_length)
    trainer = RewardTrainer(model=model, args=args, train_dataset=preference_dataset(ctx.vertical, pairs),
                            processing_class=tokenizer)
    return fit(ctx, trainer, tokenizer)
