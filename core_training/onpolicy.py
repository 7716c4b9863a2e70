"""On-policy preference pairs: the policy answers RL prompts, the simulated panel orders its answers.

A reward model trained only on the shipped pairs (expert answers against weaker styles and
perturbations) learns what separates those; GRPO then asks it to rank the policy's own samples,
which differ in other ways: on the policy's own samples such a reward model orders pairs little better
than chance, while the simulated panel agrees with the held-out judge.

The standard remedy is one round of the data flywheel: sample from the current policy, let the
annotators compare, add the pairs to the reward model's training set. The annotation app's export is
the same round with real experts; here the panel is :func:`core_training.judge.make_panel` (never the
judge). At vkit's tiny scale it helped the reward model only a little and moved no rlhf judge result, so
it is off by default (the measurements: docs/results/history.md).

>>> score = {"good": 2, "fine": 1, "also fine": 1}  # an annotator: higher is better, equal is a tie
>>> prefer = lambda a, b, ex: "tie" if score[a] == score[b] else "a" if score[a] > score[b] else "b"
>>> ex = {"id": "q1", "messages": [{"role": "user", "content": "?"}], "truth": {}}
>>> [(p["chosen"], p["rejected"]) for p in pairs_for(ex, ["fine", "good", "also fine", "good"], prefer)]
[('good', 'fine'), ('good', 'also fine')]
"""

from __future__ import annotations

import json
import random
from itertools import combinations
from typing import Callable, Sequence

from core_training.contract import Example, Vertical
from core_training.data import prompt_messages
from core_training.generation import generate
from core_training.io import atomic_write_text, read_jsonl

ON_POLICY_FILE = "on_policy_pairs.jsonl"

Prefer = Callable[[str, str, Example], str]  # (a, b, example) -> "a" | "b" | "tie"


def pairs_for(example: Example, answers: Sequence[str], prefer: Prefer) -> list[Example]:
    """Every pair of different, non-empty ``answers`` that ``prefer`` does not tie, as chosen/rejected."""
    distinct = list(dict.fromkeys(a for a in answers if a.strip()))
    pairs = []
    for i, j in combinations(range(len(distinct)), 2):
        verdict = prefer(distinct[i], distinct[j], example)
        if verdict == "tie":
            continue
        chosen, rejected = (distinct[i], distinct[j]) if verdict == "a" else (distinct[j], distinct[i])
        pairs.append({"id": f"{example['id']}-op{i}-{j}", "prompt_id": example["id"],
                      "messages": list(example["messages"]), "truth": example.get("truth", {}),
                      "chosen": chosen, "rejected": rejected})
    return pairs


def pick_prompts(examples: Sequence[Example], n: int, seed: int) -> list[Example]:
    """``n`` of ``examples`` drawn without replacement by ``seed`` (all of them if fewer).

    >>> [e["id"] for e in pick_prompts([{"id": i} for i in range(5)], 3, seed=0)]
    [3, 4, 0]
    """
    examples = list(examples)
    return random.Random(seed).sample(examples, min(n, len(examples)))


def split_by_prompt(examples: Sequence[Example], held_out: float) -> tuple[list[Example], list[Example]]:
    """The first ``1 - held_out`` of the prompts train, the rest are held out (whole prompts, never a pair split).

    >>> [len(part) for part in split_by_prompt([{"id": i} for i in range(10)], 0.2)]
    [8, 2]
    """
    n_held = int(round(len(examples) * held_out))
    return list(examples[: len(examples) - n_held]), list(examples[len(examples) - n_held :])


def on_policy_pairs(model, tokenizer, vertical: Vertical, prompts: Sequence[Example], samples: int,
                    temperature: float, max_new_tokens: int, prefer: Prefer, batch_size: int = 8) -> list[Example]:
    """Sample ``samples`` grounded answers per prompt from ``model``; return the pairs ``prefer`` orders."""
    convs = [prompt_messages(vertical, ex) for ex in prompts]
    answers = generate(model, tokenizer, convs, max_new_tokens=max_new_tokens, batch_size=batch_size,
                       desc=f"on-policy answers ({len(prompts)} prompts x {samples})", temperature=temperature,
                       num_samples=samples)
    pairs = []
    for i, example in enumerate(prompts):
        pairs += pairs_for(example, answers[i * samples : (i + 1) * samples], prefer)
    return pairs


def panel_prefer(vertical: Vertical) -> Prefer:
    """The simulated panel's majority vote (:func:`core_training.judge.majority_preference`)."""
    from core_training.judge import majority_preference, make_panel

    panel = make_panel(vertical)
    return lambda a, b, example: majority_preference(panel, a, b, example)


def on_policy_round(ctx) -> list:
    """The on-policy training pairs of a preference stage (rm, dpo; none when its ``on_policy_prompts`` is 0).

    ``ctx`` is the stage's :class:`core_training.stage.StageContext`. The pairs are cached in its work
    directory (a resumed stage trains on the same pairs); the held-out ones go to
    ``ctx.extra["on_policy_held_out"]``, the pairs file and its data card to ``ctx.extra["artifacts"]``
    (the pipeline writes them into ``RUN/<stage>/``).
    """
    c = getattr(ctx.cfg, ctx.stage)
    if not c.on_policy_prompts:
        return []
    cache = ctx.work_dir / ON_POLICY_FILE
    if cache.is_file():
        rows = read_jsonl(cache)
    else:
        rows = _sample_and_label(ctx)
        atomic_write_text(cache, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    text = cache.read_text(encoding="utf-8")
    train = [r for r in rows if r["split"] == "train"]
    held_out = [r for r in rows if r["split"] == "held_out"]
    ctx.extra["on_policy_held_out"] = held_out
    ctx.extra["artifacts"] = {ON_POLICY_FILE: text, "on_policy_pairs.md": _card(ctx, rows, len(train), len(held_out))}
    return train


def _sample_and_label(ctx) -> list:
    import torch

    from core_training.modeling import load_causal_lm, load_tokenizer

    cfg, c = ctx.cfg, getattr(ctx.cfg, ctx.stage)
    prompts = pick_prompts(ctx.vertical.load_rl_prompts(), c.on_policy_prompts, cfg.seed)
    train_prompts, _ = split_by_prompt(prompts, c.on_policy_held_out)
    train_ids = {p["id"] for p in train_prompts}
    policy = load_causal_lm(ctx.input_path, cfg.model.dtype, cfg.model.experts_implementation)
    torch.manual_seed(cfg.seed)
    pairs = on_policy_pairs(policy, load_tokenizer(ctx.input_path), ctx.vertical, prompts, c.on_policy_samples,
                            c.on_policy_temperature, cfg.rlhf.max_completion_length, panel_prefer(ctx.vertical))
    return [{**pair, "split": "train" if pair["prompt_id"] in train_ids else "held_out"} for pair in pairs]


def _card(ctx, rows: list, n_train: int, n_held_out: int) -> str:
    from core_training.datacards import render_card

    c = getattr(ctx.cfg, ctx.stage)
    notes = {
        "provenance": (
            f"Generated by this run's {ctx.stage} stage: the policy `{ctx.input_path}` answered "
            f"{c.on_policy_prompts} RL prompts {c.on_policy_samples} times each (temperature "
            f"{c.on_policy_temperature}, seed {ctx.cfg.seed}); "
            "the simulated expert panel (`core_training.judge.make_panel`, never the held-out judge) ordered every "
            "pair of different answers by majority vote; tied pairs were dropped."),
        "splits": (f"Held out by prompt: the pairs of {c.on_policy_held_out:.0%} of the prompts are never trained "
                   "on (the rm stage reports `rm/on_policy_accuracy` on them)."),
        "intended_use": f"Training this run's {ctx.stage} stage (one round of the data flywheel).",
    }
    return render_card(ctx.vertical, "on_policy_pairs", rows, {"train": n_train, "held_out": n_held_out}, notes)
