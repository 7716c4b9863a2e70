"""Controls for the copy plateau: small models, short blocks, a plain torch loop, three copy probes.

    T=1 .venv/bin/python docs/experiments/base_copy/controls.py --arch llama --steps 1200 --reps 3
    T=1 .venv/bin/python docs/experiments/base_copy/controls.py --arch llama --periodic 1.0 --steps 600
    T=1 .venv/bin/python docs/experiments/base_copy/controls.py --arch moe --layers 4 --periodic 0.5 --reps 2

Training data, chosen per step:
  * ``--fixed_steps N``: the first N steps are "32 random CJK tokens, then the same 32 again"
    (a fixed copy distance, which a model can solve by position alone);
  * ``--periodic F``: a share F of steps are periodic rows (a random run of 4-16 CJK tokens repeated
    to fill the block: the copy distance varies, so only content matching solves it);
  * every other step: packed "请原样复述：s" documents, s a random CJK string of 6-40 characters,
    followed by ``--reps`` copies of s and one more (the answer).
Every 50 steps it prints the training loss, the fixed-distance probe loss (copy half of held-out
fixed-distance rows) and the document probe loss (answer tokens of held-out documents). Copying nothing
scores about ln(2000) = 7.6 on both probes; the probes fall towards 0 once copying forms.
An experiment, not part of the kit: see README.md here.
"""
import argparse
import os
import random
import time

import torch
from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig, Qwen3Config

import core_training.base.corpus as C
from core_training.base.pretrain import BaseConfig, build_model, grow, packed_blocks
from core_training.modeling import load_tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--arch", default="llama", choices=["llama", "qwen3", "gpt2", "moe"])
ap.add_argument("--layers", type=int, default=2)
ap.add_argument("--lr", type=float, default=1e-3)
ap.add_argument("--steps", type=int, default=400)
ap.add_argument("--len", type=int, default=64)
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--fixed_steps", type=int, default=0)
ap.add_argument("--periodic", type=float, default=0.0)
ap.add_argument("--reps", type=int, default=1)
ap.add_argument("--grow_at", type=int, default=0, help="at this step, grow a moe model to --grow_to layers and train on documents only")
ap.add_argument("--grow_to", type=int, default=4)
a = ap.parse_args()
torch.set_num_threads(int(os.environ.get("T", "1")))
torch.manual_seed(0)
tok = load_tokenizer("core_training/assets/tiny-moe-base")
chars = C._lexicon()[3][:2000]
cjk = torch.tensor([tok.convert_tokens_to_ids(tok.tokenize(c)[0]) for c in chars])


def model_for(arch: str):
    common = dict(vocab_size=len(tok), num_hidden_layers=a.layers, tie_word_embeddings=True, bos_token_id=None,
                  eos_token_id=tok.eos_token_id)
    if arch == "moe":
        model = build_model(BaseConfig(num_layers=a.layers), tok)
        model.config.output_router_logits = True
        return model
    if arch == "gpt2":
        return AutoModelForCausalLM.from_config(GPT2Config(n_embd=128, n_head=4, n_positions=512, **common))
    cls = LlamaConfig if arch == "llama" else Qwen3Config
    return AutoModelForCausalLM.from_config(cls(hidden_size=128, intermediate_size=512, num_attention_heads=4,
                                                num_key_value_heads=2, head_dim=32, **common))


def document(rng: random.Random) -> tuple[str, str]:
    s = "".join(rng.choice(chars) for _ in range(rng.randint(6, 40)))
    return "请原样复述：" + "\n答：".join([s] * a.reps) + f"\n答：{s}", s


def periodic_rows(rng: random.Random) -> torch.Tensor:
    rows = []
    for _ in range(a.batch):
        run = cjk[torch.randint(0, len(cjk), (rng.randint(4, 16),))]
        rows.append(run.repeat(a.len // len(run) + 1)[: a.len])
    return torch.stack(rows)


def fixed_rows(n: int, generator=None) -> torch.Tensor:
    half = cjk[torch.randint(0, len(cjk), (n, a.len // 2), generator=generator)]
    return torch.cat([half, half], 1)


model = model_for(a.arch)
opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
rng = random.Random(0)
docs = [document(rng)[0] for _ in range(a.steps * a.batch * a.len // 25 + 1000)]
blocks = torch.tensor([r for r in packed_blocks(docs, tok, a.len)["input_ids"] if len(r) == a.len])
held_rng = random.Random(99)
held_docs = []
for d, s in (document(held_rng) for _ in range(64)):
    held_docs.append((tok(d[: len(d) - len(s)], add_special_tokens=False)["input_ids"], tok(s, add_special_tokens=False)["input_ids"]))
held_fixed = fixed_rows(64, torch.Generator().manual_seed(1))


def probes() -> tuple[float, float]:
    """(fixed-distance copy loss, document answer loss), teacher-forced, nats per token."""
    model.config.output_router_logits = False
    half = a.len // 2
    with torch.no_grad():
        logits = model(input_ids=held_fixed).logits[:, half:-1]
        fixed = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), held_fixed[:, half + 1:].reshape(-1))
        total = count = 0.0
        for prompt, answer in held_docs:
            logits = model(input_ids=torch.tensor([prompt + answer])).logits[0, len(prompt) - 1:-1]
            total += torch.nn.functional.cross_entropy(logits, torch.tensor(answer), reduction="sum").item()
            count += len(answer)
    model.config.output_router_logits = a.arch == "moe"
    return round(fixed.item(), 3), round(total / count, 3)


started = time.time()
next_block = 0
for step in range(a.steps + 1):
    if a.grow_at and step == a.grow_at:
        print("probes before growing", probes(), flush=True)
        model = grow(model, BaseConfig(num_layers=a.grow_to), tok)  # zero-output new layers: same function
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01)
        print("probes after growing", probes(), flush=True)
    if a.grow_at and step >= a.grow_at:
        ids = blocks[next_block * a.batch:(next_block + 1) * a.batch]
        next_block += 1
    elif step < a.fixed_steps:
        ids = fixed_rows(a.batch)
    elif rng.random() < a.periodic:
        ids = periodic_rows(rng)
    else:
        ids = blocks[next_block * a.batch:(next_block + 1) * a.batch]
        next_block += 1
    loss = model(input_ids=ids, labels=ids).loss
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        fixed, doc = probes()
        print(f"step {step} t {time.time() - started:.0f}s loss {loss.item():.3f} fixed-distance {fixed} document {doc}", flush=True)
