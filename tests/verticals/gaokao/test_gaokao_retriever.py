"""Parsing free text into a student profile, and the retriever's candidates and text."""

from __future__ import annotations

import random

import pytest

from verticals.gaokao.data import question_text, sample_profile
from verticals.gaokao.kg import gaokao_index
from verticals.gaokao.profile import ProfileError, parse_profile
from verticals.gaokao.retriever import TIER_WINDOWS, all_groups, build_truth, lookup, retrieve
from verticals.gaokao.vocab import is_volatile, margin_percent, tier_for_margin

PARSE_CASES = [
    ("我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机。",
     ("广东", 2025, "物理类", 598, ("物理", "化学", "生物"), "计算机", None)),
    ("山东的，今年考了620，选了物化地，想去上海读书", ("山东", 2025, "综合", 620, ("物理", "化学", "地理"), None, "上海")),
    ("湖北2024年历史类530分，选科史地政", ("湖北", 2024, "历史类", 530, ("历史", "地理", "政治"), None, None)),
    ("浙江考生 2024 估分650分 物化技 以后想当律师", ("浙江", 2024, "综合", 650, ("物理", "化学", "技术"), "法学", None)),
    ("老师好，孩子2025年在广东参加高考，首选历史，再选地理和政治，成绩540，希望留在深圳",
     ("广东", 2025, "历史类", 540, ("历史", "地理", "政治"), None, "深圳")),
    ("广东 理科 601分 物生地 想去武汉学医", ("广东", 2025, "物理类", 601, ("物理", "生物", "地理"), "医学", "武汉")),
    ("想去浙江读书的山东考生，612分，物化生", ("山东", 2025, "综合", 612, ("物理", "化学", "生物"), None, None)),
    ("广东物理类 位次800 考了 633 物化生", ("广东", 2025, "物理类", 633, ("物理", "化学", "生物"), None, None)),
    ("湖北 2025 历史类 566 史政地 想当老师", ("湖北", 2025, "历史类", 566, ("历史", "地理", "政治"), "师范教育", None)),
]


@pytest.mark.parametrize("text, expected", PARSE_CASES)
def test_parse_profile(text, expected):
    p = parse_profile(text)
    assert (p.province, p.year, p.track, p.score, p.subjects, p.wish_field, p.wish_city) == expected


@pytest.mark.parametrize("text, message", [
    ("我是河南考生，考了600分", "暂不支持河南"),
    ("考了600分，物化生", "没有识别到省份"),
    ("广东物理类，物化生", "没有识别到高考分数"),
    ("广东2019年物理类600分", "暂只支持"),
    ("广东600分，选了化学生物地理", "物理类还是历史类"),
])
def test_unusable_text_is_explained(text, message):
    with pytest.raises(ProfileError, match=message):
        parse_profile(text)
    assert retrieve(text).startswith("无法检索：") and message in retrieve(text)


def test_score_above_the_table_is_explained():
    assert "高于" in retrieve("广东2025物理类749分，物化生")


def test_generated_questions_parse_back_to_their_profile():
    rng = random.Random(3)
    for _ in range(1000):
        province = rng.choice(sorted(gaokao_index().provinces))
        profile = sample_profile(rng, province)
        text = question_text(profile, rng)
        assert parse_profile(text) == profile, text


@pytest.fixture(scope="module")
def sample_truths():
    rng = random.Random(5)
    texts = [question_text(sample_profile(rng, rng.choice(sorted(gaokao_index().provinces))), rng) for _ in range(150)]
    return [(text, build_truth(text)) for text in texts]


def test_rank_is_the_table_rank_of_the_score(sample_truths):
    index = gaokao_index()
    for _, truth in sample_truths:
        table = index.tables[(truth["province"], truth["year"], truth["track"])]
        assert truth["rank"] == table["ranks"][table["max_score"] - truth["score"]]


def test_candidates_use_the_three_preceding_years(sample_truths):
    index = gaokao_index()
    for _, truth in sample_truths:
        for c in truth["candidates"]:
            years = range(truth["year"] - 3, truth["year"])
            assert c["ranks"] == [index.records[(c["group_id"], truth["province"], truth["track"], y)]["min_rank"]
                                  for y in years]
            assert c["avg_rank"] == round(sum(c["ranks"]) / 3)
            assert c["margin"] == margin_percent(c["avg_rank"], truth["rank"])
            assert c["tier"] == tier_for_margin(c["margin"])
            assert c["volatile"] == is_volatile(c["ranks"])
            assert c["subject_ok"] == (set(c["subjects_required"]) <= set(truth["subjects"]))


def test_candidates_are_numbered_by_mean_rank_with_clear_tiers(sample_truths):
    for _, truth in sample_truths:
        candidates = truth["candidates"]
        assert [c["id"] for c in candidates] == list(range(1, len(candidates) + 1))
        assert [c["avg_rank"] for c in candidates] == sorted(c["avg_rank"] for c in candidates)
        assert sum(not c["subject_ok"] for c in candidates) <= 1
        for c in candidates:
            low, high = TIER_WINDOWS[c["tier"]]
            assert low <= c["margin"] <= high


def test_retrieved_text_lists_exactly_the_truth_candidates(sample_truths):
    for text, truth in sample_truths:
        facts = retrieve(text)
        assert f"位次{truth['rank']}" in facts
        lines = [line for line in facts.splitlines() if line.startswith("[")]
        assert len(lines) == len(truth["candidates"])
        for line, c in zip(lines, truth["candidates"]):
            assert line.startswith(f"[{c['id']}] {c['university']} {c['group']} 均{c['avg_rank']} 差{c['margin']:+d}%")
            assert ("选科不符" in line) != c["subject_ok"]
            assert ("波动大" in line) == c["volatile"]


def test_safeties_prefer_steady_groups(sample_truths):
    low, high = TIER_WINDOWS["保"]
    for text, truth in sample_truths:
        safeties = [c for c in truth["candidates"] if c["tier"] == "保" and c["subject_ok"]]
        if safeties and all(c["volatile"] for c in safeties):
            profile, rank, _ = lookup(text)
            steady = [r for r in all_groups(profile, rank)
                      if r["subject_ok"] and not r["volatile"] and low <= r["margin"] <= high]
            assert not steady, text


def test_wish_matches_are_preferred():
    _, _, candidates = lookup("广东2025年物理类598分，选科物化生，想学计算机")
    assert any(c["field"] == "计算机" for c in candidates)


def test_missing_safety_is_flagged():
    assert "没有找到选科符合的保底专业组" in retrieve("浙江考生 2025 690分 物化生")
