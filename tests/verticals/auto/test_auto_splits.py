"""The auto dev and test splits: entity-disjoint from training and from each other; dev is the eval set the
shipped settings were chosen on, unchanged; adding the test split changed no training data.

The digests were recorded (``core_training.config.config_hash``) from the datasets and the graph as they
were before the test split existed. A change to training data, the dev set or the graph's train/eval part
fails here: if it is meant, record the new digests in the same commit and say why.
"""

from __future__ import annotations

import pytest

from core_training.config import config_hash
from core_training.rewards import all_passed, check
from knowledge_graphs.auto import TEST_MIN_PRICE
from verticals.auto import VERTICAL, data
from verticals.auto.data import SIZES
from verticals.auto.kg import auto_graph, auto_index

DIGESTS = {  # dataset -> config_hash before the test split was added
    "load_chains": "c57729c1aca5648a0494227b66123efc579f4ee4073b9c6a31a06edc21841ce1",
    "load_rl_prompts": "e7f407324cd1dce81db559fc2466f5b1f43547903f5214905249e45a3fc906e0",
    "load_preferences": "5861e2f8dde081d3da740ac991f79ec59c150d651bd7abf2ee7215431363aa7e",
    "load_dev_set": "a441fe8c2cdf6774c3ffceef489cc378ff96030e92f84ac4d55b9d16ca37c4c4",  # was load_eval_set
    "known_bad": "6982cb6ee1e40d13eb6aec3a737eb6f67165516808fd550c309bf5dc7282bbe5",
    "load_cpt_corpus": "c7a98e0e1b78d5b7075582a5f0f26e1ed398fe2f535aa87db6888a88784f09a6",
}
OLD_GRAPH = (223, "0547fc1e5b8bdbe677008db4888a5971313d6b5312cf2654fb57adb7caf4acb4")  # nodes, digest


def graph_digest(g, first_nodes: int) -> str:
    """Digest of the graph's first ``first_nodes`` nodes (insertion order) and the edges among them."""
    nodes = list(g.nodes)[:first_nodes]
    kept = set(nodes)
    edges = [[u, v, d] for u, v, d in g.edges(data=True) if u in kept and v in kept]
    return config_hash({"nodes": [[n, g.nodes[n]] for n in nodes], "edges": edges})


def entities(examples) -> dict[str, set]:
    """Trims and series the examples' truths list."""
    candidates = [c for e in examples for c in e["truth"]["candidates"]]
    return {"trim": {c["trim"] for c in candidates}, "series": {c["series"] for c in candidates}}


@pytest.mark.parametrize("loader", sorted(DIGESTS))
def test_training_data_and_dev_set_are_unchanged(loader):
    assert config_hash(getattr(VERTICAL, loader)()) == DIGESTS[loader]


def test_the_graph_gained_only_the_test_brands():
    g, index = auto_graph(), auto_index()
    count, digest = OLD_GRAPH
    assert graph_digest(g, count) == digest
    added = [g.nodes[n] for n in list(g.nodes)[count:]]
    assert {d["kind"] for d in added} == {"brand", "series", "trim"}
    assert {d["tier"] for d in added if d["kind"] == "brand"} == {"超豪华"}
    test_trims = [d for d in added if d["kind"] == "trim"]
    assert {d["series"] for d in test_trims} == set(index.test) and not index.test & index.held_out
    assert min(d["price"] for d in test_trims) > TEST_MIN_PRICE  # out of reach of budgets up to 60万


def test_test_split_is_entity_disjoint_from_training_and_dev():
    train = entities(VERTICAL.load_chains() + VERTICAL.load_rl_prompts() + list(VERTICAL.load_preferences()))
    dev, test = entities(VERTICAL.load_dev_set()), entities(VERTICAL.load_eval_set())
    index = auto_index()
    assert {index.pool_of(t) for t in test["trim"]} == {"test"}
    for kind in ("trim", "series"):
        assert test[kind] and not test[kind] & train[kind] and not test[kind] & dev[kind], kind


def test_test_split_is_as_large_mixed_and_its_gold_answers_pass_every_rule():
    test = VERTICAL.load_eval_set()
    assert len(test) >= len(VERTICAL.load_dev_set()) == SIZES["eval"]
    assert {e["truth"]["type"] for e in test} == {"spec", "compare", "recommend"}
    assert len({e["id"] for e in test}) == len(test) and all(e["id"].startswith("auto-test-") for e in test)
    for example in test:
        assert all_passed(check(VERTICAL, example["answer"], example)), example["id"]


def test_training_text_never_names_a_test_series_or_brand():
    index = auto_index()
    names = {index.series[s]["name"] for s in index.test} | {index.series[s]["brand_name"] for s in index.test}
    texts = [e["answer"] + e["messages"][-1]["content"] for e in VERTICAL.load_chains() + VERTICAL.load_rl_prompts()]
    texts += [p["chosen"] + p["rejected"] for p in VERTICAL.load_preferences()]
    texts += VERTICAL.load_cpt_corpus()["train"] + VERTICAL.load_cpt_corpus()["eval"]
    assert not [t for t in texts if any(name in t for name in names)]


def test_splits_used_names_the_test_series():
    assert "test: 6 test series" in data.splits_used() and "dev: 8 held-out series" in data.splits_used()
