"""rmprobe.py RUN [STAGE]: swap the wish-tied strategy of the 全面 expert into STAGE's greedy answers for students with a wish; count how often RUN's reward model and the held-out judge prefer it."""
import json, sys, re, torch
from transformers import AutoModelForSequenceClassification
from core_training.registry import get_vertical
from core_training.data import prompt_messages
from core_training.modeling import load_tokenizer
from core_training.judge import make_judge
from verticals.gaokao.experts import strategy_text
run = sys.argv[1]; stage = sys.argv[2] if len(sys.argv) > 2 else "rlvr"
v = get_vertical("gaokao"); judge = make_judge(v)
ex = {e["id"]: e for e in v.load_eval_set()}
rm = AutoModelForSequenceClassification.from_pretrained(f"{run}/rm", num_labels=1).eval()
tok = load_tokenizer(f"{run}/rm")
def score(e, resp):
    msgs = prompt_messages(v, e, "grounded") + [{"role": "assistant", "content": resp}]
    ids = tok.apply_chat_template(msgs, tokenize=True, return_tensors="pt", return_dict=True)
    with torch.no_grad(): return rm(**ids).logits[0, 0].item()
S = [r for r in map(json.loads, open(f"{run}/{stage}/samples.jsonl")) if r["mode"] == "grounded"]
deltas, wins, jw = [], 0, {"a": 0, "b": 0, "tie": 0}
for r in S:
    e = ex[r["id"]]; t = e["truth"]
    if not (t["wish_field"] or t["wish_city"]): continue
    m = re.search(r"【填报策略】(.*)", r["response"])
    if not m: continue
    new = r["response"].replace(m.group(0), "【填报策略】" + strategy_text(t, "全面", 0))
    if new == r["response"]: continue
    a, b = score(e, new), score(e, r["response"])
    deltas.append(a - b); wins += a > b; jw[judge.prefer(new, r["response"], e)] += 1
print(f"{stage}: n={len(deltas)} wish-tied RM win {wins}/{len(deltas)} mean delta {sum(deltas)/max(1,len(deltas)):.3f}; judge {jw}")
