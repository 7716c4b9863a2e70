"""Continued pretraining: TRL ``SFTTrainer`` in language-modelling mode on the vertical's domain text,
packed into fixed-length blocks, router aux loss on."""

from trl import SFTConfig, SFTTrainer

from core_training.data import cpt_dataset
from core_training.stage import StageContext, aux_loss_coef, fit, load_policy, trainer_kwargs


def train(ctx: StageContext):
    c = ctx.cfg.cpt
    dataset = cpt_dataset(ctx.vertical.load_cpt_corpus()["train"])
    model, tokenizer, peft = load_policy(ctx, aux_loss=True)
    args = SFTConfig(**trainer_kwargs(ctx, c), router_aux_loss_coef=aux_loss_coef(ctx, model), max_length=c.max_length,
                     packing=True, packing_strategy="wrapped", dataset_text_field="text")
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
