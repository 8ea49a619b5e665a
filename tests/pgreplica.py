"""A private PostgreSQL primary and its streaming replica on loopback ports, built with the
shipped files of ``deploy/postgres/`` (``primary.conf`` included by the primary,
``make-replica.sh``: ``pg_basebackup -R -X stream`` with a slot, then ``replica.conf``), for
the read-replica tests and ``bench/read_replica.py``. Run as the ``postgres`` user when root,
as tests/pgproc.py does."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

from tests.browser import free_port
from tests.pgproc import PrivatePostgres, pg_bin

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "postgres"


def shipped_copy(pg: PrivatePostgres) -> Path:
    """deploy/postgres/ copied into the server's own folder, readable by the user it runs as:
    a checkout's folder may be private to its owner (``mktemp -d`` makes it 0700)."""
    copy = pg.root / "deploy"
    shutil.copytree(DEPLOY, copy)
    if pg._as_postgres:
        for path in (copy, *copy.iterdir()):
            shutil.chown(path, "postgres")
    return copy


def make_primary() -> PrivatePostgres:
    """A fresh cluster that includes deploy/postgres/primary.conf, started."""
    pg = PrivatePostgres()
    with (pg.data / "postgresql.conf").open("a") as f:
        f.write(f"\ninclude '{shipped_copy(pg) / 'primary.conf'}'\n")
    pg.start()
    return pg


class PrivateReplica(PrivatePostgres):
    """A hot standby of ``primary``, made by deploy/postgres/make-replica.sh on a port of
    its own (initdb's loopback ``replication`` line in pg_hba trusts it)."""

    def __init__(self, primary: PrivatePostgres) -> None:
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="gwpgr-"))
        self.data = self.root / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres")
        self.slot = f"gw_replica_{self.port}"
        env = [
            f"PG_BASEBACKUP={pg_bin('pg_basebackup')}",
            f"SLOT={self.slot}",
        ]
        deploy = shipped_copy(self)
        args = [str(deploy / "make-replica.sh"), "127.0.0.1", str(primary.port), str(self.data)]
        self._run("env", *env, "sh", *args, "postgres")


@contextmanager
def primary_and_replica() -> Iterator[tuple[PrivatePostgres, PrivateReplica]]:
    """Both servers running; both stopped and their folders removed afterwards."""
    primary = make_primary()
    replica: PrivateReplica | None = None
    try:
        replica = PrivateReplica(primary)
        replica.start()
        yield primary, replica
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()


def primary_lsn(primary: Engine) -> str:
    with primary.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_lsn()")).scalar_one())


def wait_replayed(primary: Engine, replica: Engine, timeout: float = 30.0) -> float:
    """Wait until the replica has replayed everything the primary has written so far;
    returns the seconds it took."""
    lsn = primary_lsn(primary)
    started = time.monotonic()
    query = text("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), CAST(:lsn AS pg_lsn)) >= 0")
    while True:
        with replica.connect() as conn:
            if conn.execute(query, {"lsn": lsn}).scalar_one():
                return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"the replica did not replay {lsn} in {timeout:g} s")
        time.sleep(0.02)


def pause_replay(replica: Engine) -> None:
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))


def resume_replay(replica: Engine) -> None:
    with replica.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_resume()"))
