"""Exports: majority labels, dropped ties, the formats vkit's stages read, and the data cards."""

from __future__ import annotations

import json

import pytest
import yaml

from apps.export import export_corrections, export_preferences, label_source, majority
from apps.store import Store
from core_training.inputs import read_preferences
from core_training.contract import Vertical
from core_training.data import prompt_messages
from core_training.io import read_jsonl

ANNOTATORS = ("ann1", "ann2", "ann3")
# task index -> votes of ann1..ann3 (None: not submitted)
VOTES = {
    0: ("a", "a", "b"),      # kept: chosen = A, agreement 2/3
    1: ("b", "b", "b"),      # kept: chosen = B, agreement 1
    2: ("tie", "tie", "a"),  # plurality tie: dropped
    3: ("a", "b", "tie"),    # split vote: dropped
    4: ("a", "a", None),     # incomplete: skipped unless complete_only=False
    5: (None, None, None),   # unannotated
}
CORRECTIONS = {(0, "ann1"): "更好的回答", (0, "ann2"): "更好的回答", (1, "ann3"): "另一个更正"}


def fill(store: Store) -> list[int]:
    for name in ANNOTATORS:
        store.create_user(name, f"{name}-password")
    pairs = [{"messages": [{"role": "user", "content": f"问题{i}"}], "answer_a": f"A{i}", "answer_b": f"B{i}"}
             for i in VOTES]
    tasks = store.create_tasks_from_samples("gaokao", pairs, source="run:runs/demo")
    store.create_tasks_from_samples("auto", pairs[:1], source="run:other")  # another vertical: never exported
    store.assign(tasks, ANNOTATORS, k=3)
    index = {tid: i for i, tid in enumerate(tasks)}
    for name_i, name in enumerate(ANNOTATORS):
        for a in store.assignments_for(name):
            if a.task.vertical != "gaokao" or VOTES[index[a.task.id]][name_i] is None:
                continue
            i = index[a.task.id]
            store.submit_annotation(name, a.id, VOTES[i][name_i], {"a": {"clarity": 0.75}, "b": {"clarity": 0.25}},
                                    CORRECTIONS.get((i, name), ""))
    return tasks


def front_matter(text: str) -> dict:
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


@pytest.mark.parametrize(("votes", "expected"), [
    (["a", "a", "b"], "a"), (["b"], "b"), (["tie", "tie", "a"], "tie"), (["a", "b", "tie"], None),
    (["a", "b"], None), ([], None),
])
def test_majority_is_a_strict_plurality(votes, expected):
    assert majority(votes) == expected


def test_preference_export_rows_counts_and_card(store, tmp_path):
    tasks = fill(store)
    result = export_preferences(store, "gaokao", tmp_path / "out" / "prefs.jsonl")
    rows = read_jsonl(result.path)
    assert [r["id"] for r in rows] == [f"gaokao-task-{tasks[0]}", f"gaokao-task-{tasks[1]}"]
    assert all(set(r) == {"id", "messages", "chosen", "rejected", "annotators", "agreement"} for r in rows)
    assert (rows[0]["chosen"], rows[0]["rejected"], rows[0]["agreement"]) == ("A0", "B0", pytest.approx(2 / 3, abs=1e-4))
    assert (rows[1]["chosen"], rows[1]["rejected"], rows[1]["agreement"]) == ("B1", "A1", 1.0)
    assert rows[0]["messages"] == [{"role": "user", "content": "问题0"}] and rows[0]["annotators"] == list(ANNOTATORS)
    assert result.counts == {"tasks": 6, "exported": 2, "ties_dropped": 1, "split_votes_dropped": 1,
                             "incomplete_skipped": 1, "unannotated_skipped": 1}

    card = result.card_path.read_text(encoding="utf-8")
    assert result.card_path == tmp_path / "out" / "prefs.md"
    header = front_matter(card)
    assert header["license"] == "cc-by-4.0" and header["configs"][0]["data_files"] == "prefs.jsonl"
    assert "preference" in header["tags"] and header["size_categories"] == ["n<1K"]
    for needle in ("## Provenance", "## Schema", "## Counts", "| ties_dropped | 1 |", "strict plurality",
                   "## Licence", "--preferences prefs.jsonl", "ann1, ann2, ann3", "run: 6", "3: 6"):
        assert needle in card, needle
    assert "password" not in card
    assert header["annotations_creators"] == ["expert-generated"] and "human-feedback" in header["tags"]
    assert "**Source: human annotators.**" in card and "simulated" not in card.lower()
    assert result.label_source == "human"


def test_preference_export_is_what_vkit_run_reads(tmp_path):
    store = Store.open(tmp_path / "s.db")
    fill(store)
    path = export_preferences(store, "gaokao", tmp_path / "prefs.jsonl").path
    rows = read_preferences(path)  # what `vkit run V --stages rm,rlhf --preferences PATH`
    toy = Vertical(name="gaokao", description="", system_prompt="你是顾问。", rules=(), retrieve=lambda q: "",
                   rubric=lambda r, e: {}, rubric_dimensions=(), load_graph=dict, load_cpt_corpus=dict,
                   load_chains=list, load_rl_prompts=list, load_preferences=list, load_eval_set=list)
    prompt = prompt_messages(toy, rows[0], "closed_book")
    assert [m["role"] for m in prompt] == ["system", "user"]


def test_incomplete_tasks_can_be_included(tmp_path):
    store = Store.open(tmp_path / "s.db")
    tasks = fill(store)
    result = export_preferences(store, "gaokao", tmp_path / "p.jsonl", complete_only=False, license="cc-by-nc-4.0")
    assert result.rows == 3 and f"gaokao-task-{tasks[4]}" in {r["id"] for r in read_jsonl(result.path)}
    assert front_matter(result.card_path.read_text(encoding="utf-8"))["license"] == "cc-by-nc-4.0"


def test_corrections_export(tmp_path):
    store = Store.open(tmp_path / "s.db")
    tasks = fill(store)
    result = export_corrections(store, "gaokao", tmp_path / "sft.jsonl")
    rows = read_jsonl(result.path)
    assert rows == [
        {"id": f"gaokao-task-{tasks[0]}-ann1", "messages": [{"role": "user", "content": "问题0"}], "answer": "更好的回答"},
        {"id": f"gaokao-task-{tasks[1]}-ann3", "messages": [{"role": "user", "content": "问题1"}], "answer": "另一个更正"},
    ]
    assert result.counts == {"annotations": 14, "with_correction": 3, "duplicates_dropped": 1, "exported": 2}
    card = result.card_path.read_text(encoding="utf-8")
    assert "sft" in front_matter(card)["tags"] and "`answer`" in card and "## Agreement" in card


def test_empty_export_still_writes_a_card(tmp_path):
    store = Store.open(tmp_path / "s.db")
    result = export_preferences(store, "gaokao", tmp_path / "empty.jsonl")
    assert result.rows == 0 and result.path.read_text() == ""
    assert "n/a" in result.card_path.read_text(encoding="utf-8")  # no agreement to report
    assert json.loads(json.dumps(result.counts))["tasks"] == 0


# --------------------------------------------------------------------------- who labelled: the card must not lie


def loop_labels(store: Store, n: int = 4) -> list[int]:
    """``vkit loop``'s own labelling path: its simulated panel annotates gold-vs-non-answer pairs of gaokao."""
    from apps.loop import label_round
    from core_training.registry import get_vertical

    gaokao = get_vertical("gaokao")
    examples = list(gaokao.load_rl_prompts())[:n]
    pairs = [{"id": ex["id"], "messages": list(ex["messages"]), "answer_a": ex["answer"],
              "answer_b": "不清楚，请自己查。"} for ex in examples]
    return label_round(store, gaokao, pairs, examples, k=3, panel_size=3, round_name="round-1")


def test_card_of_simulated_panel_labels_says_so(store, tmp_path):
    loop_labels(store)
    result = export_preferences(store, "gaokao", tmp_path / "prefs.jsonl")
    assert result.rows > 0 and result.label_source == "simulated"
    card = result.card_path.read_text(encoding="utf-8")
    header = front_matter(card)
    assert header["annotations_creators"] == ["machine-generated"]
    assert "human-feedback" not in header["tags"] and "simulated-feedback" in header["tags"]
    assert "expert" not in header["pretty_name"] and "simulated-panel" in header["pretty_name"]
    assert "**Source: simulated expert panel. These are not human labels.**" in card
    assert "annotator ids (sim-gaokao-annotator-0, sim-gaokao-annotator-1, sim-gaokao-annotator-2) are simulated" in card
    assert "sim-gaokao-annotator-0 (simulated)" in card
    assert "human annotators" not in card.lower() and "human-feedback" not in card


def test_card_of_mixed_labels_counts_each_source(store, tmp_path):
    [tid] = loop_labels(store, n=1)
    store.create_user("ann1", "ann1-password")
    panel = [u.username for u in store.users() if u.kind == "simulated"]
    assert store.assign([tid], [*panel, "ann1"], k=4) == 1  # a person joins the panel's 3 on the task
    [mine] = store.assignments_for("ann1")
    store.submit_annotation("ann1", mine.id, "a")
    result = export_preferences(store, "gaokao", tmp_path / "prefs.jsonl")
    assert (result.rows, result.label_source) == (1, "mixed")
    card = result.card_path.read_text(encoding="utf-8")
    assert front_matter(card)["annotations_creators"] == ["expert-generated", "machine-generated"]
    assert "Of the 4 label(s) in this file: 1 from human annotators (ann1); 3 from `vkit loop`'s simulated" in card
    fixes = export_corrections(store, "gaokao", tmp_path / "sft.jsonl")  # no corrections: nobody labelled the file
    assert (fixes.rows, fixes.label_source) == (0, "none") and "No labels" in fixes.card_path.read_text("utf-8")


def test_label_source_is_read_from_the_accounts_not_the_names(store):
    store.create_user("ann1", "ann1-password")
    store.create_user("sim-panel-0", "long-enough", kind="simulated")
    assert label_source(store, ["ann1", "ann1"]).source == "human"
    assert label_source(store, ["sim-panel-0"]).source == "simulated"
    mixed = label_source(store, ["ann1", "sim-panel-0", "sim-panel-0"])
    assert (mixed.source, mixed.labels, mixed.simulated) == ("mixed", {"human": 1, "simulated": 2}, ["sim-panel-0"])
    assert label_source(store, ["gone"]).source == "mixed"  # an unknown account is never called human
    assert label_source(store, []).source == "none"
    with pytest.raises(ValueError):  # a person cannot pass for the panel, nor the panel for a person
        store.create_user("sim-panel-1", "long-enough")
    with pytest.raises(ValueError):
        store.create_user("panel-1", "long-enough", kind="simulated")
