"""A graph of one province (no eval-pool province to hold out) splits by university: the generated graph
cut down to 广东 and its universities."""

from __future__ import annotations

from knowledge_graphs.gaokao import build_gaokao_graph


def only_province(name: str):
    """The generated graph with one province, its tables and lines, and the universities recruiting there."""
    g = build_gaokao_graph(0)
    others = {n for n, d in g.nodes(data=True) if d["kind"] == "university" and d["pool"] != "train"}
    g.remove_nodes_from([n for n, d in g.nodes(data=True)
                         if (d["kind"] == "province" and d["name"] != name) or n in others
                         or d.get("university") in others or d.get("province") not in (None, name)])
    return g


def universities(rows, fitting_only: bool = False) -> set[str]:
    return {c["university"] for e in rows for c in e["truth"]["candidates"] if c["subject_ok"] or not fitting_only}


def test_one_province_splits_by_university(split_check):
    with split_check.vertical_on("gaokao", only_province("广东")) as vertical:
        from verticals.gaokao import data

        held = data.university_split()
        assert held["eval"] and held["test"] and not held["eval"] & held["test"]
        assert data.splits_used().startswith("by university")
        train = list(vertical.load_chains()) + list(vertical.load_rl_prompts()) + list(vertical.load_preferences())
        dev, test = vertical.load_dev_set(), vertical.load_eval_set()
        assert len(dev) == len(test) == 60
        assert not universities(train) & (held["eval"] | held["test"])
        assert not universities(test) & held["eval"] and not universities(dev) & held["test"]
        for example in test:
            assert universities([example], fitting_only=True) & held["test"], example["id"]
        assert {e["truth"]["province"] for e in train + dev + test} == {"广东"}
