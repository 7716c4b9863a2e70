"""The feedback and annotation store: users, sessions, advisor feedback, pairwise tasks, annotations.

One database holds it all: a SQLite file by default (WAL, ``busy_timeout``, ``BEGIN IMMEDIATE`` for
writes, so concurrent writers queue instead of failing), or PostgreSQL by URL. :meth:`Store.open`
creates the schema or upgrades it in place (see :mod:`apps.store_schema`). Every write is one
transaction. Passwords are hashed with scrypt (per-user salt, parameters kept in the hash); session
tokens are stored only as their sha256 (:mod:`apps.store_auth`). The API returns the frozen records
of :mod:`apps.store_records`.

Resubmitting an annotation *updates* it (the annotator corrects a mistake): the row keeps its id and
``created_at``, gets the new labels, ``updated_at`` and ``revision + 1``. The upsert is one atomic
statement, so racing resubmissions of one assignment still leave exactly one row. Its author (a
logged-in user) or an admin amends an advisor feedback row's labels (thumbs, rubric, correction) with
:meth:`Store.update_feedback`, which records who did it and when; anonymous feedback only an admin.

Every account has a ``kind``: ``human``, or ``simulated`` for the panel ``vkit loop`` labels with.
Simulated accounts, and only they, are named ``sim-...``, so exports can say whose labels they hold.

Manage users from a shell (the password is read from the terminal, or stdin with ``--password-stdin``)::

    python -m apps.store --db sqlite:///annotations.db add-user alice --role admin

>>> store = Store.open("sqlite://")  # in memory
>>> store.create_user("alice", "correct horse", role="annotator").username
'alice'
>>> store.authenticate("alice", "wrong password") is None
True
>>> [t] = store.create_tasks_from_samples("gaokao", [{"messages": [{"role": "user", "content": "Q?"}],
...     "answer_a": "A1", "answer_b": "A2"}], source="doctest")
>>> store.assign([t], ["alice"], k=1)
1
>>> [a] = store.assignments_for("alice")
>>> store.submit_annotation("alice", a.id, "a", rubric={"a": {"clarity": 0.75}, "b": {"clarity": 0.5}}).preference
'a'
>>> store.progress()
[Progress(annotator='alice', assigned=1, done=1)]
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import hashlib
import json
import os
import re
import secrets
import sqlite3
import sys
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

from core_training.inputs import InputError

from apps.store_auth import DUMMY_HASH, MIN_PASSWORD_LENGTH, hash_password, token_hash, verify_password
from apps.store_records import (
    Annotation, Assignment, Feedback, LabelledTask, Progress, Session, Task, User, as_utc, check_messages,
    check_pair_rubric, check_scores, json_safe,
)
from apps.store_schema import (
    KINDS, PREFERENCES, ROLES, SCHEMA_VERSION, SIMULATED_PREFIX, TABLES, current_version, upgrade,
)

DEFAULT_URL = "sqlite:///annotations.db"
DEFAULT_SESSION_TTL = timedelta(hours=8)
SQLITE_BUSY_TIMEOUT_MS = 30_000
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
FEEDBACK_EDITABLE = ("thumbs", "rubric", "correction")  # what update_feedback may change

users, sessions, feedback_t, tasks_t, assignments_t, annotations_t = (
    TABLES.tables[n] for n in ("users", "sessions", "feedback", "tasks", "assignments", "annotations")
)


# --------------------------------------------------------------------------- engine


class StoreOpenError(InputError):
    """The ``--db`` URL names no store vkit can open (no driver, unreachable, not a database)."""


def _masked(url: Any) -> str:
    return url.render_as_string(hide_password=True) if isinstance(url, sa.URL) else str(url)


def _first_line(err: BaseException) -> str:
    """The driver's own first line (SQLAlchemy appends SQL and a help link on further lines)."""
    inner = getattr(err, "orig", None) or err
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0]}" if text else type(inner).__name__


def normalize_url(url: str | Path) -> str:
    """A SQLAlchemy URL: plain paths become SQLite files, ``postgresql://`` uses psycopg 3.

    >>> normalize_url("postgresql://u@localhost/db")
    'postgresql+psycopg://u@localhost/db'
    """
    url = str(url)
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _sqlite_engine(url: sa.URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory:
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # ``timeout`` installs the busy handler as the connection opens, before the first PRAGMA: switching
    # a fresh file to WAL takes an exclusive lock, and concurrent first opens must wait for it, not fail.
    engine = sa.create_engine(
        url, poolclass=StaticPool if memory else None,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # the driver's own BEGIN is deferred; we issue ours in "begin"
        for pragma in (f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "foreign_keys=ON"):
            dbapi_conn.execute(f"PRAGMA {pragma}")
        if not memory:
            _set_wal(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads, then writes, fails at once with SQLITE_BUSY when another
        # writer got in between; taking the write lock up front makes writers wait (busy_timeout).
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("vkit_write") else "BEGIN")

    return engine


def _set_wal(dbapi_conn, attempts: int = 50) -> None:
    """Switch to WAL; retry while another connection holds the lock (SQLite skips the busy handler
    for some journal-mode changes, so concurrent first opens can still see "database is locked")."""
    for attempt in range(attempts):
        try:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _insert(conn: Connection, table: sa.Table):
    return (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _a_b_swapped(*key: object) -> bool:
    """A stable coin flip per item, so neither answer source always sits on the same side."""
    return hashlib.sha256(json.dumps(key, default=str).encode()).digest()[0] & 1 == 1


# --------------------------------------------------------------------------- the store


class Store:
    """Feedback and annotations in one SQL database. Thread-safe: share one instance per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str | Path = DEFAULT_URL) -> "Store":
        """Connect, then create the schema or upgrade it in place to ``SCHEMA_VERSION``.

        Raises:
            StoreOpenError: one line naming the URL (password masked) and why it cannot be opened.
        """
        try:
            url = sa.make_url(normalize_url(url))
            is_sqlite = url.get_backend_name() == "sqlite"
            engine = _sqlite_engine(url) if is_sqlite else sa.create_engine(url, pool_pre_ping=True)
        except (sa.exc.ArgumentError, ImportError) as err:
            raise StoreOpenError(f"--db {_masked(url)}: cannot use this database URL ({_first_line(err)})") from None
        store = cls(engine)
        try:
            with store._write() as conn:
                upgrade(conn)
        except sa.exc.SQLAlchemyError as err:
            engine.dispose()
            raise StoreOpenError(f"--db {_masked(url)}: cannot open the store ({_first_line(err)})") from None
        except BaseException:
            engine.dispose()
            raise
        return store

    @property
    def url(self) -> str:
        """The database URL with any password masked (safe for logs and data cards)."""
        return self.engine.url.render_as_string(hide_password=True)

    def schema_version(self) -> int:
        with self._read() as conn:
            return current_version(conn)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn.execution_options(vkit_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    # ----------------------------------------------------------------------- users and sessions

    def create_user(self, username: str, password: str, role: str = "annotator", kind: str = "human") -> User:
        """Add a user. ``kind="simulated"`` is for ``vkit loop``'s panel: such names, and only they, start ``sim-``.

        Raises ValueError on a bad name, role, kind or short password, or a taken name.
        """
        if not _USERNAME.match(username):
            raise ValueError(f"username {username!r}: use 1-64 letters, digits, '_', '.', '-'")
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        if (kind == "simulated") != username.lower().startswith(SIMULATED_PREFIX):
            raise ValueError(f"username {username!r}: simulated accounts, and only they, "
                             f"start with {SIMULATED_PREFIX!r}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
        try:
            with self._write() as conn:
                uid = conn.execute(users.insert().values(
                    username=username, role=role, kind=kind, password_hash=hash_password(password),
                    created_at=_now()
                ).returning(users.c.id)).scalar_one()
        except sa.exc.IntegrityError as exc:
            raise ValueError(f"username {username!r} is taken") from exc
        return User(uid, username, role, kind)

    def users(self, role: str | None = None) -> list[User]:
        query = (sa.select(users.c.id, users.c.username, users.c.role, users.c.kind)
                 .order_by(users.c.username))
        if role is not None:
            query = query.where(users.c.role == role)
        with self._read() as conn:
            return [User(*row) for row in conn.execute(query)]

    def authenticate(self, username: str, password: str) -> User | None:
        """The user if the password matches, else None (unknown users take as long as wrong passwords)."""
        with self._read() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).mappings().first()
        if row is None:
            verify_password(password, DUMMY_HASH)
            return None
        if not verify_password(password, row["password_hash"]):
            return None
        return User(row["id"], row["username"], row["role"], row["kind"])

    def create_session(self, username: str, ttl: timedelta = DEFAULT_SESSION_TTL) -> str:
        """A new session token for ``username``, valid for ``ttl``; expired sessions are purged."""
        if ttl <= timedelta(0):
            raise ValueError(f"ttl must be positive, got {ttl}")
        token, now = secrets.token_urlsafe(32), _now()
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < now))
            conn.execute(sessions.insert().values(
                token_hash=token_hash(token), user_id=self._user_id(conn, username), created_at=now, expires_at=now + ttl
            ))
        return token

    def get_session(self, token: str | None) -> Session | None:
        """The live session for ``token``; None when unknown, ended or expired."""
        if not token:
            return None
        query = (sa.select(users.c.id, users.c.username, users.c.role, users.c.kind, sessions.c.expires_at)
                 .join(users, users.c.id == sessions.c.user_id).where(sessions.c.token_hash == token_hash(token)))
        with self._read() as conn:
            row = conn.execute(query).first()
        if row is None or as_utc(row.expires_at) <= _now():
            return None
        return Session(User(row.id, row.username, row.role, row.kind), as_utc(row.expires_at))

    def end_session(self, token: str) -> None:
        with self._write() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash(token)))

    @staticmethod
    def _user_id(conn: Connection, username: str) -> int:
        uid = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
        if uid is None:
            raise KeyError(f"no user {username!r}")
        return uid

    # ----------------------------------------------------------------------- feedback

    def add_feedback(self, vertical: str, question: str, answer: str, *, facts: str = "", model_id: str = "",
                     verdicts: Mapping[str, Any] | None = None, thumbs: int | None = None,
                     rubric: Mapping[str, float] | None = None, correction: str = "",
                     messages: Sequence[Mapping[str, str]] | None = None, username: str | None = None) -> int:
        """Record one advisor answer and what the user thought of it; returns the feedback id.

        ``username``: the logged-in user giving it (its author, who may amend it later); None: anonymous.

        ``verdicts`` are the rule results shown as guardrail badges (``RuleResult`` objects or dicts).
        ``messages`` is the dialog the answer replies to (user/assistant turns ending with the user's;
        a multi-turn vertical's whole conversation); without it, the one user turn ``question``.
        """
        if thumbs not in (None, -1, 1):
            raise ValueError(f"thumbs must be -1, 1 or None, got {thumbs!r}")
        dialog = check_messages(list(messages) if messages is not None else [{"role": "user", "content": question}])
        values = dict(vertical=vertical, question=question, messages=dialog, answer=answer, facts=facts,
                      model_id=model_id, verdicts=json_safe(verdicts or {}), thumbs=thumbs, rubric=check_scores(rubric),
                      correction=correction.strip(), created_at=_now())
        with self._write() as conn:
            author = self._user_id(conn, username) if username is not None else None
            return conn.execute(feedback_t.insert().values(**values, created_by=author)
                                .returning(feedback_t.c.id)).scalar_one()

    def feedback(self, vertical: str | None = None) -> list[Feedback]:
        query = _feedback_query().order_by(feedback_t.c.id)
        if vertical is not None:
            query = query.where(feedback_t.c.vertical == vertical)
        with self._read() as conn:
            return [_feedback(row) for row in conn.execute(query).mappings()]

    def update_feedback(self, feedback_id: int, username: str, **changes: Any) -> Feedback:
        """``username`` amends the labels of one feedback row; returns it as amended.

        Only the row's author or an admin may (as with assignments, someone else's row is refused).

        Only ``thumbs`` (-1, 1 or None), ``rubric`` (``{dimension: score in [0, 1]}``, replacing the
        old scores) and ``correction`` may change; the row records who changed it and when. One
        transaction: every change is checked first, and either all of them land or none does.

        Raises:
            ValueError: no change, a field that cannot change, a bad value (the message names the
                field), or a new correction for feedback that already became an annotation task.
            KeyError: no such feedback or user.
            PermissionError: ``username`` is neither the row's author nor an admin (nothing changes).
        """
        if unknown := sorted(set(changes) - set(FEEDBACK_EDITABLE)):
            raise ValueError(f"feedback field(s) {', '.join(map(repr, unknown))} cannot be updated; "
                             f"allowed: {', '.join(FEEDBACK_EDITABLE)}")
        if not changes:
            raise ValueError(f"nothing to update: pass one or more of {', '.join(FEEDBACK_EDITABLE)}")
        values = _check_feedback_labels(changes)
        with self._write() as conn:
            uid = self._user_id(conn, username)
            row = conn.execute(sa.select(feedback_t.c.correction, feedback_t.c.created_by)
                               .where(feedback_t.c.id == feedback_id).with_for_update()).first()
            if row is None:
                raise KeyError(f"no feedback {feedback_id}")
            role = conn.execute(sa.select(users.c.role).where(users.c.id == uid)).scalar_one()
            if role != "admin" and row.created_by != uid:
                raise PermissionError(f"{username!r} may not change feedback {feedback_id}: only its author or an "
                                      f"admin may")
            if "correction" in values and values["correction"] != row.correction:
                task = conn.execute(sa.select(tasks_t.c.id).where(tasks_t.c.feedback_id == feedback_id)).scalar()
                if task is not None:
                    raise ValueError(f"correction: feedback {feedback_id} already became annotation task {task}; "
                                     "its correction can no longer change")
            conn.execute(feedback_t.update().where(feedback_t.c.id == feedback_id)
                         .values(**values, updated_at=_now(), updated_by=uid))
            return _feedback(conn.execute(_feedback_query().where(feedback_t.c.id == feedback_id)).mappings().one())

    # ----------------------------------------------------------------------- tasks

    def create_tasks_from_feedback(self, vertical: str | None = None, feedback_ids: Sequence[int] | None = None,
                                   guidelines: str = "") -> list[int]:
        """One task per corrected feedback not yet turned into a task: the model's answer vs the correction.

        Feedback without a correction has no second answer to compare and is left out. Which side
        (A or B) the correction takes is a stable coin flip per feedback id.
        """
        query = (sa.select(feedback_t).where(feedback_t.c.correction != "")
                 .where(feedback_t.c.id.not_in(sa.select(tasks_t.c.feedback_id).where(tasks_t.c.feedback_id.is_not(None))))
                 .order_by(feedback_t.c.id)
                 .with_for_update(of=feedback_t))  # PostgreSQL: no update_feedback changes a correction meanwhile
        if vertical is not None:
            query = query.where(feedback_t.c.vertical == vertical)
        if feedback_ids is not None:
            query = query.where(feedback_t.c.id.in_(list(feedback_ids)))
        created = []
        with self._write() as conn:
            for fb in conn.execute(query).mappings().all():
                swapped = _a_b_swapped("feedback", fb["id"])
                a, b = (fb["correction"], fb["answer"]) if swapped else (fb["answer"], fb["correction"])
                sides = "A=correction B=model" if swapped else "A=model B=correction"
                messages = fb["messages"] or [{"role": "user", "content": fb["question"]}]
                created.append(self._insert_task(conn, fb["vertical"], messages, a, b, fb["facts"],
                                                 f"feedback:{fb['id']} {sides} model={fb['model_id']}",
                                                 guidelines, feedback_id=fb["id"]))
        return created

    def create_tasks_from_samples(self, vertical: str, pairs: Sequence[Mapping[str, Any]], source: str,
                                  guidelines: str = "") -> list[int]:
        """One task per pair ``{"messages", "answer_a", "answer_b", ["context"], ["source"]}``.

        ``messages`` is the dialog before the answer (user/assistant turns, ending with the user's);
        a pair's own ``source`` (e.g. which checkpoint gave which side) is appended to ``source``.

        Raises:
            ValueError: malformed messages, an empty answer, or two identical answers.
        """
        rows = []
        for i, pair in enumerate(pairs):
            a, b = str(pair.get("answer_a", "")), str(pair.get("answer_b", ""))
            if not a.strip() or not b.strip() or a == b:
                raise ValueError(f"pair {i}: answers must be non-empty and different")
            where = f"{source} {pair['source']}" if pair.get("source") else source
            rows.append((check_messages(pair.get("messages")), a, b, str(pair.get("context", "")), where))
        with self._write() as conn:
            return [self._insert_task(conn, vertical, *row, guidelines) for row in rows]

    @staticmethod
    def _insert_task(conn: Connection, vertical: str, messages: list, a: str, b: str, context: str, source: str,
                     guidelines: str, feedback_id: int | None = None) -> int:
        return conn.execute(tasks_t.insert().values(
            vertical=vertical, messages=messages, answer_a=a, answer_b=b, context=context, source=source[:512],
            guidelines=guidelines, feedback_id=feedback_id, created_at=_now(),
        ).returning(tasks_t.c.id)).scalar_one()

    def tasks(self, vertical: str | None = None) -> list[Task]:
        query = sa.select(tasks_t).order_by(tasks_t.c.id)
        if vertical is not None:
            query = query.where(tasks_t.c.vertical == vertical)
        with self._read() as conn:
            return [_task(row) for row in conn.execute(query).mappings()]

    # ----------------------------------------------------------------------- assignments

    def assign(self, task_ids: Sequence[int], annotators: Sequence[str], k: int) -> int:
        """Give each task ``k`` distinct annotators, topping up existing assignments; returns how many were added.

        Each missing slot goes to the least-loaded annotator (fewest assignments overall) not yet on
        the task, ties broken by the order of ``annotators``.
        """
        annotators = list(dict.fromkeys(annotators))
        if not 1 <= k <= len(annotators):
            raise ValueError(f"k must be between 1 and the number of annotators ({len(annotators)}), got {k}")
        with self._write() as conn:
            ids = {name: self._user_id(conn, name) for name in annotators}
            found = set(conn.execute(sa.select(tasks_t.c.id).where(tasks_t.c.id.in_(list(task_ids)))).scalars())
            if missing := sorted(set(task_ids) - found):
                raise KeyError(f"no tasks {missing}")
            load = dict(conn.execute(sa.select(assignments_t.c.annotator_id, sa.func.count())
                                     .group_by(assignments_t.c.annotator_id)).all())
            on_task: dict[int, set[int]] = {}
            for tid, uid in conn.execute(sa.select(assignments_t.c.task_id, assignments_t.c.annotator_id)
                                         .where(assignments_t.c.task_id.in_(list(found)))):
                on_task.setdefault(tid, set()).add(uid)
            rows, order = [], {uid: i for i, uid in enumerate(ids.values())}
            for tid in dict.fromkeys(task_ids):
                have = on_task.get(tid, set())
                free = sorted((uid for uid in ids.values() if uid not in have), key=lambda u: (load.get(u, 0), order[u]))
                for uid in free[: max(0, k - len(have))]:
                    rows.append({"task_id": tid, "annotator_id": uid, "created_at": _now()})
                    load[uid] = load.get(uid, 0) + 1
            if rows:
                conn.execute(assignments_t.insert(), rows)
        return len(rows)

    def assignments_for(self, username: str) -> list[Assignment]:
        """``username``'s own assignments, unfinished first, then by id."""
        query = _assignment_query().where(users.c.username == username)
        with self._read() as conn:
            found = [_assignment(row) for row in conn.execute(query).mappings()]
        return sorted(found, key=lambda a: (a.done, a.id))

    def get_assignment(self, username: str, assignment_id: int) -> Assignment:
        """One assignment, only for the annotator it belongs to.

        Raises:
            KeyError: no such assignment.
            PermissionError: it belongs to someone else (nothing of it is returned).
        """
        with self._read() as conn:
            row = conn.execute(_assignment_query().where(assignments_t.c.id == assignment_id)).mappings().first()
        if row is None:
            raise KeyError(f"no assignment {assignment_id}")
        if row["annotator"] != username:
            raise PermissionError(f"assignment {assignment_id} is not assigned to {username!r}")
        return _assignment(row)

    def submit_annotation(self, username: str, assignment_id: int, preference: str,
                          rubric: Mapping[str, Mapping[str, float]] | None = None, correction: str = "") -> Annotation:
        """Record (or update, on resubmission) ``username``'s annotation of one of their assignments.

        ``rubric`` scores each answer on the vertical's rubric: ``{"a": {dimension: score}, "b": {...}}``
        with scores in [0, 1]; ``correction`` is the answer as it should have been (optional).

        Raises:
            ValueError: ``preference`` not in ``a|b|tie``, a malformed rubric, or a score outside [0, 1].
            KeyError: no such assignment.
            PermissionError: the assignment is someone else's.
        """
        if preference not in PREFERENCES:
            raise ValueError(f"preference must be one of {PREFERENCES}, got {preference!r}")
        rubric, now = check_pair_rubric(rubric), _now()
        with self._write() as conn:
            owner = conn.execute(sa.select(users.c.username, assignments_t.c.task_id)
                                 .join(assignments_t, assignments_t.c.annotator_id == users.c.id)
                                 .where(assignments_t.c.id == assignment_id)).first()
            if owner is None:
                raise KeyError(f"no assignment {assignment_id}")
            if owner.username != username:
                raise PermissionError(f"assignment {assignment_id} is not assigned to {username!r}")
            stmt = _insert(conn, annotations_t).values(
                assignment_id=assignment_id, preference=preference, rubric=rubric, correction=correction.strip(),
                revision=0, created_at=now, updated_at=now,
            )
            stmt = stmt.on_conflict_do_update(index_elements=[annotations_t.c.assignment_id], set_={
                "preference": stmt.excluded.preference, "rubric": stmt.excluded.rubric,
                "correction": stmt.excluded.correction, "updated_at": stmt.excluded.updated_at,
                "revision": annotations_t.c.revision + 1,
            }).returning(annotations_t)
            row = conn.execute(stmt).mappings().one()
        return Annotation(row["id"], assignment_id, owner.task_id, username, row["preference"], row["rubric"],
                          row["correction"], row["revision"], as_utc(row["created_at"]), as_utc(row["updated_at"]))

    def progress(self) -> list[Progress]:
        """Assigned and finished counts per annotator (every annotator, and anyone else with assignments)."""
        query = (sa.select(users.c.username, users.c.role, sa.func.count(assignments_t.c.id),
                           sa.func.count(annotations_t.c.id))
                 .select_from(users)
                 .outerjoin(assignments_t, assignments_t.c.annotator_id == users.c.id)
                 .outerjoin(annotations_t, annotations_t.c.assignment_id == assignments_t.c.id)
                 .group_by(users.c.username, users.c.role).order_by(users.c.username))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [Progress(name, assigned, done) for name, role, assigned, done in rows if role == "annotator" or assigned]

    def labelled_tasks(self, vertical: str | None = None) -> list[LabelledTask]:
        """Every task with its assigned annotators and submitted annotations (what export and agreement read)."""
        tasks = {t.id: t for t in self.tasks(vertical)}
        assigned: dict[int, list[str]] = {tid: [] for tid in tasks}
        done: dict[int, list[Annotation]] = {tid: [] for tid in tasks}
        with self._read() as conn:
            for row in conn.execute(_assignment_query().order_by(assignments_t.c.id)).mappings():
                if row["task_id"] in tasks:
                    a = _assignment(row, tasks[row["task_id"]])
                    assigned[a.task.id].append(a.annotator)
                    if a.annotation is not None:
                        done[a.task.id].append(a.annotation)
        return [LabelledTask(t, tuple(assigned[tid]), tuple(done[tid])) for tid, t in tasks.items()]


def _feedback_query() -> sa.Select:
    editor, author = users.alias("editor"), users.alias("author")
    columns = [c for c in feedback_t.c if c.name not in ("updated_by", "created_by")]
    return (sa.select(*columns, editor.c.username.label("updated_by"), author.c.username.label("created_by"))
            .select_from(feedback_t).outerjoin(editor, editor.c.id == feedback_t.c.updated_by)
            .outerjoin(author, author.c.id == feedback_t.c.created_by))


def _feedback(row: Mapping[str, Any]) -> Feedback:
    return Feedback(**{**row, "created_at": as_utc(row["created_at"]), "updated_at": as_utc(row["updated_at"])})


def _check_feedback_labels(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The checked column values for :meth:`Store.update_feedback`; each error names its field."""
    values: dict[str, Any] = {}
    if "thumbs" in changes:
        thumbs = changes["thumbs"]
        if isinstance(thumbs, bool) or thumbs not in (None, -1, 1):
            raise ValueError(f"thumbs must be -1, 1 or None, got {thumbs!r}")
        values["thumbs"] = thumbs
    if "rubric" in changes:
        rubric = changes["rubric"]
        if rubric is not None and not isinstance(rubric, Mapping):
            raise ValueError(f"rubric must be a mapping of dimension to score, got {type(rubric).__name__}")
        try:
            values["rubric"] = check_scores(rubric)
        except ValueError as exc:
            raise ValueError(f"rubric: {exc}") from None
    if "correction" in changes:
        correction = changes["correction"]
        if not isinstance(correction, str):
            raise ValueError(f"correction must be a string, got {type(correction).__name__}")
        values["correction"] = correction.strip()
    return values


def _assignment_query() -> sa.Select:
    a = annotations_t
    return (
        sa.select(assignments_t.c.id.label("assignment_id"), users.c.username.label("annotator"),
                  *[c.label(f"task_{c.name}") for c in tasks_t.c],
                  a.c.id.label("annotation_id"), a.c.preference, a.c.rubric, a.c.correction, a.c.revision,
                  a.c.created_at, a.c.updated_at)
        .select_from(assignments_t)
        .join(users, users.c.id == assignments_t.c.annotator_id)
        .join(tasks_t, tasks_t.c.id == assignments_t.c.task_id)
        .outerjoin(a, a.c.assignment_id == assignments_t.c.id)
    )


def _task(row: Mapping[str, Any], prefix: str = "") -> Task:
    fields = {f.name: row[prefix + f.name] for f in dataclasses.fields(Task)}
    return Task(**{**fields, "created_at": as_utc(fields["created_at"])})


def _assignment(row: Mapping[str, Any], task: Task | None = None) -> Assignment:
    task = task or _task(row, prefix="task_")
    annotation = None
    if row["annotation_id"] is not None:
        annotation = Annotation(
            row["annotation_id"], row["assignment_id"], task.id, row["annotator"], row["preference"], row["rubric"],
            row["correction"], row["revision"], as_utc(row["created_at"]), as_utc(row["updated_at"] or row["created_at"]),
        )
    return Assignment(row["assignment_id"], row["annotator"], task, annotation)


def pairs_from_run(run_dir: str | Path, stage_a: str, stage_b: str, examples: Sequence[Mapping[str, Any]],
                   mode: str = "grounded", context: Callable[[list], str] | None = None) -> list[dict]:
    """Pairs for :meth:`Store.create_tasks_from_samples` from two stages' ``samples.jsonl`` of one run.

    Answers are matched by example id (``examples`` supply the messages); identical answers are
    skipped; which stage takes side A is a stable coin flip per example, recorded in ``source``.
    ``context`` maps an example's messages to the facts shown to the annotator.
    """
    from core_training.io import read_jsonl

    def answers(stage: str) -> dict[str, str]:
        path = Path(run_dir) / stage / "samples.jsonl"
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: did stage {stage!r} run?")
        return {str(r["id"]): r["response"] for r in read_jsonl(path) if r.get("mode") == mode}

    first, second = answers(stage_a), answers(stage_b)
    pairs = []
    for ex in examples:
        key = str(ex["id"])
        if key not in first or key not in second or first[key] == second[key]:
            continue
        sides = [(stage_a, first[key]), (stage_b, second[key])]
        if _a_b_swapped("run", Path(run_dir).name, stage_a, stage_b, key):
            sides.reverse()
        (name_a, a), (name_b, b) = sides
        messages = list(ex["messages"])
        pairs.append({"id": key, "messages": messages, "answer_a": a, "answer_b": b,
                      "context": context(messages) if context else "",
                      "source": f"item={key} mode={mode} A={name_a} B={name_b}"})
    return pairs


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m apps.store --db URL {upgrade,add-user NAME [--role admin] [--password-stdin]}``."""
    parser = argparse.ArgumentParser(prog="python -m apps.store", description=__doc__.split("\n")[0])
    parser.add_argument("--db", default=os.environ.get("VKIT_ANNOTATE_DB", DEFAULT_URL))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("upgrade", help="create or upgrade the schema, then print its version")
    add = sub.add_parser("add-user", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="annotator")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    args = parser.parse_args(argv)
    try:
        store = Store.open(args.db)
    except StoreOpenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "upgrade":
        print(f"{store.url}: schema v{store.schema_version()} (code knows v{SCHEMA_VERSION})")
        return 0
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass(f"password for {args.username}: ")
    try:
        user = store.create_user(args.username, password, args.role)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"created {user.role} {user.username!r} in {store.url}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
