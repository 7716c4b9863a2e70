"""The realestate dev and test splits: entity-disjoint from training and from each other; dev is the eval
set the shipped settings were chosen on, unchanged; adding the test split changed no training data.

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
from verticals.realestate import VERTICAL, data
from verticals.realestate.kg import realestate_graph, realestate_index

QUESTION_DIGESTS = {  # dataset -> question_digest before the test split was added
    "load_chains": "4781e2252827009497b564c33ac967c80d52f32480f04ceaea176786f44ff5c3",
    "load_rl_prompts": "1ad8e3bb15ee09f8b34ee34343ffe9ffcf6f09fe54bebeacff628c5353b225ab",
    "load_preferences": "ac1a36aee2e1e7e8c4e61f9c3f6bf9c37fb22864356e54760250a0daba3e935a",
    "load_dev_set": "041e5d03147ae04feeb876eb8e29b35fe46e128132aa271630c8ce12d0bcd96f",  # was load_eval_set
}
CPT_DIGEST = "873c8c5433b51ea90eda14c43305edf4f20ebe93ba2ae69b4d3197d2565fb4a5"
OLD_GRAPH = (272, "4e52781b5ba49bbb841f45742697e13a9672978aa94770abeb09d2ade0e94dd9")  # nodes, digest


def entities(examples) -> dict[str, set]:
    """Cities, listings, 小区, schools and stations the examples' truths mention."""
    candidates = [c for e in examples for c in e["truth"]["candidates"]]
    return {"city": {e["truth"]["city"] for e in examples}, "listing": {c["listing"] for c in candidates},
            "xiaoqu": {c["xiaoqu"] for c in candidates}, "school": {c["school"] for c in candidates},
            "station": {c["station"] for c in candidates if c.get("station")}}


def without_test_pool(g):
    """A copy of the graph without the test cities and everything in them (listings through their 小区)."""
    cities = {d["name"] for _, d in g.nodes(data=True) if d["kind"] == "city" and d["pool"] == "test"}
    xiaoqu = {d["code"] for _, d in g.nodes(data=True) if d["kind"] == "xiaoqu" and d["city"] in cities}
    drop = [n for n, d in g.nodes(data=True)
            if d.get("city") in cities or d.get("xiaoqu") in xiaoqu or (d["kind"] == "city" and d["name"] in cities)]
    reduced = g.copy()
    reduced.remove_nodes_from(drop)
    return reduced


@pytest.mark.parametrize("loader", sorted(QUESTION_DIGESTS))
def test_training_and_dev_questions_are_unchanged(loader, split_check):
    assert split_check.question_digest(getattr(VERTICAL, loader)()) == QUESTION_DIGESTS[loader]


def test_cpt_corpus_is_unchanged():
    assert config_hash(VERTICAL.load_cpt_corpus()) == CPT_DIGEST


def test_removing_the_test_pool_changes_no_other_dataset(split_check):
    whole = split_check.datasets_on("realestate")
    reduced = split_check.datasets_on("realestate", without_test_pool(realestate_graph()))
    same = ("load_chains", "load_rl_prompts", "load_preferences", "known_bad", "load_cpt_corpus")
    assert {k: reduced[k] for k in same} == {k: whole[k] for k in same}
    assert reduced["load_eval_set"] == whole["load_dev_set"]  # without a test pool the dev split is the test split


def test_the_graph_gained_only_the_test_city(split_check):
    g = realestate_graph()
    count, digest = OLD_GRAPH
    assert split_check.graph_digest(g, count) == digest
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
