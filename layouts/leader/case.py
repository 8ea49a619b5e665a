"""One case (工单详情): where it is and why it is stuck. Its whole timeline, the stages with their
dwell times, the units that held it, reminders, warnings, revisits and ratings; and the leader's
actions: instruct (批示), reassign (改派), escalate (升级), convene a consultation (会商).

The citizen's description and every reason typed by a person are shown as plain text.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import dash_bootstrap_components as dbc
from dash import dcc, html

from backend.core.i18n import message, t
from backend.domain.events import consultation_of, rating_of, spec_of
from backend.domain.stages import Stage
from backend.queries.people import Person
from backend.queries.timeline import Timeline
from backend.refdata.index import RefIndex
from layouts import ids
from layouts.leader import words
from layouts.leader.common import (
    PHOTO_URL,
    card,
    category_name,
    colour_badge,
    hours,
    local_time,
    status_name,
    tier_name,
    unit_name,
    unit_options,
)


def header(tl: Timeline, ref: RefIndex, lang: str, tz: ZoneInfo, back: str) -> html.Div:
    c = tl.case
    facts = [
        ("f_category", category_name(ref, c["category"], lang)),
        ("col_status", status_name(c["status"], lang)),
        ("col_tier", tier_name(c["tier"], lang)),
        ("col_unit", unit_name(ref, c["unit"])),
        ("col_holder", words.person(c["holder"], tl.staff, ref, lang)),
        ("case_channel", t(f"channel_{c['channel']}", lang) if c["channel"] else "—"),
        ("case_reports", t("case_reports_n", lang, n=c["duplicate_count"] or 1)),
        ("col_township", ref.area_names.get(c["township"] or "", "—")),
        ("col_reported", local_time(c["reported_at"], tz)),
        ("col_deadline", local_time(c["deadline"], tz)),
        ("col_overdue_tiers", "、".join(tier_name(x, lang) for x in c["overdue_tiers"]) or "—"),
    ]
    return html.Div(
        [
            dcc.Link(
                "← " + t("back_to_list", lang), href=back, className="gw-back", id="case-back"
            ),
            html.Div(
                [
                    html.H2(c["code"], className="gw-case-code", id="case-code"),
                    colour_badge(c["colour"], lang),
                    dbc.Badge(
                        status_name(c["status"], lang),
                        color="light",
                        text_color="dark",
                        className="ms-1",
                    ),
                ],
                className="gw-case-title",
            ),
            html.Dl(
                [x for k, v in facts for x in (html.Dt(t(k, lang)), html.Dd(v))],
                className="gw-facts",
            ),
            html.Div(
                [
                    html.Div(t("description", lang), className="gw-desc-l"),
                    html.P(c["description"], id="case-description"),
                    _photos(tl.photos, lang),
                ],
                className="gw-desc",
            ),
        ]
    )


def _photos(photo_ids: list[int], lang: str) -> html.Div | None:
    """The citizen's photos (each report's, up to three a report), opened full size on click."""
    if not photo_ids:
        return None
    return html.Div(
        [
            html.Div(t("case_photos", lang), className="gw-desc-l"),
            html.Div(
                [
                    html.A(
                        html.Img(
                            src=f"{PHOTO_URL}{pid}",
                            alt=t("case_photo_alt", lang, n=i),
                            className="gw-photo",
                        ),
                        href=f"{PHOTO_URL}{pid}",
                        target="_blank",
                        rel="noopener",
                    )
                    for i, pid in enumerate(photo_ids, 1)
                ],
                className="gw-photos",
                id="case-photos",
            ),
        ]
    )


def _event_line(
    e: dict[str, Any], ref: RefIndex, lang: str, tz: ZoneInfo, staff: dict[str, Person]
) -> html.Li:
    moves = []
    if e["from_unit"] != e["to_unit"] and e["to_unit"]:
        moves.append(f"{unit_name(ref, e['from_unit'])} → {unit_name(ref, e['to_unit'])}")
    if e["from_tier"] != e["to_tier"] and e["to_tier"] and e["from_tier"]:
        moves.append(f"{tier_name(e['from_tier'], lang)} → {tier_name(e['to_tier'], lang)}")
    spec = spec_of(e["type"])
    extra = []
    rating = rating_of(e)
    if rating:
        extra.append(t(f"rating_{rating}", lang))
    consultation = consultation_of(e)
    if consultation is not None:
        extra.append(
            t("consult_lead", lang)
            + ": "
            + unit_name(ref, consultation["lead"])
            + "；"
            + t("consult_co", lang)
            + ": "
            + "、".join(unit_name(ref, u) for u in consultation["co_units"])
        )
    return html.Li(
        [
            html.Span(className=f"gw-dot-ev bg-{spec.tone.value}"),
            html.Div(
                [
                    html.Span(local_time(e["at"], tz, "%m-%d %H:%M"), className="gw-ev-time"),
                    html.Span(t(spec.label_key, lang), className="gw-ev-type"),
                    html.Span(words.actor(e["actor"], staff, ref, lang), className="gw-ev-actor"),
                ],
                className="gw-ev-head",
            ),
            html.Div(" · ".join(moves), className="gw-ev-move") if moves else None,
            html.Div(message(e["reason"], lang), className="gw-ev-reason") if e["reason"] else None,
            html.Div(" · ".join(extra), className="gw-ev-extra") if extra else None,
        ],
        className=f"gw-ev gw-ev-{e['type']}",
        **{"data-seq": str(e["seq"]), "data-type": e["type"]},  # type: ignore[arg-type]
    )


def _stage_row(s: Stage, tl: Timeline, ref: RefIndex, lang: str, tz: ZoneInfo) -> html.Tr:
    return html.Tr(
        [
            html.Td(str(s.no)),
            html.Td(tier_name(s.tier, lang)),
            html.Td(unit_name(ref, s.unit)),
            html.Td(local_time(s.started_at, tz, "%m-%d %H:%M")),
            html.Td(
                local_time(s.ended_at, tz, "%m-%d %H:%M") if s.ended_at else t("still_open", lang)
            ),
            html.Td(hours(s.dwell(tl.now), lang), className="num"),
            html.Td(t(f"end_{s.end_kind}", lang)),
            html.Td(f"{s.reminders} / {s.warnings}", className="num"),
            html.Td(
                "⚠ " + local_time(s.overdue_at, tz, "%m-%d %H:%M") if s.overdue_at else "",
                className="gw-hot",
            ),
        ],
        className="gw-stage" + (" is-open" if s.ended_at is None else ""),
    )


def body(tl: Timeline, ref: RefIndex, lang: str, tz: ZoneInfo) -> html.Div:
    """Everything below the header that changes when the case does."""
    total = max(1.0, sum(tl.tier_dwell.values()))
    tier_bars = [
        html.Div(
            [
                html.Span(tier_name(tier, lang), className="gw-td-l"),
                html.Div(
                    html.Div(className="gw-b-fill", style={"width": f"{100 * sec / total:.0f}%"}),
                    className="gw-b-bar",
                ),
                html.Span(hours(sec, lang), className="gw-td-v"),
            ],
            className="gw-td-row",
        )
        for tier, sec in tl.tier_dwell.items()
    ]
    summary = dbc.Row(
        [
            dbc.Col(_count(t("reminders", lang), tl.reminders), width=3),
            dbc.Col(_count(t("warnings", lang), tl.warnings), width=3),
            dbc.Col(_count(t("revisits", lang), len(tl.revisits)), width=3),
            dbc.Col(_count(t("escalations", lang), tl.case["escalations"]), width=3),
        ],
        className="g-2 mb-3",
    )
    ratings = [
        html.Li(
            [
                html.Span(local_time(e["at"], tz, "%m-%d %H:%M"), className="gw-muted me-2"),
                html.Span(t(f"ev_{e['type']}", lang) + "：" + t(f"rating_{_answer(e)}", lang)),
            ]
        )
        for e in tl.ratings + tl.revisits
    ]
    units = [
        html.Li(
            [html.Span(unit_name(ref, u)), html.Span(hours(sec, lang), className="gw-muted ms-2")]
        )
        for u, sec in tl.unit_dwell.items()
    ]
    stages = html.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th(t(k, lang))
                        for k in (
                            "col_no",
                            "col_tier",
                            "col_unit",
                            "col_from",
                            "col_until",
                            "col_dwell",
                            "col_ended",
                            "col_rem_warn",
                            "col_overdue_at",
                        )
                    ]
                )
            ),
            html.Tbody([_stage_row(s, tl, ref, lang, tz) for s in tl.stages]),
        ],
        className="table table-sm gw-stages",
        id="case-stages",
    )
    return html.Div(
        dbc.Row(
            [
                dbc.Col(
                    card(
                        t("timeline", lang),
                        html.Ol(
                            [_event_line(e, ref, lang, tz, tl.staff) for e in reversed(tl.events)],
                            className="gw-timeline",
                            id="case-timeline",
                        ),
                    ),
                    lg=5,
                ),
                dbc.Col(
                    [
                        card(t("stages", lang), stages, className="mb-3"),
                        dbc.Row(
                            [
                                dbc.Col(
                                    card(
                                        t("dwell_by_tier", lang),
                                        html.Div(tier_bars, className="gw-td"),
                                    ),
                                    md=6,
                                ),
                                dbc.Col(
                                    card(
                                        t("units_held", lang), html.Ol(units, className="gw-units")
                                    ),
                                    md=6,
                                ),
                            ],
                            className="g-3 mb-3",
                        ),
                        summary,
                        card(
                            t("ratings", lang),
                            html.Ul(
                                ratings or [html.Li(t("none_yet", lang), className="gw-muted")],
                                className="gw-ratings",
                            ),
                        ),
                    ],
                    lg=7,
                ),
            ],
            className="g-3",
        )
    )


def _answer(e: dict[str, Any]) -> str:
    """A rating's or a revisit's answer (satisfied, basic, unsatisfied)."""
    data = e.get("data") or {}
    return str(data.get("rating") or data.get("result"))


def _count(label: str, n: int) -> html.Div:
    return html.Div(
        [html.Div(str(n), className="gw-kpi-n"), html.Div(label, className="gw-kpi-l")],
        className="gw-l-kpi gw-l-kpi-sm",
    )


def actions(ref: RefIndex, lang: str, case: dict[str, Any]) -> dbc.Card:
    """The leader's four actions; each becomes an engine command (recorded, pushed live)."""
    unit_opts = unit_options(ref, lang, with_tier=True)

    def block(title: str, fields: list[Any], button_id: str, button: str, tone: str) -> html.Div:
        return html.Div(
            [
                html.H6(title, className="gw-act-t"),
                *fields,
                dbc.Button(t(button, lang), id=button_id, color=tone, size="sm", className="mt-2"),
            ],
            className="gw-act",
        )

    return card(
        t("leader_actions", lang),
        [
            block(
                t("act_instruct_t", lang),
                [
                    dbc.Textarea(
                        id=ids.ACT_TEXT,
                        placeholder=t("act_instruct_ph", lang),
                        rows=2,
                        maxLength=2000,
                    )
                ],
                ids.ACT_INSTRUCT,
                "act_instruct",
                "dark",
            ),
            block(
                t("act_reassign_t", lang),
                [
                    dcc.Dropdown(
                        id=ids.ACT_UNIT, options=unit_opts, placeholder=t("act_pick_unit", lang)
                    ),
                    dbc.Input(
                        id=ids.ACT_REASSIGN_REASON,
                        placeholder=t("act_reason_ph", lang),
                        maxLength=500,
                        className="mt-1",
                    ),
                ],
                ids.ACT_REASSIGN,
                "act_reassign",
                "primary",
            ),
            block(
                t("act_escalate_t", lang),
                [
                    dbc.Input(
                        id=ids.ACT_ESCALATE_REASON,
                        placeholder=t("act_reason_ph", lang),
                        maxLength=500,
                    )
                ],
                ids.ACT_ESCALATE,
                "act_escalate",
                "warning",
            ),
            block(
                t("act_consult_t", lang),
                [
                    dcc.Dropdown(
                        id=ids.ACT_LEAD, options=unit_opts, placeholder=t("consult_lead", lang)
                    ),
                    dcc.Dropdown(
                        id=ids.ACT_CO,
                        options=unit_opts,
                        multi=True,
                        placeholder=t("consult_co", lang),
                        className="mt-1",
                    ),
                    dbc.Input(
                        id=ids.ACT_CONSULT_REASON,
                        placeholder=t("act_reason_ph", lang),
                        maxLength=500,
                        className="mt-1",
                    ),
                ],
                ids.ACT_CONSULT,
                "act_consult",
                "secondary",
            ),
            html.Div(id=ids.ACT_RESULT, className="mt-2"),
        ],
        className="gw-actions",
    )


def page(tl: Timeline, ref: RefIndex, lang: str, tz: ZoneInfo, back: str) -> html.Div:
    return html.Div(
        [
            dcc.Store(id=ids.CASE_ID, data=tl.case["id"]),
            dcc.Store(id=ids.CASE_SEQ, data=tl.last_seq),
            dbc.Row(
                [
                    dbc.Col(
                        [
                            html.Div(header(tl, ref, lang, tz, back), id=ids.CASE_HEADER),
                            html.Div(body(tl, ref, lang, tz), id=ids.CASE_BODY, className="mt-3"),
                        ],
                        xl=9,
                        lg=8,
                    ),
                    dbc.Col(
                        html.Div(actions(ref, lang, tl.case), className="gw-sticky"), xl=3, lg=4
                    ),
                ],
                className="g-3",
            ),
        ],
        className="gw-case",
    )


def not_found(lang: str, case_id: str, back: str) -> html.Div:
    return dbc.Alert(
        [
            html.H4(t("case_not_found", lang)),
            html.P(case_id),
            dcc.Link(t("back_to_list", lang), href=back),
        ],
        color="warning",
    )
