"""Process tuning (backend/core/runtime.py): with the raised thresholds the long-running
processes use, old reference cycles are freed by the sweeper, and only by it."""

from __future__ import annotations

import gc
import time
import weakref
from collections.abc import Iterator

import pytest

from backend.core.runtime import GarbageSweeper


class Node:
    """One half of a reference cycle."""

    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def raised_thresholds() -> Iterator[None]:
    """The thresholds ``tune_gc`` sets, for this test only."""
    before = gc.get_threshold()
    gc.set_threshold(200_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def old_cycle() -> weakref.ref[Node]:
    """A cycle that lived through two young collections (so it sits in the oldest
    generation, as a cached object does in the engine), then dropped."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    gc.collect(0)
    gc.collect(1)  # survivors of generation 1 move to the oldest
    return weakref.ref(a)


def test_an_old_cycle_outlives_young_collections(raised_thresholds: None) -> None:
    """Why the sweeper exists: young collections never free an old cycle."""
    ref = old_cycle()
    for _ in range(3):
        gc.collect(1)
    assert ref() is not None
    gc.collect()
    assert ref() is None


def test_the_sweeper_frees_old_cycles(raised_thresholds: None) -> None:
    ref = old_cycle()
    assert ref() is not None
    sweeper = GarbageSweeper(every=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 5
        while ref() is not None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sweeper.stop()
    assert ref() is None
    assert sweeper.sweeps >= 1


def test_a_stopped_sweeper_sweeps_no_more(raised_thresholds: None) -> None:
    sweeper = GarbageSweeper(every=0.02)
    sweeper.start()
    time.sleep(0.1)
    sweeper.stop()
    done = sweeper.sweeps
    time.sleep(0.1)
    assert sweeper.sweeps == done
