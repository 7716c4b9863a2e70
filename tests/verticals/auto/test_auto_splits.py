"""The auto dev and test splits: entity-disjoint from training and from each other; dev is the eval set the
shipped settings were chosen on, unchanged; adding the test split changed no training data.

Two checks that adding the test split changed nothing else: the datasets built from the graph with the
test pool removed equal those built from the whole graph (training sets, CPT corpus and known-bad exactly;
the reduced graph's eval set is the dev set); and digests recorded before the test split existed (with
``core_training.config.config_hash``): each split's questions (ids and messages, so gold answer and truth
formats may evolve), the CPT corpus, and the graph's train/eval part. A change to those fails here: if it
is meant, record the new digest in the same commit and say why.
"""

from __future__ import annotations

import pytest

from core_training.config import config_hash
from core_training.rewards import all_passed, check
from knowledge_graphs.auto import TEST_MIN_PRICE
from verticals.auto import VERTICAL, data
from verticals.auto.data import SIZES
from verticals.auto.kg import auto_graph, auto_index

QUESTION_DIGESTS = {  # dataset -> question_digest before the test split was added
    "load_chains": "92238557b0be54fb0e244cee63e16ea9afee04462b35ade5bd1a9bf14a258b5c",
    "load_rl_prompts": "ce813bef14b7fa14ed7237686127b496590bbca87320f7836f8e467067b8ef75",
    "load_preferences": "61b3bab8e62064bc8e176d891cfee54d0aade0fc22b2b31a8253567b336270db",
    "load_dev_set": "53cc2ee6c7536682d341d74a21a6df06c12667d7ea2ebe4e8ba0ef19f6b1856b",  # was load_eval_set
}
CPT_DIGEST = "c7a98e0e1b78d5b7075582a5f0f26e1ed398fe2f535aa87db6888a88784f09a6"
OLD_GRAPH = (223, "0547fc1e5b8bdbe677008db4888a5971313d6b5312cf2654fb57adb7caf4acb4")  # nodes, digest


def entities(examples) -> dict[str, set]:
    """Trims and series the examples' truths list."""
    candidates = [c for e in examples for c in e["truth"]["candidates"]]
    return {"trim": {c["trim"] for c in candidates}, "series": {c["series"] for c in candidates}}


def without_test_pool(g):
    """A copy of the graph without the test series, their trims and the brands that have only those."""
    series = set(auto_index().test)
    brands = {d["brand"] for n, d in g.nodes(data=True) if n in series}
    brands -= {d["brand"] for n, d in g.nodes(data=True) if d["kind"] == "series" and n not in series}
    drop = [n for n, d in g.nodes(data=True) if n in series or n in brands or d.get("series") in series]
    reduced = g.copy()
    reduced.remove_nodes_from(drop)
    return reduced


@pytest.mark.parametrize("loader", sorted(QUESTION_DIGESTS))
def test_training_and_dev_questions_are_unchanged(loader, split_check):
    assert split_check.question_digest(getattr(VERTICAL, loader)()) == QUESTION_DIGESTS[loader]


def test_cpt_corpus_is_unchanged():
    assert config_hash(VERTICAL.load_cpt_corpus()) == CPT_DIGEST


def test_removing_the_test_pool_changes_no_other_dataset(split_check):
    whole = split_check.datasets_on("auto")
    reduced = split_check.datasets_on("auto", without_test_pool(auto_graph()))
    same = ("load_chains", "load_rl_prompts", "load_preferences", "known_bad", "load_cpt_corpus")
    assert {k: reduced[k] for k in same} == {k: whole[k] for k in same}
    assert reduced["load_eval_set"] == whole["load_dev_set"]  # without a test pool the dev split is the test split


def test_the_graph_gained_only_the_test_brands(split_check):
    g, index = auto_graph(), auto_index()
    count, digest = OLD_GRAPH
    assert split_check.graph_digest(g, count) == digest
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
