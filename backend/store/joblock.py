"""One process at a time for a background job that rewrites shared rows.

Several web processes (behind a proxy) each run the leader desk's jobs. Two refreshes of the
stage projection at once would each delete a case's rows and insert them again, and under
PostgreSQL's READ COMMITTED both inserts go through to the unique key: one fails. A session
advisory lock, held on a connection of its own for the job's length, makes the second wait
and then find little left to do. SQLite runs one writing transaction at a time already.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text


@contextmanager
def one_at_a_time(db: Engine, job: str) -> Iterator[None]:
    """Run the body while no other process runs ``job`` on this database."""
    if db.dialect.name != "postgresql":
        yield
        return
    key = zlib.crc32(f"gridwatch:{job}".encode())
    with db.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        conn.commit()  # the lock is the session's: no transaction stays open meanwhile
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            conn.commit()
