"""Whose turn it is to write: a fair, cross-process queue for SQLite's single writer.

SQLite lets one transaction write at a time. A writer that finds the lock taken sleeps in
SQLite's busy handler in growing steps (1, 2, 5, 10 … 100 ms) and tries again, so with two
engine processes the lock often stands free while the other one sleeps. Here a writer waits
for an ``flock`` on a file beside the database instead: the kernel wakes it the moment the
lock is released. Only the write part of a batch takes a turn; reading and the state machine
run beside the other engines'. PostgreSQL locks rows, so there it is a no-op.
"""

from __future__ import annotations

import fcntl
import os
import threading

from sqlalchemy import Engine

from backend.store.db import sqlite_file


class WriteTurn:
    """Held from a batch's first write until its commit or rollback."""

    def __init__(self, db: Engine) -> None:
        path = sqlite_file(db)
        self._path = f"{path}.writer" if path is not None else None
        self._fd: int | None = None
        self._thread_lock = threading.Lock()  # flock does not exclude threads of one process
        self._holder: int | None = None

    def take(self) -> None:
        """Wait for this thread's turn (idempotent within a turn)."""
        if self._path is None or self._holder == threading.get_ident():
            return
        self._thread_lock.acquire()
        try:
            if self._fd is None:
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise
        self._holder = threading.get_ident()

    def give_back(self) -> None:
        """End this thread's turn, if it has one."""
        if self._holder != threading.get_ident():
            return
        self._holder = None
        assert self._fd is not None
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread_lock.release()
