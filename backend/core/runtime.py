"""Process-level tuning for the long-running gridwatch processes (engine, simulator, web)."""

from __future__ import annotations

import gc


def tune_gc() -> None:
    """Collect garbage less often.

    The engine allocates many short-lived objects per command while holding large, long-lived
    structures (reference data, the case-state cache, the simulator's plan). CPython's default
    thresholds then rescan those structures thousands of times a minute. Freezing what exists
    at start-up and raising the young-generation threshold removes most of that work; the
    long-lived structures are bounded, so memory stays bounded too.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
