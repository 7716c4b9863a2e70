"""The general-purpose synthetic corpus the embedded base is pretrained on.

It teaches what a real base brings to post-training and nothing about any vertical: copying names and
numbers from context, looking things up in a table it is given, rewriting rows as JSON, filtering and
labelling rows by stated thresholds, comparing and computing with numbers, dialog turns in the chat
template, and plain Chinese text (word sequences drawn from jieba's frequency dictionary).

>>> docs = generate_corpus(5, seed=0)
>>> len(docs), all(isinstance(d, str) and d for d in docs)
(5, True)
>>> generate_corpus(3, seed=1) == generate_corpus(3, seed=1)
True
"""

from __future__ import annotations

import json
import random
from functools import lru_cache
from pathlib import Path
from typing import Callable

CHAT_FRACTION = 0.35


@lru_cache(maxsize=1)
def _lexicon() -> tuple[list[str], list[float], list[str], list[str]]:
    """Words and weights from jieba's dictionary, plus nouns and the common-character pool."""
    import jieba  # only needed when the base is (re)built

    path = Path(jieba.__file__).parent / "dict.txt"
    words, weights, nouns = [], [], []
    char_freq: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) < 3 or not all("\u4e00" <= ch <= "\u9fff" for ch in parts[0]):
            continue
        word, freq, pos = parts[0], int(parts[1]), parts[2]
        if freq < 200:
            continue
        words.append(word)
        weights.append(freq**0.6)  # flatten Zipf a little so rarer common words appear
        if pos in ("n", "nr", "ns", "nt", "nz") and 2 <= len(word) <= 4:
            nouns.append(word)
        for ch in word:
            char_freq[ch] = char_freq.get(ch, 0) + freq
    chars = [c for c, _ in sorted(char_freq.items(), key=lambda kv: -kv[1])[:2600]]
    return words, weights, nouns, chars


def _name(rng: random.Random) -> str:
    _, _, nouns, chars = _lexicon()
    if rng.random() < 0.5:
        return "".join(rng.choice(chars[:2000]) for _ in range(rng.randint(2, 6)))
    return "".join(rng.choice(nouns) for _ in range(rng.randint(1, 3)))[:8]


def _number(rng: random.Random) -> int:
    return rng.randint(1, 10 ** rng.randint(1, 6) - 1)


def _label_word(rng: random.Random) -> str:
    _, _, nouns, chars = _lexicon()
    return rng.choice([rng.choice(chars[:800]), rng.choice("ABCDEFXYZ"), rng.choice(nouns)[:2]])


def _table(rng: random.Random, n: int) -> list[dict]:
    """``n`` rows with distinct random names in random order.

    Names are deduplicated in a dict, not a set: a set of strings iterates in an order that changes with
    each process's hash seed, and it once made every rebuild of the base a different base.
    """
    names: dict[str, None] = {}
    while len(names) < n:
        names[_name(rng)] = None
    return [{"id": i + 1, "name": nm, "value": _number(rng)} for i, nm in enumerate(sorted(names, key=lambda _: rng.random()))]


def _render_table(rng: random.Random, rows: list[dict], extra: Callable[[dict], str] = lambda r: "") -> str:
    style = rng.randrange(3)
    lines = []
    for r in rows:
        if style == 0:
            lines.append(f"[{r['id']}] {r['name']} {r['value']}{extra(r)}")
        elif style == 1:
            lines.append(f"{r['id']}. {r['name']}：{r['value']}{extra(r)}")
        else:
            lines.append(f"{r['id']}|{r['name']}|{r['value']}{extra(r)}")
    return "\n".join(lines)


def task_lookup(rng: random.Random) -> tuple[str, str]:
    rows = _table(rng, rng.randint(3, 24))
    r = rng.choice(rows)
    table = _render_table(rng, rows)
    kind = rng.randrange(3)
    if kind == 0:
        return f"{table}\n问：{r['name']}的数值是多少？", f"{r['value']}"
    if kind == 1:
        return f"{table}\n问：编号{r['id']}是谁？", f"{r['name']}"
    return f"{table}\n问：数值为{r['value']}的是哪一项？", f"[{r['id']}] {r['name']}"


def task_copy(rng: random.Random) -> tuple[str, str]:
    items = [_name(rng) if rng.random() < 0.6 else str(_number(rng)) for _ in range(rng.randint(1, 6))]
    text = rng.choice(["、", " ", "，"]).join(items)
    return f"请原样复述：{text}", text


def task_row_json(rng: random.Random) -> tuple[str, str]:
    rows = _table(rng, rng.randint(3, 10))
    picked = sorted(rng.sample(rows, rng.randint(1, min(3, len(rows)))), key=lambda r: r["id"])
    keys = rng.choice([("名称", "数值"), ("name", "value"), (_label_word(rng), _label_word(rng) + "值")])
    ids = "、".join(str(r["id"]) for r in picked)
    out = [{"id": r["id"], keys[0]: r["name"], keys[1]: r["value"]} for r in picked]
    return f"{_render_table(rng, rows)}\n把编号{ids}写成JSON，键为id、{keys[0]}、{keys[1]}。", json.dumps(out, ensure_ascii=False)


def task_threshold_labels(rng: random.Random) -> tuple[str, str]:
    """Filter rows by a flag, label each kept row by its signed percentage, cite id and value."""
    rows = _table(rng, rng.randint(4, 9))
    lo, hi = sorted(rng.sample(range(-20, 25), 2))
    labels = [_label_word(rng) for _ in range(3)]
    while len(set(labels)) < 3:
        labels = [_label_word(rng) for _ in range(3)]
    ok_word, bad_word = rng.choice([("符合", "不符"), ("是", "否"), ("可用", "停用")])
    for r in rows:
        r["pct"] = rng.randint(-40, 40)
        r["ok"] = rng.random() < 0.8
    rows.sort(key=lambda r: r["pct"])
    for i, r in enumerate(rows):
        r["id"] = i + 1
    table = _render_table(rng, rows, lambda r: f" 差{r['pct']:+d}% {ok_word if r['ok'] else bad_word}")
    rule = f"规则：只保留{ok_word}的行；差<{lo}为{labels[0]}，{lo}到{hi}为{labels[1]}，差>{hi}为{labels[2]}。"
    key = rng.choice(["类", "档", "级", "label"])
    out = []
    for r in rows:
        if r["ok"]:
            lab = labels[0] if r["pct"] < lo else labels[1] if r["pct"] <= hi else labels[2]
            out.append({"id": r["id"], key: lab, "值": r["value"]})
    return f"{table}\n{rule}按顺序输出JSON列表，键为id、{key}、值。", json.dumps(out, ensure_ascii=False)


def task_numbers(rng: random.Random) -> tuple[str, str]:
    a, b = _number(rng), _number(rng)
    kind = rng.randrange(5)
    if kind == 0:
        return f"{a}和{b}哪个大？", str(max(a, b))
    if kind == 1:
        return f"计算：{a}+{b}=", str(a + b)
    if kind == 2:
        return f"计算：{a}-{b}=", str(a - b)
    if kind == 3:
        xs = [_number(rng) for _ in range(rng.randint(3, 7))]
        return f"从小到大排序：{'、'.join(map(str, xs))}", "、".join(map(str, sorted(xs)))
    b = max(b, 1)
    return f"({a}-{b})/{b}的百分比（取整）是？", f"{round((a - b) / b * 100):+d}%"


def task_extract(rng: random.Random) -> tuple[str, str]:
    name, city, n, m = _name(rng), _name(rng)[:3], rng.randint(1, 999), rng.randint(100, 99999)
    text = rng.choice([f"{name}来自{city}，今年{n}岁，存款{m}元。", f"在{city}的{name}有{m}元，年龄{n}。"])
    out = {"名字": name, "地点": city, "年龄": n, "金额": m}
    return f"从这句话中抽取信息，输出JSON：{text}", json.dumps(out, ensure_ascii=False)


def plain_text(rng: random.Random) -> str:
    words, weights, _, _ = _lexicon()
    sents = []
    for _ in range(rng.randint(2, 6)):
        ws = rng.choices(words, weights=weights, k=rng.randint(4, 14))
        sents.append("".join(ws) + rng.choice("。。。！？；"))
    return "".join(sents)


TASKS = [task_lookup, task_lookup, task_copy, task_row_json, task_threshold_labels, task_threshold_labels, task_numbers, task_extract]


def _as_chat(rng: random.Random, prompt: str, answer: str) -> str:
    if rng.random() < 0.3:  # context in the system turn, question in the user turn
        ctx, _, q = prompt.rpartition("\n")
        if ctx:
            return (f"<|im_start|>system\n{ctx}<|im_end|>\n<|im_start|>user\n{q}<|im_end|>\n"
                    f"<|im_start|>assistant\n{answer}<|im_end|>\n")
    return f"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n{answer}<|im_end|>\n"


COPY_HEAVY_TASKS = [task_lookup, task_lookup, task_copy, task_copy, task_row_json, task_row_json,
                    task_threshold_labels, task_threshold_labels, task_numbers, task_extract]


def generate_document(rng: random.Random, copy_heavy: bool = False) -> str:
    """One training document: a task in plain form, in the chat template, or plain text.

    ``copy_heavy`` (the second pretraining phase) shifts the mix towards copying and lookup.
    """
    if rng.random() < (0.04 if copy_heavy else 0.12):
        return plain_text(rng)
    prompt, answer = rng.choice(COPY_HEAVY_TASKS if copy_heavy else TASKS)(rng)
    if rng.random() < CHAT_FRACTION:
        return _as_chat(rng, prompt, answer)
    return f"{prompt}\n答：{answer}"


def generate_corpus(n: int, seed: int = 0, copy_heavy: bool = False) -> list[str]:
    """``n`` documents, deterministic for a given seed."""
    rng = random.Random(seed)
    return [generate_document(rng, copy_heavy) for _ in range(n)]


def periodic_text(rng: random.Random, length: int) -> str:
    """A random run of 4-16 common characters repeated to ``length`` characters.

    Nothing but copying predicts it, and the copy distance changes from text to text, so position alone
    does not: it is what makes copying (an induction circuit) form in phase 0 of the base's pretraining.

    >>> text = periodic_text(random.Random(0), 40)
    >>> len(text), any(text == (text[:k] * 40)[:40] for k in range(4, 17))
    (40, True)
    """
    chars = _lexicon()[3][:2000]
    run = "".join(rng.choice(chars) for _ in range(rng.randint(4, 16)))
    return (run * (length // len(run) + 1))[:length]


def periodic_corpus(n: int, length: int, seed: int = 0) -> list[str]:
    """``n`` periodic texts of ``length`` characters, deterministic for a given seed."""
    rng = random.Random(seed)
    return [periodic_text(rng, length) for _ in range(n)]


def eval_tasks(n: int, seed: int) -> list[tuple[str, str, str]]:
    """Held-out (task name, prompt, answer) triples for the base's own copy/lookup checks."""
    rng = random.Random(seed)
    named = [task_lookup, task_copy, task_row_json, task_threshold_labels, task_numbers]
    return [(fn.__name__, *fn(rng)) for _ in range(n) for fn in named]
