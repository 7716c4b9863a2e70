"""gaokao on what real data often has: admissions that carry 最低位次 and no 一分一段 table for the province.
Students of such a province state their 位次 instead of a score; the graphs are the generator's with the
score tables removed (of one province, or all)."""

from __future__ import annotations

import pytest

from core_training.contract import DataError
from core_training.rewards import all_passed, check
from knowledge_graphs.gaokao import build_gaokao_graph


def without_tables(province: str | None = None, admissions: bool = True):
    """The generated graph without the score tables of ``province`` (None: of every province), and
    without any admission record when not ``admissions``."""
    g = build_gaokao_graph(0)
    g.remove_nodes_from([n for n, d in g.nodes(data=True)
                         if d["kind"] == "score_table" and province in (None, d["province"])])
    if not admissions:
        g.remove_edges_from([(u, v, k) for u, v, k, d in g.edges(keys=True, data=True) if d["kind"] == "admission"])
    return g


def test_students_state_their_rank_when_no_table_exists(split_check):
    with split_check.vertical_on("gaokao", without_tables()) as vertical:
        examples = {name: list(getattr(vertical, name)()) for name in ("load_chains", "load_dev_set", "load_eval_set")}
        assert [len(rows) for rows in examples.values()] == [1000, 60, 60] and len(vertical.load_preferences()) == 300
        for rows in examples.values():
            assert all(e["truth"]["score"] is None and e["truth"]["rank"] for e in rows)
            for example in rows[::10]:
                assert all_passed(check(vertical, example["answer"], example)), example["id"]
        assert vertical.known_bad()


def test_one_province_without_tables_leaves_the_others_unchanged(split_check):
    whole = split_check.datasets_on("gaokao")
    with split_check.vertical_on("gaokao", without_tables("湖北")) as vertical:
        from core_training.config import config_hash

        assert config_hash(vertical.load_chains()) == whole["load_chains"]
        assert config_hash(vertical.load_eval_set()) == whole["load_eval_set"]  # 安徽 keeps its tables
        dev = vertical.load_dev_set()
        assert len(dev) == 60 and all(e["truth"]["score"] is None and e["truth"]["province"] == "湖北" for e in dev)


def test_no_admissions_is_a_one_line_error_naming_them(split_check):
    with split_check.vertical_on("gaokao", without_tables(admissions=False)) as vertical:
        with pytest.raises(DataError, match="no exam year.*admission") as error:
            vertical.load_chains()
        assert "\n" not in str(error.value)
