"""The gaokao dev and test splits: entity-disjoint from training and from each other; dev is the eval set
the shipped settings were chosen on, unchanged; adding the test split changed no training data.

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
from verticals.gaokao import VERTICAL, data
from verticals.gaokao.kg import gaokao_graph, gaokao_index
from verticals.gaokao.rules import RULES

QUESTION_DIGESTS = {  # dataset -> question_digest before the test split was added
    "load_chains": "464dc0b09fb2de1e02a3c3c387795954931f1d028a6bbf052343714aadc4554f",
    "load_rl_prompts": "26cad09babcc73a224ff0611c64c2c47aeafa9b411d44645fafdb611cf7a8853",
    "load_preferences": "ed23802340faef1cb8fbe2a0302a11ef99b343c17c56a0a9f6aad04a2b92460a",
    "load_dev_set": "cbdf9bfcbe3e92d4c9144e0a366a242b10ba922fe1660c0790badc275a8627f3",  # was load_eval_set
}
CPT_DIGEST = "32878a3902cb136d480b7c361c1838441c88f8d396df7360bd6f0e1e6acbf5a4"
OLD_GRAPH = (395, "4ac153b77d6aa27ba9cad1d7942594311b08ecfce34b36652f0f8717b52a7e01")  # nodes, digest


def entities(examples) -> dict[str, set]:
    """Provinces and universities the examples' truths mention."""
    return {"province": {e["truth"]["province"] for e in examples},
            "university": {c["university"] for e in examples for c in e["truth"]["candidates"]}}


def without_test_pool(g):
    """A copy of the graph without the test pool: its provinces, their tables and lines, its universities
    and their 专业组 (and so their admissions)."""
    provinces = {d["name"] for _, d in g.nodes(data=True) if d["kind"] == "province" and d["pool"] == "test"}
    universities = {n for n, d in g.nodes(data=True) if d["kind"] == "university" and d["pool"] == "test"}
    drop = [n for n, d in g.nodes(data=True)
            if n in universities or d.get("university") in universities or d.get("province") in provinces
            or (d["kind"] == "province" and d["name"] in provinces)]
    reduced = g.copy()
    reduced.remove_nodes_from(drop)
    return reduced


@pytest.mark.parametrize("loader", sorted(QUESTION_DIGESTS))
def test_training_and_dev_questions_are_unchanged(loader, split_check):
    assert split_check.question_digest(getattr(VERTICAL, loader)()) == QUESTION_DIGESTS[loader]


def test_cpt_corpus_is_unchanged():
    assert config_hash(VERTICAL.load_cpt_corpus()) == CPT_DIGEST


def test_removing_the_test_pool_changes_no_other_dataset(split_check):
    whole = split_check.datasets_on("gaokao")
    reduced = split_check.datasets_on("gaokao", without_test_pool(gaokao_graph()))
    same = ("load_chains", "load_rl_prompts", "load_preferences", "known_bad", "load_cpt_corpus")
    assert {k: reduced[k] for k in same} == {k: whole[k] for k in same}
    assert reduced["load_eval_set"] == whole["load_dev_set"]  # without a test pool the dev split is the test split


def test_the_graph_gained_only_the_test_pool(split_check):
    g = gaokao_graph()
    count, digest = OLD_GRAPH
    assert split_check.graph_digest(g, count) == digest
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
