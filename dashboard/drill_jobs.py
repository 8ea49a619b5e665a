"""Keeps the leader's projections fresh: ``drill_stages`` from the event log and the overdue
risk of the open cases, in a background thread of the web process (started by the first
leader screen, so a process that only shows the wall never runs it).

Freshness: stages are folded in every ``stage_every`` seconds, and a screen that finds them
older than ``max_age`` folds the new events in before it queries (an incremental refresh reads
only what arrived since); the risk is recomputed every ``risk_every`` seconds. The times are
the process's monotonic clock: they bound how old a figure may be, whatever the city's clock.

The report snapshots (backend/drill/snapshots.py: the current and previous period of each
kind, and their assessments) are computed again every ``report_every`` seconds, or ten times
as long as the last computation took if that is longer: on a large city the snapshots cost
seconds, and this keeps them at no more than a tenth of a core.

The risk model of a large city takes seconds of CPU to train, and its report snapshots seconds
to compute (Shangrao: bench/RESULTS.md), so both run in child processes
(``backend.drill.childjob``): the web process's threads keep answering the screens.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time

from backend.core.runtime import PARENT_PID_ENV
from backend.drill.projection import refresh_stages
from backend.system import System

log = logging.getLogger("gridwatch.drill")


class DrillJobs:
    def __init__(
        self,
        system: System,
        *,
        stage_every: float = 15.0,
        risk_every: float = 300.0,
        risk_min_every: float = 30.0,
        max_age: float = 30.0,
        report_every: float = 60.0,
    ) -> None:
        self.system = system
        self.stage_every = stage_every
        self.risk_every = risk_every
        self.risk_min_every = risk_min_every
        self._risk_took = 0.0
        self.max_age = max_age
        self.report_every = report_every
        self._reports_at = -1e18
        self._reports_took = 0.0
        self._lock = threading.Lock()
        self._reports_lock = threading.Lock()
        self._stages_at = -1e18
        self._risk_at = -1e18
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="drill-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def ensure_fresh(self, max_age: float | None = None) -> None:
        """Fold new events in first if the stages are older than ``max_age`` seconds."""
        self.start()
        if time.monotonic() - self._stages_at > (self.max_age if max_age is None else max_age):
            self.refresh_stages()
        if self._risk_at < 0:
            self.refresh_risk()

    def refresh_stages(self) -> int:
        with self._lock:
            s = self.system
            n = refresh_stages(s.db, s.tz, s.clock.now(), s.deadlines)
            self._stages_at = time.monotonic()
            return n

    def refresh_risk(self) -> int:
        """Retrain and rescore the open cases in a child process."""
        with self._lock:
            started = time.monotonic()
            n = self._child("risk")
            self._risk_at = time.monotonic()
            self._risk_took = self._risk_at - started
            return n

    def refresh_reports(self) -> int:
        """Compute the kept report snapshots again, at the city's present instant, in a child
        process; one refresh at a time (a caller that finds one running waits for it)."""
        with self._reports_lock:
            started = time.monotonic()
            n = self._child("reports")
            self._reports_at = time.monotonic()
            self._reports_took = self._reports_at - started
            return n

    def _child(self, job: str) -> int:
        """Run ``backend.drill.childjob``: nothing of the web process's threads or
        connections is shared with it, and its Python does not hold the screens' GIL."""
        s = self.system
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "backend.drill.childjob",
                job,
                s.settings.effective_database_url,
                s.clock.now().isoformat(),
                s.settings.tz,
            ],
            capture_output=True,
            text=True,
            timeout=1800,
            # the child ends with this process (backend/core/runtime.py die_with_parent)
            env=os.environ | {PARENT_PID_ENV: str(os.getpid())},
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"drill job {job} failed: {done.stderr.strip()[-2000:]}")
        return int(done.stdout.strip().splitlines()[-1])

    def _risk_due(self, now: float) -> bool:
        """Every ``risk_every`` seconds, or sooner when scoring is cheap: as often as ten times
        its own duration allows (at most a tenth of a core), never under ``risk_min_every``.
        A case moved up since the last scoring shows 待评估 until the next one, so a small
        city's (about a second) is redone every 30 s rather than five minutes."""
        every = min(self.risk_every, max(self.risk_min_every, 10 * self._risk_took))
        return now - self._risk_at >= every

    def _reports_due(self, now: float) -> bool:
        return now - self._reports_at >= max(self.report_every, 10 * self._reports_took)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            now = time.monotonic()
            try:
                if now - self._stages_at >= self.stage_every:
                    self.refresh_stages()
                if self._risk_due(now):
                    self.refresh_stages()
                    self.refresh_risk()
                if self._reports_due(time.monotonic()):
                    self.refresh_reports()
            except Exception:  # the screens keep their last figures; the log says why
                log.exception("drill-down refresh failed; trying again")
