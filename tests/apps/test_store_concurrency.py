"""Concurrent writers on both backends: no lost, failed or duplicated writes.

Each writer opens its own :class:`Store` (its own engine and connection pool), as separate app
processes would, and all start together behind a barrier.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from apps.store import Store
from apps.store_schema import SCHEMA_VERSION

WRITERS, SUBMISSIONS = 8, 200


def run_together(n: int, fn) -> list:
    """Run ``fn(i)`` in ``n`` threads released at once; re-raise the first failure."""
    barrier = threading.Barrier(n)

    def start(i):
        barrier.wait(timeout=30)
        return fn(i)

    with ThreadPoolExecutor(n) as pool:
        return [f.result() for f in [pool.submit(start, i) for i in range(n)]]


def count(store: Store, sql: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar_one()


def test_8_writers_x_200_submissions_make_1600_distinct_rows(store, db_url):
    names = [f"ann{i}" for i in range(WRITERS)]
    for name in names:
        store.create_user(name, f"{name}-password")
    pairs = [{"messages": [{"role": "user", "content": f"q{i}"}], "answer_a": "x", "answer_b": "y"}
             for i in range(SUBMISSIONS)]
    tasks = store.create_tasks_from_samples("gaokao", pairs, source="load")
    assert store.assign(tasks, names, k=WRITERS) == WRITERS * SUBMISSIONS

    def write(i: int) -> int:
        own = Store.open(db_url)
        try:
            for a in own.assignments_for(names[i]):
                own.submit_annotation(names[i], a.id, "ab"[a.id % 2], {"a": {"clarity": 0.5}}, f"fix {a.id}")
            return len(own.assignments_for(names[i]))
        finally:
            own.close()

    assert run_together(WRITERS, write) == [SUBMISSIONS] * WRITERS
    assert count(store, "SELECT count(*) FROM annotations") == WRITERS * SUBMISSIONS
    assert count(store, "SELECT count(DISTINCT assignment_id) FROM annotations") == WRITERS * SUBMISSIONS
    assert count(store, "SELECT max(revision) FROM annotations") == 0
    assert {(p.assigned, p.done) for p in store.progress()} == {(SUBMISSIONS, SUBMISSIONS)}


def test_racing_resubmissions_of_one_assignment_leave_one_row(store, db_url):
    store.create_user("ann", "ann-password")
    [tid] = store.create_tasks_from_samples("gaokao", [{"messages": [{"role": "user", "content": "q"}],
                                                        "answer_a": "x", "answer_b": "y"}], source="race")
    store.assign([tid], ["ann"], k=1)
    [assignment] = store.assignments_for("ann")
    threads, rounds = 4, 25

    def write(i: int) -> None:
        own = Store.open(db_url)
        try:
            for _ in range(rounds):
                own.submit_annotation("ann", assignment.id, ("a", "b", "tie", "a")[i])
        finally:
            own.close()

    run_together(threads, write)
    assert count(store, "SELECT count(*) FROM annotations") == 1
    assert count(store, "SELECT revision FROM annotations") == threads * rounds - 1  # every update counted


def test_concurrent_opens_of_an_empty_database_migrate_once(db_url):
    stores = run_together(6, lambda i: Store.open(db_url))
    try:
        assert {s.schema_version() for s in stores} == {SCHEMA_VERSION}
        assert count(stores[0], "SELECT count(*) FROM schema_version") == SCHEMA_VERSION
    finally:
        for s in stores:
            s.close()
