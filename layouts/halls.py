"""The service-hall wall (``/halls``) and a hall's page (``/halls/<code>``): pure functions of
the query layer's answers (backend/queries/halls.py), dark like the duty wall, sized by the
viewport so 1920×1080 and 3840×2160 show the same screen with no scrolling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from backend.core.i18n import t
from backend.halls.events import RATINGS
from layouts import ids
from layouts.wall import bi, bi_text

#: The most alerts the wall lists (the oldest unanswered first); the API lists them all.
ALERTS_SHOWN = 12


def page(city: str, lang: str = "zh") -> html.Div:
    """The wall's frame; the stream fills the grid and the alerts as soon as it connects."""
    return html.Div(
        [
            dcc.Store(id=ids.HALLS_SEQ, data=0),
            dcc.Store(id=ids.HALLS_CELLS),
            html.Div(id=ids.HALLS_CELLS_SINK, hidden=True),
            _header(city, "halls_title"),
            html.Div(id=ids.HALLS_SUMMARY, className="gw-halls-summary"),
            html.Div(
                [
                    html.Section(id=ids.HALLS_GRID, className="gw-halls-grid"),
                    html.Section(
                        [
                            html.H2(bi("hall_alerts"), className="gw-panel-title"),
                            *ack_form(lang),
                            html.Ul(id=ids.HALLS_ALERTS, className="gw-alerts"),
                        ],
                        className="gw-col gw-halls-side",
                    ),
                ],
                className="gw-halls-main",
            ),
        ],
        id=ids.HALLS,
        className=f"gw-halls lang-{lang}",
    )


def ack_form(lang: str) -> list[html.Div]:
    """What the person did (a note): who did it is the person signed in, so the name field of
    the days before sign-in stays only as a hidden input the callback still reads."""
    return [
        html.Div(
            [
                dcc.Input(id=ids.HALLS_ACK_WHO, type="hidden", value=""),
                html.Span(t("hall_ack_as_signed_in", lang), className="gw-ack-who"),
                dcc.Input(
                    id=ids.HALLS_ACK_NOTE,
                    placeholder=t("hall_ack_note", lang),
                    maxLength=500,
                    className="gw-input",
                ),
            ],
            className="gw-ack-form",
        ),
        html.Div(id=ids.HALLS_ACK_RESULT, className="gw-ack-result"),
    ]


def _header(city: str, title: str, extra: Any = None) -> html.Header:
    return html.Header(
        [
            html.H1(
                [html.Span(city, className="gw-city"), *bi(title), extra], className="gw-title"
            ),
            html.Div(
                [
                    html.Span(id=ids.HALLS_CLOCK, className="gw-clock"),
                    html.Span(
                        [html.Span(className="gw-dot"), html.Span(bi("live"))],
                        id=ids.HALLS_LIVE,
                        className="gw-live",
                    ),
                    html.Button(
                        bi_text("English", "中文"), id=ids.HALLS_LANG_TOGGLE, className="btn"
                    ),
                ],
                className="gw-header-right",
            ),
        ],
        className="gw-header",
    )


def summary(view: list[dict[str, Any]]) -> list[Any]:
    windows = sum(len(h["windows"]) for h in view)
    rate, queue, alerts = summary_figures(view)
    return [
        html.Span(bi("halls_count", n=len(view), w=windows)),
        html.Span([*bi("hall_on_post"), " ", html.B(rate, id=SUMMARY_IDS[0])]),
        html.Span([*bi("hall_queue"), " ", html.B(queue, id=SUMMARY_IDS[1])]),
        html.Span([*bi("hall_alerts"), " ", html.B(alerts, id=SUMMARY_IDS[2])]),
    ]


#: the summary's figures, written in place when only they changed (``assets/halls.js``)
SUMMARY_IDS = ("halls-on-post", "halls-queue", "halls-open-alerts")


def summary_figures(view: list[dict[str, Any]]) -> list[str]:
    """On-post rate, people queuing, open alerts: the summary's changing figures."""
    windows = sum(len(h["windows"]) for h in view)
    staffed = sum(h["staffed"] for h in view)
    rate = f"{staffed / windows:.0%}" if windows else "—"
    queue = sum(h["queue"] for h in view)
    alerts = sum(h["open_alerts"] for h in view)
    return [rate, str(queue), str(alerts)]


def hall_cards(view: list[dict[str, Any]]) -> list[html.Div]:
    """One card per hall: name, open or closed, queue and wait, a cell per window."""
    return [_card(h) for h in view]


def _card(h: dict[str, Any]) -> html.Div:
    return html.Div(_card_children(h), className=card_class(h), id=f"hall-{h['code']}")


def card_class(h: dict[str, Any]) -> str:
    return "gw-hall" + (" has-alerts" if h["open_alerts"] else "")


def cell(h: dict[str, Any], w: dict[str, Any]) -> tuple[str, str, str]:
    """A window's cell as (class, text, tooltip): drawn in the card, and sent as such when
    only the cell changed (``assets/halls.js`` writes it into the cell)."""
    return (
        f"gw-win is-{w['status']}" + (" is-distracted" if w["distracted"] else ""),
        str(w["queue"]) if w["queue"] else "",
        f"{w['name']} · {t('hall_' + w['status'])} · {t('hall_queue')} {w['queue']}",
    )


def cell_id(h: dict[str, Any], w: dict[str, Any]) -> str:
    return f"win-{h['code']}-{w['code']}"


def card_figures(h: dict[str, Any]) -> list[str]:
    """The card's class and its figures (queue, wait, open alerts), as they are written."""
    alerts = f"⚠ {h['open_alerts']}" if h["open_alerts"] else ""
    return [card_class(h), str(h["queue"]), str(h["wait_minutes"]), alerts]


def _card_children(h: dict[str, Any]) -> list[html.Div]:
    cells = []
    for w in h["windows"]:
        cls, text, title = cell(h, w)
        cells.append(html.Span(text, className=cls, title=title, id=cell_id(h, w)))
    state = "hall_open" if h["open"] else "hall_closed"
    _cls, queue, wait, alerts = card_figures(h)
    code = h["code"]
    return [
        html.Div(
            [
                dcc.Link(h["name"].replace("便民服务中心", ""), href=f"/halls/{code}"),
                html.Span(bi(state), className=f"gw-hall-state is-{state}"),
            ],
            className="gw-hall-name",
        ),
        html.Div(cells, className="gw-wins"),
        html.Div(
            [
                html.Span([*bi("hall_queue"), " ", html.Span(queue, id=f"hq-{code}")]),
                html.Span(
                    [
                        *bi("hall_wait"),
                        " ",
                        html.Span(wait, id=f"hw-{code}"),
                        " ",
                        *bi("hall_minutes"),
                    ]
                ),
                html.Span(alerts, className="gw-hall-alerts", id=f"ha-{code}"),
            ],
            className="gw-hall-figures",
        ),
    ]


def alert_items(rows: list[dict[str, Any]]) -> list[html.Li]:
    """Open alerts, unanswered first, then by age; each with its actions and snapshot."""
    rows = sorted(rows, key=lambda r: (r["state"] != "open", -r["age_minutes"]))[:ALERTS_SHOWN]
    if not rows:
        return [html.Li(bi("hall_no_alerts"), className="gw-alert-none")]
    return [_alert(r) for r in rows]


def _alert(r: dict[str, Any]) -> html.Li:
    where = r["hall_name"].replace("便民服务中心", "")
    if r["window"]:
        where += f" {r['window']}"
    meta: list[Any] = [*bi("hall_alert_age", n=r["age_minutes"])]
    if r["level"]:
        chain = r["detail"].get("to") or ""
        to = t(f"hall_role_{chain}") if chain else ""
        meta += [" · ", *bi("hall_alert_level", n=r["level"], to=to)]
    if r["count"] > 1:
        meta += [" · ", *bi("hall_alert_count", n=r["count"])]
    actions: list[Any] = []
    if r["state"] == "open":
        actions.append(
            html.Button(
                bi("hall_ack"), id={"type": ids.HALL_ACK, "alert": r["id"]}, className="btn"
            )
        )
    else:
        actions.append(html.Span([*bi("alert_acknowledged"), f" · {r['acked_by']}"]))
    actions.append(
        html.Button(
            bi("hall_resolve"), id={"type": ids.HALL_RESOLVE, "alert": r["id"]}, className="btn"
        )
    )
    body: list[Any] = [
        html.Div([html.B(bi(f"hall_rule_{r['rule']}")), " ", where], className="gw-alert-what"),
        html.Div(meta, className="gw-alert-meta"),
        html.Div(actions, className="gw-alert-actions"),
    ]
    if r["snapshot_url"]:
        body.insert(0, html.Img(src=r["snapshot_url"], className="gw-snap", alt=t("hall_snapshot")))
    return html.Li(
        body,
        className=f"gw-alert is-{r['state']} level-{min(r['level'], 3)}",
        id=f"alert-{r['id']}",
        **{"data-hall": r["hall"], "data-window": r["window"] or ""},
    )


# ---------------------------------------------------------------- a hall's page


def hall_page(
    city: str,
    h: dict[str, Any],
    day: dict[str, Any],
    alert_rows: list[dict[str, Any]],
    staff: dict[str, str],
    shifts: dict[str, list[str]],
    now: datetime,
    lang: str = "zh",
) -> html.Div:
    """One hall's day: its windows (who, status, queue, served, services), the day's events,
    ratings (好差评) and alerts."""
    ratings = [html.Li([*bi(f"rating_{v}"), f" {day['ratings'].get(v, 0)}"]) for v in RATINGS]
    rules = [html.Li([*bi(f"hall_rule_{k}"), f" {n}"]) for k, n in sorted(day["alerts"].items())]
    back = dcc.Link(bi("hall_back"), href="/halls", className="gw-back")
    return html.Div(
        [
            dcc.Store(id=ids.HALLS_SEQ, data=0),
            dcc.Store(id=ids.HALLS_CELLS),
            html.Div(id=ids.HALLS_CELLS_SINK, hidden=True),
            _header(city, "halls_title", html.Span(f" · {h['name']}", className="gw-hall-title")),
            html.Div([back, html.Span(f"{now:%Y-%m-%d}")], className="gw-halls-summary"),
            html.Div(
                [
                    html.Section(
                        hall_table(h, staff, shifts),
                        className="gw-col gw-hall-windows",
                        id=ids.HALLS_GRID,
                    ),
                    html.Section(
                        [
                            html.H2(bi("hall_ratings"), className="gw-panel-title"),
                            html.Ul(ratings, className="gw-day-list"),
                            html.H2(bi("hall_alerts_today"), className="gw-panel-title"),
                            html.Ul(rules, className="gw-day-list"),
                            html.H2(bi("hall_events_today"), className="gw-panel-title"),
                            html.Div(str(sum(day["events"].values())), className="gw-day-n"),
                            *ack_form(lang),
                            html.Ul(
                                alert_items(alert_rows), id=ids.HALLS_ALERTS, className="gw-alerts"
                            ),
                        ],
                        className="gw-col gw-halls-side",
                    ),
                ],
                className="gw-halls-main",
            ),
        ],
        id=ids.HALLS,
        className=f"gw-halls lang-{lang}",
    )


def hall_table(
    h: dict[str, Any], staff: dict[str, str], shifts: dict[str, list[str]]
) -> html.Table:
    """A hall's windows: status, who is there, queue, served today, shifts, services."""
    head = html.Tr(
        [
            html.Th(bi(k))
            for k in ("hall_window", "hall_staffed", "hall_staff", "hall_queue", "hall_served")
        ]
        + [html.Th(bi("hall_shifts")), html.Th(bi("hall_services"))]
    )
    rows = [
        html.Tr(
            [
                html.Td(w["name"]),
                html.Td(bi(f"hall_{w['status']}"), className=f"gw-st is-{w['status']}"),
                html.Td("、".join(staff.get(s, s) for s in w["staff"]) or "—"),
                html.Td(str(w["queue"]), className="num"),
                html.Td(str(w["served"]), className="num"),
                html.Td(" ".join(shifts.get(w["code"], []))),
                html.Td("、".join(w["services"])),
            ]
        )
        for w in h["windows"]
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="gw-table")


def not_found(code: str, lang: str = "zh") -> html.Div:
    return html.Div(
        [html.P(f"{t('hall_not_found', lang)}: {code}"), dcc.Link(bi("hall_back"), href="/halls")],
        id=ids.HALLS,
        className=f"gw-halls lang-{lang}",
    )
