"""Periodic reports and the assessment: the report's figures against an independent
computation over the raw rows, the CSV and XLSX against ``gridwatch report --json``, the
periods, and the assessment's formula."""

from __future__ import annotations

import csv
import io
import json
import statistics
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import select

from backend.core.i18n import t
from backend.drill import export
from backend.drill.assessment import (
    MIN_CASES,
    PRIOR_CASES,
    WEIGHTS,
    UnitFigures,
    assess,
    assess_with_change,
    score_table,
)
from backend.drill.periods import last_complete, period_of
from backend.queries.reports import FIGURES, GROUPS, build_report
from backend.queries.scope import Scope
from backend.store.models import cases, drill_stages
from tests.drilldata import simulate
from tests.test_cli import _json_out, cli  # noqa: F401  (the CLI fixture)

COMPLETED = {"resolved", "rated", "closed"}
RUNNING = {"received", "dispatched", "accepted", "in_progress"}
OPEN = RUNNING | {"paused"}
GROUP_COLUMNS = {
    "by_unit": "unit_code",
    "by_channel": "channel",
    "by_category": "category",
    "by_tier": "tier",
}


def _independent(df: pd.DataFrame, now: datetime) -> dict:
    """The DESIGN.md definitions, computed again with pandas over the raw case rows."""
    total = len(df)
    cancelled = int((df["status"] == "cancelled").sum())
    done = df[df["status"].isin(COMPLETED)]
    on_time = done[(done["completed_at"] <= done["due_at"]) & (done["overdue_tiers"] == "")]
    rated = df[df["rating"].notna()]
    hours = [
        (c - r).total_seconds() / 3600
        for c, r in zip(done["completed_at"], done["reported_at"], strict=True)
    ]
    handled = total - cancelled
    overdue_now = df["status"].isin(RUNNING) & (df["due_at"] <= now)
    went = df[(df["overdue_tiers"] != "") | overdue_now]  # 超期件
    return {
        "overdue_cases": len(went),
        "overdue_cases_open": int(went["status"].isin(OPEN).sum()),
        "cases_total": total,
        "cancelled": cancelled,
        "closed": len(done),
        "close_rate": round(len(done) / handled, 6) if handled else None,
        "on_time_rate": round(len(on_time) / len(done), 6) if len(done) else None,
        "overdue_open": int((df["status"].isin(RUNNING) & (df["due_at"] <= now)).sum()),
        "median_hours_to_close": round(statistics.median(hours), 4) if hours else None,
        "satisfaction_rate": round((rated["rating"] == "satisfied").sum() / len(rated), 6)
        if len(rated)
        else None,
        "escalated_cases": int((df["escalations"] > 0).sum()),
    }


def test_report_figures_equal_an_independent_computation(system, clock):
    start, end = simulate(system, clock, days=7)
    p = period_of("dekad", start.date())  # 1–10 November: the first days of the city
    frm, to = p.window(system.tz)
    now = clock.now()
    with system.db.connect() as conn:
        rep = build_report(conn, frm, to, now, scope=Scope.city())
        raw = pd.DataFrame(conn.execute(select(cases)).mappings().all())
    window = raw[(raw["reported_at"] >= frm) & (raw["reported_at"] < to)]
    assert len(window) > 100
    wanted = (*FIGURES, "overdue_cases", "overdue_cases_open", "escalated_cases")
    assert {k: rep[k] for k in wanted} == _independent(window, now)
    for group, col in GROUP_COLUMNS.items():
        keys = window[col].fillna("unassigned")
        assert set(rep[group]) == set(keys)
        for key, figs in rep[group].items():
            assert figs == _independent(window[keys == key], now), (group, key)


def test_the_csv_and_xlsx_are_the_report_json_of_the_cli(system, clock, cli):  # noqa: F811
    simulate(system, clock, days=4)
    p = period_of("daily", date(2026, 11, 10))
    frm, to = p.window(system.tz)
    now = clock.now()
    with system.db.connect() as conn:
        rep = build_report(conn, frm, to, now, scope=Scope.city())
    out = cli(
        "report", "--json", "--from", "2026-11-10", "--to", "2026-11-11", "--as-of", now.isoformat()
    )
    assert out.exit_code == 0, out.output
    assert _json_out(out) == json.loads(json.dumps(rep, default=str))
    rows = export.report_rows(rep)
    meta = {"title": "t", "from": rep["from"], "to": rep["to"], "as_of": rep["as_of"]}
    # CSV: every figure of every row equals the report's
    text = export.to_csv(rows, meta)
    assert text.startswith("\ufeff")
    lines = [ln for ln in text.lstrip("\ufeff").splitlines() if not ln.startswith("#")]
    parsed = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert len(parsed) == 1 + sum(len(rep[g]) for g in GROUPS)
    for r in parsed:
        src = rep if r["section"] == "total" else rep[r["section"]][r["key"]]
        for k in FIGURES:
            want = src[k]
            assert (r[k] == "") if want is None else (float(r[k]) == pytest.approx(want)), (r, k)
    # XLSX: the leader's workbook; its table holds the same numbers, rates as percentages
    meta["as_of_local"] = "2026-11-14 09:00"
    wb = load_workbook(io.BytesIO(export.to_xlsx(rows, meta)))
    assert wb.sheetnames == ["汇总", "明细"]
    ws = wb["明细"]
    header = [c.value for c in ws[export.header_line(meta)]]
    assert header == ["分组", "代码", "名称"] + [t(f"fig_{k}", "zh") for k in FIGURES]
    got = [
        dict(zip(export.COLUMNS, (c.value for c in row), strict=True))
        for row in ws.iter_rows(min_row=2)
    ]
    assert len(got) == len(rows)
    for g, r in zip(got, rows, strict=True):
        for k in FIGURES:
            assert g[k] == r[k], (g, k)
    rate_col = export.COLUMNS.index("close_rate") + 1
    assert ws.cell(row=2, column=rate_col).number_format == "0.0%"
    assert ws.freeze_panes == "D2" and ws.print_title_rows == "$1:$1"
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    assert ws.column_dimensions["C"].width >= 20
    summary = wb["汇总"]
    cells = {c.value for row in summary.iter_rows() for c in row if c.value is not None}
    assert {"t", "2026-11-14 09:00", "办结率"} <= cells
    handled = rep["cases_total"] - rep["cancelled"]
    assert f"应办结 {handled} 件（受理减撤销）" in cells
    en = load_workbook(io.BytesIO(export.to_xlsx(rows, meta, "en")))
    assert en.sheetnames == ["Summary", "Details"]
    assert en["Details"]["D1"].value == "Reported"


def test_report_periods():
    assert period_of("daily", date(2026, 11, 23)).end == date(2026, 11, 24)
    d = period_of("dekad", date(2026, 11, 15))
    assert (d.start, d.end, d.dekad) == (date(2026, 11, 11), date(2026, 11, 21), 2)
    feb = period_of("dekad", date(2027, 2, 25))
    assert (feb.start, feb.end, feb.dekad) == (date(2027, 2, 21), date(2027, 3, 1), 3)
    assert feb.next().start == date(2027, 3, 1) and feb.previous().start == date(2027, 2, 11)
    assert period_of("dekad", date(2026, 12, 1)).previous() == period_of(
        "dekad", date(2026, 11, 30)
    )
    m = period_of("monthly", date(2026, 12, 31))
    assert (m.start, m.end) == (date(2026, 12, 1), date(2027, 1, 1))
    assert m.previous().start == date(2026, 11, 1)
    assert last_complete("daily", date(2026, 11, 23)).start == date(2026, 11, 22)
    assert last_complete("monthly", date(2026, 11, 23)).start == date(2026, 10, 1)
    with pytest.raises(ValueError):
        period_of("weekly", date(2026, 11, 23))


def test_assessment_follows_its_formula_and_ranks_with_the_change(system, clock):
    simulate(system, clock, days=10)
    p = period_of("dekad", date(2026, 11, 15))  # 11–20 November
    now = clock.now()
    with system.db.connect() as conn:
        scores = assess_with_change(conn, p, system.tz, now)
        before = assess(conn, p.previous(), system.tz, now)
        frm, to = p.window(system.tz)
        rep = build_report(conn, frm, to, now, scope=Scope.city())
        stages = pd.DataFrame(
            conn.execute(
                select(drill_stages).where(
                    drill_stages.c.day >= p.start, drill_stages.c.day < p.end
                )
            )
            .mappings()
            .all()
        )
    ranked = [u for u in scores if u.rank is not None]
    assert len(ranked) >= 10
    assert [u.score for u in ranked] == sorted((u.score for u in ranked), reverse=True)
    # competition ranking: equal scores as shown share a rank, the next one skips
    for u in ranked:
        shown = round(u.score, 1)
        first = next(j for j, v in enumerate(ranked) if round(v.score, 1) == shown)
        assert u.rank == first + 1
    moved = stages[stages["end_kind"].isin(["overdue", "escalated"])].groupby("unit_code").size()
    held = stages.groupby("unit_code").size()
    city_esc = moved.sum() / held.sum()
    for u in ranked:
        figs = rep["by_unit"][u.unit]
        assert u.cases_total == figs["cases_total"] >= MIN_CASES
        assert (u.stages, u.escalations) == (int(held.get(u.unit, 0)), int(moved.get(u.unit, 0)))

        def rate(k, v):
            return v if v is not None else rep[k]

        esc = u.escalations / u.stages if u.stages else city_esc
        raw = 100 * (
            WEIGHTS["close_rate"] * rate("close_rate", figs["close_rate"])
            + WEIGHTS["on_time_rate"] * rate("on_time_rate", figs["on_time_rate"])
            + WEIGHTS["satisfaction_rate"] * rate("satisfaction_rate", figs["satisfaction_rate"])
            + WEIGHTS["no_escalation"] * (1 - esc)
        )
        area = 100 * (
            WEIGHTS["close_rate"] * rep["close_rate"]
            + WEIGHTS["on_time_rate"] * rep["on_time_rate"]
            + WEIGHTS["satisfaction_rate"] * rep["satisfaction_rate"]
            + WEIGHTS["no_escalation"] * (1 - city_esc)
        )
        n = u.cases_total
        expect = (n * round(raw, 2) + PRIOR_CASES * area) / (n + PRIOR_CASES)
        assert u.score == pytest.approx(expect, abs=0.011)
    prev = {u.unit: u for u in before}
    changed = [u for u in ranked if u.prev_rank is not None]
    assert changed
    for u in changed:
        assert u.prev_rank == prev[u.unit].rank
        assert u.rank_change == prev[u.unit].rank - u.rank
        assert u.score_change == pytest.approx(u.score - prev[u.unit].score, abs=0.011)
    # every unit with cases in the period before is compared, ranked there or not
    scored_before = {u.unit for u in before if u.cases_total > 0}
    assert all(u.prev_score is not None for u in scores if u.unit in scored_before)


def test_thin_units_do_not_top_the_table_and_ties_share_a_rank():
    """The issue's 16 units tied at 100.0 on 3–5 cases ranked 1–16."""
    sizes = [3 + i % 3 for i in range(16)] + [60]
    rates = np.array([1.0] * 16 + [0.97])
    fig = UnitFigures(
        unit=[f"T{i}" for i in range(16)] + ["BIG"],
        cases_total=np.array(sizes),
        close_rate=rates,
        on_time_rate=rates,
        satisfaction_rate=rates,
        stages=np.array(sizes),
        escalations=np.zeros(17, dtype=np.int64),
    )
    city = {
        "close_rate": 0.8,
        "on_time_rate": 0.8,
        "satisfaction_rate": 0.8,
        "escalation_rate": 0.1,
    }
    units = score_table(fig, city).rows()
    assert units[0].unit == "BIG" and units[0].rank == 1  # 60 cases at 97% beat 3 at 100%
    fives = [u for u in units if u.cases_total == 5]
    assert len({u.rank for u in fives}) == 1  # equal: one shared rank
    ranks = [u.rank for u in units]
    assert ranks == sorted(ranks) and ranks[-1] < len(units)  # skips after ties, never 1–17


def test_the_screen_builds_only_the_units_it_shows(system, clock):
    """The screen's rows hold the units with the most cases (the files every unit), and say
    how many units the report has."""
    from layouts.leader import periodic as view

    simulate(system, clock, days=4)
    p = period_of("daily", date(2026, 11, 10))
    frm, to = p.window(system.tz)
    with system.db.connect() as conn:
        rep = build_report(conn, frm, to, clock.now(), scope=Scope.city())
    every = export.report_rows(rep)
    few = export.report_rows(rep, units=5)
    assert len(rep["by_unit"]) > 5
    assert view.shown_rows(few, "by_unit") == view.shown_rows(every, "by_unit")[:5]
    assert [r for r in few if r["section"] != "by_unit"] == [
        r for r in every if r["section"] != "by_unit"
    ]
    # the note under the table counts the report's units, not the rows built
    meta = {"from_local": "a", "to_local": "b", "as_of_local": "c", "units": 999}
    body = json.dumps(view.report_body(few, meta, "en"), cls=PlotlyJSONEncoder)
    assert t("units_more", "en", shown=view.UNITS_SHOWN, n=999) in body
