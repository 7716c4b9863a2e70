"""The store's API on SQLite and on a real PostgreSQL (see conftest.py for how it is started)."""

from __future__ import annotations

import doctest
import importlib
import io
import json
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from apps.store import Store, hash_password, main, normalize_url, pairs_from_run, verify_password
from apps.store_schema import SCHEMA_VERSION
from core_training.contract import RuleResult

Q = [{"role": "user", "content": "湖北物理类500分，想学法律，怎么报？"}]


def add_pairs(store: Store, n: int, vertical: str = "gaokao") -> list[int]:
    pairs = [{"messages": Q, "answer_a": f"answer {i} A", "answer_b": f"answer {i} B"} for i in range(n)]
    return store.create_tasks_from_samples(vertical, pairs, source="test")


@pytest.fixture
def team(store):
    """One admin and three annotators, password = name + '-password'."""
    store.create_user("boss", "boss-password", role="admin")
    for name in ("ann1", "ann2", "ann3"):
        store.create_user(name, f"{name}-password")
    return store


# --------------------------------------------------------------------------- users and sessions


def test_authenticate_accepts_the_right_password_only(team):
    assert team.authenticate("ann1", "ann1-password").username == "ann1"
    assert team.authenticate("ann1", "ann2-password") is None
    assert team.authenticate("nobody", "ann1-password") is None
    assert team.authenticate("boss", "boss-password").role == "admin"


@pytest.mark.parametrize(("name", "password", "role"), [
    ("bad name", "long-enough", "annotator"), ("ok", "short", "annotator"), ("ok", "long-enough", "root"),
])
def test_create_user_rejects_bad_input(store, name, password, role):
    with pytest.raises(ValueError):
        store.create_user(name, password, role)


def test_account_kind_and_the_sim_prefix_agree(store):
    assert store.create_user("ann", "ann-password").kind == "human"
    assert store.create_user("sim-gaokao-annotator-0", "long-enough", kind="simulated").kind == "simulated"
    for name, kind in (("sim-bob", "human"), ("SIM-bob", "human"), ("bob", "simulated")):
        with pytest.raises(ValueError, match="simulated accounts, and only they"):
            store.create_user(name, "long-enough", kind=kind)
    with pytest.raises(ValueError, match="kind"):
        store.create_user("carol", "long-enough", kind="robot")
    assert {u.username: u.kind for u in store.users()} == {"ann": "human", "sim-gaokao-annotator-0": "simulated"}
    assert store.get_session(store.create_session("ann")).user.kind == "human"


def test_usernames_are_unique(team):
    with pytest.raises(ValueError, match="taken"):
        team.create_user("ann1", "another-password")


def test_passwords_are_stored_as_salted_scrypt(team):
    with team.engine.connect() as conn:
        hashes = conn.execute(sa.text("SELECT password_hash FROM users ORDER BY username")).scalars().all()
    assert all(h.startswith("scrypt$1024$8$1$") and "password" not in h for h in hashes)  # cost from the fixture
    assert len(set(h.split("$")[4] for h in hashes)) == len(hashes)  # a fresh salt each
    assert hash_password("same-password") != hash_password("same-password")
    assert hash_password("pw", n=2**14).startswith("scrypt$16384$8$1$")
    assert not verify_password("x", "not-a-hash") and not verify_password("x", "bcrypt$1$2$3$4$5")


def test_session_lifecycle(team):
    token = team.create_session("ann1")
    session = team.get_session(token)
    assert session.user.username == "ann1"
    assert team.get_session("forged-token") is None and team.get_session(None) is None
    with team.engine.connect() as conn:  # only the token's hash is stored
        assert conn.execute(sa.text("SELECT count(*) FROM sessions WHERE token_hash = :t"), {"t": token}).scalar() == 0
    team.end_session(token)
    assert team.get_session(token) is None


def test_expired_session_is_refused(team):
    token = team.create_session("ann1", ttl=timedelta(hours=1))
    with team.engine.begin() as conn:
        conn.execute(sa.text("UPDATE sessions SET expires_at = :t"), {"t": session_time(team, hours=-1)})
    assert team.get_session(token) is None
    with pytest.raises(ValueError):
        team.create_session("ann1", ttl=timedelta(0))
    with pytest.raises(KeyError):
        team.create_session("ghost")


def session_time(store: Store, hours: float):
    from datetime import datetime, timezone

    return datetime.now(timezone.utc) + timedelta(hours=hours)


# --------------------------------------------------------------------------- feedback and tasks


def test_feedback_round_trips_rule_verdicts(store):
    verdicts = {"rank_stated": RuleResult.ok(), "tiers": RuleResult.fail("no 保 tier", 0.5)}
    fid = store.add_feedback("gaokao", Q[0]["content"], "冲：A大学", facts="位次67099", model_id="runs/x/rlhf",
                             verdicts=verdicts, thumbs=-1, rubric={"clarity": 0.5}, correction=" 冲稳保都要有 ")
    [fb] = store.feedback("gaokao")
    assert fb.id == fid and fb.thumbs == -1 and fb.correction == "冲稳保都要有" and fb.facts == "位次67099"
    assert fb.verdicts["tiers"] == {"score": 0.5, "passed": False, "reason": "no 保 tier"}
    assert fb.created_at.tzinfo is not None
    with pytest.raises(ValueError):
        store.add_feedback("gaokao", "q", "a", thumbs=0)
    with pytest.raises(ValueError):
        store.add_feedback("gaokao", "q", "a", rubric={"clarity": 2})


DIALOG = [{"role": "user", "content": "想在苏州买学区房"}, {"role": "assistant", "content": "预算多少？"},
          {"role": "user", "content": "500万，1号线附近"}]


def test_feedback_keeps_the_dialog_and_tasks_inherit_it(store):
    fid = store.add_feedback("realestate", "想在苏州买学区房\n500万，1号线附近", "推荐2号", messages=DIALOG,
                             correction="推荐2号，并说明学区")
    one = store.add_feedback("gaokao", "单轮问题", "答")
    by_id = {fb.id: fb for fb in store.feedback()}
    assert by_id[fid].messages == DIALOG and by_id[one].messages == [{"role": "user", "content": "单轮问题"}]
    [tid] = store.create_tasks_from_feedback("realestate")
    assert store.tasks("realestate")[0].messages == DIALOG  # the annotator sees the whole conversation
    for bad in ([], [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
                [{"role": "system", "content": "q"}]):
        with pytest.raises(ValueError, match="messages"):
            store.add_feedback("realestate", "q", "a", messages=bad)
    assert len(store.feedback()) == 2


@pytest.fixture
def rated(team):
    """One advisor feedback row by ann1 (thumbs down, a rubric score, no correction) in a store with a team."""
    fid = team.add_feedback("gaokao", Q[0]["content"], "冲：A大学", messages=Q, thumbs=-1, rubric={"clarity": 0.5},
                            username="ann1")
    return team, fid


def test_update_feedback_amends_labels_and_records_who(rated):
    store, fid = rated
    [before] = store.feedback()
    after = store.update_feedback(fid, "ann1", thumbs=1, rubric={"accuracy": 0.75}, correction=" 冲稳保都要有 ")
    assert (after.thumbs, after.rubric, after.correction) == (1, {"accuracy": 0.75}, "冲稳保都要有")
    assert after.updated_by == "ann1" and after.updated_at >= before.created_at
    assert after == store.feedback()[0]
    unchanged = ("id", "vertical", "question", "messages", "facts", "answer", "model_id", "verdicts", "created_at")
    assert all(getattr(after, f) == getattr(before, f) for f in unchanged)
    again = store.update_feedback(fid, "boss", thumbs=None)  # an admin clears the thumbs; the rest stays
    assert (again.thumbs, again.rubric, again.correction, again.updated_by) == (None, {"accuracy": 0.75},
                                                                               "冲稳保都要有", "boss")


@pytest.mark.parametrize(("changes", "field"), [
    ({"answer": "rewritten"}, "'answer'"),
    ({"thumbs": 1, "verdicts": {}}, "'verdicts'"),
    ({"thumbs": 0}, "thumbs"),
    ({"thumbs": True}, "thumbs"),
    ({"thumbs": 1, "rubric": {"clarity": 2}}, "rubric"),  # a good field beside a bad one: nothing lands
    ({"rubric": [0.5]}, "rubric"),
    ({"thumbs": 1, "correction": 42}, "correction"),
    ({}, "nothing to update"),
])
def test_update_feedback_rejects_bad_input_naming_the_field(rated, changes, field):
    store, fid = rated
    [before] = store.feedback()
    with pytest.raises(ValueError, match=field):
        store.update_feedback(fid, "ann1", **changes)
    assert store.feedback() == [before]


def test_update_feedback_needs_a_row_and_a_user(rated):
    store, fid = rated
    with pytest.raises(KeyError, match="feedback"):
        store.update_feedback(fid + 100, "ann1", thumbs=1)
    with pytest.raises(KeyError, match="ghost"):
        store.update_feedback(fid, "ghost", thumbs=1)
    assert store.feedback()[0].updated_by is None


@pytest.mark.parametrize(("author", "editor", "allowed"), [
    ("ann1", "ann1", True),  # its author
    ("ann1", "boss", True),  # an admin
    ("ann1", "ann2", False),  # another annotator
    (None, "ann1", False),  # anonymous advisor feedback: admins only
    (None, "boss", True),
])
def test_update_feedback_is_for_its_author_or_an_admin(team, author, editor, allowed):
    fid = team.add_feedback("gaokao", "问题", "回答", thumbs=-1, username=author)
    [before] = team.feedback()
    assert before.created_by == author
    if allowed:
        assert team.update_feedback(fid, editor, thumbs=1).updated_by == editor
    else:
        with pytest.raises(PermissionError, match=f"'{editor}' may not change feedback {fid}: only its author"):
            team.update_feedback(fid, editor, thumbs=1, correction="改")
        assert team.feedback() == [before]


def test_a_correction_that_became_a_task_is_frozen(rated):
    store, fid = rated
    store.update_feedback(fid, "ann1", correction="更正")
    [tid] = store.create_tasks_from_feedback("gaokao")
    with pytest.raises(ValueError, match=f"correction: feedback {fid} already became annotation task {tid}"):
        store.update_feedback(fid, "ann1", correction="再改", thumbs=1)
    assert store.feedback()[0].thumbs == -1  # the whole update was refused
    assert store.update_feedback(fid, "ann1", correction="更正", thumbs=1).thumbs == 1  # same text: fine
    assert {store.tasks()[0].answer_a, store.tasks()[0].answer_b} == {"冲：A大学", "更正"}


def test_tasks_from_feedback_pair_answer_with_correction_once(store):
    with_fix = [store.add_feedback("gaokao", f"q{i}", f"model {i}", correction=f"fixed {i}") for i in range(6)]
    store.add_feedback("gaokao", "q-none", "model only", thumbs=1)
    store.add_feedback("auto", "q-auto", "model", correction="fixed auto")
    made = store.create_tasks_from_feedback("gaokao", guidelines="pick the safer plan")
    assert len(made) == 6 and store.create_tasks_from_feedback("gaokao") == []  # idempotent
    tasks = store.tasks("gaokao")
    assert {t.feedback_id for t in tasks} == set(with_fix)
    for t in tasks:
        i = t.messages[0]["content"][1:]
        assert {t.answer_a, t.answer_b} == {f"model {i}", f"fixed {i}"} and t.guidelines == "pick the safer plan"
        assert ("A=correction" in t.source) == (t.answer_a == f"fixed {i}")
    assert len({t.answer_a.split()[0] for t in tasks}) == 2, "the correction should not always sit on one side"


def test_tasks_from_samples_validate_pairs(store):
    [tid] = store.create_tasks_from_samples("gaokao", [{"messages": Q, "answer_a": "x", "answer_b": "y",
                                                        "context": "facts", "source": "item=7"}], source="run:r")
    task = store.tasks()[0]
    assert (task.id, task.messages, task.context, task.source) == (tid, Q, "facts", "run:r item=7")
    for bad in ({"messages": Q, "answer_a": "same", "answer_b": "same"},
                {"messages": [{"role": "assistant", "content": "hi"}], "answer_a": "x", "answer_b": "y"},
                {"messages": [], "answer_a": "x", "answer_b": "y"}):
        with pytest.raises(ValueError):
            store.create_tasks_from_samples("gaokao", [bad], source="run:r")
    assert len(store.tasks()) == 1


def test_pairs_from_run_matches_stages_by_id(tmp_path):
    examples = [{"id": f"ex{i}", "messages": [{"role": "user", "content": f"q{i}"}]} for i in range(4)]
    for stage, answers in (("sft", ["s0", "s1", "same", "s3"]), ("rlhf", ["r0", "r1", "same"])):
        (tmp_path / stage).mkdir()
        rows = [{"mode": "grounded", "id": f"ex{i}", "response": a} for i, a in enumerate(answers)]
        rows.append({"mode": "closed_book", "id": "ex0", "response": "closed"})
        (tmp_path / stage / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = pairs_from_run(tmp_path, "sft", "rlhf", examples, context=lambda msgs: "facts:" + msgs[0]["content"])
    assert [p["id"] for p in pairs] == ["ex0", "ex1"]  # ex2 identical, ex3 missing from rlhf
    for p, i in zip(pairs, "01"):
        sides = {"sft": f"s{i}", "rlhf": f"r{i}"}
        a_stage = p["source"].split("A=")[1].split()[0]
        assert p["answer_a"] == sides[a_stage] and {p["answer_a"], p["answer_b"]} == set(sides.values())
        assert p["context"] == f"facts:q{i}"
    with pytest.raises(FileNotFoundError):
        pairs_from_run(tmp_path, "sft", "dpo", examples)


# --------------------------------------------------------------------------- assignments and annotations


def test_assign_gives_k_distinct_annotators_balanced(team):
    tasks = add_pairs(team, 6)
    assert team.assign(tasks, ["ann1", "ann2", "ann3"], k=2) == 12
    per_task = {}
    for name in ("ann1", "ann2", "ann3"):
        mine = team.assignments_for(name)
        assert len(mine) == 4  # 12 slots over 3 annotators
        for a in mine:
            per_task.setdefault(a.task.id, []).append(name)
    assert all(len(set(names)) == 2 for names in per_task.values()) and len(per_task) == 6
    assert team.assign(tasks, ["ann1", "ann2", "ann3"], k=2) == 0  # already covered
    assert team.assign(tasks, ["ann1", "ann2", "ann3"], k=3) == 6  # topped up
    with pytest.raises(ValueError):
        team.assign(tasks, ["ann1"], k=2)
    with pytest.raises(KeyError):
        team.assign([999], ["ann1"], k=1)
    with pytest.raises(KeyError):
        team.assign(tasks, ["ghost"], k=1)


def test_annotators_see_and_submit_only_their_own(team):
    add_pairs(team, 2)
    team.assign([t.id for t in team.tasks()], ["ann1", "ann2"], k=1)
    [mine], [theirs] = team.assignments_for("ann1"), team.assignments_for("ann2")
    assert mine.annotator == "ann1" and not mine.done
    assert team.get_assignment("ann1", mine.id) == mine
    with pytest.raises(PermissionError):
        team.get_assignment("ann1", theirs.id)
    with pytest.raises(PermissionError):
        team.submit_annotation("ann1", theirs.id, "a")
    with pytest.raises(KeyError):
        team.submit_annotation("ann1", 12345, "a")
    with pytest.raises(ValueError):
        team.submit_annotation("ann1", mine.id, "both")
    with pytest.raises(ValueError):
        team.submit_annotation("ann1", mine.id, "a", rubric={"c": {"clarity": 1.0}})
    with pytest.raises(ValueError):
        team.submit_annotation("ann1", mine.id, "a", rubric={"a": {"clarity": -0.1}})
    assert team.assignments_for("ann2")[0].annotation is None


def test_resubmission_updates_the_one_annotation(team):
    [tid] = add_pairs(team, 1)
    team.assign([tid], ["ann1"], k=1)
    [a] = team.assignments_for("ann1")
    first = team.submit_annotation("ann1", a.id, "a", {"a": {"clarity": 1.0}, "b": {"clarity": 0.25}}, "better: x")
    second = team.submit_annotation("ann1", a.id, "tie", {"a": {"clarity": 0.5}})
    assert (second.id, second.created_at) == (first.id, first.created_at)
    assert (second.preference, second.rubric, second.correction, second.revision) == ("tie", {"a": {"clarity": 0.5}}, "", 1)
    assert second.updated_at >= first.updated_at
    with team.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM annotations")).scalar() == 1


def test_progress_and_labelled_tasks(team):
    tasks = add_pairs(team, 3)
    team.assign(tasks, ["ann1", "ann2"], k=2)
    for a in team.assignments_for("ann1"):
        team.submit_annotation("ann1", a.id, "a")
    team.submit_annotation("ann2", team.assignments_for("ann2")[0].id, "b")
    progress = {p.annotator: (p.assigned, p.done, p.remaining) for p in team.progress()}
    assert progress == {"ann1": (3, 3, 0), "ann2": (3, 1, 2), "ann3": (0, 0, 0)}
    labelled = team.labelled_tasks("gaokao")
    assert [len(lt.annotations) for lt in labelled] == [2, 1, 1]
    assert [lt.complete for lt in labelled] == [True, False, False]
    assert all(lt.assigned == ("ann1", "ann2") for lt in labelled)
    assert team.labelled_tasks("auto") == []


def test_open_plain_path_and_normalized_urls(tmp_path):
    store = Store.open(tmp_path / "sub" / "a.db")
    assert store.url.startswith("sqlite:///") and store.schema_version() == SCHEMA_VERSION
    store.close()
    assert normalize_url("postgres://u:pw@h/db") == "postgresql+psycopg://u:pw@h/db"
    assert Store(sa.create_engine("postgresql+psycopg://u:secret@h/db")).url == "postgresql+psycopg://u:***@h/db"


def test_cli_adds_a_user(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr(sys, "stdin", io.StringIO("cli-password\n"))
    assert main(["--db", url, "add-user", "carol", "--role", "admin", "--password-stdin"]) == 0
    assert main(["--db", url, "upgrade"]) == 0
    assert f"schema v{SCHEMA_VERSION}" in capsys.readouterr().out
    assert Store.open(url).authenticate("carol", "cli-password").role == "admin"


@pytest.mark.parametrize("url", ["mysql://u:secret@127.0.0.1/x", "postgresql://u:secret@127.0.0.1:9/x", "GARBAGE"])
def test_a_store_that_cannot_be_opened_is_one_line(url, tmp_path, capsys):
    if url == "GARBAGE":
        url = f"sqlite:///{tmp_path / 'garbage.db'}"
        (tmp_path / "garbage.db").write_bytes(bytes(range(256)) * 4)
    assert main(["--db", url, "upgrade"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("error: --db ") and "cannot" in line and "secret" not in line  # the password masked


@pytest.mark.parametrize("module", ["apps.store", "apps.store_auth", "apps.agreement", "apps.export"])
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
