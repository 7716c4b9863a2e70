"""Train the base's model from scratch on a corpus variant and print the copy probe every N steps.

    .venv/bin/python docs/experiments/base_copy/run.py --name v0 --steps 800 --threads 1
    .venv/bin/python docs/experiments/base_copy/run.py --name r30 --repeat 0.3 --steps 800 --threads 1

Uses the shipped tokenizer (not a freshly trained one) so variants differ only in data and schedule.
An experiment, not part of the kit: see README.md here.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from probe import tf_acc
from transformers import Trainer, TrainingArguments, TrainerCallback, DataCollatorForLanguageModeling
import core_training.base.corpus as C
from core_training.base.pretrain import BaseConfig, build_model, packed_blocks
from core_training.modeling import load_tokenizer

ap = argparse.ArgumentParser()
ap.add_argument("--name"); ap.add_argument("--steps", type=int, default=600); ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--batch", type=int, default=16); ap.add_argument("--length", type=int, default=512)
ap.add_argument("--repeat", type=float, default=0.0); ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--copy_heavy", action="store_true"); ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--docs", type=int, default=80000); ap.add_argument("--every", type=int, default=100)
ap.add_argument("--warmup", type=int, default=100)
ap.add_argument("--layers", type=int, default=4); ap.add_argument("--wd", type=float, default=0.01)
a = ap.parse_args()
torch.set_num_threads(a.threads)

def task_repeat(rng):
    _, _, nouns, chars = C._lexicon()
    pool = rng.choice([chars[:2000], list("0123456789"), list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")])
    s = "".join(rng.choice(pool) for _ in range(rng.randint(6, 40)))
    return f"请原样复述：{s}", s

orig = C.generate_document
def gen(rng, copy_heavy=False):
    if rng.random() < a.repeat:
        p, ans = task_repeat(rng)
        return C._as_chat(rng, p, ans) if rng.random() < C.CHAT_FRACTION else f"{p}\n答：{ans}"
    return orig(rng, copy_heavy)
C.generate_document = gen

tok = load_tokenizer("core_training/assets/tiny-moe-base")
cfg = BaseConfig(seed=a.seed, num_layers=a.layers)
model = build_model(cfg, tok); model.config.output_router_logits = True
docs = C.generate_corpus(a.docs, seed=a.seed, copy_heavy=a.copy_heavy)
t0 = time.time()
class CB(TrainerCallback):
    def on_step_end(self, args, state, control, model=None, **kw):
        if state.global_step % a.every == 0:
            model.config.output_router_logits = False
            r = tf_acc(model, tok, n=20)
            model.config.output_router_logits = True
            loss = [h["loss"] for h in state.log_history if "loss" in h][-1:]
            print(json.dumps({"name": a.name, "step": state.global_step, "t": round(time.time() - t0), "loss": loss, **{k: v[0] for k, v in r.items()}, "copy_em": r["copy"][1]}), flush=True)
args = TrainingArguments(output_dir=f"/tmp/base_copy_{a.name}", max_steps=a.steps, per_device_train_batch_size=a.batch, learning_rate=a.lr,
    lr_scheduler_type="cosine", warmup_steps=a.warmup, weight_decay=a.wd, logging_steps=25, save_strategy="no", seed=a.seed,
    report_to=[], use_cpu=True, dataloader_num_workers=0, disable_tqdm=True)
Trainer(model=model, args=args, train_dataset=packed_blocks(docs, tok, a.length), data_collator=DataCollatorForLanguageModeling(tok, mlm=False), callbacks=[CB()]).train()
