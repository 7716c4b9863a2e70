"""Agreement maths against hand-derived and textbook values."""

from __future__ import annotations

import math
from types import SimpleNamespace as NS

import pytest

from apps.agreement import agreement_report, cohen_kappa, krippendorff_alpha, pairwise_kappa


def test_cohen_kappa_textbook_yes_no_table():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.7; A says yes 25/50, B 30/50; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(first, second) == pytest.approx(0.4)


def test_cohen_kappa_three_labels_by_hand():
    # x: a a a b b tie ; y: a a b b tie tie. p_o = 4/6.
    # marginals x: a 3, b 2, tie 1; y: a 2, b 2, tie 2 -> p_e = (3*2 + 2*2 + 1*2)/36 = 12/36 = 1/3.
    # kappa = (2/3 - 1/3) / (1 - 1/3) = 0.5
    assert cohen_kappa(list("aaabbt"), list("aabbtt")) == pytest.approx(0.5)


@pytest.mark.parametrize(("x", "y", "expected"), [
    ("aa", "aa", math.nan),  # one label for everything: kappa undefined
    ("ab", "ab", 1.0),
    ("ab", "ba", -1.0),
])
def test_cohen_kappa_edges(x, y, expected):
    got = cohen_kappa(x, y)
    assert (math.isnan(got) and math.isnan(expected)) or got == pytest.approx(expected)


def test_cohen_kappa_rejects_mismatched_lists():
    with pytest.raises(ValueError):
        cohen_kappa("ab", "a")
    with pytest.raises(ValueError):
        cohen_kappa("", "")


def test_pairwise_kappa_averages_pairs_over_shared_items():
    labels = {
        1: {"x": "a", "y": "a", "z": "b"},
        2: {"x": "b", "y": "b", "z": "b"},
        3: {"x": "a", "y": "b"},
        4: {"x": "b", "y": "b", "z": "a"},
    }
    result = pairwise_kappa(labels)
    # x,y over 1-4: x=abab y=abbb, p_o=3/4, p_e=(2*1+2*3)/16=1/2 -> 0.5
    # x,z over 1,2,4: x=abb z=bba, p_o=1/3, p_e=(1*1+2*2)/9=5/9 -> (1/3-5/9)/(4/9) = -0.5
    # y,z over 1,2,4: y=abb z=bba, same as x,z -> -0.5
    assert result.pairs[("x", "y")] == (pytest.approx(0.5), 4)
    assert result.pairs[("x", "z")] == (pytest.approx(-0.5), 3)
    assert result.mean == pytest.approx((0.5 - 0.5 - 0.5) / 3)
    assert pairwise_kappa({1: {"x": "a", "y": "b"}}).pairs == {}  # one shared item is too few
    assert math.isnan(pairwise_kappa({}).mean)


def test_krippendorff_alpha_hand_derived():
    # values 1,2 | 3,3: D_o = (2*1)/4 = 0.5; D_e = 2*(1+4+4+1+1+0)/(4*3) = 22/12; alpha = 1 - 6/22 = 8/11
    assert krippendorff_alpha([[1, 2], [3, 3]]) == pytest.approx(8 / 11)
    # nominal: D_o = 2/4; D_e = 2*(1+1+1+1+1+0)/12 = 10/12; alpha = 1 - 0.6 = 0.4
    assert krippendorff_alpha([[1, 2], [3, 3]], metric="nominal") == pytest.approx(0.4)


def test_krippendorff_alpha_textbook_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, missing
    # values; published alpha = 0.743 (nominal) and 0.849 (interval).
    n = None
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, n, n, n],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, n, 3],
        [n, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, n],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, n],
    ]
    units = list(zip(*coders))
    assert krippendorff_alpha(units, "interval") == pytest.approx(0.849, abs=5e-4)
    assert krippendorff_alpha(units, "nominal") == pytest.approx(0.743, abs=5e-4)


def test_krippendorff_alpha_degenerate_inputs():
    assert math.isnan(krippendorff_alpha([[1, 1], [1, 1]]))  # no variation at all
    assert math.isnan(krippendorff_alpha([[1], [2, None]]))  # nothing pairable
    with pytest.raises(KeyError):
        krippendorff_alpha([[1, 2]], metric="ratio")


def test_agreement_report_over_labelled_tasks():
    def lt(tid, *votes):
        anns = [NS(annotator=name, preference=p, rubric={"a": {"clarity": s}, "b": {"clarity": 1 - s}})
                for name, p, s in votes]
        return NS(task=NS(id=tid), annotations=anns)

    tasks = [lt(1, ("x", "a", 1.0), ("y", "a", 1.0)), lt(2, ("x", "b", 0.0), ("y", "b", 0.0)),
             lt(3, ("x", "a", 0.5))]  # one annotation: not counted
    report = agreement_report(tasks)
    assert report["items"] == 2 and report["kappa"] == 1.0 and report["kappa_pairs"] == 1
    assert report["alpha"] == {"clarity": 1.0}
    assert math.isnan(agreement_report(tasks, dimensions=["clarity", "empathy"])["alpha"]["empathy"])  # no scores
