"""The base's own copy/lookup checks: exact match on held-out synthetic tasks, per skill.

These are the numbers the model card reports; `vkit base pretrain` computes them after training.
"""

from __future__ import annotations

from collections import defaultdict

from core_training.base.corpus import eval_tasks
from core_training.generation import generate


def evaluate_skills(model, tokenizer, n: int = 40, seed: int = 10_000) -> dict[str, float]:
    """Exact-match rate per skill on ``n`` held-out items each (greedy, chat template)."""
    items = eval_tasks(n, seed)
    convs = [[{"role": "user", "content": prompt}] for _, prompt, _ in items]
    answers = generate(model, tokenizer, convs, max_new_tokens=160, batch_size=50, desc="base skills")
    hits: dict[str, list[bool]] = defaultdict(list)
    for (name, _, gold), got in zip(items, answers):
        hits[name.removeprefix("task_")].append(got.strip() == gold.strip())
    return {k: sum(v) / len(v) for k, v in sorted(hits.items())}
