"""One conformance suite over every registered vertical (in-repo and installed entry points)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core_training.config import resolve_run_config
from core_training.datacards import stale_cards
from core_training.registry import get_vertical, list_verticals
from core_training.rewards import all_passed, check

NAMES = [info.name for info in list_verticals()]
CARDS = Path(__file__).resolve().parents[2] / "data_cards"


@pytest.fixture(scope="module", params=NAMES)
def vertical(request):
    return get_vertical(request.param)


def test_eval_set_is_non_empty_with_unique_ids(vertical):
    ids = [ex["id"] for ex in vertical.load_eval_set()]
    assert ids and len(ids) == len(set(ids))


def test_gold_answers_pass_every_applicable_rule(vertical):
    examples = list(vertical.load_eval_set()) + list(vertical.load_chains())[:200]
    failures = []
    for ex in examples:
        results = check(vertical, ex["answer"], ex)
        if not all_passed(results):
            failures.append((ex["id"], {k: r.reason for k, r in results.items() if not r.passed}))
    assert not failures, failures[:3]


def test_known_bad_answers_fail_some_rule(vertical):
    bad = list(vertical.known_bad() if vertical.known_bad else [])
    assert bad, f"{vertical.name} supplies no known-bad answers"
    passing = [ex["id"] for ex in bad if all_passed(check(vertical, ex["answer"], ex))]
    assert not passing


def test_preference_pairs_prefer_what_the_rules_prefer(vertical):
    pairs = list(vertical.load_preferences())
    assert pairs
    inverted = [p["id"] for p in pairs
                if all_passed(check(vertical, p["rejected"], p)) and not all_passed(check(vertical, p["chosen"], p))]
    assert not inverted


def test_graph_loads_and_retriever_answers(vertical):
    graph = vertical.load_graph()
    assert graph.number_of_nodes() > 0
    ex = vertical.load_eval_set()[0]
    user = "\n".join(m["content"] for m in ex["messages"] if m["role"] == "user")
    assert vertical.retrieve(user).strip()


def test_configs_resolve(vertical):
    cfg = resolve_run_config(dict(vertical.config_overrides), cli_overrides=[f"vertical={vertical.name}"])
    assert cfg.vertical == vertical.name
    micro = resolve_run_config(dict(vertical.config_overrides), preset="micro")
    assert micro.sft.max_steps <= 10


def test_every_dataset_has_a_current_data_card(vertical):
    assert stale_cards(vertical, CARDS) == [], f"run `vkit cards {vertical.name}`"
