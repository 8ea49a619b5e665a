"""Each simulated city beside its profile (backend/sim/profiles.py) and the seeds' figures.

    python -m bench.city_profiles [--cities small jizhou shangrao] [--days 365]
                                  [--shangrao-days 14] [--start 2025-01-01]

For each city, as a user would: ``gridwatch simulate --city C --days N --fast`` in a folder
of its own (embedded SQLite and Redis), then ``gridwatch report --json``. The baseline of each
figure is the profile's (its source: the seeds, or the model's own), and the ratio is
measured ÷ profile. A run shorter than a year is read as the tests read a month: the rates
over the cases reported up to a week before its end (a case needs days to be handled; a
year's tail is small), the case count over the whole run. Prints one JSON line per city and a
Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from backend.sim.profiles import PROFILES, CityProfile, measure
from bench.common import machine

ROOT = Path(__file__).resolve().parents[1]
FOLLOW_UP_DAYS = 7


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "backend.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"gridwatch {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def run_city(city: str, days: int, start: date) -> dict[str, Any]:
    """Simulate ``days`` of ``city`` and read its figures back."""
    with tempfile.TemporaryDirectory(prefix=f"gw-{city}-") as work:
        cwd = Path(work)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"GRIDWATCH_VAR": str(cwd / "var"), "PYTHONPATH": str(ROOT)}
        t0 = time.perf_counter()
        sim = json.loads(
            _cli(
                ["simulate", "--city", city, "--days", str(days), "--fast", "--start", str(start)],
                env,
                cwd,
            ).splitlines()[-1]
        )
        seconds = time.perf_counter() - t0
        end = start + timedelta(days=days)
        whole = json.loads(_cli(["report", "--json", "--to", str(end)], env, cwd))
        rates_days = float(days)
        rates = whole
        if days < 365:
            rates_days = days - FOLLOW_UP_DAYS
            cut = end - timedelta(days=FOLLOW_UP_DAYS)
            rates = json.loads(
                _cli(
                    ["report", "--json", "--to", str(cut), "--as-of", f"{end}T00:00:00+08:00"],
                    env,
                    cwd,
                )
            )
    got = measure(rates, rates_days)
    got["cases_per_year"] = measure(whole, days)["cases_per_year"]
    return {
        "city": city,
        "days": days,
        "rates_over_days": rates_days,
        "wall_seconds": round(seconds, 1),
        "simulate": sim,
        "measured": got,
        "on_time_rate": rates["on_time_rate"],
        "median_hours_to_close": rates["median_hours_to_close"],
    }


def _row(name: str, source: str, want: float, got: float | None, pct: bool = True) -> str:
    def fmt(v: float | None) -> str:
        if v is None:
            return "—"
        return f"{v:.1%}" if pct else f"{v:,.0f}"

    ratio = f"{got / want:.3f}" if got is not None and want else "—"
    return f"| {name} | {source} | {fmt(want)} | {fmt(got)} | {ratio} |"


def table(profile: CityProfile, result: dict[str, Any]) -> str:
    """The Markdown rows of one city: figure, source, profile, measured, ratio."""
    got, src = result["measured"], profile.sources
    rows = [
        "| figure | source | profile | measured | ratio |",
        "| --- | --- | ---: | ---: | ---: |",
        _row("cases a year", src["cases_per_year"], profile.cases_per_year,
             got["cases_per_year"], pct=False),
        _row("close rate", src["close_rate"], profile.close_rate, got["close_rate"]),
        _row("satisfaction", src["satisfaction_rate"], profile.satisfaction_rate,
             got["satisfaction_rate"]),
        _row("went overdue", src["overdue_share"], profile.overdue_share, got["overdue_share"]),
        _row("climbed a tier", src["climb_share"], profile.climb_share, got["climb_share"]),
    ]  # fmt: skip
    for channel, share in profile.channel_mix.items():
        rows.append(
            _row(f"channel {channel}", src["channel_mix"], share, got["channel_mix"].get(channel))
        )
    for tier, share in profile.tier_shares.items():
        rows.append(
            _row(f"ends at {tier}", src["tier_shares"], share, got["tier_shares"].get(tier))
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cities", nargs="+", default=["small", "jizhou", "shangrao"])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--shangrao-days", type=int, default=14)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    args = ap.parse_args(argv)
    unknown = [c for c in args.cities if c not in PROFILES]
    if unknown:
        ap.error(f"unknown cities {unknown}; known: {', '.join(PROFILES)}")
    print(f"machine: {machine()}", file=sys.stderr)
    for city in args.cities:
        days = args.shangrao_days if city == "shangrao" else args.days
        result = run_city(city, days, args.start)
        print(json.dumps(result, ensure_ascii=False))
        print(f"\n{city}, {days} days\n\n{table(PROFILES[city], result)}\n", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
