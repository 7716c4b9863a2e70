"""Questions as students and parents write them: a stated 位次, numbers in words, colloquial track and
subject names; places the graph does not cover; the scope rule; the paraphrase eval set."""

from __future__ import annotations

import pytest

from verticals.gaokao.kg import gaokao_index
from verticals.gaokao.paraphrase import load_paraphrase_set
from verticals.gaokao.profile import parse_profile
from verticals.gaokao.retriever import build_truth, retrieve
from verticals.gaokao.rules import DEMO_ANSWER, DEMO_EXAMPLE, RULES
from verticals.gaokao.scope import recommends_within_scope

# text -> (track, score, stated rank, 选科 abbreviation)
SLOT_CASES = [
    ("湖北物理类，位次35000，物化生", ("物理类", None, 35000, "物化生")),
    ("湖北的，排名两万八左右，物理方向，物化地", ("物理类", None, 28000, "物化地")),
    ("湖北物理类，五百六十分，物化生", ("物理类", 560, None, "物化生")),
    ("湖北理科生，考了六百一十二分，理化生", ("物理类", 612, None, "物化生")),
    ("湖北文科生，位次一万五，史地政", ("历史类", None, 15000, "史地政")),
    ("湖北，选历史的，排名8000，历史政治地理", ("历史类", None, 8000, "史地政")),
    ("湖北，物理组，全省排第15000名，物化生", ("物理类", None, 15000, "物化生")),
    ("湖北历史生，排名1.5万，史政生", ("历史类", None, 15000, "生史政")),
    ("湖北物理生，位次6.5万左右，物化地", ("物理类", None, 65000, "物化地")),
    ("湖北的，物理+化生，六百零五分", ("物理类", 605, None, "物化生")),
    ("湖北，首选历史，成绩五百四，史地生", ("历史类", 540, None, "生史地")),
    ("湖北物理类，考了六百二十分，位次7000，物化生", ("物理类", 620, 7000, "物化生")),  # the score is used
    ("湖北物理类，排名 700，物化生", ("物理类", None, 700, "物化生")),  # a 3-digit rank is no score
]


@pytest.mark.parametrize("text, expected", SLOT_CASES)
def test_slots_of_real_phrasings(text, expected):
    p = parse_profile(text)
    assert (p.track, p.score, p.rank, p.subject_abbr) == expected


def test_a_stated_rank_is_retrieved_by_rank():
    truth = build_truth("湖北理科生，位次35000，理化生")
    assert truth["rank"] == 35000 and truth["score"] is None
    assert all(c["margin"] == round((c["avg_rank"] - 35000) / 35000 * 100) for c in truth["candidates"])
    assert "位次35000(自报)" in retrieve("湖北理科生，位次35000，理化生")


def test_a_score_is_still_converted_with_the_table():
    truth = build_truth("湖北物理类，考了六百二十分，位次7000，物化生")
    table = gaokao_index().tables[("湖北", truth["year"], "物理类")]
    assert truth["score"] == 620 and truth["rank"] == table["ranks"][table["max_score"] - 620]


def test_no_score_and_no_rank_is_explained():
    assert "没有识别到高考分数或位次" in retrieve("湖北物理类，物化生，想学计算机")


@pytest.mark.parametrize("text, unknown", [
    ("湖北物理类，考了580分，物化生，想去苏州读书", ["苏州"]),
    ("湖北物理类，580分，物化生，希望在南京或者苏州上大学", ["苏州"]),  # 南京 has universities in the graph
    ("湖北物理类，580分，物化生，想去武汉", None),
])
def test_a_wished_city_the_graph_lacks_is_said_not_silently_dropped(text, unknown):
    truth, facts = build_truth(text), retrieve(text)
    assert truth.get("not_in_graph") == unknown
    for place in unknown or ():
        assert f"未覆盖：图谱中没有{place}的院校" in facts
    assert ("未覆盖" in facts) == bool(unknown)


SUZHOU = {"truth": {**DEMO_EXAMPLE["truth"], "not_in_graph": ["苏州"]}}
SCOPE_CASES = [  # (answer, example, passes)
    (DEMO_ANSWER, DEMO_EXAMPLE, True),
    (DEMO_ANSWER + "也可以看看京华政法大学。", DEMO_EXAMPLE, True),  # a retrieved candidate
    (DEMO_ANSWER + "也可以看看前海财经大学。", DEMO_EXAMPLE, False),  # not retrieved for this student
    (DEMO_ANSWER, SUZHOU, False),  # the uncovered wish must be said
    (DEMO_ANSWER + "图谱中没有苏州的院校，无法推荐。", SUZHOU, True),
    (DEMO_ANSWER + "苏州的学校也很好，推荐报考。", SUZHOU, False),
]


@pytest.mark.parametrize("answer, example, passes", SCOPE_CASES)
def test_scope_rule(answer, example, passes):
    assert recommends_within_scope(answer, example).passed is passes


def test_scope_rule_is_held_out():
    rule = next(r for r in RULES if r.name == "recommends_within_scope")
    assert rule.held_out


def test_paraphrase_set_is_built_from_the_question_file():
    examples = load_paraphrase_set()
    assert len(examples) >= 30
    assert len({ex["id"] for ex in examples}) == len(examples)
    texts = [ex["messages"][0]["content"] for ex in examples]
    assert len(set(texts)) == len(texts)
    assert any(ex["truth"]["score"] is None for ex in examples)  # stated ranks are in the set
    for ex in examples:
        assert ex["truth"]["province"] in gaokao_index().pools["eval"]
        assert {k: v for k, v in ex["truth"].items() if k != "expert"} == build_truth(ex["messages"][0]["content"])


def test_the_gold_answer_for_an_uncovered_wish_says_so_and_passes_every_rule():
    from verticals.gaokao.experts import write_gold_answer

    truth = build_truth("湖北物理类，考了580分，物化生，想去苏州读书")
    for style in ("全面", "简洁"):
        answer = write_gold_answer(truth, style)
        assert "图谱中没有苏州的院校" in answer
        assert all(rule.fn(answer, {"truth": truth}).passed for rule in RULES), style
