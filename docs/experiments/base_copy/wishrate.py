"""wishrate.py RUN STAGE: share of temperature-1 【填报策略】 samples (8 per held-out student with a wish) that name the wish, after the stage's own greedy answer up to 【填报策略】; also how many greedy answers name it."""
import json, sys, torch
from transformers import AutoModelForCausalLM
from core_training.registry import get_vertical
from core_training.data import prompt_messages
from core_training.modeling import load_tokenizer
from verticals.gaokao.answer import split_sections
run, stage = sys.argv[1], sys.argv[2]
v = get_vertical("gaokao"); ex = {e["id"]: e for e in v.load_eval_set()}
model = AutoModelForCausalLM.from_pretrained(f"{run}/{stage}").eval(); tok = load_tokenizer(f"{run}/{stage}")
S = [r for r in map(json.loads, open(f"{run}/{stage}/samples.jsonl")) if r["mode"] == "grounded"]
torch.manual_seed(0); hit = n = greedy = 0
for r in S:
    t = ex[r["id"]]["truth"]; wishes = [w for w in (t["wish_field"], t["wish_city"]) if w]
    if not wishes: continue
    head = r["response"].split("【填报策略】")[0] + "【填报策略】"
    greedy += any(w in split_sections(r["response"]).get("填报策略", "") for w in wishes)
    p = tok.apply_chat_template(prompt_messages(v, ex[r["id"]], "grounded"), tokenize=False, add_generation_prompt=True)
    x = tok(p + head, add_special_tokens=False, return_tensors="pt")["input_ids"]
    out = model.generate(x, do_sample=True, temperature=1.0, max_new_tokens=24, num_return_sequences=8, top_k=0)
    for o in out:
        s = tok.decode(o[x.shape[1]:]).split("\n")[0]; n += 1
        hit += any(w in s for w in wishes)
print(f"{run} {stage}: samples naming the wish {hit}/{n} = {hit/n:.3f}; greedy answers naming it {greedy}")
