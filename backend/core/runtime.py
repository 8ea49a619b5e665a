"""Process-level tuning for the long-running gridwatch processes (engine, simulator, web)."""

from __future__ import annotations

import gc
import threading

#: seconds between full collections in a long-running process (see ``tune_gc``)
SWEEP_EVERY = 60.0

_sweeper: GarbageSweeper | None = None


def tune_gc(sweep_every: float = SWEEP_EVERY) -> None:
    """Collect garbage less often, and fully once a minute.

    The engine allocates many short-lived objects per command while holding large, long-lived
    structures (reference data, the case-state cache, the simulator's plan). CPython's default
    thresholds then rescan those structures thousands of times a minute. Freezing what exists
    at start-up and raising the young-generation threshold removes most of that work.

    With those thresholds the oldest generation is almost never collected by itself, so
    reference cycles that outlived two young collections (SQLAlchemy's statement objects,
    for one) were never freed: the engine grew by about 0.3 MB a minute under steady load
    (``bench/soak.py``). A full collection every ``sweep_every`` seconds frees them; it costs
    about 30 ms here, since what was frozen at start-up is not scanned.
    """
    global _sweeper
    gc.collect()
    gc.freeze()
    gc.set_threshold(200_000, 50, 1000)
    if _sweeper is None and sweep_every > 0:
        _sweeper = GarbageSweeper(sweep_every)
        _sweeper.start()


class GarbageSweeper:
    """A daemon thread that runs a full collection every ``every`` seconds until stopped."""

    def __init__(self, every: float) -> None:
        self.every = every
        self.sweeps = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            gc.collect()
            self.sweeps += 1


#: Linux prctl option: the signal a process gets when its parent dies
_PR_SET_PDEATHSIG = 1
#: the environment variable a child job reads to know its parent
PARENT_PID_ENV = "GRIDWATCH_PARENT_PID"


def die_with_parent() -> None:
    """End this process when the process that started it ends (a child job of the web
    process must not outlive it, whether the parent stopped cleanly or was killed).

    On Linux the kernel sends SIGTERM at the parent's death (prctl PR_SET_PDEATHSIG); a parent
    that died before this call is caught by comparing the parent's id with the one it gave."""
    import ctypes
    import os
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):  # no libc prctl: the check below still holds
            pass
    expected = os.environ.get(PARENT_PID_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        raise SystemExit(f"parent {expected} is gone; not starting")


def exit_on_signals() -> None:
    """SIGTERM ends the process as Ctrl-C does, through ``finally`` blocks and ``atexit`` (so
    the embedded Redis server is shut down); SIGHUP (a closed terminal) is taken as SIGTERM.

    A server that handles SIGTERM itself while it runs (uvicorn: a graceful shutdown) raises
    it again when done, and this handler then ends the process."""
    import os
    import signal

    def terminate(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    def hang_up(_signum: int, _frame: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGHUP, hang_up)
