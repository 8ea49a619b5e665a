"""The case state machine: pure functions from (case, command, time) to new state + events.

Nothing here touches SQL or Redis. Every change appends at least one event row (who, when,
from which status/unit/tier to which, why); a forbidden transition raises TransitionRefused
with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from backend.core.errors import CommandInvalid, TransitionRefused
from backend.deadlines.sla import DeadlineClock
from backend.domain import events as ev
from backend.domain.case import CaseState
from backend.domain.events import EscalatedData, EventSpec
from backend.domain.vocabulary import (
    COMPLETED_STATUSES,
    OPEN_STATUSES,
    Channel,
    Milestone,
    Rating,
    Severity,
    Status,
    Tier,
)
from backend.refdata.index import RefIndex

Event = dict[str, Any]
P = TypeVar("P")


@dataclass(slots=True)
class Ctx:
    """What a transition may consult: reference data, the deadline clock and the time."""

    ref: RefIndex
    clock: DeadlineClock
    now: datetime
    actor: str
    events: list[Event] = field(default_factory=list)

    def emit(
        self,
        case: CaseState,
        spec: EventSpec[P],
        *,
        from_status: str | None = None,
        from_unit: str | None = None,
        from_tier: str | None = None,
        reason: str | None = None,
        data: P | None = None,
        actor: str | None = None,
    ) -> None:
        """Append one event of ``spec``'s type, with the payload its spec types."""
        case.event_count += 1
        self.events.append(
            {
                "case": case,
                "case_id": case.id,
                "seq": case.event_count,
                "at": self.now,
                "type": spec.type,
                "actor": actor or self.actor,
                "from_status": from_status,
                "to_status": case.status,
                "from_unit": from_unit,
                "to_unit": case.unit_code,
                "from_tier": from_tier,
                "to_tier": case.tier,
                "reason": reason,
                "data": data,
            }
        )

    def record(
        self,
        case: CaseState,
        spec: EventSpec[P],
        *,
        from_status: str | None = None,
        reason: str | None = None,
        data: P | None = None,
        actor: str | None = None,
    ) -> None:
        """An event that leaves the case with its unit at its tier; ``from_status`` is the
        status before it (by default the present one: nothing changed)."""
        self.emit(
            case,
            spec,
            from_status=case.status if from_status is None else from_status,
            from_unit=case.unit_code,
            from_tier=case.tier,
            reason=reason,
            data=data,
            actor=actor,
        )


# ----------------------------------------------------------------------------- intake

# plain dict look-ups: constructing an enum from a value is slow on the hot path
_CHANNELS: dict[object, Channel] = {c.value: c for c in Channel}
_SEVERITIES: dict[object, Severity] = {v.value: v for v in Severity}
_TIERS: dict[object, Tier] = {t.value: t for t in Tier}
_STATUSES: dict[object, Status] = {v.value: v for v in Status}

#: optional free-text fields of a new case, with the length of their column
_TEXT_FIELDS = (
    ("address", 300),
    ("reporter", 100),
    ("source", 16),
    ("source_channel", 64),
    ("source_type", 100),
)

_CASE_FIELDS_IN = (
    "category",
    "description",
    "channel",
    "grid",
    "address",
    "lat",
    "lon",
    "reporter",
    "severity",
    "unit",
)


_KNOWN_FIELDS = frozenset(_CASE_FIELDS_IN) | {name for name, _ in _TEXT_FIELDS}


def validate_new_case(payload: dict[str, Any], ref: RefIndex) -> dict[str, Any]:
    """Check a new case's fields; every problem is reported, per field, at once."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    category = payload.get("category")
    if not isinstance(category, str) or not category:
        errors["category"] = "required"
    elif category not in ref.categories:
        errors["category"] = f"unknown category {category!r}"
    else:
        out["category"] = category
    description = payload.get("description")
    if not isinstance(description, str) or not description.strip():
        errors["description"] = "required, a non-empty text"
    elif len(description) > 4000 or "\x00" in description:
        errors["description"] = "at most 4000 characters"
    else:
        out["description"] = description.strip()
    channel = payload.get("channel")
    if isinstance(channel, str) and channel in _CHANNELS:
        out["channel"] = _CHANNELS[channel]
    else:
        errors["channel"] = "must be one of " + ", ".join(c.value for c in Channel)
    severity = payload.get("severity") or Severity.GENERAL
    if isinstance(severity, str) and severity in _SEVERITIES:
        out["severity"] = _SEVERITIES[severity]
    else:
        errors["severity"] = "must be one of " + ", ".join(s.value for s in Severity)
    grid = payload.get("grid")
    if grid is not None and (not isinstance(grid, str) or grid not in ref.grids):
        errors["grid"] = f"unknown grid code {grid!r}"
    out["grid"] = grid
    lat, lon = payload.get("lat"), payload.get("lon")
    for name, value, lo, hi in (("lat", lat, -90, 90), ("lon", lon, -180, 180)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = "must be a number"
        elif not lo <= value <= hi:
            errors[name] = f"must be between {lo} and {hi}"
    if (lat is None) != (lon is None):
        errors.setdefault("lat" if lat is None else "lon", "lat and lon go together")
    out["lat"], out["lon"] = lat, lon
    for name, limit in _TEXT_FIELDS:
        value = payload.get(name)
        if value is not None and (
            not isinstance(value, str) or len(value) > limit or "\x00" in value
        ):
            errors[name] = f"a text of at most {limit} characters"
        out[name] = value
    unit = payload.get("unit")
    if unit is not None:
        if not payload.get("source"):
            errors["unit"] = "only for records imported from another system (give source)"
        elif not isinstance(unit, str) or not 0 < len(unit) <= 48:
            errors["unit"] = "a unit code of at most 48 characters"
    out["unit"] = unit
    if grid is None and not payload.get("address") and (lat is None or lon is None):
        errors.setdefault("grid", "give at least one of grid, address or lat/lon")
    if not _KNOWN_FIELDS.issuperset(payload):
        for name in sorted(set(payload) - _KNOWN_FIELDS):
            errors[name] = "unknown field"
    if errors:
        raise CommandInvalid(errors)
    return out


def intake_tier(severity: str, category_major: bool, default_tier: Tier) -> Tier:
    """Triage (直通办理 / 一键上报): general matters where they arise, major ones straight up."""
    if severity != Severity.GENERAL or category_major:
        return Tier.DEPARTMENT
    return default_tier


def new_case(fields_in: dict[str, Any], ctx: Ctx, case_ref: str) -> CaseState:
    """Create a case from validated fields, triage it and start its clock."""
    ref = ctx.ref
    now = ctx.now
    cat = ref.categories[fields_in["category"]]
    grid = fields_in.get("grid") or ref.locate(
        fields_in.get("lat"), fields_in.get("lon"), fields_in.get("address")
    )
    g = ref.grids.get(grid) if grid else None
    case = CaseState.received(
        ref=case_ref,
        at=now,
        channel=fields_in["channel"],
        category=cat.code,
        severity=fields_in["severity"],
        complexity=cat.complexity,
        description=fields_in["description"],
        grid_code=g.code if g else None,
        township_code=g.township_code if g else None,
        county_code=g.county_code if g else None,
        address=fields_in.get("address"),
        lat=fields_in.get("lat"),
        lon=fields_in.get("lon"),
        reporter=fields_in.get("reporter"),
        status=Status.RECEIVED,
        source=fields_in.get("source"),
        source_channel=fields_in.get("source_channel"),
        source_type=fields_in.get("source_type"),
    )
    ctx.emit(case, ev.REPORTED, data=ev.ReportedData(channel=case.channel))
    source_unit = fields_in.get("unit")
    if source_unit:
        # an imported record keeps the department the source system gave it (DESIGN.md,
        # report definitions); one of ours keeps its own tier, any other is a department
        info = ref.units.get(source_unit)
        _dispatch(
            case,
            ctx,
            info.tier if info else Tier.DEPARTMENT,
            source_unit,
            ev.DISPATCHED,
            reason="imported: handled by the unit the source system named",
        )
    elif g is not None:
        tier = intake_tier(case.severity, cat.major, cat.default_tier)
        _dispatch(
            case,
            ctx,
            tier,
            ref.unit_for(g.code, tier, cat.code),
            ev.DISPATCHED,
            reason="triage: "
            + (
                "major matter, straight up"
                if tier is Tier.DEPARTMENT
                else "handled where it arises"
            ),
        )
    return case


def _dispatch(
    case: CaseState,
    ctx: Ctx,
    tier: Tier,
    unit: str,
    spec: EventSpec[P],
    *,
    reason: str | None = None,
    data: P | None = None,
    actor: str | None = None,
) -> None:
    """Hand the case to ``unit`` at ``tier`` with a fresh allowance."""
    from_status, from_unit, from_tier = case.status, case.unit_code, case.tier
    case.status = Status.DISPATCHED
    case.prev_status = None
    case.tier = tier
    case.unit_code = unit
    case.holder = None
    case.stage_started_at = ctx.now
    case.status_changed_at = ctx.now
    ctx.clock.start(case, ctx.now)
    ctx.emit(
        case,
        spec,
        from_status=from_status,
        from_unit=from_unit,
        from_tier=from_tier,
        reason=reason,
        data=data,
        actor=actor,
    )


# ----------------------------------------------------------------------------- actions


def _require(case: CaseState, action: str, allowed: frozenset[str] | set[str], why: str) -> None:
    if case.status not in allowed:
        raise TransitionRefused(action, case.status, why)


_HANDLING = frozenset({Status.ACCEPTED, Status.IN_PROGRESS})
_OPEN = frozenset(s.value for s in OPEN_STATUSES)
_ACTIVE = frozenset({Status.DISPATCHED, Status.ACCEPTED, Status.IN_PROGRESS})
_DONE = frozenset(s.value for s in COMPLETED_STATUSES) - {Status.CLOSED}


def _set_status(case: CaseState, ctx: Ctx, status: Status) -> str:
    old = case.status
    case.status = status
    case.status_changed_at = ctx.now
    return old


def act_dispatch(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "dispatch", {Status.RECEIVED}, "only a case awaiting triage is dispatched")
    grid = p.get("grid")
    if not isinstance(grid, str) or grid not in ctx.ref.grids:
        raise CommandInvalid({"grid": f"unknown grid code {grid!r}"})
    g = ctx.ref.grids[grid]
    case.grid_code, case.township_code, case.county_code = g.code, g.township_code, g.county_code
    cat = ctx.ref.categories[case.category]
    tier = intake_tier(case.severity, cat.major, cat.default_tier)
    _dispatch(
        case,
        ctx,
        tier,
        ctx.ref.unit_for(g.code, tier, case.category),
        ev.DISPATCHED,
        reason=_text(p, "reason") or "manual triage",
    )


def act_accept(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "accept", {Status.DISPATCHED}, "only a dispatched case is signed for")
    old = _set_status(case, ctx, Status.ACCEPTED)
    case.holder = _text(p, "holder", 32) or ctx.actor[:32]
    ctx.record(
        case,
        ev.ACCEPTED,
        from_status=old,
        data=ev.AcceptedData(holder=case.holder),
    )


def act_start(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "start", {Status.ACCEPTED}, "accept the case before starting work")
    old = _set_status(case, ctx, Status.IN_PROGRESS)
    ctx.record(case, ev.STARTED, from_status=old)


def act_pause(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "pause", _ACTIVE, "only a case being handled can wait for the citizen")
    reason = _reason(p, "pause")
    case.prev_status = case.status
    old = _set_status(case, ctx, Status.PAUSED)
    ctx.clock.pause(case, ctx.now)
    ctx.record(
        case,
        ev.PAUSED,
        from_status=old,
        reason=reason,
    )


def act_resume(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "resume", {Status.PAUSED}, "the case is not paused")
    old = _set_status(case, ctx, _STATUSES[case.prev_status or Status.DISPATCHED])
    case.prev_status = None
    ctx.clock.resume(case, ctx.now)
    ctx.record(
        case,
        ev.RESUMED,
        from_status=old,
        reason=_text(p, "reason"),
    )


def act_resolve(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "resolve", _HANDLING, "accept the case before resolving it")
    old = _set_status(case, ctx, Status.RESOLVED)
    case.completed_at = ctx.now
    ctx.clock.stop(case)
    ctx.record(
        case,
        ev.RESOLVED,
        from_status=old,
        reason=_text(p, "reason"),
        data=ev.ResolvedData(
            on_time=case.due_at is not None and ctx.now <= case.due_at and not case.overdue_tiers
        ),
    )


def _rating(p: dict[str, Any], key: str = "rating") -> Rating:
    try:
        return Rating(str(p.get(key)))
    except ValueError:
        raise CommandInvalid(
            {key: "must be one of " + ", ".join(r.value for r in Rating)}
        ) from None


def _reopen(case: CaseState, ctx: Ctx, why: str) -> None:
    case.reopen_count += 1
    case.completed_at = None
    tier = _TIERS[case.tier or Tier.GRID]
    _dispatch(
        case,
        ctx,
        tier,
        case.unit_code or "",
        ev.REOPENED,
        reason=why,
        data=ev.ReopenedData(reopen_count=case.reopen_count),
    )


def act_rate(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "rate", {Status.RESOLVED}, "only a resolved case is rated")
    rating = _rating(p)
    case.rating = rating.value
    old = _set_status(case, ctx, Status.RATED)
    ctx.record(
        case,
        ev.RATED,
        from_status=old,
        reason=_text(p, "comment"),
        data=ev.RatedData(rating=rating.value),
    )
    if rating is Rating.UNSATISFIED:
        _reopen(case, ctx, "citizen unsatisfied")


def act_revisit(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "revisit", _DONE, "only a resolved or rated case is revisited")
    rating = _rating(p, "result")
    old = case.status
    if case.status == Status.RESOLVED:
        case.rating = rating.value
        _set_status(case, ctx, Status.RATED)
    ctx.record(
        case,
        ev.REVISITED,
        from_status=old,
        reason=_text(p, "comment"),
        data=ev.RevisitedData(result=rating.value),
    )
    if rating is Rating.UNSATISFIED:
        case.rating = rating.value
        _reopen(case, ctx, "revisit: citizen unsatisfied")


def act_close(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "close", _DONE, "only a resolved or rated case is closed")
    old = _set_status(case, ctx, Status.CLOSED)
    case.closed_at = ctx.now
    ctx.record(
        case,
        ev.CLOSED,
        from_status=old,
        reason=_text(p, "reason"),
    )


def act_cancel(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "cancel", _OPEN, "a completed case is not cancelled")
    reason = _reason(p, "cancel")
    old = _set_status(case, ctx, Status.CANCELLED)
    ctx.clock.stop(case)
    ctx.record(
        case,
        ev.CANCELLED,
        from_status=old,
        reason=reason,
    )


def act_attach(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    """Another report of the same matter: one case, every report counted (DESIGN.md: merged
    duplicates count once). The report itself is kept in ``case_reports``."""
    _require(case, "attach", _OPEN, "a duplicate report is attached to an open case only")
    channel = p.get("channel")
    if channel is not None and channel not in _CHANNELS:
        raise CommandInvalid({"channel": "must be one of " + ", ".join(c.value for c in Channel)})
    case.duplicate_count += 1
    ctx.record(
        case,
        ev.DUPLICATE_ATTACHED,
        reason=_text(p, "reason", 300),
        data=ev.DuplicateData(channel=channel, reports=case.duplicate_count),
    )


def act_close_imported(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    """An imported record that the source system closed: completed and closed at the source's
    own time. ``time_known: false`` when the source gave no close time at all: the case counts
    as closed but stays out of the time-to-close figures."""
    if case.source is None:
        raise TransitionRefused("close_imported", case.status, "only imported records")
    _require(case, "close_imported", _OPEN | _DONE, "the case is closed or cancelled already")
    known = p.get("time_known", True)
    if not isinstance(known, bool):
        raise CommandInvalid({"time_known": "true or false"})
    rating = _rating(p) if p.get("rating") is not None else None
    old = _set_status(case, ctx, Status.CLOSED)
    if rating is not None:  # the source's own satisfaction survey (12345: 满意度)
        case.rating = rating.value
    case.completed_at = ctx.now if known else None
    case.closed_at = ctx.now if known else None
    case.prev_status = None
    ctx.clock.stop(case)
    ctx.record(
        case,
        ev.CLOSED,
        from_status=old,
        reason=_text(p, "reason") or "closed in the source system",
        data=ev.ClosedImportData(time_known=known)
        if rating is None
        else ev.ClosedImportData(time_known=known, rating=rating.value),
    )


def escalate(
    case: CaseState, ctx: Ctx, reason: str, data: EscalatedData, actor: str | None = None
) -> None:
    """Move the case up one tier with that tier's allowance (by hand or by the clock)."""
    tier = _TIERS[case.tier or Tier.GRID]
    up = tier.next_up()
    if up is None:
        raise TransitionRefused("escalate", case.status, "the case is already at the county tier")
    if case.grid_code is None:
        raise TransitionRefused("escalate", case.status, "the case has no grid yet: dispatch it")
    unit = ctx.ref.unit_for(case.grid_code, up, case.category)
    case.escalations += 1
    _dispatch(case, ctx, up, unit, ev.ESCALATED, reason=reason, data=data, actor=actor)


def act_escalate(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "escalate", _ACTIVE, "only a case being handled is escalated")
    escalate(case, ctx, _reason(p, "escalate"), EscalatedData(by="hand"))


def act_request_escalation(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "request_escalation", _ACTIVE, "only a case being handled is escalated")
    escalate(case, ctx, _reason(p, "request_escalation"), EscalatedData(by="handler request"))


def act_consult(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    """会商: a lead unit and co-responsible units, with the consultation allowance."""
    _require(case, "consult", _ACTIVE, "only a case being handled goes to consultation")
    lead = p.get("lead")
    co = p.get("co_units") or []
    if not isinstance(lead, str):
        lead = None
    if not isinstance(co, list) or not all(isinstance(u, str) for u in co):
        co = [None]
    errors: dict[str, str] = {}
    if not isinstance(lead, str) or lead not in ctx.ref.units:
        errors["lead"] = f"unknown unit {lead!r}"
    if not isinstance(co, list) or not co or any(u not in ctx.ref.units for u in co):
        errors["co_units"] = "a non-empty list of known unit codes"
    elif lead in co:
        errors["co_units"] = "the lead unit is not also a co-responsible unit"
    if errors:
        raise CommandInvalid(errors)
    assert isinstance(lead, str)
    case.mode = "consultation"
    consultation = ev.ConsultationData(lead=lead, co_units=list(co))
    case.consultation = dict(consultation)
    _dispatch(
        case,
        ctx,
        ctx.ref.units[lead].tier,
        lead,
        ev.CONSULTATION,
        reason=_reason(p, "consult"),
        data=consultation,
    )


def act_reassign(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    _require(case, "reassign", _ACTIVE, "only a case being handled is reassigned")
    unit = p.get("unit")
    if not isinstance(unit, str) or unit not in ctx.ref.units:
        raise CommandInvalid({"unit": f"unknown unit {unit!r}"})
    if unit == case.unit_code:
        raise TransitionRefused("reassign", case.status, "the case is already with that unit")
    _dispatch(
        case,
        ctx,
        ctx.ref.units[unit].tier,
        unit,
        ev.REASSIGNED,
        reason=_reason(p, "reassign"),
    )


def act_return(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    """退回: a handler says the case is not theirs; it goes back to the township centre of its
    grid (the dispatcher there routes it again), with the reason and a fresh allowance."""
    _require(case, "return", _ACTIVE, "only a case being handled is returned")
    reason = _reason(p, "return")
    if case.grid_code is None:
        raise TransitionRefused("return", case.status, "the case has no grid: nobody to return to")
    unit = ctx.ref.unit_for(case.grid_code, Tier.TOWNSHIP, case.category)
    if unit == case.unit_code:
        raise TransitionRefused(
            "return", case.status, "the township centre reassigns the case instead"
        )
    _dispatch(case, ctx, Tier.TOWNSHIP, unit, ev.RETURNED, reason=reason)


def act_instruct(case: CaseState, ctx: Ctx, p: dict[str, Any]) -> None:
    """批示: a leader's instruction, recorded on the case; no state change."""
    if case.status in (Status.CLOSED, Status.CANCELLED):
        raise TransitionRefused("instruct", case.status, "the case is finished")
    text = _text(p, "text")
    if not isinstance(text, str) or not text.strip():
        raise CommandInvalid({"text": "required, the instruction's text"})
    ctx.record(
        case,
        ev.INSTRUCTED,
        reason=text.strip(),
    )


def _reason(p: dict[str, Any], action: str) -> str:
    reason = _text(p, "reason")
    if not reason:
        raise CommandInvalid({"reason": f"{action} needs a reason"})
    return reason


def _text(p: dict[str, Any], key: str, limit: int = 2000) -> str | None:
    """An optional text parameter: a string of at most ``limit`` characters, or absent."""
    value = p.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit or "\x00" in value:
        raise CommandInvalid({key: f"a text of at most {limit} characters"})
    return value.strip() or None


class Action(StrEnum):
    """Actions a person or integration may ask for through ``POST /cases/{id}/actions``."""

    ACCEPT = "accept"
    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    RESOLVE = "resolve"
    RATE = "rate"
    REVISIT = "revisit"
    CLOSE = "close"
    CANCEL = "cancel"
    ESCALATE = "escalate"
    REQUEST_ESCALATION = "request_escalation"
    CONSULT = "consult"
    REASSIGN = "reassign"
    RETURN = "return"
    INSTRUCT = "instruct"


ACTIONS: dict[str, Callable[[CaseState, Ctx, dict[str, Any]], None]] = {
    "dispatch": act_dispatch,
    Action.ACCEPT.value: act_accept,
    Action.START.value: act_start,
    Action.PAUSE.value: act_pause,
    Action.RESUME.value: act_resume,
    Action.RESOLVE.value: act_resolve,
    Action.RATE.value: act_rate,
    Action.REVISIT.value: act_revisit,
    Action.CLOSE.value: act_close,
    Action.CANCEL.value: act_cancel,
    Action.ESCALATE.value: act_escalate,
    Action.REQUEST_ESCALATION.value: act_request_escalation,
    Action.CONSULT.value: act_consult,
    Action.REASSIGN.value: act_reassign,
    Action.RETURN.value: act_return,
    Action.INSTRUCT.value: act_instruct,
    "attach": act_attach,
    "close_imported": act_close_imported,
}


def apply_action(case: CaseState, ctx: Ctx, action: str, params: dict[str, Any]) -> None:
    fn = ACTIONS.get(action)
    if fn is None:
        raise CommandInvalid({"action": "must be one of " + ", ".join(sorted(ACTIONS))})
    fn(case, ctx, params)


# ----------------------------------------------------------------------------- the clock


def apply_clock(case: CaseState, ctx: Ctx) -> None:
    """Fire every milestone now due: reminder, warning, overdue and auto-escalation."""
    tier_before = case.tier
    for m in ctx.clock.fire(case, ctx.now):
        if m is Milestone.REMINDER:
            ctx.record(
                case,
                ev.REMINDED,
                actor="clock",
                data=ev.DeadlineData(due_at=_iso(case.due_at)),
            )
        elif m is Milestone.WARNING:
            ctx.record(
                case,
                ev.WARNED,
                actor="clock",
                data=ev.DeadlineData(due_at=_iso(case.due_at)),
            )
        else:
            _overdue(case, ctx)
            if case.tier != tier_before:
                return  # escalated: the new tier's clock starts afresh


def _overdue(case: CaseState, ctx: Ctx) -> None:
    tier = case.tier or Tier.GRID
    case.add_overdue_tier(tier)
    ctx.emit(
        case,
        ev.OVERDUE,
        from_status=case.status,
        from_unit=case.unit_code,
        from_tier=tier,
        actor="clock",
        data=ev.DeadlineData(due_at=_iso(case.due_at)),
    )
    up = _TIERS[tier].next_up()
    rule = ctx.clock.rule_for(case)
    if up is not None and rule.auto_escalate and case.grid_code is not None:
        escalate(
            case, ctx, f"auto-escalation: overdue at {tier}", EscalatedData(by="clock"), "clock"
        )
    elif up is None:
        ctx.emit(
            case,
            ev.LEADER_NOTIFIED,
            from_status=case.status,
            from_unit=case.unit_code,
            from_tier=tier,
            actor="clock",
            reason="overdue at the top tier",
        )


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt else None
