"""Schema versioning: v1 and v2 databases are upgraded in place (to the newest version) with their rows kept, on both backends."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

import apps.store_schema as schema
from apps.store import Store, hash_password, normalize_url

CREATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def make_v1_database(url: str) -> None:
    """A database as vkit's first release left it: schema v1 and one annotated task."""
    engine = sa.create_engine(normalize_url(url))
    t = schema.TABLES.tables
    with engine.begin() as conn:
        assert schema.upgrade(conn, target=1) == [1]
        conn.execute(t["users"].insert().values(id=1, username="ann1", role="annotator", created_at=CREATED,
                                                password_hash=hash_password("ann1-password")))
        conn.execute(t["tasks"].insert().values(id=1, vertical="gaokao", messages=[{"role": "user", "content": "问"}],
                                                answer_a="甲", answer_b="乙", context="", source="v1", guidelines="",
                                                created_at=CREATED))
        conn.execute(t["assignments"].insert().values(id=1, task_id=1, annotator_id=1, created_at=CREATED))
        conn.execute(t["annotations"].insert().values(id=1, assignment_id=1, preference="b", correction="改",
                                                      rubric={"a": {"clarity": 0.25}}, created_at=CREATED))
        assert "revision" not in {c["name"] for c in sa.inspect(conn).get_columns("annotations")}
    engine.dispose()


def test_v1_database_is_upgraded_in_place_keeping_rows(db_url):
    make_v1_database(db_url)
    store = Store.open(db_url)
    try:
        assert store.schema_version() == schema.SCHEMA_VERSION == 4
        [a] = store.assignments_for("ann1")
        assert (a.task.answer_b, a.annotation.preference, a.annotation.correction) == ("乙", "b", "改")
        assert a.annotation.rubric == {"a": {"clarity": 0.25}}
        assert a.annotation.revision == 0 and a.annotation.updated_at == a.annotation.created_at == CREATED
        assert store.authenticate("ann1", "ann1-password") is not None
        again = store.submit_annotation("ann1", a.id, "a")
        assert (again.id, again.revision, again.created_at) == (1, 1, CREATED) and again.updated_at > CREATED
    finally:
        store.close()
    reopened = Store.open(db_url)  # opening an up-to-date database changes nothing
    assert reopened.schema_version() == 4 and len(reopened.assignments_for("ann1")) == 1
    reopened.close()


DIALOG = [{"role": "user", "content": "想在苏州买学区房"}, {"role": "assistant", "content": "预算多少？"},
          {"role": "user", "content": "500万"}]


def make_v2_database(url: str) -> None:
    """A database as schema v2 left it: a human annotator, a ``vkit loop`` panel account, feedback, a labelled task."""
    engine = sa.create_engine(normalize_url(url))
    t = schema.TABLES.tables
    with engine.begin() as conn:
        assert schema.upgrade(conn, target=2) == [1, 2]
        # plain SQL of the v2 columns; ids from the sequences (1, 2, ... in an empty database)
        for name in ("ann1", "sim-gaokao-annotator-0", "Sim-Upper"):
            conn.execute(sa.text("INSERT INTO users (username, role, password_hash, created_at) "
                                 "VALUES (:name, 'annotator', :pw, :at)"),
                         {"name": name, "pw": hash_password(f"{name}-password"), "at": CREATED})
        for question, correction in (("问一", ""), ("问二", "改二")):
            conn.execute(sa.text("INSERT INTO feedback (vertical, question, facts, answer, model_id, verdicts, "
                                 "thumbs, rubric, correction, created_at) VALUES ('realestate', :q, '事实', "
                                 "'答', 'm', '{}', 1, '{\"clarity\": 0.5}', :c, :at)"),
                         {"q": question, "c": correction, "at": CREATED})
        conn.execute(sa.text("INSERT INTO tasks (vertical, messages, answer_a, answer_b, context, source, "
                             "guidelines, created_at) VALUES ('gaokao', '[]', '甲', '乙', '', 'loop:round-1', '', :at)"),
                     {"at": CREATED})
        conn.execute(sa.text("INSERT INTO assignments (task_id, annotator_id, created_at) VALUES (1, 2, :at)"),
                     {"at": CREATED})
        conn.execute(sa.text("INSERT INTO annotations (assignment_id, preference, rubric, correction, revision, "
                             "created_at, updated_at) VALUES (1, 'a', '{}', '', 0, :at, :at)"), {"at": CREATED})
        columns = {c["name"] for c in sa.inspect(conn).get_columns("feedback")}
        assert "messages" not in columns and "kind" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}
    engine.dispose()


def test_v2_database_is_upgraded_in_place_keeping_rows(db_url):
    make_v2_database(db_url)
    store = Store.open(db_url)
    try:
        assert store.schema_version() == 4
        old_one, old_two = store.feedback("realestate")
        assert (old_one.question, old_one.answer, old_one.thumbs, old_one.rubric) == ("问一", "答", 1, {"clarity": 0.5})
        assert old_one.created_at == CREATED and (old_one.updated_at, old_one.updated_by) == (None, None)
        # the old rows' dialog is their one question; new rows keep the whole conversation
        assert old_one.messages == [{"role": "user", "content": "问一"}]
        assert old_two.messages == [{"role": "user", "content": "问二"}] and old_two.correction == "改二"
        new = store.add_feedback("realestate", "想在苏州买学区房\n500万", "推荐2号", messages=DIALOG)
        assert store.feedback("realestate")[2].messages == DIALOG and new == 3
        # accounts: the loop's sim- accounts are simulated (any case), everyone else human
        assert {u.username: u.kind for u in store.users()} == {
            "ann1": "human", "sim-gaokao-annotator-0": "simulated", "Sim-Upper": "simulated"}
        assert store.authenticate("ann1", "ann1-password").kind == "human"
        [a] = store.assignments_for("sim-gaokao-annotator-0")
        assert (a.task.source, a.annotation.preference) == ("loop:round-1", "a")
        with pytest.raises(PermissionError):  # rows from before v4 have no author: admins only
            store.update_feedback(2, "ann1", thumbs=-1)
        store.create_user("boss", "boss-password", role="admin")
        amended = store.update_feedback(2, "boss", thumbs=-1)
        assert (amended.thumbs, amended.updated_by, amended.correction, amended.created_by) == (-1, "boss", "改二", None)
        [task] = store.create_tasks_from_feedback("realestate")
        assert store.tasks("realestate")[0].messages == [{"role": "user", "content": "问二"}] and task == 2
    finally:
        store.close()
    reopened = Store.open(db_url)  # opening an up-to-date database changes nothing
    assert reopened.schema_version() == 4 and len(reopened.feedback("realestate")) == 3
    reopened.close()


def test_migrating_an_empty_database_ends_at_the_declared_tables(store):
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name, table in schema.TABLES.tables.items():
            actual = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
            assert actual == {c.name: c.nullable for c in table.columns}, name
        versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    assert versions == list(range(1, schema.SCHEMA_VERSION + 1))


def test_a_failing_migration_leaves_the_previous_version(store, monkeypatch):
    def broken(conn):
        conn.exec_driver_sql("ALTER TABLE annotations ADD COLUMN half_done INTEGER")
        raise RuntimeError("migration bug")

    last = schema.SCHEMA_VERSION
    monkeypatch.setitem(schema.MIGRATIONS, last + 1, broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", last + 1)
    with pytest.raises(RuntimeError, match="migration bug"), store._write() as conn:
        schema.upgrade(conn, target=last + 1)
    assert store.schema_version() == last
    with store.engine.connect() as conn:
        assert "half_done" not in {c["name"] for c in sa.inspect(conn).get_columns("annotations")}


def test_a_newer_database_is_refused(store, db_url):
    with store.engine.begin() as conn:
        conn.execute(schema.VERSIONS.insert().values(version=99, applied_at=CREATED))
    with pytest.raises(RuntimeError, match="v99"):
        Store.open(db_url)
