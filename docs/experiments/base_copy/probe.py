"""Teacher-forced answer-token accuracy per skill: a smoother in-context copy signal than exact match.

    .venv/bin/python docs/experiments/base_copy/probe.py core_training/assets/tiny-moe-base
"""
import sys

import torch

from core_training.base.corpus import eval_tasks

def tf_acc(model, tok, n=40, seed=10_000):
    items = eval_tasks(n, seed)
    model.eval()
    res = {}
    with torch.no_grad():
        for name, prompt, ans in items:
            pre = tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True)
            a = tok(pre, add_special_tokens=False)["input_ids"]
            b = tok(ans + "<|im_end|>", add_special_tokens=False)["input_ids"]
            ids = torch.tensor([a + b])
            logits = model(input_ids=ids).logits[0]
            pred = logits[len(a) - 1:-1].argmax(-1).tolist()
            ok = [p == g for p, g in zip(pred, b)]
            k = name.removeprefix("task_")
            t = res.setdefault(k, [0, 0, 0, 0])  # right tokens, tokens, all-right answers, answers
            t[0] += sum(ok)
            t[1] += len(ok)
            t[2] += all(ok)
            t[3] += 1
    model.train()
    return {k: (round(v[0] / v[1], 3), round(v[2] / v[3], 3)) for k, v in res.items()}

if __name__ == "__main__":
    from core_training.modeling import load_tokenizer
    from transformers import AutoModelForCausalLM
    torch.set_num_threads(1)
    p = sys.argv[1]
    tok = load_tokenizer(p)
    m = AutoModelForCausalLM.from_pretrained(p)
    print(p, tf_acc(m, tok))
