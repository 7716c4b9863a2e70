"""Datasets: sizes, dialog shape, truth from the retriever, gold quality, and the held-out split."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from core_training.data import user_text
from core_training.judge import majority_preference, make_panel
from core_training.rewards import all_passed, check
from verticals.realestate import VERTICAL
from verticals.realestate.data import SIZES, STYLE_WEIGHTS
from verticals.realestate.kg import realestate_index
from verticals.realestate.perturb import PERTURBATIONS
from verticals.realestate.rubric import rubric

LOADERS = {"sft": VERTICAL.load_chains, "rl": VERTICAL.load_rl_prompts, "eval": VERTICAL.load_dev_set}  # eval: the dev split (苏州); test_realestate_splits.py checks the test split


@pytest.fixture(scope="module")
def splits():
    return {name: list(loader()) for name, loader in LOADERS.items()}


def test_sizes(splits):
    assert {name: len(rows) for name, rows in splits.items()} == {k: SIZES[k] for k in ("sft", "rl", "eval")}
    assert len(VERTICAL.load_preferences()) == SIZES["pref"]
    corpus = VERTICAL.load_cpt_corpus()
    assert len(corpus["train"]) + len(corpus["eval"]) == 2000 and len(set(corpus["train"])) > 1500


def test_dialog_mix(splits):
    def kind(ex):
        return ("ask" if ex["truth"]["missing"] else "recommend", len(ex["messages"]) // 2 + 1)

    sft = Counter(kind(ex) for ex in splits["sft"])
    assert {("ask", 1), ("ask", 2), ("recommend", 1), ("recommend", 2), ("recommend", 3)} <= set(sft)
    evals = Counter(kind(ex)[0] for ex in splits["eval"])
    assert evals["ask"] >= 12 and evals["recommend"] >= 30
    assert Counter(ex["truth"]["broker"] for ex in splits["sft"]).keys() == STYLE_WEIGHTS.keys()


def test_recommended_numbers_are_in_the_prompt(splits):
    """Every digit string a gold recommendation cites appears in its grounded facts (copy, don't compute)."""
    for ex in splits["eval"] + splits["rl"]:
        if ex["truth"]["missing"]:
            continue
        facts = VERTICAL.retrieve(user_text(ex["messages"]))
        for item in json.loads(ex["answer"].split("【推荐】")[1].split("\n")[0])["房源"]:
            line = next(l for l in facts.splitlines() if l.startswith(f"[{item['id']}]符合 "))
            for key, unit in (("总价", "万"), ("首付", "万"), ("月供", "元")):
                assert f"{key}{item[key]}{unit}" in line
            assert f"学区{item['学区']}(" in line


def test_turns_and_facts_are_short(splits):
    for rows in splits.values():
        assert max(len(ex["answer"]) for ex in rows) <= 200  # ~180 tokens of the base tokenizer at most
        assert max(len(VERTICAL.retrieve(user_text(ex["messages"]))) for ex in rows[::5]) <= 380


def test_eval_is_held_out_by_city_listing_and_profile(splits):
    index = realestate_index()
    assert {ex["truth"]["city"] for ex in splits["eval"]} == {"苏州"}
    assert {ex["truth"]["pool"] for ex in splits["eval"]} == {"eval"}
    train_rows = splits["sft"] + splits["rl"] + list(VERTICAL.load_preferences())
    assert {ex["truth"]["city"] for ex in train_rows} == {"杭州"}

    def cited(rows):
        return {c["listing"] for ex in rows for c in ex["truth"]["candidates"]}

    eval_listings, train_listings = cited(splits["eval"]), cited(train_rows)
    assert eval_listings and train_listings and not eval_listings & train_listings
    assert {index.listings[l]["xiaoqu"] for l in eval_listings}.isdisjoint(
        {index.listings[l]["xiaoqu"] for l in train_listings})

    def profiles(rows):
        return {json.dumps(ex["truth"]["needs"], sort_keys=True) for ex in rows if not ex["truth"]["missing"]}

    assert not profiles(splits["eval"]) & profiles(train_rows)
    eval_text = " ".join(m["content"] for ex in splits["eval"] for m in ex["messages"])
    train_text = " ".join(m["content"] for ex in train_rows for m in ex["messages"])
    assert "杭州" not in eval_text and "苏州" not in train_text


def test_cpt_corpus_keeps_the_eval_city_out_of_training():
    corpus = VERTICAL.load_cpt_corpus()
    eval_names = {x["name"] for x in realestate_index().xiaoqu.values() if x["city"] == "苏州"}
    train_only = {x["name"] for x in realestate_index().xiaoqu.values() if x["city"] == "杭州"} - eval_names
    assert not any(name in text for text in corpus["train"] for name in eval_names - train_only)
    assert any("苏州" in text for text in corpus["eval"]) and not any("苏州" in t for t in corpus["train"])
    assert all(len(t) <= 200 for t in corpus["train"] + corpus["eval"])


def test_known_bad_fail_the_rule_they_target():
    bad = VERTICAL.known_bad()
    assert {ex["violates"] for ex in bad} == set(PERTURBATIONS)
    for ex in bad:
        result = VERTICAL.rule(ex["rule"]).fn(ex["answer"], ex)
        assert not result.passed, (ex["violates"], ex["answer"])


def test_preferences_follow_the_panel_majority():
    panel = make_panel(VERTICAL)
    pairs = VERTICAL.load_preferences()
    assert all(majority_preference(panel, p["chosen"], p["rejected"], p) == "a" for p in pairs)
    assert sum(all_passed(check(VERTICAL, p["chosen"], p)) for p in pairs) == len(pairs)
    soft = [p for p in pairs if all_passed(check(VERTICAL, p["rejected"], p))]
    assert len(soft) >= 50  # pairs that differ only in soft qualities (broker style)


def test_rubric_prefers_the_best_broker(splits):
    means = {}
    for style in STYLE_WEIGHTS:
        scores = [sum(rubric(ex["answer"], ex).values()) / 4 for ex in splits["sft"] if ex["truth"]["broker"] == style]
        means[style] = sum(scores) / len(scores)
    assert means["资深"] == max(means.values()) and means["简洁"] == min(means.values())
    assert means["资深"] - means["简洁"] > 0.15
