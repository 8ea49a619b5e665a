"""Redis behind Sentinel for a test: a primary, a replica and three sentinels, each a real
``redis-server`` on a loopback port, their folders in the test's own, their configuration
files rendered from the shipped ones in deploy/redis/ (only ports, folders, addresses and
the timings change)."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.browser import free_port

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "redis"
SERVICE = "gridwatch"


def render(template: str, overrides: dict[str, str]) -> str:
    """``template`` with each directive named in ``overrides`` (``"port"``, ``"sentinel
    monitor"``) set to its value: the line replaced where it is, else added at the end."""
    lines = template.splitlines()
    for directive, value in overrides.items():
        line = f"{directive} {value}"
        at = [i for i, x in enumerate(lines) if x.startswith(directive + " ")]
        if at:
            lines[at[0]] = line
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


class SentinelGroup:
    """A primary, a replica (or more) and three sentinels (quorum 2) in ``folder``."""

    def __init__(
        self,
        folder: Path,
        down_after_ms: int = 1000,
        failover_timeout_ms: int = 3000,
        replicas: int = 1,
    ) -> None:
        self.folder = folder
        self.binary = shutil.which("redis-server") or "redis-server"
        self.down_after_ms = down_after_ms
        self.failover_timeout_ms = failover_timeout_ms
        self.ports = {"primary": free_port()}
        self.replicas = ["replica"] + [f"replica{i}" for i in range(2, replicas + 1)]
        for name in self.replicas:
            self.ports[name] = free_port()
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    # ------------------------------------------------------------------ files

    def _conf(self, name: str) -> Path:
        return self.folder / name / "redis.conf"

    def _write(self) -> None:
        primary = self.ports["primary"]
        for name in self.ports:
            shipped = "primary.conf" if name == "primary" else "replica.conf"
            (self.folder / name).mkdir(parents=True, exist_ok=True)
            overrides = {"port": str(self.ports[name]), "dir": str(self.folder / name)}
            if name != "primary":
                overrides["replicaof"] = f"127.0.0.1 {primary}"
            self._conf(name).write_text(render((DEPLOY / shipped).read_text(), overrides))
        for i, port in enumerate(self.sentinel_ports):
            name = f"sentinel{i}"
            (self.folder / name).mkdir(parents=True, exist_ok=True)
            overrides = {
                "port": str(port),
                "dir": str(self.folder / name),
                "sentinel monitor": f"{SERVICE} 127.0.0.1 {primary} 2",
                "sentinel down-after-milliseconds": f"{SERVICE} {self.down_after_ms}",
                "sentinel failover-timeout": f"{SERVICE} {self.failover_timeout_ms}",
            }
            text = render((DEPLOY / "sentinel.conf").read_text(), overrides)
            self._conf(name).write_text(text)

    # ------------------------------------------------------------------ processes

    def start(self) -> None:
        self._write()
        for name in self.ports:
            self.start_server(name)
        for i in range(3):
            self.start_server(f"sentinel{i}")
        self.wait_ready()

    def start_server(self, name: str) -> None:
        """Start one server from its file (which Sentinel may have rewritten meanwhile)."""
        args = [self.binary, str(self._conf(name))]
        if name.startswith("sentinel"):
            args.append("--sentinel")
        log = (self.folder / name / "log").open("ab")
        self.procs[name] = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        port = self.port_of(name)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=port, socket_timeout=1).ping()
                return
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise AssertionError(f"{name} did not start")

    def port_of(self, name: str) -> int:
        if name.startswith("sentinel"):
            return self.sentinel_ports[int(name[-1])]
        return self.ports[name]

    def kill(self, name: str) -> None:
        """SIGKILL one server."""
        proc = self.procs.pop(name, None)
        if proc is not None:
            proc.kill()
            proc.wait(timeout=10)

    def pause(self, name: str) -> None:
        """SIGSTOP one server: it reads nothing until ``resume``."""
        self.procs[name].send_signal(signal.SIGSTOP)

    def resume(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGCONT)

    def stop(self) -> None:
        for name in list(self.procs):
            self.kill(name)

    # ------------------------------------------------------------------ state

    @property
    def url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def sentinel(self, i: int = 0) -> redis.Redis:
        return redis.Redis(port=self.sentinel_ports[i], socket_timeout=1, decode_responses=True)

    def primary_name(self) -> str:
        """Which server the sentinels (the first that answers) call the primary now."""
        for i in range(3):
            with contextlib.suppress(redis.RedisError):
                addr: Any = self.sentinel(i).sentinel_get_master_addr_by_name(SERVICE)
                _, port = addr
                return next(n for n, p in self.ports.items() if p == int(port))
        raise AssertionError("no sentinel answers")

    def master_state(self, i: int = 0) -> dict[str, Any]:
        state: Any = self.sentinel(i).sentinel_master(SERVICE)
        return dict(state)

    def wait_ready(self, timeout: float = 30) -> None:
        """Until the replica is in sync and every sentinel knows the replica and the others."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                primary = redis.Redis(port=self.ports[self.primary_name()])
                info: Any = primary.info("replication")
                states = [self.master_state(i) for i in range(3)]
                n = len(self.replicas)
                known = all(
                    int(s["num-slaves"]) >= n and int(s["num-other-sentinels"]) >= 2 for s in states
                )
                if (
                    known
                    and int(info.get("connected_slaves", 0)) >= n
                    and primary.wait(n, 1000) >= n
                ):
                    return
            except (redis.RedisError, StopIteration, KeyError):
                pass
            time.sleep(0.2)
        raise AssertionError("the sentinel group did not settle")

    def wait_promoted(self, old: str, timeout: float = 30) -> float:
        """Until the sentinels name another primary than ``old``; the seconds it took."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            with contextlib.suppress(AssertionError, StopIteration):
                if self.primary_name() != old:
                    return time.monotonic() - t0
            time.sleep(0.05)
        raise AssertionError(f"no failover from {old} within {timeout} s")


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[SentinelGroup]:
    group = SentinelGroup(tmp_path / "redis")
    try:
        group.start()
        yield group
    finally:
        group.stop()
