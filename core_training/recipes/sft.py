"""Supervised fine-tuning on the vertical's expert reasoning chains: TRL ``SFTTrainer`` on chat-format
dialogs (grounded prompts), loss on assistant tokens only, router aux loss on.

Templates with ``{% generation %}`` markers (the shipped base's) train every assistant turn of a
multi-turn dialog; other templates fall back to prompt-completion data (loss on the final answer).
"""

from trl import SFTConfig, SFTTrainer

from core_training.data import prompt_messages, sft_dataset
from core_training.stage import StageContext, aux_loss_coef, fit, load_policy, trainer_kwargs


def _prompt_completion(ctx, examples):
    from datasets import Dataset

    return Dataset.from_list([{"prompt": prompt_messages(ctx.vertical, ex),
                               "completion": [{"role": "assistant", "content": ex["answer"]}]} for ex in examples])


def train(ctx: StageContext):
    c = ctx.cfg.sft
    model, tokenizer, peft = load_policy(ctx, aux_loss=True)
    examples = ctx.vertical.load_chains()
    marked = "{% generation %}" in (tokenizer.chat_template or "")
    dataset = sft_dataset(ctx.vertical, examples) if marked else _prompt_completion(ctx, examples)
    args = SFTConfig(**trainer_kwargs(ctx, c), router_aux_loss_coef=aux_loss_coef(ctx, model),
                     max_length=c.max_length, assistant_only_loss=marked, packing=c.packing, padding_free=c.packing)
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tokenizer, peft_config=peft)
    return fit(ctx, trainer, tokenizer)
