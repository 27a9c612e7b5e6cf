"""A throwaway PostgreSQL cluster on 127.0.0.1 (Debian's `postgresql` package).

`initdb` refuses to run as root, so as root the cluster belongs to the ``postgres`` user (Popen
switches user) and its directory is made under /tmp (the pytest temp tree is root-only). The
server runs as our direct child, not daemonized by pg_ctl, so it dies with the test run.
Password authentication (scram-sha-256) is on, so tests can check that a wrong password is
reported without being echoed.

Outside pytest::

    with running_postgres() as pg:
        uri = pg.create_database("catalog")
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.services.ports import free_port, wait_until
from tests.services.process import die_with_parent

USER = "wikistream"
PASSWORD = "pg-fake-Password-7Hq2Lm"  # fake, loopback only; tests grep for it


def postgres_bin_dir() -> Path:
    """The directory of `initdb` / `pg_ctl` (newest installed major version first)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise FileNotFoundError(
        "PostgreSQL server not found; install it: apt-get install -y postgresql"
    )


def _owner() -> dict[str, Any]:
    """Popen arguments that run a command as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


@dataclass
class PostgresServer:
    """A running cluster and the SQLAlchemy URIs that reach it."""

    root: Path
    port: int
    bin_dir: Path
    process: subprocess.Popen[bytes] | None = None
    user: str = USER
    password: str = PASSWORD

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def uri(self, database: str = "postgres", *, password: str | None = None) -> str:
        """``postgresql+psycopg2://user:password@127.0.0.1:port/database``."""
        secret = self.password if password is None else password
        return f"postgresql+psycopg2://{self.user}:{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create database ``name`` and return its URI."""
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.uri(), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.uri(name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = (self.root / "server.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Stop the server (fast shutdown, then SIGKILL) and delete the cluster."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: no waiting for clients
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)


def _ready(server: PostgresServer) -> bool:
    import sqlalchemy

    if server.process is not None and server.process.poll() is not None:
        raise RuntimeError(f"postgres exited early:\n{server.log_tail()}")
    engine = sqlalchemy.create_engine(server.uri())
    try:
        with engine.connect() as conn:
            return conn.execute(sqlalchemy.text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()


def start_postgres(*, timeout: float = 90.0) -> PostgresServer:
    """initdb a new cluster in a temp dir, start it on a free port, wait until it answers."""
    bin_dir = postgres_bin_dir()
    root = Path(tempfile.mkdtemp(prefix="wikistream-pg-"))
    owner = os.geteuid() == 0
    if owner:
        pw = pwd.getpwnam("postgres")
        os.chown(root, pw.pw_uid, pw.pw_gid)
    pwfile = root / "pwfile"
    pwfile.write_text(PASSWORD + "\n")
    if owner:
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    server = PostgresServer(root=root, port=free_port(), bin_dir=bin_dir)
    init = subprocess.run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(server.data_dir),
            "-U",
            USER,
            "-A",
            "scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
        **_owner(),
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {init.stderr.strip()}")
    log = (root / "server.log").open("wb")
    server.process = subprocess.Popen(
        [
            str(bin_dir / "postgres"),
            "-D",
            str(server.data_dir),
            "-p",
            str(server.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(root),
            "-F",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=50",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=root,
        preexec_fn=die_with_parent,
        **_owner(),
    )
    log.close()
    try:
        wait_until(lambda: _ready(server), timeout=timeout, what="PostgreSQL")
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def running_postgres(*, timeout: float = 90.0) -> Iterator[PostgresServer]:
    """A PostgreSQL cluster for the duration of the block."""
    server = start_postgres(timeout=timeout)
    try:
        yield server
    finally:
        server.stop()
