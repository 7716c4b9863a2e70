"""Batched generation from chat messages: greedy (evaluation, the base's skill checks, the apps) or
sampled (on-policy preference pairs).

>>> from core_training.generation import chunks
>>> list(chunks([1, 2, 3, 4, 5], 2))
[[1, 2], [3, 4], [5]]
"""

from __future__ import annotations

from typing import Iterator, Sequence

from tqdm.auto import tqdm


def chunks(items: Sequence, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def generate(model, tokenizer, conversations: Sequence[list[dict]], max_new_tokens: int = 256,
             batch_size: int = 32, desc: str | None = None, temperature: float | None = None,
             num_samples: int = 1) -> list[str]:
    """Answers to each conversation (a list of chat messages ending with a user turn).

    Greedy by default; with ``temperature``, ``num_samples`` sampled answers per conversation, in
    order (conversation 0's samples first). Seed torch first for reproducible samples.
    """
    import torch

    model.eval()
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    out: list[str] = []
    try:
        batches = list(chunks(conversations, batch_size))
        for batch in tqdm(batches, desc=desc, disable=desc is None, leave=False):
            prompts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in batch]
            enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(model.device)
            with torch.no_grad():
                sampling = dict(do_sample=True, temperature=temperature, top_k=0, top_p=1.0,
                                num_return_sequences=num_samples) if temperature else dict(do_sample=False)
                ids = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                                     eos_token_id=tokenizer.eos_token_id, **sampling)
            new = ids[:, enc["input_ids"].shape[1] :]
            out.extend(tokenizer.batch_decode(new, skip_special_tokens=True))
    finally:
        tokenizer.padding_side = side
    return [o.strip() for o in out]
