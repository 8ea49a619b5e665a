"""``python -m backend.drill.riskjob DATABASE_URL NOW``: retrain the overdue-risk model and
rescore the open cases, then print how many. The web process runs it as a child process, so
training a large city's model never holds up the screens (see dashboard/drill_jobs.py)."""

from __future__ import annotations

import sys
from datetime import datetime

from backend.drill.risk import refresh_risk


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m backend.drill.riskjob DATABASE_URL NOW", file=sys.stderr)
        return 2
    print(refresh_risk(argv[0], datetime.fromisoformat(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
