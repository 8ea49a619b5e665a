"""The ``gridwatch`` command (DESIGN.md, "CLI"), driven in-process against the test database
and Redis, configured only through the environment as in production."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.auth.apikeys import check_key
from backend.bus.connection import Keys, connect
from backend.bus.stream import CommandStream
from backend.cli import app
from backend.store.models import cases
from tests.conftest import local

FIGURES = (
    "cases_total",
    "closed",
    "close_rate",
    "on_time_rate",
    "overdue_open",
    "median_hours_to_close",
    "satisfaction_rate",
)
GROUPS = ("by_unit", "by_channel", "by_category", "by_tier")
_NOW = local(2026, 11, 23, 9, 0)


@pytest.fixture
def cli(settings, tmp_path):
    """Run ``gridwatch ARGS`` with the test's database and Redis named by the environment."""
    env: dict[str, str | None] = {
        "DATABASE_URL": settings.effective_database_url,
        "REDIS_URL": settings.redis_url,  # None: the embedded server in GRIDWATCH_VAR
        "GRIDWATCH_VAR": str(settings.var_dir),
        "GRIDWATCH_REDIS_PREFIX": settings.key_prefix,
        "GRIDWATCH_POLICY": None,
        "GRIDWATCH_TZ": None,
        "GRIDWATCH_CALENDAR": None,
    }
    runner = CliRunner()

    def run(*args: str, **extra_env: str | None) -> Any:
        return runner.invoke(app, list(args), env={**env, **extra_env}, catch_exceptions=False)

    return run


def _json_out(result: Any) -> dict[str, Any]:
    """The JSON document a command printed on stdout (logging goes elsewhere)."""
    out = result.stdout
    return json.loads(out[out.index("{") :])


def _bad_policy(tmp_path) -> tuple[str, int]:
    lines = [
        "name: broken",
        "rules:",
        "  - {tier: grid, allowance: 1 wd, auto_escalate: true}",
        "  - {tier: township, allowance: 5 parsecs}",
        "  - {tier: department, allowance: 10 wd}",
        "  - {tier: county, allowance: 15 wd}",
    ]
    path = tmp_path / "bad-policy.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path), 4


def test_init_prints_the_city_and_is_idempotent(cli, small_city, db_url_and_engine):
    r = cli("init", "--city", "small")
    assert r.exit_code == 0, r.output
    assert f"(city: {small_city.name})" in r.stdout
    r2 = cli("init")
    assert r2.exit_code == 0 and small_city.name in r2.stdout


def test_init_with_an_unknown_city_names_the_valid_ones(cli):
    r = cli("init", "--city", "moon")
    assert r.exit_code == 2
    assert "moon" in r.stderr
    assert "small" in r.stderr and "shangrao" in r.stderr
    assert r.stdout == ""


def test_a_bad_policy_file_is_named_with_its_line(cli, tmp_path):
    path, line = _bad_policy(tmp_path)
    r = cli("init", GRIDWATCH_POLICY=path)
    assert r.exit_code == 2
    assert f"{path}:{line}:" in r.stderr
    assert "parsecs" in r.stderr
    assert "database ready" not in r.stdout
    # the report's --policy check says the same
    r = cli("report", "--json", "--policy", path)
    assert r.exit_code == 2
    assert f"{path}:{line}:" in r.stderr
    # a good file passes
    good = tmp_path / "good.yaml"
    good.write_text("rules:\n  - {allowance: 3 wd}\n", encoding="utf-8")
    assert cli("init", GRIDWATCH_POLICY=str(good)).exit_code == 0


def test_apikey_create_prints_a_key_the_api_accepts(cli, db_url_and_engine):
    _, engine = db_url_and_engine
    r = cli("apikey", "create", "integration-x")
    assert r.exit_code == 0, r.output
    key = r.stdout.strip()
    assert key.startswith("gwk_") and len(key) > 20 and "\n" not in key
    with engine.connect() as conn:
        info = check_key(conn, key)
        assert info is not None and info.name == "integration-x"
        assert info.permissions == {"report", "public"}  # least privilege by default
        assert check_key(conn, key[:-2] + ("aa" if not key.endswith("aa") else "bb")) is None
    other = cli("apikey", "create", "hotline", "--allow", "report,read,act").stdout.strip()
    assert other != key
    with engine.connect() as conn:
        assert check_key(conn, other).permissions == {"report", "read", "act"}
    bad = cli("apikey", "create", "   ")
    assert bad.exit_code == 2 and "name" in bad.stderr
    wrong = cli("apikey", "create", "x", "--allow", "report,everything")
    assert wrong.exit_code == 2 and "everything" in wrong.stderr and "--allow" in wrong.stderr
    nowhere = cli("apikey", "create", "x", "--area", "nowhere")
    assert nowhere.exit_code == 2 and "nowhere" in nowhere.stderr


def test_user_create_then_reset_and_disable(cli, db_url_and_engine):
    from backend.auth.accounts import LoginRefused, authenticate

    _, engine = db_url_and_engine
    made = cli("user", "create", "wang", "--role", "leader", "--area", "361102001")
    assert made.exit_code == 0, made.output
    password = made.stdout.split("password: ")[1].strip()
    with engine.begin() as conn:
        assert authenticate(conn, "wang", password, _NOW).role == "leader"
    for args, field in (
        (("user", "create", "wang", "--role", "leader"), "exists already"),
        (("user", "create", "li", "--role", "mayor"), "--role"),
        (("user", "create", "li", "--role", "handler"), "--units"),
        (("user", "create", "li", "--role", "leader", "--password", "short"), "--password"),
        (("user", "create", "li", "--role", "leader", "--area", "x"), "--area"),
    ):
        r = cli(*args)
        assert r.exit_code == 2 and field in r.stderr, (args, r.stderr)
    assert cli("user", "reset-password", "wang", "--password", "a new long password").exit_code == 0
    with engine.begin() as conn:
        assert authenticate(conn, "wang", "a new long password", _NOW).username == "wang"
    assert cli("user", "disable", "wang").exit_code == 0
    with engine.begin() as conn, pytest.raises(LoginRefused):
        authenticate(conn, "wang", "a new long password", _NOW)
    listed = cli("user", "list").stdout
    assert "wang\tleader\t361102001" in listed and "disabled" in listed
    assert cli("user", "disable", "nobody").exit_code == 2


def test_simulate_then_report(cli, db_url_and_engine):
    _, engine = db_url_and_engine
    r = cli("simulate", "--fast", "--days", "1", "--start", "2026-11-23")
    assert r.exit_code == 0, r.output
    summary = _json_out(r)
    assert summary["cases"] > 0
    assert summary["events"] > summary["cases"]
    assert summary["sim_days"] == 1.0
    assert summary["refused"] <= summary["commands"] * 0.02
    with engine.connect() as conn:
        n_cases = conn.execute(select(func.count()).select_from(cases)).scalar_one()
        in_day = conn.execute(
            select(func.count())
            .select_from(cases)
            .where(
                cases.c.reported_at >= local(2026, 11, 23),
                cases.c.reported_at < local(2026, 11, 24),
            )
        ).scalar_one()
    assert n_cases == summary["cases"] == in_day

    rep = cli("report", "--json")
    assert rep.exit_code == 0, rep.output
    out = _json_out(rep)
    for k in FIGURES:
        assert k in out, k
    assert out["cases_total"] == n_cases
    assert 0 <= out["closed"] <= out["cases_total"]
    for g in GROUPS:
        assert out[g], g
        for key, figures in out[g].items():
            for k in FIGURES:
                assert k in figures, (g, key, k)
        # every case is in exactly one group of each kind
        assert sum(f["cases_total"] for f in out[g].values()) == out["cases_total"]
        assert sum(f["closed"] for f in out[g].values()) == out["closed"]
    assert set(out["by_channel"]) <= {"grid_worker", "hotline", "qr", "wechat", "walk_in", "app"}
    assert list(out["by_tier"])[0] == "grid"

    day = cli("report", "--json", "--from", "2026-11-23", "--to", "2026-11-24")
    assert day.exit_code == 0, day.output
    d = _json_out(day)
    assert d["from"] == "2026-11-23T00:00:00+08:00"
    assert d["to"] == "2026-11-24T00:00:00+08:00"
    assert d["cases_total"] == in_day
    assert {k: d[k] for k in FIGURES if k != "overdue_open"} == {
        k: out[k] for k in FIGURES if k != "overdue_open"
    }

    # an empty window [d, d), and a window with no cases: zeros and no rates
    none = _json_out(cli("report", "--json", "--from", "2026-11-23", "--to", "2026-11-23"))
    assert none["cases_total"] == 0
    empty = _json_out(cli("report", "--json", "--from", "2030-01-01", "--to", "2030-01-02"))
    assert empty["cases_total"] == 0 and empty["close_rate"] is None
    assert all(empty[g] == {} for g in GROUPS)

    text = cli("report", "--from", "2026-11-23", "--to", "2026-11-24")
    assert text.exit_code == 0
    assert f"cases_total: {in_day}" in text.stdout


def test_report_with_a_bad_date_says_so(cli):
    r = cli("report", "--from", "notadate")
    assert r.exit_code == 2
    assert "notadate" in r.stderr and "2026-11-23" in r.stderr
    r = cli("report", "--json", "--to", "2026-13-01")
    assert r.exit_code == 2 and "2026-13-01" in r.stderr
    r = cli("simulate", "--fast", "--start", "yesterday")
    assert r.exit_code == 2 and "yesterday" in r.stderr
    r = cli("report", "--json", "--from", "2026-11-24", "--to", "2026-11-01")
    assert r.exit_code == 2 and "--to 2026-11-01" in r.stderr and r.stdout == ""


def test_deadletters_list(cli, settings, redis_server):
    r = cli("deadletters", "list")
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    stream = CommandStream(connect(settings.redis_url, settings.var_dir), Keys(settings.key_prefix))
    stream.dead_letter("1-0", b'{"id": "x1", "kind": "bogus"}', "unknown command kind 'bogus'")
    r = cli("deadletters", "list")
    assert r.exit_code == 0
    assert "unknown command kind 'bogus'" in r.stdout
    assert '"kind": "bogus"' in r.stdout
    r = cli("deadletters", "replay")
    assert r.exit_code == 0 and "replayed 1 command(s)" in r.stdout
    assert cli("deadletters", "list").stdout == ""


def test_no_arguments_shows_the_commands(cli):
    r = cli()
    # typer's no_args_is_help: usage, every documented command, exit code 2 (click >= 8.2)
    assert r.exit_code in (0, 2)
    for name in ("demo", "init", "engine", "serve", "simulate", "report", "apikey"):
        assert name in r.output


def test_init_loads_a_citys_own_files_and_names_a_bad_line(cli, tmp_path, small_city):
    from backend.refdata.files import write_city

    good = tmp_path / "city"
    write_city(small_city, good)
    r = cli("init", "--data", str(good), "--replace")
    assert r.exit_code == 0, r.output
    assert small_city.name in r.stdout

    bad = tmp_path / "bad"
    write_city(small_city, bad)
    units = (bad / "units.csv").read_text(encoding="utf-8").splitlines()
    fields = units[3].split(",")
    fields[2] = "provincial"  # the tier column
    units[3] = ",".join(fields)
    (bad / "units.csv").write_text("\n".join(units) + "\n", encoding="utf-8")
    r = cli("init", "--data", str(bad), "--replace")
    assert r.exit_code == 2
    assert "units.csv line 4" in r.output and "tier" in r.output
