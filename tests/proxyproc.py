"""gridwatch as deployed on one machine: web processes (``gridwatch serve``) behind a private
nginx master running the shipped site file (deploy/nginx/gridwatch.conf), for the proxy test
and the 200-screen benchmark. Every process here is a child of the caller, killed by its id."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.browser import free_port

SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "gridwatch.conf"
WS_PATH = "/_dash-ws-callback"


def nginx_binary() -> str | None:
    """Debian's nginx (``./run test`` installs it), on PATH or where the package puts it."""
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


def site_for(site: str, listen: int, upstreams: list[int], folder: Path) -> str:
    """The shipped site with this machine's ports and log: its upstream lists our web
    processes, it listens on a loopback port, its access log is in ``folder``."""
    body = re.search(r"upstream gridwatch_web \{(.*?)\n\}", site, re.S)
    assert body, "deploy/nginx/gridwatch.conf has no upstream gridwatch_web block"
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+(.*);$", body.group(1), re.M)
    assert servers, "the upstream block names no web process"
    options = servers[0]  # max_fails, fail_timeout: as shipped
    lines = "".join(f"\n    server 127.0.0.1:{p}{options};" for p in upstreams)
    inner = re.sub(r"^\s*server 127\.0\.0\.1:\d+.*;$\n?", "", body.group(1), flags=re.M)
    site = site.replace(body.group(0), "upstream gridwatch_web {" + lines + inner + "\n}")
    site, n = re.subn(r"^(\s*)listen 80;$", rf"\1listen 127.0.0.1:{listen};", site, flags=re.M)
    assert n == 1, "the site should listen on port 80 once"
    site, n = re.subn(
        r"access_log \S+ gridwatch;", f"access_log {folder / 'access.log'} gridwatch;", site
    )
    assert n == 1, "the site should have one access log in the gridwatch format"
    return site


class Nginx:
    """A private nginx master (``daemon off``) serving the shipped site on a free port."""

    def __init__(self, folder: Path, upstreams: list[int], workers: int = 1) -> None:
        binary = nginx_binary()
        assert binary, "nginx is needed: ./run test installs Debian's package"
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.upstreams = upstreams
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_log(self) -> Path:
        return self.folder / "access.log"

    def config(self) -> str:
        f = self.folder
        # as root, nginx's workers would run as nobody and could not write its temp files here
        user = f"user {pwd.getpwuid(os.getuid()).pw_name};\n" if os.getuid() == 0 else ""
        temps = "".join(
            f"    {kind}_temp_path {f / kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        site = site_for(SITE.read_text(), self.port, self.upstreams, f)
        return (
            f"{user}worker_processes {self.workers};\npid {f / 'nginx.pid'};\n"
            f"error_log {f / 'error.log'} warn;\n"
            "events { worker_connections 4096; }\n"
            f"http {{\n{temps}{site}\n}}\n"
        )

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "nginx.conf"
        conf.write_text(self.config())
        self.proc = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(self.folder),
                "-e",
                str(self.folder / "error.log"),
                "-c",
                str(conf),
                "-g",
                "daemon off;",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"nginx did not start: {err}")
            try:
                httpx.get(self.url + "/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("nginx did not answer")

    def upstreams_of(self, path: str = WS_PATH, status: int = 101) -> list[str]:
        """The web process (host:port) that answered each logged request for ``path`` with
        ``status`` (the last one nginx tried, when it had to try another); nginx logs a
        websocket when it closes."""
        out = []
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                m = re.search(r'"GET (\S+) [^"]*" (\d+) .*upstream=(.*?) rt=', line)
                if m and m.group(1).split("?")[0] == path and int(m.group(2)) == status:
                    out.append(m.group(3).split(", ")[-1])
        return out

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()  # the master ends its workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.proc = None


class WebProcess:
    """``gridwatch serve`` on a free port, with ``env`` (DATABASE_URL, REDIS_URL, …)."""

    def __init__(self, env: Mapping[str, str], log: Path, port: int | None = None) -> None:
        self.env = dict(env)
        self.port = port or free_port()
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        self.spawn()
        self.ready()

    def spawn(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def ready(self) -> None:
        """Wait until it answers (several can start at once, then be waited for)."""
        assert self.proc is not None
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"web process ended: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"web process did not answer: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no goodbye to its screens, as when a machine dies."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


class EngineProcess:
    """``gridwatch engine`` (the command stream's consumer and the clock's tick)."""

    def __init__(self, env: Mapping[str, str], log: Path, name: str = "e1") -> None:
        self.env = dict(env)
        self.log = log
        self.name = name
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "backend.cli", "engine", "--consumer", self.name],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
