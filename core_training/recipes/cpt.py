"""Continued pretraining: TRL ``SFTTrainer`` in language-modelling mode on the vertical's domain text,
packed into fixed-length blocks, router aux loss on."""

from trl import SFTConfig, SFTTrainer

from core_training.data import cpt_dataset
from core_training.stage import StageContext, fit, load_policy, trainer_kwargs


def train(ctx: StageContext):
    c = ctx.cfg.cpt
    dataset = cpt_dataset(ctx.vertical.load_cpt_corpus()["train"])
    args = SFTConfig(**trainer_kwargs(ctx, c), max_length=c.max_length, packing=True, packing_strategy="wrapped",
                     dataset_text_field="text")
    model, tokenizer, peft = load_policy(ctx, aux_loss=True)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
