"""``python -m backend.drill.childjob JOB DATABASE_URL NOW TZ``: one of the leader's background
jobs, in a process of its own, printing how many rows it wrote. The web process runs them as
child processes (dashboard/drill_jobs.py): a large city's model training or report snapshots
take seconds of Python, which in the web process would hold up the screens' threads.

Jobs: ``risk`` retrains the overdue-risk model and rescores the open cases; ``reports``
folds the new events into the days' roll-ups (backend/drill/days.py), computes again the
report snapshots the screens open most and fills in earlier ones (backend/drill/snapshots.py).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from backend.core.runtime import die_with_parent
from backend.store.db import DbLimits, make_engine


def _risk(db: Engine, now: datetime, tz: ZoneInfo) -> int:
    from backend.drill.risk import refresh_risk

    return refresh_risk(db, now)


def _reports(db: Engine, now: datetime, tz: ZoneInfo) -> int:
    """The kept periods, then as long again filling in earlier ones (at least 2 s)."""
    import time

    from backend.drill.days import refresh_days
    from backend.drill.snapshots import backfill, refresh_kept

    started = time.monotonic()
    refresh_days(db, tz, now)  # first: the earlier periods are summed over the days
    n = refresh_kept(db, tz, now)
    return n + backfill(db, tz, now, budget=max(2.0, time.monotonic() - started))


JOBS: dict[str, Callable[[Engine, datetime, ZoneInfo], int]] = {
    "risk": _risk,
    "reports": _reports,
}


def main(argv: list[str]) -> int:
    if len(argv) != 4 or argv[0] not in JOBS:
        print(
            f"usage: python -m backend.drill.childjob {{{','.join(JOBS)}}} DATABASE_URL NOW TZ",
            file=sys.stderr,
        )
        return 2
    die_with_parent()
    job, url, now, tz = argv
    db = make_engine(url, DbLimits(statement_ms=0))  # a long report is this job's whole work
    try:
        print(JOBS[job](db, datetime.fromisoformat(now), ZoneInfo(tz)))
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
