"""The gaokao dev and test splits: entity-disjoint from training and from each other; dev is the eval set
the shipped settings were chosen on, unchanged; adding the test split changed no training data.

The digests were recorded (``core_training.config.config_hash``) from the datasets and the graph as they
were before the test split existed. A change to training data, the dev set or the graph's train/eval part
fails here: if it is meant, record the new digests in the same commit and say why.
"""

from __future__ import annotations

import pytest

from core_training.config import config_hash
from verticals.gaokao import VERTICAL, data
from verticals.gaokao.kg import gaokao_graph, gaokao_index
from verticals.gaokao.rules import RULES

DIGESTS = {  # dataset -> config_hash before the test split was added
    "load_chains": "0df0be183c58fa4e18b49200b883edfe7b882d790bf3c0e664da587b77079758",
    "load_rl_prompts": "7c80edff5dc9dd3990ab94742f58a7c8458038b883fa5d2a32e6abe4a80f634e",
    "load_preferences": "43b6ddc2bcf0b9183bbd2e39a89c59e39ff341516a270ed5123342276d5e3163",
    "load_dev_set": "6c79f33d1a6f20495c15d5142d1ddf2c3e0d73c2fcf938e85aa4df5fc391c6e6",  # was load_eval_set
    "known_bad": "35f5497ba5cebdc76ade1c0f73bcf89fb3699d2c637df2a66ec8b68801a2eae1",
    "load_cpt_corpus": "32878a3902cb136d480b7c361c1838441c88f8d396df7360bd6f0e1e6acbf5a4",
}
OLD_GRAPH = (395, "4ac153b77d6aa27ba9cad1d7942594311b08ecfce34b36652f0f8717b52a7e01")  # nodes, digest


def graph_digest(g, first_nodes: int) -> str:
    """Digest of the graph's first ``first_nodes`` nodes (insertion order) and the edges among them."""
    nodes = list(g.nodes)[:first_nodes]
    kept = set(nodes)
    edges = [[u, v, k, d] for u, v, k, d in g.edges(keys=True, data=True) if u in kept and v in kept]
    return config_hash({"nodes": [[n, g.nodes[n]] for n in nodes], "edges": edges})


def entities(examples) -> dict[str, set]:
    """Provinces and universities the examples' truths mention."""
    return {"province": {e["truth"]["province"] for e in examples},
            "university": {c["university"] for e in examples for c in e["truth"]["candidates"]}}


@pytest.mark.parametrize("loader", sorted(DIGESTS))
def test_training_data_and_dev_set_are_unchanged(loader):
    assert config_hash(getattr(VERTICAL, loader)()) == DIGESTS[loader]


def test_the_graph_gained_only_the_test_pool():
    g = gaokao_graph()
    count, digest = OLD_GRAPH
    assert graph_digest(g, count) == digest
    added = list(g.nodes)[count:]
    assert added and all(g.nodes[n].get("pool", "test") == "test" for n in added)
    assert {g.nodes[n]["province"] for n in added if g.nodes[n]["kind"] == "score_table"} == {"安徽"}


def test_test_split_is_entity_disjoint_from_training_and_dev():
    train = entities(VERTICAL.load_chains() + VERTICAL.load_rl_prompts() + list(VERTICAL.load_preferences()))
    dev, test = entities(VERTICAL.load_dev_set()), entities(VERTICAL.load_eval_set())
    assert test["province"] == {"安徽"} and dev["province"] == {"湖北"}
    for kind in ("province", "university"):
        assert not test[kind] & train[kind] and not test[kind] & dev[kind] and not dev[kind] & train[kind], kind
    pool_of = {u["name"]: u["pool"] for u in gaokao_index().universities.values()}
    assert {pool_of[name] for name in test["university"]} == {"test"}


def test_test_split_is_as_large_and_its_gold_answers_pass_every_rule():
    test = VERTICAL.load_eval_set()
    assert len(test) >= len(VERTICAL.load_dev_set()) == 60
    assert len({e["id"] for e in test}) == len(test) and all(e["id"].startswith("gk-test-") for e in test)
    for example in test:
        failed = [rule.name for rule in RULES if not rule.fn(example["answer"], example).passed]
        assert not failed, (example["id"], failed)


def test_training_text_never_names_a_test_entity():
    names = {u["name"] for u in gaokao_index().universities.values() if u["pool"] == "test"} | {"安徽"}
    texts = [e["answer"] + e["messages"][-1]["content"] for e in VERTICAL.load_chains() + VERTICAL.load_rl_prompts()]
    texts += [p["chosen"] + p["rejected"] for p in VERTICAL.load_preferences()]
    texts += VERTICAL.load_cpt_corpus()["train"]
    assert not [t for t in texts if any(name in t for name in names)]


def test_splits_used_names_both_held_out_provinces():
    assert "湖北" in data.splits_used() and "安徽" in data.splits_used()
