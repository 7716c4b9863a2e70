"""The annotation app driven through Streamlit's AppTest: login, annotate, admin, export, expiry."""

from __future__ import annotations

import json
import re
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from streamlit.testing.v1 import AppTest

from apps.store import Store
from core_training.contract import Vertical
from core_training.io import read_jsonl
from core_training.registry import IN_REPO

APP = Path(__file__).resolve().parents[2] / "apps" / "annotate.py"
QUESTION = [{"role": "user", "content": "湖北物理类500分，想学法律"}]


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A SQLite store with an admin, two annotators and one task both must label (k=2)."""
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("VKIT_ANNOTATE_DB", url)
    monkeypatch.setenv("VKIT_ANNOTATE_EXPORT_DIR", str(tmp_path / "exports"))
    s = Store.open(url)
    s.create_user("boss", "boss-password", role="admin")
    for name in ("ann1", "ann2"):
        s.create_user(name, f"{name}-password")
    tasks = s.create_tasks_from_samples("toyland", [{"messages": QUESTION, "answer_a": "冲：甲大学",
                                                     "answer_b": "冲稳保：乙丙丁", "context": "位次67099"}],
                                        source="run:demo", guidelines="Prefer complete tier plans.")
    s.assign(tasks, ["ann1", "ann2"], k=2)
    yield s
    s.close()
    st.cache_resource.clear()


def logged_in(username: str, password: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.run()
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password or f"{username}-password")
    at.button(key="login_submit").click().run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def annotate(at: AppTest, preference: str, correction: str = "") -> None:
    [form_key] = [b.key for b in at.button if b.key.endswith("-submit")]
    prefix = form_key[: -len("-submit")]
    at.radio(key=f"{prefix}-preference").set_value(preference)
    at.slider(key=f"{prefix}-a-overall").set_value(0.25)
    at.slider(key=f"{prefix}-b-overall").set_value(1.0)
    at.text_area(key=f"{prefix}-correction").input(correction)
    at.button(key=form_key).click().run()
    assert not at.exception, at.exception


def test_wrong_password_shows_an_error_and_no_session(store):
    at = logged_in("ann1", "not-the-password")
    assert "Wrong username or password." in texts(at.error)
    assert "token" not in at.session_state and at.text_input(key="login_username") is not None
    at = logged_in("nobody", "whatever-password")
    assert "Wrong username or password." in texts(at.error)


def test_login_annotate_then_admin_exports(store, tmp_path):
    for name in ("ann1", "ann2"):
        at = logged_in(name)
        assert "My assignments" in texts(at.title) and "0 of 1 done" in at.get("progress")[0].proto.text
        assert "Prefer complete tier plans." in texts(at.info)
        annotate(at, "b", correction="冲稳保三档都要有。" if name == "ann1" else "")
        assert "Saved assignment" in texts(at.success)
    [fix] = [a for a in store.assignments_for("ann1")]
    assert (fix.annotation.preference, fix.annotation.rubric) == ("b", {"a": {"overall": 0.25}, "b": {"overall": 1.0}})

    admin = logged_in("boss")
    assert "Annotation admin" in texts(admin.title)
    progress = admin.table[0].value
    assert list(progress["done"]) == [1, 1] and list(progress["annotator"]) == ["ann1", "ann2"]
    admin.selectbox(key="export_vertical").set_value("toyland")
    admin.button(key="export").click().run()
    assert not admin.exception, admin.exception
    out = tmp_path / "exports"
    [row] = read_jsonl(out / "toyland-preferences.jsonl")
    assert (row["chosen"], row["rejected"], row["annotators"], row["agreement"]) == (
        "冲稳保：乙丙丁", "冲：甲大学", ["ann1", "ann2"], 1.0)
    assert read_jsonl(out / "toyland-corrections.jsonl")[0]["answer"] == "冲稳保三档都要有。"
    assert (out / "toyland-preferences.md").read_text(encoding="utf-8").startswith("---\n")
    assert "Wrote 1 row(s)" in texts(admin.success)


def test_annotator_cannot_open_another_annotators_assignment(store):
    [theirs] = store.assignments_for("ann2")
    [mine] = store.assignments_for("ann1")
    store.assign(store.create_tasks_from_samples("toyland", [{"messages": QUESTION, "answer_a": "秘密甲",
                                                              "answer_b": "秘密乙"}], source="x"), ["ann2"], k=1)
    [secret] = [a for a in store.assignments_for("ann2") if a.task.answer_a == "秘密甲"]
    at = logged_in("ann1")
    assert [o for o in at.selectbox(key="assignment_pick").options] == [f"#{mine.id} · toyland · to do"]
    at.query_params["assignment"] = str(secret.id)
    at.run()
    assert f"Assignment {secret.id} is not assigned to you." in texts(at.error)
    assert "秘密" not in texts(at.markdown) + texts(at.text) and not at.radio
    at.query_params["assignment"] = str(mine.id)  # a deep link to one's own works
    at.run()
    assert not at.error and at.radio and theirs.id != mine.id
    at.query_params["assignment"] = "999"
    at.run()
    assert "There is no assignment 999." in texts(at.error)


def test_expired_session_returns_to_login(store):
    at = logged_in("ann1")
    assert "My assignments" in texts(at.title)
    with store.engine.begin() as conn:  # eight hours pass
        conn.execute(sa.text("UPDATE sessions SET expires_at = :t"), {"t": datetime.now(timezone.utc) - timedelta(minutes=1)})
    at.run()
    assert "Your session has expired. Please log in again." in texts(at.warning)
    assert "token" not in at.session_state and not at.radio
    at.text_input(key="login_username").input("ann1")
    at.text_input(key="login_password").input("ann1-password")
    at.button(key="login_submit").click().run()
    assert "My assignments" in texts(at.title)


def test_logout_ends_the_session(store):
    at = logged_in("ann1")
    token = at.session_state["token"]
    at.button(key="logout").click().run()
    assert store.get_session(token) is None and at.text_input(key="login_username") is not None


def test_unknown_vertical_falls_back_to_an_overall_score(store):
    at = logged_in("ann1")
    assert "scoring 'overall' only" in texts(at.warning)
    assert [s.label for s in at.slider] == ["overall", "overall"]  # one per answer


@pytest.fixture
def toy_vertical(monkeypatch, tmp_path):
    """A registered vertical ``toyland`` with a two-dimension rubric and one eval example."""
    vertical = Vertical(
        name="toyland", description="", system_prompt="sys", rules=(), retrieve=lambda text: f"facts for {text}",
        rubric=lambda r, e: {}, rubric_dimensions=("accuracy", "clarity"), load_graph=dict, load_cpt_corpus=dict,
        load_chains=list, load_rl_prompts=list, load_preferences=list,
        load_eval_set=lambda: [{"id": "ex1", "messages": QUESTION, "answer": "gold", "truth": {}}],
    )
    module = types.ModuleType("vkit_test_toyland")
    module.VERTICAL = vertical
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(IN_REPO, "toyland", f"{module.__name__}:VERTICAL")
    return vertical


def test_rubric_sliders_follow_the_vertical(store, toy_vertical):
    at = logged_in("ann1")
    assert not at.warning
    assert sorted({s.label for s in at.slider}) == ["accuracy", "clarity"] and len(at.slider) == 4


def test_admin_builds_tasks_assigns_and_adds_users(store, toy_vertical, tmp_path):
    store.add_feedback("toyland", "问题", "模型回答", correction="专家更正", thumbs=-1)
    run = tmp_path / "run"
    for stage, answer in (("sft", "旧回答"), ("rlhf", "新回答")):
        (run / stage).mkdir(parents=True)
        (run / stage / "samples.jsonl").write_text(json.dumps({"mode": "grounded", "id": "ex1", "response": answer}))
    admin = logged_in("boss")
    admin.button(key="tasks_from_feedback").click().run()
    assert "Created 1 task(s)." in texts(admin.success)
    admin.selectbox(key="run_vertical").set_value("toyland")
    admin.text_input(key="run_dir").input(str(run))
    admin.button(key="tasks_from_samples").click().run()
    assert not admin.error, texts(admin.error)
    [from_run] = [t for t in store.tasks() if t.source.startswith("run:" + str(run))]
    assert {from_run.answer_a, from_run.answer_b} == {"旧回答", "新回答"} and from_run.context.startswith("facts for")

    admin.number_input(key="assign_k").set_value(2)
    admin.button(key="assign").click().run()
    assert "Added 4 assignment(s) over 3 task(s)." in texts(admin.success)  # the fixture's task already had 2

    admin.text_input(key="new_username").input("ann3")
    admin.text_input(key="new_password").input("short")
    admin.button(key="new_user_submit").click().run()
    assert "at least 8 characters" in texts(admin.error)
    admin.text_input(key="new_username").input("ann3")
    admin.text_input(key="new_password").input("ann3-password")
    admin.button(key="new_user_submit").click().run()
    assert "Created annotator 'ann3'." in texts(admin.success)
    assert store.authenticate("ann3", "ann3-password") is not None

    admin.text_input(key="run_dir").input(str(tmp_path / "missing"))
    admin.button(key="tasks_from_samples").click().run()
    assert "Could not create tasks: FileNotFoundError" in texts(admin.error)


def test_admin_sees_agreement(store):
    for name, pref in (("ann1", "a"), ("ann2", "a")):
        [a] = store.assignments_for(name)
        store.submit_annotation(name, a.id, pref, {"a": {"overall": 1.0}, "b": {"overall": 0.0}})
    admin = logged_in("boss")
    admin.selectbox(key="agreement_vertical").set_value("toyland").run()
    assert admin.metric[0].value == "n/a"  # one shared item: kappa needs two
    assert admin.table[1].value["Krippendorff's alpha (interval)"].tolist() == ["1.000"]


def test_five_failed_logins_for_a_user_then_a_growing_delay(store):
    for _ in range(5):
        assert "Wrong username or password." in texts(logged_in("ann1", "guess-password").error)
    at = logged_in("ann1")  # the right password, too soon: refused without being checked
    assert re.search(r"Too many failed logins\. Try again in (2\d|30) s\.", texts(at.error))  # 30 s after the 5th
    assert "token" not in at.session_state


def test_five_failed_logins_from_one_client_across_users_then_a_delay(store):
    for name in ("nobody1", "nobody2", "nobody3", "ann2", "boss"):
        logged_in(name, "guess-password")
    at = logged_in("ann1")  # a user who never failed, from the same client
    assert "Too many failed logins" in texts(at.error) and "token" not in at.session_state
