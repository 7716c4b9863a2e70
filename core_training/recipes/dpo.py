"""DPO: TRL ``DPOTrainer`` on the same preference pairs, the direct alternative to ``rm`` + ``rlhf``.
The reference model is loaded from the input checkpoint by path (or, with LoRA, is the base with the
adapter disabled). With ``dpo.on_policy_prompts`` > 0, pairs of the policy's own answers ordered by the
simulated panel join the training set (:func:`core_training.onpolicy.on_policy_round`)."""

from trl import DPOConfig, DPOTrainer

from core_training.data import preference_dataset, preference_pairs, source_counts, split_pairs, with_source
from core_training.modeling import load_causal_lm
from core_training.onpolicy import on_policy_round
from core_training.stage import StageContext, fit, load_policy, trainer_kwargs


def train(ctx: StageContext):
    c = ctx.cfg.dpo
    pairs, _held_out = split_pairs(preference_pairs(ctx.vertical, ctx.preferences))
    pairs += with_source(on_policy_round(ctx), "on_policy")
    ctx.extra["train_pairs"] = source_counts(pairs)  # reported as <stage>/train_pairs/<source>
    model, tokenizer, peft = load_policy(ctx, aux_loss=False, freeze=True)
    ref = None if ctx.cfg.lora.enabled else load_causal_lm(ctx.input_path, ctx.cfg.model.dtype)  # LoRA: adapters off
    args = DPOConfig(**trainer_kwargs(ctx, c), max_length=c.max_length)
    trainer = DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=preference_dataset(ctx.vertical, pairs),
                         processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
