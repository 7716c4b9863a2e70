"""The shared helpers of the verticals' question parsers: Chinese numerals, place names, question files."""

from __future__ import annotations

import doctest
import importlib

import pytest

from core_training.contract import DataError
from verticals.numerals import digits_for_numerals
from verticals.places import places_named
from verticals.question_files import question_examples, read_questions


@pytest.mark.parametrize("text, expected", [
    ("五百六十分", "560分"),
    ("排名两万八左右", "排名2.8万左右"),
    ("位次三万五", "位次3.5万"),
    ("考了六百零五分", "考了605分"),
    ("首付一百五十万", "首付150万"),
    ("月供一万五", "月供1.5万"),
    ("十三万五以内", "13.5万以内"),
    ("二零二五年", "2025年"),
    ("一号线步行十分钟", "1号线步行10分钟"),  # a single numeral before 号线/分钟 is a number
    ("一分一段", "一分一段"),  # single characters are words, not numbers
    ("十分满意", "十分满意"),
    ("三室两厅", "三室两厅"),
    ("千万别选错", "千万别选错"),
    ("万一滑档", "万一滑档"),
])
def test_numerals_in_words(text, expected):
    assert digits_for_numerals(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("想在北京海淀买房", ["北京"]),
    ("海淀的学区房", ["北京"]),
    ("上海浦东或者杭州滨江", ["上海", "杭州"]),
    ("内蒙古考生想去呼和浩特", ["内蒙古", "呼和浩特"]),
    ("预算600万", []),
])
def test_places_named(text, expected):
    assert places_named(text) == expected


def test_a_bad_question_names_file_and_line(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("# comment\n好问题\n\n坏问题\n", encoding="utf-8")
    assert read_questions(path) == [(2, "好问题"), (4, "坏问题")]

    def truth(text):
        if text.startswith("坏"):
            raise ValueError("读不懂")
        return {"text": text}

    with pytest.raises(DataError, match=r"^q.txt:4: 读不懂 \(坏问题\)$"):
        question_examples("x", path, truth, lambda t, style, variant: "答", "s")


def test_question_examples_have_the_usual_shape(tmp_path):
    path = tmp_path / "q.txt"
    path.write_text("一\n二\n", encoding="utf-8")
    examples = question_examples("x", path, lambda text: {"n": text},
                                 lambda truth, style, variant: f"{style}{variant}{truth['n']}", "甲")
    assert examples == [
        {"id": "x-para-0000", "messages": [{"role": "user", "content": "一"}], "answer": "甲0一",
         "truth": {"n": "一", "expert": "甲"}},
        {"id": "x-para-0001", "messages": [{"role": "user", "content": "二"}], "answer": "甲1二",
         "truth": {"n": "二", "expert": "甲"}},
    ]


@pytest.mark.parametrize("name", ["verticals.numerals", "verticals.places", "verticals.question_files"])
def test_module_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0
