"""Fixtures for the annotation store: a throwaway PostgreSQL cluster and a store on each backend.

The cluster is started once per test session from the server binaries (``initdb`` + ``pg_ctl``,
found under ``/usr/lib/postgresql/*/bin`` or on ``PATH``; Debian/Ubuntu: ``apt-get install
postgresql``). It listens on a Unix socket in its own temporary directory only (no TCP port), with
``fsync`` off, and is stopped and deleted at the end. PostgreSQL refuses to run as root, so under
root ``initdb``/``pg_ctl`` run as the ``postgres`` user (which the Debian package creates) through
``runuser``, and the directory is handed to that user. Each test gets a fresh schema (selected by
``search_path`` in the URL: much faster than a database per test), dropped after.

Tests marked ``postgres`` skip, with the reason, only when the binaries (or a user to run them as)
are missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from apps.store import Store

PG_PORT = 5432  # names the socket file only: the cluster has no TCP listener


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs the PostgreSQL server binaries (skipped without them)")


def _pg_bindir() -> Path | None:
    def version(path: Path) -> tuple:
        return tuple(int(p) for p in path.parts[-3].split(".") if p.isdigit())

    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=version)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as() -> tuple[list[str], pwd.struct_passwd | None, str | None]:
    """The command prefix that runs the server binaries as a non-root user, or why it can't."""
    if os.geteuid() != 0:
        return [], None, None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        return [], None, "running as root and there is no 'postgres' user to run initdb as"
    runuser = shutil.which("runuser")
    if runuser is None:
        return [], None, "running as root and 'runuser' is missing"
    return [runuser, "-u", "postgres", "--"], account, None


@dataclass(frozen=True)
class PgCluster:
    socket_dir: str
    user: str = "vkit"
    database: str = "postgres"

    def url(self, schema: str | None = None) -> str:
        url = f"postgresql+psycopg://{self.user}@/{self.database}?host={self.socket_dir}&port={PG_PORT}"
        return f"{url}&options=-csearch_path%3D{schema}" if schema else url

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host=self.socket_dir, port=PG_PORT, user=self.user, dbname=self.database,
                             autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def pg_cluster():
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    prefix, account, problem = _run_as()
    if problem:
        pytest.skip(problem)
    # Not pytest's tmp_path: under root that is mode 0700 and the postgres user could not reach it.
    base = Path(tempfile.mkdtemp(prefix="vkit-pg-", dir="/tmp" if account else None))
    if account:
        os.chown(base, account.pw_uid, account.pw_gid)
    data, log = base / "data", base / "server.log"

    def run(*cmd: str) -> None:
        proc = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=60)
        if proc.returncode != 0:
            server_log = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{server_log}")

    options = (f"-c listen_addresses='' -k {base} -p {PG_PORT} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c max_connections=60")
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "vkit", "-E", "UTF8", "--no-locale",
            "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "30", "start")
        yield PgCluster(str(base))
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_cluster):
    """A URL whose connections see only a fresh, empty schema of the session's cluster, dropped after."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    pg_cluster.admin(f"CREATE SCHEMA {name}")
    yield pg_cluster.url(name)
    pg_cluster.admin(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    """Tests create many users: a low scrypt cost keeps them fast (the hash records its cost)."""
    monkeypatch.setattr("apps.store_auth.SCRYPT_N", 2**10)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """An empty database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    s = Store.open(db_url)
    yield s
    s.close()


@pytest.fixture(scope="session")
def chatty_base(tiny_base, tmp_path_factory):
    """``tiny_base`` re-drawn with wider weights: greedy decoding on it says visible gibberish, not just newlines."""
    import torch

    from core_training.modeling import load_causal_lm, load_tokenizer

    model, path = load_causal_lm(tiny_base), tmp_path_factory.mktemp("chatty-base")
    torch.manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, 0.3)
    model.save_pretrained(path)
    load_tokenizer(tiny_base).save_pretrained(path)
    return path
