"""A graph of one city (what a team usually has) splits by 区: the generated graph with 苏州 and 南京
removed trains on two of 杭州's districts and holds one out for dev and one for test."""

from __future__ import annotations

import pytest

from core_training.contract import DataError
from knowledge_graphs.realestate import build_realestate_graph


def only_cities(keep: set[str], districts: set[str] | None = None):
    """The generated graph cut down to the cities ``keep`` (and to ``districts`` of them, when given)."""
    g = build_realestate_graph(0)
    gone = {d["code"] for _, d in g.nodes(data=True) if d["kind"] == "xiaoqu"
            and (d["city"] not in keep or (districts is not None and d["district"] not in districts))}
    g.remove_nodes_from([n for n, d in g.nodes(data=True) if d.get("xiaoqu") in gone or d.get("code") in gone
                         or (d["kind"] == "city" and d["name"] not in keep) or d.get("city") not in (None, *keep)])
    return g


def listings(examples) -> set[str]:
    return {c["listing"] for e in examples for c in e["truth"]["candidates"]}


def test_one_city_splits_by_district(split_check):
    with split_check.vertical_on("realestate", only_cities({"杭州"})) as vertical:
        from verticals.realestate import data
        from verticals.realestate.kg import realestate_index

        split = data.district_split()
        assert split == {"city": ("杭州",), "train": ("滨江区", "西湖区"), "eval": ("拱墅区",), "test": ("余杭区",)}
        assert data.splits_used().startswith("by 区")
        train = list(vertical.load_chains()) + list(vertical.load_rl_prompts()) + list(vertical.load_preferences())
        dev, test = vertical.load_dev_set(), vertical.load_eval_set()
        assert len(dev) == len(test) == 60 and len(train) == 1500
        district_of = lambda code: realestate_index().xiaoqu[realestate_index().listings[code]["xiaoqu"]]["district"]  # noqa: E731
        for rows, allowed in ((train, split["train"]), (dev, split["eval"]), (test, split["test"])):
            assert {district_of(code) for code in listings(rows)} <= set(allowed)
        assert not listings(train) & listings(test) and not listings(dev) & listings(test)


def test_one_district_is_a_one_line_error(split_check):
    with split_check.vertical_on("realestate", only_cities({"杭州"}, {"西湖区"})) as vertical:
        with pytest.raises(DataError, match="no eval-pool city .* two 区") as error:
            vertical.load_chains()
        assert "\n" not in str(error.value)
