"""Timestamps of the live path, for the wall benchmark only (``bench/wall_latency.py``).

Off unless ``GRIDWATCH_LIVE_TRACE`` names a file. When on, the web process notes the
wall-clock time at which its feed received each published message (by sequence number),
at which each bridge made each frame (with the last sequence number in it), and at which
each screen's frame was handed to its websocket; the feed's thread appends them to the file
once a second, as JSON lines. The benchmark joins them with its own commit and publish
times and the browser's, per batch. When off, each call site costs one attribute test.
"""

from __future__ import annotations

import os
import time
from typing import Any

import orjson

#: the file the notes go to, or None: tracing is off (the default, and in production)
PATH = os.environ.get("GRIDWATCH_LIVE_TRACE") or None
ON = PATH is not None
_rows: list[tuple[Any, ...]] = []


def note(kind: str, *fields: Any) -> None:
    """One timestamped note; ``list.append`` is atomic, so any thread may call this."""
    _rows.append((kind, time.time(), *fields))


def flush() -> None:
    """Append the notes taken so far to the file (called by the feed's thread)."""
    if PATH is None or not _rows:
        return
    rows = _rows[:]
    del _rows[: len(rows)]
    with open(PATH, "ab") as f:
        f.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))
