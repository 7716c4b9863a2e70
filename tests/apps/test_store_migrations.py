"""Schema versioning: a v1 database is upgraded in place with its rows kept, on both backends."""

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
        assert store.schema_version() == schema.SCHEMA_VERSION == 2
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
    assert reopened.schema_version() == 2 and len(reopened.assignments_for("ann1")) == 1
    reopened.close()


def test_migrating_an_empty_database_ends_at_the_declared_tables(store):
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        for name, table in schema.TABLES.tables.items():
            actual = {c["name"]: c["nullable"] for c in inspector.get_columns(name)}
            assert actual == {c.name: c.nullable for c in table.columns}, name
        versions = conn.execute(sa.text("SELECT version FROM schema_version ORDER BY version")).scalars().all()
    assert versions == [1, 2]


def test_a_failing_migration_leaves_the_previous_version(store, monkeypatch):
    def broken(conn):
        conn.exec_driver_sql("ALTER TABLE annotations ADD COLUMN half_done INTEGER")
        raise RuntimeError("migration bug")

    monkeypatch.setitem(schema.MIGRATIONS, 3, broken)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 3)
    with pytest.raises(RuntimeError, match="migration bug"), store._write() as conn:
        schema.upgrade(conn, target=3)
    assert store.schema_version() == 2
    with store.engine.connect() as conn:
        assert "half_done" not in {c["name"] for c in sa.inspect(conn).get_columns("annotations")}


def test_a_newer_database_is_refused(store, db_url):
    with store.engine.begin() as conn:
        conn.execute(schema.VERSIONS.insert().values(version=99, applied_at=CREATED))
    with pytest.raises(RuntimeError, match="v99"):
        Store.open(db_url)
