"""The gaokao datasets: sizes, shape, gold answers passing, held-out splits, preferences, CPT corpus."""

from __future__ import annotations

import pytest

from verticals.gaokao import VERTICAL
from verticals.gaokao.kg import gaokao_index
from verticals.gaokao.rubric import panel_score
from verticals.gaokao.rules import RULES


@pytest.fixture(scope="module")
def splits():
    return {"sft": VERTICAL.load_chains(), "rl": VERTICAL.load_rl_prompts(), "eval": VERTICAL.load_dev_set(),
            "test": VERTICAL.load_eval_set()}


def profile_key(example):
    t = example["truth"]
    return (t["province"], t["year"], t["track"], t["score"], tuple(t["subjects"]), t["wish_field"], t["wish_city"])


def universities(examples):
    return {c["university"] for e in examples for c in e["truth"]["candidates"]}


def test_sizes(splits):
    assert len(splits["sft"]) == 1000
    assert len(splits["rl"]) == 200
    assert len(splits["eval"]) == 60 and len(splits["test"]) == 60
    assert len(VERTICAL.load_preferences()) == 300


def test_every_gold_answer_has_a_safety_and_skips_misfits(splits):
    for e in splits["sft"]:
        fitting = [c for c in e["truth"]["candidates"] if c["subject_ok"]]
        assert any(c["tier"] == "保" for c in fitting)
        assert len(fitting) >= 3


def test_experts_vary(splits):
    styles = {e["truth"]["expert"] for e in splits["sft"]}
    assert styles == {"全面", "务实", "贴心", "简洁"}


def test_profiles_are_disjoint_across_splits(splits):
    keys = {name: {profile_key(e) for e in examples} for name, examples in splits.items()}
    assert all(len(keys[name]) == len(splits[name]) for name in splits)
    names = sorted(keys)
    assert not [(a, b) for a in names for b in names if a < b and keys[a] & keys[b]]
    pref_keys = {profile_key(p) for p in VERTICAL.load_preferences()}
    assert not pref_keys & set().union(*keys.values())


@pytest.mark.parametrize("split, pool", [("eval", "eval"), ("test", "test")])
def test_dev_and_test_are_held_out_by_province_and_university(splits, split, pool):
    held_out = set(gaokao_index().pools[pool])
    train_like = splits["sft"] + splits["rl"] + list(VERTICAL.load_preferences())
    assert {e["truth"]["province"] for e in splits[split]} <= held_out
    assert not {e["truth"]["province"] for e in train_like} & held_out
    assert not universities(splits[split]) & universities(train_like)
    assert {e["truth"]["pool"] for e in splits[split]} == {pool}


def test_known_bad_answers_fail_a_rule():
    bad = VERTICAL.known_bad()
    assert len(bad) >= 10
    for e in bad:
        assert any(not rule.fn(e["answer"], e).passed for rule in RULES), e["violates"]


def test_preferences_are_ranked_by_the_panel():
    for pair in VERTICAL.load_preferences():
        assert pair["chosen"] != pair["rejected"]
        assert panel_score(pair["chosen"], pair, RULES) > panel_score(pair["rejected"], pair, RULES)
        assert all(rule.fn(pair["chosen"], pair).passed for rule in RULES)


def test_preferences_mix_soft_and_hard_differences():
    pairs = VERTICAL.load_preferences()
    rejected_passing = [p for p in pairs if all(rule.fn(p["rejected"], p).passed for rule in RULES)]
    assert 0.1 < len(rejected_passing) / len(pairs) < 0.6


def test_cpt_corpus_is_short_text_with_held_out_eval():
    corpus = VERTICAL.load_cpt_corpus()
    assert 1800 <= len(corpus["train"]) <= 2500 and len(corpus["eval"]) >= 100
    assert all(isinstance(t, str) and 0 < len(t) <= 200 for t in corpus["train"] + corpus["eval"])
    assert not set(corpus["train"]) & set(corpus["eval"])
    eval_names = {u["name"] for u in gaokao_index().universities.values() if u["pool"] == "eval"}
    assert not any(name in text for text in corpus["train"] for name in eval_names)
    assert not any("湖北" in text for text in corpus["train"])
