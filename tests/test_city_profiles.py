"""The demo cities hold their profiles (backend/sim/profiles.py): a 30-day ``simulate --fast``
run, read back through ``report --json``, gives the profile's figures scaled to 30 days.

"Within a few per cent": the year's case count within 8% (a month of the small city is ~960
cases, whose Poisson error alone is 3%), the rates and shares within 3 percentage points (the
sampling error of a 40% share of 960 cases is 1.6 points). The cities' own figures come from
the seeds where the seeds give them (Shangrao 1.4 million cases a year for 12,000 grids, 98.7%
closed; Jizhou 364 grids, 210 cases in about 66 days, 99% closed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from backend.deadlines.policy import Allowance, builtin_policy
from backend.refdata.generator import generate_city
from backend.sim.profiles import PROFILES, SEED, category_mix, measure, sim_config
from tests.test_cli import cli  # noqa: F401  (the CLI fixture)

DAYS = 30
#: cases reported in the last week of the run are left out of the rates: a case needs days to
#: be handled, and the profile's close rate is a year's, where that tail is small
FOLLOW_UP_DAYS = 7
START = date(2026, 3, 2)  # a Monday, no holiday in the month


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """30 days of the small city through the CLI, as a user would run it; the report of the
    whole run (for the case count) and of the cases that had a week to be handled."""
    work = tmp_path_factory.mktemp("profile")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["GRIDWATCH_VAR"] = str(work / "var")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    out = _cli(
        ["simulate", "--city", "small", "--days", str(DAYS), "--fast", "--start", str(START)],
        env,
        work,
    )
    assert json.loads(out.strip().splitlines()[-1])["refused"] == 0
    end = START + timedelta(days=DAYS)
    whole = json.loads(
        _cli(["report", "--json", "--from", str(START), "--to", str(end)], env, work)
    )
    handled = json.loads(
        _cli(
            [
                "report",
                "--json",
                "--from",
                str(START),
                "--to",
                str(end - timedelta(days=FOLLOW_UP_DAYS)),
                "--as-of",
                f"{end}T00:00:00+08:00",
            ],
            env,
            work,
        )
    )
    return whole, handled


def _close(got: float | None, want: float, points: float = 0.03) -> bool:
    return got is not None and abs(got - want) <= points


def test_a_month_of_the_small_city_has_a_month_of_its_cases(month: tuple[dict, dict]) -> None:
    whole, _ = month
    profile = PROFILES["small"]
    got = measure(whole, DAYS)["cases_per_year"]
    assert abs(got - profile.cases_per_year) <= 0.08 * profile.cases_per_year, got
    # Shangrao's rate per grid, as the seeds give it: 1.4 million a year for 12,000 grids
    assert abs(profile.rate - 0.32) < 0.005


def test_the_mixes_hold_the_profile(month: tuple[dict, dict]) -> None:
    whole, _ = month
    profile = PROFILES["small"]
    got = measure(whole, DAYS)
    for channel, share in profile.channel_mix.items():
        assert _close(got["channel_mix"].get(channel, 0.0), share), (channel, got["channel_mix"])
    for tier, share in profile.tier_shares.items():
        assert _close(got["tier_shares"].get(tier, 0.0), share), (tier, got["tier_shares"])
    city = generate_city("small")
    expected = category_mix(profile, {c.code: c.major for c in city.categories})
    common = {c: s for c, s in expected.items() if s >= 0.03}
    assert len(common) >= 8
    for category, share in common.items():
        assert _close(got["category_mix"].get(category, 0.0), share), category


def test_the_rates_hold_the_profile(month: tuple[dict, dict]) -> None:
    _, handled = month
    profile = PROFILES["small"]
    got = measure(handled, DAYS - FOLLOW_UP_DAYS)
    assert _close(got["close_rate"], profile.close_rate, 0.015), got["close_rate"]
    assert _close(got["satisfaction_rate"], profile.satisfaction_rate), got
    assert _close(got["overdue_share"], profile.overdue_share), got["overdue_share"]
    assert _close(got["climb_share"], profile.climb_share), got["climb_share"]
    # the figures the report gives beside the screens' columns
    assert handled["overdue_cases"] <= handled["cases_total"]
    assert handled["escalated_cases"] <= handled["cases_total"]


def test_every_profile_says_where_its_figures_come_from() -> None:
    for kind, profile in PROFILES.items():
        assert profile.kind == kind
        assert sum(profile.channel_mix.values()) == pytest.approx(1.0)
        assert sum(profile.tier_shares.values()) == pytest.approx(1.0)
        assert {"cases_per_year", "close_rate", "grids"} <= set(profile.sources)
        assert profile.sources["close_rate"] == SEED
    assert PROFILES["shangrao"].close_rate == 0.987
    assert PROFILES["jizhou"].close_rate == 0.99
    assert PROFILES["jizhou"].cases_per_year == pytest.approx(210 / 66 * 365)
    # Jizhou's two channels as the report counts them: 180 handled directly, 30 by QR code
    assert PROFILES["jizhou"].channel_mix["qr"] == pytest.approx(30 / 210)


def test_the_knobs_follow_the_profile_and_rate_overrides() -> None:
    profile = PROFILES["jizhou"]
    cfg = sim_config(profile)
    assert cfg.cases_per_grid_per_day == pytest.approx(profile.rate)
    assert dict(cfg.channels) == dict(profile.channel_mix)
    assert sim_config(profile, rate=2.0).cases_per_grid_per_day == 2.0


def test_jizhou_has_364_grids_in_three_grid_levels_and_its_qr_deadline() -> None:
    city = generate_city("jizhou")
    levels = {}
    for a in city.areas:
        levels[a.level] = levels.get(a.level, 0) + 1
    assert levels["grid"] == 364
    # the three grid levels under the district's own (总网格): 镇街, 村(社区), 小区片区
    assert levels["county"] == 1 and levels["township"] == 10 and levels["community"] > 10
    assert city.name == "吉安市吉州区"
    pack = builtin_policy(PROFILES["jizhou"].policy)
    for tier in ("grid", "township"):
        rule = pack.resolve(
            tier=tier,
            channel="qr",
            category=None,
            severity="general",
            complexity="simple",
            mode="normal",
        )
        assert rule.allowance == Allowance(5, "wd")


@pytest.mark.parametrize(
    "args, says",
    [
        (["simulate", "--city", "atlantis", "--fast"], "--city must be one of"),
        (["demo", "--city", "atlantis"], "--city must be one of"),
        (["simulate", "--rate", "-1", "--fast"], "--rate"),
        (["demo", "--rate", "-0.5"], "--rate"),
        (["demo", "--rate", "lots"], "--rate"),
        (["demo", "--history-days", "-3"], "--history-days"),
    ],
)
def test_a_bad_city_or_rate_is_refused_with_a_reason(cli, args: list[str], says: str) -> None:  # noqa: F811
    """Nothing is started or stored: the command line is refused before (exit 2)."""
    result = cli(*args)
    assert result.exit_code == 2
    assert says in result.output
