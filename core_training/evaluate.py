"""Evaluation: rule pass rates and rubric means in closed-book and grounded mode, perplexity,
reward-model accuracy.

Run on any checkpoint with ``vkit eval CHECKPOINT --vertical gaokao [--mode grounded]``.
"""

from __future__ import annotations

import math
from typing import Sequence

from core_training.contract import Example, Vertical
from core_training.data import prompt_messages
from core_training.generation import generate
from core_training.judge import rubric_scores
from core_training.rewards import score_responses


def evaluate_policy(model, tokenizer, vertical: Vertical, examples: Sequence[Example], modes: Sequence[str],
                    max_new_tokens: int = 256, batch_size: int = 32) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Answer every example in each mode and score the answers with the vertical's rules.

    Returns ``({"<mode>/all_rules_pass": ..., "<mode>/rule/<name>": ..., ...}, {mode: responses})``.
    """
    metrics: dict[str, float] = {}
    responses: dict[str, list[str]] = {}
    for mode in modes:
        convs = [prompt_messages(vertical, ex, mode) for ex in examples]
        out = generate(model, tokenizer, convs, max_new_tokens=max_new_tokens, batch_size=batch_size,
                       desc=f"eval {vertical.name} {mode}")
        responses[mode] = out
        metrics.update({f"{mode}/{k}": v for k, v in score_responses(vertical, out, examples).items()})
        metrics.update({f"{mode}/{k}": v for k, v in rubric_means(vertical, out, examples).items()})
    return metrics, responses


def rubric_means(vertical: Vertical, responses: Sequence[str], examples: Sequence[Example]) -> dict[str, float]:
    """``rubric/<dimension>``: the mean rubric score (what the panel and the judge weigh beyond the rules).

    A stage that keeps every rule but writes thinner answers (fewer risks, no word on the wish) shows
    here before the judge's win rate says so.
    """
    if len(responses) != len(examples):
        raise ValueError(f"{len(responses)} responses but {len(examples)} examples")
    totals = dict.fromkeys(vertical.rubric_dimensions, 0.0)
    for response, example in zip(responses, examples):
        scores = rubric_scores(vertical, response, example, totals)
        for dimension in totals:
            totals[dimension] += float(scores[dimension])
    return {f"rubric/{d}": total / len(responses) for d, total in totals.items()} if responses else {}


def perplexity(model, tokenizer, texts: Sequence[str], max_length: int = 512, batch_size: int = 16) -> float:
    """exp(mean next-token NLL) over ``texts`` (each truncated to ``max_length`` tokens)."""
    import torch

    model.eval()
    total_nll, total_tokens = 0.0, 0
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(list(texts[start : start + batch_size]), return_tensors="pt", padding=True,
                            truncation=True, max_length=max_length, add_special_tokens=False).to(model.device)
            labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
            with torch.no_grad():
                logits = model(**enc).logits[:, :-1].float()  # (B, T-1, V)
            target = labels[:, 1:]
            nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), target, ignore_index=-100, reduction="sum")
            total_nll += float(nll)
            total_tokens += int((target != -100).sum())
    finally:
        tokenizer.padding_side = side
    return math.exp(total_nll / max(total_tokens, 1))


def reward_model_accuracy(model, tokenizer, vertical: Vertical, pairs: Sequence[Example], batch_size: int = 16) -> float:
    """Fraction of held-out preference pairs where the reward model scores ``chosen`` above ``rejected``."""
    import torch

    model.eval()
    side = tokenizer.padding_side
    tokenizer.padding_side = "right"

    def scores(key: str) -> list[float]:
        texts = [tokenizer.apply_chat_template(prompt_messages(vertical, p) + [{"role": "assistant", "content": p[key]}],
                                               tokenize=False) for p in pairs]
        out = []
        for start in range(0, len(texts), batch_size):
            enc = tokenizer(texts[start : start + batch_size], return_tensors="pt", padding=True,
                            add_special_tokens=False).to(model.device)
            with torch.no_grad():
                out.extend(model(**enc).logits[:, 0].tolist())
        return out

    try:
        chosen, rejected = scores("chosen"), scores("rejected")
    finally:
        tokenizer.padding_side = side
    return sum(c > r for c, r in zip(chosen, rejected)) / max(len(pairs), 1)


def sampled_judge_counts(judge, vertical: Vertical, examples: Sequence[Example], new, old, samples: int,
                         max_new_tokens: int = 256, batch_size: int = 32, seed: int = 0) -> dict[str, int]:
    """The judge's wins, losses and ties of ``new`` over ``old`` (each a ``(model, tokenizer)`` pair) on
    ``samples`` grounded answers per example sampled at temperature 1, the i-th sample of one policy
    against the i-th of the other, each policy sampled from the same torch seed."""
    import torch

    from core_training.judge import verdict_counts

    convs = [prompt_messages(vertical, ex, "grounded") for ex in examples]
    answers = []
    for model, tokenizer in (new, old):
        torch.manual_seed(seed)
        answers.append(generate(model, tokenizer, convs, max_new_tokens=max_new_tokens, batch_size=batch_size,
                                temperature=1.0, num_samples=samples))
    return verdict_counts(judge, answers[0], answers[1], [ex for ex in examples for _ in range(samples)])
