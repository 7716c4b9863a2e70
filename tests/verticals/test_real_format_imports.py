"""The verticals' data builders on the real-format fixtures (``tests/knowledge_graphs/fixtures/real``) imported
with the shipped mappings, options as shipped (no held-out pools named): each builds every split, falls back
to the held-out split the data allows and says which."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_graphs.importers import import_tables

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / "tests" / "knowledge_graphs" / "fixtures" / "real"
MAPPINGS = ROOT / "knowledge_graphs" / "mappings"
SOURCES = {
    "auto": [("auto_trims", "auto_trims_portal")],
    "realestate": [("realestate_xiaoqu", "realestate_xiaoqu_city"), ("realestate_pois", "realestate_pois_map"),
                   ("realestate_metro", "realestate_metro_lines"), ("realestate_listings", "realestate_listings_city")],
    "gaokao": [("gaokao_universities", "gaokao_university_list"), ("gaokao_admissions", "gaokao_group_cutoffs"),
               ("gaokao_batch_lines", "gaokao_batch_lines"), ("gaokao_score_table", "gaokao_score_table")],
}
SPLIT_BY = {"auto": "by series chosen automatically", "realestate": "by 区", "gaokao": "by university"}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_builders_fall_back_to_the_split_the_data_allows(split_check, name):
    graph, _ = import_tables(name, [(REAL / f"{table}.csv", MAPPINGS / f"{mapping}.yaml")
                                    for table, mapping in SOURCES[name]])
    with split_check.vertical_on(name, graph) as vertical:
        import importlib

        data = importlib.import_module(f"verticals.{name}.data")
        assert data.splits_used().startswith(SPLIT_BY[name])
        sizes = [len(getattr(vertical, loader)()) for loader in
                 ("load_chains", "load_rl_prompts", "load_preferences", "load_dev_set", "load_eval_set")]
        assert sizes == [1000, 200, 300, 60, 60]
        dev, test = ({e["messages"][0]["content"] for e in rows} for rows in (vertical.load_dev_set(),
                                                                               vertical.load_eval_set()))
        assert not dev & test and vertical.known_bad()  # entity-disjointness: the per-vertical split tests
