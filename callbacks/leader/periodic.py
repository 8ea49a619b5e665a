"""Assessment and periodic reports: the period picked, the figures on screen, the downloads.

The report on screen, its CSV and its XLSX are all the period's snapshot (``build_report`` over
the period's window at the instant the snapshot gives, backend/drill/snapshots.py), through
``backend/drill/export.report_rows``: the numbers are the ones ``gridwatch report --json --from
… --to …`` printed for that window at that instant.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from dash import Dash, Input, Output, State, dcc, no_update
from dash.exceptions import PreventUpdate

from backend.auth import audit
from backend.auth.permissions import Permission
from backend.core.i18n import t
from backend.drill import export, snapshots
from backend.drill.periods import KINDS, Period, period_of
from backend.queries.hall_report import hall_figures, hall_rows
from backend.refdata.index import RefIndex
from backend.system import System
from callbacks.viewer import may, viewer_actor, viewer_scope
from dashboard.drill_jobs import DrillJobs
from layouts import ids
from layouts.leader import periodic as view
from layouts.leader.common import area_name, category_name, local_time, tier_name, unit_name

PRINT_JS = """
function (n) { if (n) { window.print(); } return window.dash_clientside.no_update; }
"""


#: the days a report may be asked for (a period past these would end in year 10000)
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def _period(kind: Any, day: Any, system: System) -> Period:
    """The period the picker names; a kind or a day no picker sends (a tampered request) is
    no update, never a 500."""
    if kind is not None and kind not in KINDS:
        raise PreventUpdate
    if day is None or day == "":
        d = system.clock.now().astimezone(system.tz).date()
    else:
        try:
            d = date.fromisoformat(str(day)[:10])
        except ValueError:
            raise PreventUpdate from None
        if not FIRST_DAY <= d <= LAST_DAY:
            raise PreventUpdate
    return period_of(kind or "daily", d)


def namer(ref: RefIndex, lang: str) -> Any:
    def name_of(section: str, key: str) -> str:
        if section == "total":
            return t("sec_total", lang)
        if key == "unassigned":
            return t("unassigned", lang)
        if section == "by_unit":
            return unit_name(ref, key)
        if section == "by_channel":
            return t(f"channel_{key}", lang)
        if section == "by_category":
            return category_name(ref, key, lang)
        if section == "by_tier":
            return tier_name(key, lang)
        return area_name(ref, key)

    return name_of


def period_report(
    system: System, p: Period, now: datetime, lang: str, *, screen: bool = False
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The report rows of period ``p`` from its snapshot (computed at ``now`` unless a fresh
    one is kept), and what the files say of it: the snapshot's instant is the "as of".
    ``screen``: only the units the screen shows (the files carry every one)."""
    report = snapshots.period_report(system.db, system.tz, p, now, read=system.read_db)
    units = view.UNITS_SHOWN if screen else None
    rows = export.report_rows(report, namer(system.ref, lang), units=units)
    meta = {
        "units": len(report["by_unit"]),
        "title": view.period_title(p, lang),
        "from": report["from"],
        "to": report["to"],
        "as_of": report["as_of"],
        "from_local": p.start.isoformat(),
        "to_local": p.last_day.isoformat(),
        "as_of_local": local_time(datetime.fromisoformat(report["as_of"]), system.tz),
    }
    return rows, meta


def period_halls(system: System, p: Period, now: datetime) -> list[dict[str, Any]]:
    """The halls' attendance over period ``p`` up to ``now`` (minutes still to come are not
    counted as vacant), for the halls the person on this screen may see."""
    start = datetime.combine(p.start, time(0), tzinfo=system.tz)
    end = min(now, datetime.combine(p.last_day + timedelta(days=1), time(0), tzinfo=system.tz))
    if end <= start:
        return []
    with system.read_db.connect() as conn:
        figures = hall_figures(
            conn, system.halls, start, end, system.calendar, system.tz, scope=viewer_scope()
        )
    return hall_rows(figures)


def register(app: Dash, system: System, jobs: DrillJobs) -> None:
    inputs = (Input(ids.PERIOD_KIND, "value"), Input(ids.PERIOD_DAY, "date"))

    @app.callback(
        Output(ids.ASSESS_TABLE, "children"),
        Output(ids.ASSESS_CHART, "figure"),
        Output(ids.ASSESS_TITLE, "children"),
        *inputs,
        State(ids.LEADER_LANG, "data"),
    )
    def assessment(kind: str | None, day: str | None, lang: str | None) -> tuple[Any, ...]:
        lang = lang or "zh"
        jobs.ensure_fresh()
        p = _period(kind, day, system)
        ref = system.ref
        scores, as_of = snapshots.period_assessment(
            system.db, system.tz, p, system.clock.now(), read=system.read_db, screen=True
        )

        def name_of(u: str) -> str:
            return unit_name(ref, u)

        def tier_of(u: str) -> str | None:
            info = ref.units.get(u)
            return info.tier.value if info else None

        return (
            view.assessment_table(scores, name_of, tier_of, lang),
            view.assessment_chart(scores, name_of, lang),
            t("assess_title", lang, period=view.period_title(p, lang))
            + t("assess_as_of", lang, as_of=local_time(as_of, system.tz)),
        )

    def halls(kind: str | None, day: str | None, lang: str | None) -> Any:
        lang = lang or "zh"
        p = _period(kind, day, system)
        rows = period_halls(system, p, system.clock.now())
        return view.halls_table(rows, p.start.isoformat(), p.last_day.isoformat(), lang)

    for target in (ids.ASSESS_HALLS, ids.REPORT_HALLS):  # the same table on both pages
        app.callback(Output(target, "children"), *inputs, State(ids.LEADER_LANG, "data"))(halls)

    @app.callback(
        Output(ids.REPORT_BODY, "children"),
        Output(ids.REPORT_TITLE, "children"),
        *inputs,
        State(ids.LEADER_LANG, "data"),
    )
    def report(kind: str | None, day: str | None, lang: str | None) -> tuple[Any, Any]:
        lang = lang or "zh"
        p = _period(kind, day, system)
        rows, meta = period_report(system, p, system.clock.now(), lang, screen=True)
        return view.report_body(rows, meta, lang), meta["title"]

    @app.callback(
        Output(ids.DOWNLOAD, "data"),
        Input(ids.REPORT_CSV, "n_clicks"),
        Input(ids.REPORT_XLSX, "n_clicks"),
        State(ids.PERIOD_KIND, "value"),
        State(ids.PERIOD_DAY, "date"),
        State(ids.LEADER_LANG, "data"),
        prevent_initial_call=True,
    )
    def download(
        n_csv: int | None, n_xlsx: int | None, kind: str | None, day: str | None, lang: str | None
    ) -> Any:
        from dash import ctx

        if not ctx.triggered or not ctx.triggered[0]["value"] or not may(Permission.EXPORT):
            return no_update
        lang = lang or "zh"
        p = _period(kind, day, system)
        rows, meta = period_report(system, p, system.clock.now(), lang)
        name = f"gridwatch-{p.kind}-{p.start.isoformat()}"
        fmt = "csv" if ctx.triggered_id == ids.REPORT_CSV else "xlsx"
        with system.db.begin() as conn:  # who took which report out of the building
            audit.record(conn, system.clock.now(), viewer_actor(), "export", f"{name}.{fmt}")
        if ctx.triggered_id == ids.REPORT_CSV:
            return {
                "content": export.to_csv(rows, meta),
                "filename": f"{name}.csv",
                "type": "text/csv",
            }
        hall_table = period_halls(system, p, system.clock.now())
        return dcc.send_bytes(export.to_xlsx(rows, meta, lang, hall_table), f"{name}.xlsx")

    app.clientside_callback(
        PRINT_JS, Output(ids.PRINT_SINK, "children"), Input(ids.REPORT_PRINT, "n_clicks")
    )
