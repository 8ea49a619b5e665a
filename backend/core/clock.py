"""Clocks. Time always comes from one of these, never from ``datetime.now()`` deep in the code.

All clocks return timezone-aware UTC datetimes; local time (Asia/Shanghai by default) is only
used by the working-day calendar and by what screens display.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """Wall-clock time, for production."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: tests and ``simulate --fast``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now


class ScaledClock:
    """Simulated time running ``speed`` times faster than the wall clock (the demo)."""

    def __init__(self, start: datetime, speed: float = 60.0) -> None:
        if start.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._speed = speed
        self._wall0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._wall0) * self._speed
        return self._start + timedelta(seconds=elapsed)
