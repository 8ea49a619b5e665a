"""The deployment files (deploy/) say only what the code understands: every command the systemd
units and the compose file run is a real ``gridwatch`` command with real options, every
setting they name is a setting of backend/core/config.py, and the web processes they start are
the ones nginx's site sends traffic to. (tests/test_proxy.py runs the site file itself.)"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from backend.bus.durability import DURABLE_CONFIG
from backend.cli import app
from backend.core.config import Settings
from tests.proxyproc import SITE

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
SETTINGS = {f.alias for f in Settings.model_fields.values() if f.alias}


def _command(argv: list[str]) -> tuple[list[str], Any]:
    """The ``gridwatch`` subcommand path of ``argv`` and its parsed context: the command line
    parser refuses an unknown option or a value of the wrong type."""
    cmd: Any = typer.main.get_command(app)
    path: list[str] = []
    args = list(argv)
    while hasattr(cmd, "commands"):  # a group: the next word names its command
        assert args, f"no command in {argv}"
        name = args.pop(0)
        assert name in cmd.commands, f"gridwatch has no command {name!r} ({argv})"
        path.append(name)
        cmd = cmd.commands[name]
    return path, cmd.make_context(path[-1], args)


def _exec_start(unit: Path) -> list[str]:
    lines = re.findall(r"^ExecStart=(.+)$", unit.read_text(), re.M)
    assert len(lines) == 1, unit
    # an instance (%i) is a port or a number; %H the host's name
    argv = shlex.split(lines[0].replace("%i", "8050").replace("%H", "host"))
    assert Path(argv[0]).name == "gridwatch", argv
    return argv[1:]


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def _gridwatch_services() -> dict[str, Any]:
    return {
        name: svc
        for name, svc in _compose()["services"].items()
        if svc.get("image") == "gridwatch:latest"
    }


def _env_file() -> dict[str, str]:
    out = {}
    for line in (DEPLOY / "gridwatch.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            out[name.strip()] = value
    return out


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_every_systemd_unit_runs_a_real_command_with_real_options(unit: Path) -> None:
    argv = _exec_start(unit)
    path, ctx = _command(argv)
    assert ctx.params  # parsed
    if unit.name.startswith("gridwatch-web@"):
        assert path == ["serve"] and ctx.params["port"] == 8050
    if unit.name.startswith("gridwatch-engine@"):
        assert path == ["engine"] and ctx.params["consumer"]
    assert "EnvironmentFile=/etc/gridwatch/gridwatch.env" in unit.read_text()


def test_the_commands_answer_help_as_gridwatch_itself() -> None:
    """The commands the files run, asked by the real entry point, as systemd would."""
    argvs = [_exec_start(u) for u in UNITS] + [
        svc["command"] for svc in _gridwatch_services().values()
    ]
    commands = {tuple(_command(a)[0]) for a in argvs}
    assert {("serve",), ("engine",), ("init",)} <= commands
    for path in sorted(commands):
        res = subprocess.run(
            [sys.executable, "-m", "backend.cli", *path, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert res.returncode == 0, res.stderr
        for argv in argvs:
            if tuple(_command(argv)[0]) == path:
                for opt in (a for a in argv if a.startswith("--")):
                    assert opt in res.stdout, (path, opt)


def test_the_compose_services_run_real_commands_and_name_real_settings() -> None:
    services = _gridwatch_services()
    assert {"init", "engine-1", "engine-2", "web-1", "web-2"} <= set(services)
    for name, svc in services.items():
        path, ctx = _command(svc["command"])
        assert unknown(svc["environment"]) == [], name
        if name.startswith("web-"):
            assert path == ["serve"] and ctx.params["host"] == "0.0.0.0"
            assert ctx.params["port"] == 8050
        if name.startswith("engine-"):
            assert path == ["engine"] and ctx.params["consumer"] == name
    # Redis as gridwatch requires it: append-only, synced before every answer
    redis_cmd = _compose()["services"]["redis"]["command"]
    for key, value in DURABLE_CONFIG.items():
        assert redis_cmd[redis_cmd.index(f"--{key}") + 1] == value


def unknown(names: Any) -> list[str]:
    return sorted(set(names) - SETTINGS)


def test_the_environment_file_names_only_real_settings_with_valid_values() -> None:
    env = _env_file()
    assert unknown(env) == []
    assert {"DATABASE_URL", "REDIS_URL", "GRIDWATCH_SECRET_KEY"} <= set(env)
    Settings(**env)  # every value is one the settings accept


def test_the_web_processes_started_are_the_ones_nginx_sends_to() -> None:
    site = SITE.read_text()
    upstream = re.search(r"upstream gridwatch_web \{(.*?)\n\}", site, re.S)
    assert upstream
    ports = re.findall(r"^\s*server 127\.0\.0\.1:(\d+) ", upstream.group(1), re.M)
    target = (DEPLOY / "systemd" / "gridwatch.target").read_text()
    assert sorted(re.findall(r"gridwatch-web@(\d+)\.service", target)) == sorted(ports)
    # the compose image rewrites those two lines to its web services (deploy/Dockerfile)
    docker = (DEPLOY / "Dockerfile").read_text()
    for port, service in zip(sorted(ports), ("web-1", "web-2"), strict=True):
        assert f"s/server 127\\.0\\.0\\.1:{port} /server {service}:8050 /" in docker
    assert service in _gridwatch_services()
