"""Check the base's training path itself: packed blocks, collated labels and masks, causal attention.

    .venv/bin/python docs/experiments/base_copy/check_path.py

Prints what a phase-1 batch holds and how far a change to one token reaches in the logits, for a fresh
model and for the shipped base. An experiment, not part of the kit: see README.md here.
"""
import random

import torch
from transformers import AutoModelForCausalLM, DataCollatorForLanguageModeling

from core_training.base.pretrain import BaseConfig, build_model, packed_blocks
from core_training.modeling import load_tokenizer

SHIPPED = "core_training/assets/tiny-moe-base"
tok = load_tokenizer(SHIPPED)
rng = random.Random(0)
docs = ["请原样复述：" + "".join(rng.choice("0123456789") for _ in range(20)) for _ in range(200)]
blocks = packed_blocks(docs, tok, 128)
batch = DataCollatorForLanguageModeling(tok, mlm=False)([blocks[i] for i in range(2)])
print("batch keys:", sorted(batch))
print("labels == input_ids:", bool((batch["labels"] == batch["input_ids"]).all()))
print("attention_mask all ones:", bool((batch["attention_mask"] == 1).all()))
print("document separators in block 0:", int((batch["input_ids"][0] == tok.convert_tokens_to_ids("<|endoftext|>")).sum()))

ids = batch["input_ids"][:1]
changed = ids.clone()
changed[0, 5] = (changed[0, 5] + 7) % 3000
for name, model in [("fresh", build_model(BaseConfig(), tok)), ("shipped", AutoModelForCausalLM.from_pretrained(SHIPPED))]:
    model.eval()
    with torch.no_grad():
        reach = (model(input_ids=ids).logits - model(input_ids=changed).logits).abs().amax(-1)[0]
    print(f"{name}: largest change before position 5: {reach[:5].max().item():.1e}; "
          f"max change at positions 5-30: {reach[5:31].max().item():.3f}; attention {model.config._attn_implementation}")
