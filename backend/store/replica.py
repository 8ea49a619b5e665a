"""How far a PostgreSQL streaming replica is behind its primary, asked of the replica itself.

The leader desk reads from the replica (``DATABASE_READ_URL``), so what it shows is as old as
the replica's replay. Its screens say how old, and ``/readyz`` reports it. The figure is
``now() - pg_last_xact_replay_timestamp()``: the age of the last transaction replayed, *when
WAL is waiting to be replayed*. A replica that has replayed all it received is caught up (0),
however long ago the primary last committed; without that test an idle primary would look
like a replica falling behind.

The question is cheap (no table is read) and its answer is kept for ``ttl`` on the clock
object, so many screens asking every two seconds make one query per ``ttl``; while one
caller asks, the others get the last answer instead of queueing behind a replica that is
slow to answer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from backend.core.clock import Clock

LAG_SQL = text(
    """
    SELECT pg_is_in_recovery() AS replica,
           CASE
             WHEN NOT pg_is_in_recovery() THEN 0.0
             WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0.0
             ELSE GREATEST(0.0, EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()))
           END AS lag
    """
)


@dataclass(frozen=True, slots=True)
class ReplicaLag:
    """One measurement: ``seconds`` behind (None when the replica did not answer, ``error``
    then says why), whether the server is in recovery at all, and when it was asked."""

    seconds: float | None
    in_recovery: bool
    at: datetime
    error: str | None = None


def replay_lag(conn: Connection) -> tuple[bool, float]:
    """Whether the server is a replica, and its replay lag in seconds (0 when caught up or
    when the server is a primary; 0 too for a replica that has replayed nothing yet)."""
    row = conn.execute(LAG_SQL).one()
    return bool(row.replica), float(row.lag or 0.0)


class LagMeter:
    """The replica's lag, measured at most once per ``ttl`` of ``clock``."""

    def __init__(self, read_db: Engine, clock: Clock, ttl: timedelta = timedelta(seconds=2)):
        self.read_db = read_db
        self.clock = clock
        self.ttl = ttl
        self._last: ReplicaLag | None = None
        self._asking = False
        self._lock = threading.Lock()

    def measure(self) -> ReplicaLag:
        """Ask the replica now (a failure is an answer with ``error``, never an exception),
        stamped when the answer came: a slow failure is kept ``ttl`` like any answer."""
        try:
            with self.read_db.connect() as conn:
                replica, lag = replay_lag(conn)
        except SQLAlchemyError as exc:
            return ReplicaLag(None, False, self.clock.now(), exc.__class__.__name__)
        return ReplicaLag(lag, replica, self.clock.now())

    def last(self) -> ReplicaLag | None:
        """The last measurement, whatever its age, without asking (never waits)."""
        return self._last

    def current(self) -> ReplicaLag:
        """The last measurement if it is younger than ``ttl`` (or another caller is asking
        already), else a new one."""
        with self._lock:
            now, last = self.clock.now(), self._last
            if last is not None and (self._asking or last.at <= now < last.at + self.ttl):
                return last
            self._asking = True
        try:
            found = self.measure()
        finally:
            with self._lock:
                self._asking = False
        with self._lock:
            self._last = found
        return found
