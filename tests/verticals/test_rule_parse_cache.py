"""The rules give the same verdicts with the parse cache as without it, on every gold, known-bad and
perturbed answer of the three in-repo verticals (perturbed answers stand in for a model's mistakes).

The cached pass runs rule by rule over the whole set, as a TRL reward function does (so every parse is
shared across a batch); the uncached pass runs answer by answer with every rule parsing on its own, as
the rules did before the cache. A rule that changed a shared parse would make the passes differ.
"""

from __future__ import annotations

import pytest

from core_training.authoring import clear_parse_caches, parse_caching
from core_training.registry import get_vertical
from core_training.rewards import apply_rule, check
from verticals.answer_samples import answer_samples


def _verdicts(results) -> list[tuple]:
    return [(r.score, r.passed, r.reason) for r in results]


@pytest.mark.parametrize("name", ["gaokao", "auto", "realestate"])
def test_verdicts_identical_with_and_without_the_parse_cache(name):
    vertical, samples = get_vertical(name), answer_samples(name)
    assert all(samples[kind] for kind in ("gold", "known_bad", "perturbed"))
    pairs = [pair for kind in ("gold", "known_bad", "perturbed") for pair in samples[kind]]
    clear_parse_caches()
    by_rule = [[apply_rule(rule, response, example) for response, example in pairs] for rule in vertical.rules]
    cached = [_verdicts(results) for results in zip(*by_rule)]
    with parse_caching(False):
        naive = [_verdicts(check(vertical, response, example).values()) for response, example in pairs]
    mismatches = [(i, c, n) for i, (c, n) in enumerate(zip(cached, naive)) if c != n]
    assert not mismatches, f"{len(mismatches)} of {len(pairs)} answers differ, first: {mismatches[0]}"
    failed = sum(not r[1] for verdicts in naive for r in verdicts)
    assert failed > len(samples["known_bad"])  # the set exercises the failure paths, not only the passes


def test_check_batch_in_a_process_pool_matches_one_process():
    from core_training import rewards
    from core_training.rewards import check_batch

    vertical, samples = get_vertical("gaokao"), answer_samples("gaokao", limit=40)
    pairs = samples["gold"] + samples["perturbed"]
    responses, examples = [r for r, _ in pairs], [ex for _, ex in pairs]
    pooled = check_batch(vertical, responses, examples, processes=2, min_batch=1)
    serial = check_batch(vertical, responses, examples, processes=1)
    assert 2 in rewards._POOLS  # the pool did the scoring, not the in-process fallback
    assert len(pooled) == len(pairs) > 100
    assert pooled == serial
    assert any(not r.passed for results in serial for r in results.values())
