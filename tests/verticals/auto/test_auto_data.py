"""The auto datasets: sizes, shape, gold answers passing, held-out series, preferences, CPT corpus."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from core_training.judge import make_panel, majority_preference
from core_training.rewards import all_passed, check
from verticals.auto import VERTICAL
from verticals.auto.answer import parse_answer
from verticals.auto.kg import HELD_OUT_SERIES, auto_index
from verticals.auto.rules import RULES


@pytest.fixture(scope="module")
def splits():
    return {"sft": VERTICAL.load_chains(), "rl": VERTICAL.load_rl_prompts(), "eval": VERTICAL.load_dev_set()}  # test: test_auto_splits.py


def trims_in(example):
    return {c["trim"] for c in example["truth"]["candidates"]}


def test_sizes(splits):
    assert [len(splits[s]) for s in ("sft", "rl", "eval")] == [1000, 200, 60]
    assert len(VERTICAL.load_preferences()) == 300
    corpus = VERTICAL.load_cpt_corpus()
    assert 1900 <= len(corpus["train"]) + len(corpus["eval"]) <= 2300


def test_question_types_are_mixed(splits):
    for examples in splits.values():
        counts = Counter(e["truth"]["type"] for e in examples)
        assert [counts[t] / len(examples) for t in ("spec", "compare", "recommend")] == pytest.approx([0.4, 0.3, 0.3])


def test_no_question_repeats(splits):
    texts = [e["messages"][0]["content"] for examples in splits.values() for e in examples]
    texts += [p["messages"][0]["content"] for p in VERTICAL.load_preferences()]
    assert len(texts) == len(set(texts))


def test_gold_answers_are_short_and_cite_by_id(splits):
    lengths = [len(e["answer"]) for e in splits["sft"]]
    assert statistics.mean(lengths) < 140 and max(lengths) < 220
    for e in splits["sft"][::5]:
        obj = parse_answer(e["answer"])
        assert all(isinstance(ref, int) for ref in obj["车型"])


def test_experts_vary_but_the_best_leads(splits):
    styles = Counter(e["truth"]["expert"] for e in splits["sft"])
    assert set(styles) == {"干练", "热心", "笼统", "发散"} and styles.most_common(1)[0][0] == "干练"
    assert {e["truth"]["expert"] for e in splits["eval"]} == {"干练"}


def test_training_never_sees_a_held_out_trim(splits):
    index = auto_index()
    held = {t for t in index.trims if index.is_held_out(t)}
    training = list(splits["sft"]) + list(splits["rl"]) + list(VERTICAL.load_preferences())
    for e in training:
        assert not trims_in(e) & held, e["id"]
        prompt = e["messages"][0]["content"] + VERTICAL.retrieve(e["messages"][0]["content"])
        assert not any(name in prompt for name in HELD_OUT_SERIES), e["id"]
    train_corpus = "".join(VERTICAL.load_cpt_corpus()["train"])
    assert not any(name in train_corpus for name in HELD_OUT_SERIES)


def test_eval_is_about_held_out_trims_only(splits):
    index = auto_index()
    for e in splits["eval"]:
        truth = e["truth"]
        if truth["type"] == "recommend":
            picked = [c["trim"] for c in truth["candidates"] if c["id"] in truth["recommend"]]
            assert any(index.is_held_out(t) for t in picked), e["id"]
        else:
            assert all(index.is_held_out(t) for t in trims_in(e)), e["id"]
    eval_corpus = VERTICAL.load_cpt_corpus()["eval"]
    assert all(any(name in text for name in HELD_OUT_SERIES) for text in eval_corpus)


def test_recommendations_have_two_fits_and_a_trap(splits):
    for e in splits["sft"]:
        truth = e["truth"]
        if truth["type"] == "recommend":
            assert len(truth["recommend"]) == 2
            assert any(c["tag"] != "符合" for c in truth["candidates"])


def test_preferences_follow_the_panel_and_the_rules():
    pairs = VERTICAL.load_preferences()
    panel = make_panel(VERTICAL, n=3, seed=20250624)
    for p in pairs[::15]:
        assert majority_preference(panel, p["chosen"], p["rejected"], p) == "a", p["id"]
    for p in pairs:
        assert p["chosen"] != p["rejected"]
        assert all_passed(check(VERTICAL, p["chosen"], p)) or not all_passed(check(VERTICAL, p["rejected"], p))
    rivals = Counter(p["rival"] for p in pairs)
    assert {"热心", "笼统", "发散"} <= set(rivals) and sum(rivals[s] for s in ("热心", "笼统", "发散")) >= 60


def test_known_bad_each_break_the_rule_they_name():
    bad = VERTICAL.known_bad()
    assert len({b["violates"] for b in bad}) >= 10
    rules = {rule.name: rule for rule in RULES}
    for b in bad:
        result = rules[b["rule"]].fn(b["answer"], b)
        assert not result.passed, (b["id"], b["violates"])
