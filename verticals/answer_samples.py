"""Answers to score in rule benchmarks and equivalence tests: gold, known-bad and perturbed, per vertical.

Model answers are stood in for by the vertical's ``known_bad`` answers and by every perturbation in its
``perturb.PERTURBATIONS`` applied to gold answers (seeded). These exercise the rules' failure paths the way a
policy's mistakes do (wrong numbers, broken JSON, missing sections), without a model.

>>> samples = answer_samples("gaokao", limit=3)
>>> sorted(samples), len(samples["gold"])
(['gold', 'known_bad', 'perturbed'], 3)
>>> response, example = samples["gold"][0]
>>> "【志愿表】" in response and "truth" in example
True
"""

from __future__ import annotations

import importlib
import random
from typing import Any

Pair = tuple[str, dict[str, Any]]


def _gold_examples(vertical: Any, limit: int | None) -> list[dict]:
    """Eval, RL-prompt and SFT examples with a gold answer, in that order (eval first: held-out facts)."""
    examples = [*vertical.load_eval_set(), *vertical.load_rl_prompts(), *vertical.load_chains()]
    return [ex for ex in examples if ex.get("answer")][:limit]


def answer_samples(name: str, limit: int | None = None, seed: int = 0) -> dict[str, list[Pair]]:
    """``{"gold", "known_bad", "perturbed"}`` -> ``[(response, example), ...]`` for vertical ``name``.

    Args:
        name: a registered vertical with a ``perturb`` module beside its rules (gaokao, auto, realestate).
        limit: at most this many gold examples (None: all); perturbations are applied to those.
        seed: seeds the perturbations' random draws.
    """
    from core_training.registry import get_vertical

    vertical = get_vertical(name)
    perturbations = importlib.import_module(f"verticals.{name}.perturb").PERTURBATIONS
    gold = [(ex["answer"], ex) for ex in _gold_examples(vertical, limit)]
    bad = [(ex["answer"], ex) for ex in (vertical.known_bad() if vertical.known_bad else [])]
    rng, perturbed = random.Random(seed), []
    for response, example in gold:
        for perturb_name in sorted(perturbations):
            answer = perturbations[perturb_name](response, example["truth"], rng)
            if answer is not None:
                perturbed.append((answer, example))
    return {"gold": gold, "known_bad": bad, "perturbed": perturbed}
