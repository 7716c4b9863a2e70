"""The annotation store's schema: the current tables, and the migrations that build them in place.

``TABLES`` (the SQLAlchemy metadata) describes the newest schema, ``SCHEMA_VERSION``; the store's
queries use it. ``MIGRATIONS[v]`` takes a database from version ``v - 1`` to ``v`` and is frozen once
released: it spells out its own DDL instead of reading ``TABLES``, so editing a table later cannot
change what an old migration does (``tests/apps/test_store_migrations.py`` checks that migrating an
empty database ends exactly at ``TABLES``). Every applied version is one row of ``schema_version``.

History:

- v1: users, sessions, feedback, tasks, assignments, annotations (one per assignment).
- v2: ``annotations.revision`` (how many times it was resubmitted) and ``annotations.updated_at``,
  backfilled from ``created_at``.
- v3: ``feedback.messages`` (the dialog the advisor answered, so a multi-turn vertical keeps it),
  backfilled as the one user turn ``question``; ``feedback.updated_at`` and ``feedback.updated_by``
  (who last amended the labels, :meth:`apps.store.Store.update_feedback`); ``users.kind``, ``human``
  or ``simulated`` (the accounts ``vkit loop``'s simulated panel labels with), backfilled as
  ``simulated`` for the ``sim-`` accounts earlier loops created and ``human`` for everyone else.
- v4: ``feedback.created_by``, the logged-in user who gave the feedback (NULL for the advisor's
  anonymous feedback and for every row written before): only they, or an admin, may amend its labels.

To change the schema: edit ``TABLES``, append a migration, bump nothing else (``SCHEMA_VERSION`` is
``len(MIGRATIONS)``), and add a test that upgrades a database of the previous version.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

ROLES = ("annotator", "admin")
KINDS = ("human", "simulated")  # who is behind an account: a person, or vkit loop's simulated panel
SIMULATED_PREFIX = "sim-"  # simulated accounts, and only they, have names starting with this (any case)
PREFERENCES = ("a", "b", "tie")
_PG_MIGRATION_LOCK = 0x766B6974  # "vkit": serialises concurrent upgrades of one PostgreSQL database


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ts(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), **kw)


def _v1_tables(metadata: sa.MetaData) -> None:
    """The v1 schema, frozen (also the base ``TABLES`` extends)."""
    sa.Table(
        "users", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _ts("created_at", nullable=False),
        sa.CheckConstraint("role IN ('annotator', 'admin')", name="ck_users_role"),
    )
    sa.Table(
        "sessions", metadata,
        sa.Column("token_hash", sa.String(64), primary_key=True),  # sha256 hex: a leaked table opens no session
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        _ts("created_at", nullable=False),
        _ts("expires_at", nullable=False, index=True),
    )
    sa.Table(
        "feedback", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vertical", sa.String(64), nullable=False, index=True),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False, default=""),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("model_id", sa.String(255), nullable=False, default=""),
        sa.Column("verdicts", sa.JSON, nullable=False),
        sa.Column("thumbs", sa.SmallInteger, nullable=True),
        sa.Column("rubric", sa.JSON, nullable=False),
        sa.Column("correction", sa.Text, nullable=False, default=""),
        _ts("created_at", nullable=False),
        sa.CheckConstraint("thumbs IS NULL OR thumbs IN (-1, 1)", name="ck_feedback_thumbs"),
    )
    sa.Table(
        "tasks", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("vertical", sa.String(64), nullable=False, index=True),
        sa.Column("messages", sa.JSON, nullable=False),
        sa.Column("answer_a", sa.Text, nullable=False),
        sa.Column("answer_b", sa.Text, nullable=False),
        sa.Column("context", sa.Text, nullable=False, default=""),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("guidelines", sa.Text, nullable=False, default=""),
        sa.Column("feedback_id", sa.Integer, sa.ForeignKey("feedback.id"), nullable=True, unique=True),
        _ts("created_at", nullable=False),
    )
    sa.Table(
        "assignments", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("users.id"), nullable=False, index=True),
        _ts("created_at", nullable=False),
        sa.UniqueConstraint("task_id", "annotator_id", name="uq_assignments_task_annotator"),
    )
    sa.Table(
        "annotations", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id", ondelete="CASCADE"),
                  nullable=False, unique=True),
        sa.Column("preference", sa.String(8), nullable=False),
        sa.Column("rubric", sa.JSON, nullable=False),
        sa.Column("correction", sa.Text, nullable=False, default=""),
        _ts("created_at", nullable=False),
        sa.CheckConstraint("preference IN ('a', 'b', 'tie')", name="ck_annotations_preference"),
    )


def _version_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "schema_version", metadata,
        sa.Column("version", sa.Integer, primary_key=True),
        _ts("applied_at", nullable=False),
    )


def _migrate_v1(conn: Connection) -> None:
    metadata = sa.MetaData()
    _v1_tables(metadata)
    metadata.create_all(conn)


def _migrate_v2(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE annotations ADD COLUMN revision INTEGER NOT NULL DEFAULT 0")
    conn.exec_driver_sql("ALTER TABLE annotations ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE")
    conn.exec_driver_sql("UPDATE annotations SET updated_at = created_at")


def _migrate_v3(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE feedback ADD COLUMN messages JSON NOT NULL DEFAULT '[]'")
    conn.exec_driver_sql("ALTER TABLE feedback ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE")
    conn.exec_driver_sql("ALTER TABLE feedback ADD COLUMN updated_by INTEGER REFERENCES users (id)")
    pg = conn.dialect.name == "postgresql"
    array, obj = ("json_build_array", "json_build_object") if pg else ("json_array", "json_object")
    one_turn = f"{array}({obj}('role', 'user', 'content', question))"
    conn.exec_driver_sql(f"UPDATE feedback SET messages = {one_turn}")
    conn.exec_driver_sql("ALTER TABLE users ADD COLUMN kind VARCHAR(16) NOT NULL DEFAULT 'human' "
                         "CONSTRAINT ck_users_kind CHECK (kind IN ('human', 'simulated'))")
    conn.execute(sa.text("UPDATE users SET kind = 'simulated' WHERE lower(username) LIKE :sim"), {"sim": "sim-%"})


def _migrate_v4(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE feedback ADD COLUMN created_by INTEGER REFERENCES users (id)")


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _migrate_v1, 2: _migrate_v2, 3: _migrate_v3, 4: _migrate_v4}
SCHEMA_VERSION = len(MIGRATIONS)

TABLES = sa.MetaData()
_v1_tables(TABLES)
VERSIONS = _version_table(TABLES)
sa.Table(  # v2
    "annotations", TABLES,
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    _ts("updated_at", nullable=True),
    extend_existing=True,
)
sa.Table(  # v3
    "feedback", TABLES,
    sa.Column("messages", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    _ts("updated_at", nullable=True),
    sa.Column("updated_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    extend_existing=True,
)
sa.Table(  # v4
    "feedback", TABLES,
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id"), nullable=True),
    extend_existing=True,
)
sa.Table(  # v3
    "users", TABLES,
    sa.Column("kind", sa.String(16), nullable=False, server_default="human"),
    sa.CheckConstraint("kind IN ('human', 'simulated')", name="ck_users_kind"),
    extend_existing=True,
)


def current_version(conn: Connection) -> int:
    """The schema version of the database behind ``conn``; 0 for an empty database."""
    if not sa.inspect(conn).has_table("schema_version"):
        return 0
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(VERSIONS.c.version), 0))).scalar_one()


def upgrade(conn: Connection, target: int = SCHEMA_VERSION) -> list[int]:
    """Apply the missing migrations up to ``target`` inside the caller's transaction; return them.

    On PostgreSQL a transaction-scoped advisory lock makes concurrent upgrades wait for each other;
    on SQLite the caller's ``BEGIN IMMEDIATE`` does the same. DDL is transactional on both, so a
    failed migration leaves the database at its previous version.

    Raises:
        RuntimeError: the database is newer than this code (downgrades are not supported).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    _version_table(sa.MetaData()).create(conn, checkfirst=True)
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise RuntimeError(f"database schema is v{version} but this code knows up to v{SCHEMA_VERSION}; upgrade vkit")
    applied = []
    for v in range(version + 1, target + 1):
        MIGRATIONS[v](conn)
        conn.execute(VERSIONS.insert().values(version=v, applied_at=_now()))
        applied.append(v)
    return applied
