"""The realestate dev and test splits: entity-disjoint from training and from each other; dev is the eval
set the shipped settings were chosen on, unchanged; adding the test split changed no training data.

The digests were recorded (``core_training.config.config_hash``) from the datasets and the graph as they
were before the test split existed. A change to training data, the dev set or the graph's train/eval part
fails here: if it is meant, record the new digests in the same commit and say why.
"""

from __future__ import annotations

import pytest

from core_training.config import config_hash
from core_training.rewards import all_passed, check
from verticals.realestate import VERTICAL, data
from verticals.realestate.kg import realestate_graph, realestate_index

DIGESTS = {  # dataset -> config_hash before the test split was added
    "load_chains": "bea95a1877bdfd81ebdc0c9ac73fce0999a27c34ccf9dc921980f7c94f396583",
    "load_rl_prompts": "c92b617f887139669ee481c3f4fbb3fd7951f561bcfb77de1c13ca641a04452d",
    "load_preferences": "27426a0a46b71808ca81dba64f5d7bf4812809ce2e3c95e5812cfb7d31f47e9f",
    "load_dev_set": "6c2084571b36645ad2edc8b82e8598b38056bc8005693f17f484fbe8dcc382cb",  # was load_eval_set
    "known_bad": "1f877518d711fa57fa97d6823dd7e7daea6b8319244662798c54655ac9347eaa",
    "load_cpt_corpus": "873c8c5433b51ea90eda14c43305edf4f20ebe93ba2ae69b4d3197d2565fb4a5",
}
OLD_GRAPH = (272, "4e52781b5ba49bbb841f45742697e13a9672978aa94770abeb09d2ade0e94dd9")  # nodes, digest


def graph_digest(g, first_nodes: int) -> str:
    """Digest of the graph's first ``first_nodes`` nodes (insertion order) and the edges among them."""
    nodes = list(g.nodes)[:first_nodes]
    kept = set(nodes)
    edges = [[u, v, d] for u, v, d in g.edges(data=True) if u in kept and v in kept]
    return config_hash({"nodes": [[n, g.nodes[n]] for n in nodes], "edges": edges})


def entities(examples) -> dict[str, set]:
    """Cities, listings, 小区, schools and stations the examples' truths mention."""
    candidates = [c for e in examples for c in e["truth"]["candidates"]]
    return {"city": {e["truth"]["city"] for e in examples}, "listing": {c["listing"] for c in candidates},
            "xiaoqu": {c["xiaoqu"] for c in candidates}, "school": {c["school"] for c in candidates},
            "station": {c["station"] for c in candidates if c.get("station")}}


@pytest.mark.parametrize("loader", sorted(DIGESTS))
def test_training_data_and_dev_set_are_unchanged(loader):
    assert config_hash(getattr(VERTICAL, loader)()) == DIGESTS[loader]


def test_the_graph_gained_only_the_test_city():
    g = realestate_graph()
    count, digest = OLD_GRAPH
    assert graph_digest(g, count) == digest
    added = [g.nodes[n] for n in list(g.nodes)[count:]]
    assert added and {d.get("city", d.get("name")) for d in added if d["kind"] != "listing"} == {"南京"}
    codes = [d["code"] for d in g.nodes.values() if d["kind"] == "school"]
    assert len(codes) == len(set(codes)) and all(len(code) == 3 for code in codes)  # two-digit codes, none reused


def test_test_split_is_entity_disjoint_from_training_and_dev():
    train = entities(VERTICAL.load_chains() + VERTICAL.load_rl_prompts() + list(VERTICAL.load_preferences()))
    dev, test = entities(VERTICAL.load_dev_set()), entities(VERTICAL.load_eval_set())
    assert test["city"] == {"南京"} and dev["city"] == {"苏州"} and train["city"] == {"杭州"}
    for kind in train:
        assert test[kind] and not test[kind] & train[kind] and not test[kind] & dev[kind], kind
        assert not dev[kind] & train[kind], kind
    assert {e["truth"]["pool"] for e in VERTICAL.load_eval_set()} == {"test"}


def test_test_split_is_as_large_and_its_gold_answers_pass_every_rule():
    test = VERTICAL.load_eval_set()
    assert len(test) >= len(VERTICAL.load_dev_set()) == 60
    assert len({e["id"] for e in test}) == len(test) and all(e["id"].startswith("re-test-") for e in test)
    for example in test:
        assert all_passed(check(VERTICAL, example["answer"], example)), example["id"]


def test_training_text_never_names_a_test_entity():
    index = realestate_index()
    in_test = {code for code, x in index.xiaoqu.items() if x["city"] == "南京"}
    names = {index.xiaoqu[c]["name"] for c in in_test} | {"南京", "鼓楼", "建邺"}
    names |= {s["name"] for s in index.stations.values() if s["city"] == "南京"}
    texts = [m["content"] for e in VERTICAL.load_chains() + VERTICAL.load_rl_prompts() for m in e["messages"]]
    texts += [e["answer"] for e in VERTICAL.load_chains()] + VERTICAL.load_cpt_corpus()["train"]
    texts += [p["chosen"] + p["rejected"] for p in VERTICAL.load_preferences()]
    assert not [t for t in texts if any(name in t for name in names)]


def test_splits_used_names_both_held_out_cities():
    assert "苏州" in data.splits_used() and "南京" in data.splits_used()
