"""One spec per event type of the case event log: what the event carries and what it means to
every reader.

The state machine (``transitions``) emits events through their spec, with the payload the spec
types; every consumer reads the spec instead of keeping its own table of event types: the
stage projection (does the event start a stage, end one, mark its deadline?), the wall's ticker
(which word), the leader's case page (the tone of its marker), the citizen's tracking page
(is it shown, with which unit, reason or rating) and the translation table (its keys). A type
without a spec is an error wherever it is read (``spec_of``), and a test holds every
``EventType`` to a spec and every spec's keys to the translation table.

Adding an event type: a member of ``EventType``, its spec below (and payload, if any), its
translation keys in ``backend/core/i18n.py``.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, Literal, TypedDict, TypeVar


class EventType(StrEnum):
    """Every row of the append-only case event log has one of these."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    STARTED = "started"
    PAUSED = "paused"
    RESUMED = "resumed"
    RESOLVED = "resolved"
    RATED = "rated"
    REVISITED = "revisited"
    REOPENED = "reopened"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    ESCALATED = "escalated"
    CONSULTATION = "consultation"
    REASSIGNED = "reassigned"
    RETURNED = "returned"
    INSTRUCTED = "instructed"
    REMINDED = "reminded"
    WARNED = "warned"
    OVERDUE = "overdue"
    LEADER_NOTIFIED = "leader_notified"
    DUPLICATE_ATTACHED = "duplicate_attached"


class StageEffect(StrEnum):
    """What an event does to the *stage* it happens in (the time a case spends with one unit
    at one tier; ``backend/domain/stages.py`` projects them)."""

    NONE = "none"
    START = "start"  # handed to a unit with a fresh allowance: a new stage begins
    COMPLETE = "complete"  # handling completed at this unit
    CANCEL = "cancel"
    OVERDUE = "overdue"  # the stage's deadline passed
    REMIND = "remind"
    WARN = "warn"


class StageEnd(StrEnum):
    """How a stage ended (``drill_stages.end_kind``)."""

    COMPLETED = "completed"  # resolved at this unit (办结)
    OVERDUE = "overdue"  # the deadline passed and the clock moved it up (自动跳级)
    ESCALATED = "escalated"  # moved up by hand or at the handler's request
    REASSIGNED = "reassigned"
    CONSULTATION = "consultation"
    CANCELLED = "cancelled"
    OPEN = "open"  # still with the unit


class Tone(StrEnum):
    """The colour of an event's marker on the leader's case page (a Bootstrap colour)."""

    PRIMARY = "primary"
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ORANGE = "orange"
    DANGER = "danger"
    DARK = "dark"
    SECONDARY = "secondary"


class Ticker(StrEnum):
    """The words of the wall's ticker (新受理, 升级, 超期, 办结)."""

    NEW = "new"
    ESCALATED = "escalated"
    OVERDUE = "overdue"
    CLOSED = "closed"

    @property
    def label_key(self) -> str:
        return f"event_{self.value}"


# ----------------------------------------------------------------------------- payloads

EscalatedBy = Literal["clock", "hand", "handler request"]


class ReportedData(TypedDict):
    channel: str


class AcceptedData(TypedDict):
    holder: str


class ResolvedData(TypedDict):
    on_time: bool


class RatedData(TypedDict):
    rating: str


class RevisitedData(TypedDict):
    result: str


class ReopenedData(TypedDict):
    reopen_count: int


class _ClosedImportFields(TypedDict):
    time_known: bool


class ClosedImportData(_ClosedImportFields, total=False):
    """An imported record closed in its source system; ``time_known`` false: no close time;
    ``rating``: the citizen's rating the source recorded, when it did."""

    rating: str


class EscalatedData(TypedDict):
    by: EscalatedBy


class ConsultationData(TypedDict):
    lead: str
    co_units: list[str]


class DuplicateData(TypedDict):
    channel: str | None
    reports: int


class DeadlineData(TypedDict):
    """The deadline a reminder, warning or overdue was counted to (ISO 8601)."""

    due_at: str | None


P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Citizen:
    """How an event appears on the citizen's tracking page (no staff names, no clock)."""

    unit: bool = False  # names the unit it went to
    reason: bool = False  # shows the reason (what was done)


@dataclass(frozen=True)  # no slots: a subscripted call (EventSpec[X](…)) sets __orig_class__
class EventSpec(Generic[P]):
    """Everything gridwatch knows about one event type. ``P`` is its payload (``data``)."""

    type: EventType
    tone: Tone
    payload: builtins.type[Any] | None = None
    stage: StageEffect = StageEffect.NONE
    #: for a stage start: how the stage still open before it ends
    ends_open_stage: Callable[[Mapping[str, Any]], StageEnd] | None = None
    citizen: Citizen | None = None  # None: not shown to citizens
    ticker: Ticker | None = None
    #: the payload field that holds a citizen's rating, if any
    rating_field: str | None = None

    @property
    def label_key(self) -> str:
        """Translation key of its name on the leader's screens (受理, 分拨, 升级 …)."""
        return f"ev_{self.type.value}"

    @property
    def citizen_key(self) -> str | None:
        """Translation key of its line on the citizen's tracking page."""
        return f"track_ev_{self.type.value}" if self.citizen is not None else None


def _escalation_end(event: Mapping[str, Any]) -> StageEnd:
    return StageEnd.OVERDUE if escalated_by(event) == "clock" else StageEnd.ESCALATED


def _always(end: StageEnd) -> Callable[[Mapping[str, Any]], StageEnd]:
    return lambda _event: end


REPORTED = EventSpec[ReportedData](
    EventType.REPORTED,
    Tone.PRIMARY,
    ReportedData,
    citizen=Citizen(),
    ticker=Ticker.NEW,
)
DISPATCHED = EventSpec[None](
    EventType.DISPATCHED,
    Tone.PRIMARY,
    stage=StageEffect.START,
    # a case is dispatched once, from triage; a second dispatch would send it elsewhere
    ends_open_stage=_always(StageEnd.REASSIGNED),
    citizen=Citizen(unit=True),
)
ACCEPTED = EventSpec[AcceptedData](
    EventType.ACCEPTED, Tone.SECONDARY, AcceptedData, citizen=Citizen(unit=True)
)
STARTED = EventSpec[None](EventType.STARTED, Tone.SECONDARY, citizen=Citizen())
PAUSED = EventSpec[None](EventType.PAUSED, Tone.SECONDARY, citizen=Citizen())
RESUMED = EventSpec[None](EventType.RESUMED, Tone.SECONDARY, citizen=Citizen())
RESOLVED = EventSpec[ResolvedData](
    EventType.RESOLVED,
    Tone.SUCCESS,
    ResolvedData,
    stage=StageEffect.COMPLETE,
    citizen=Citizen(reason=True),
    ticker=Ticker.CLOSED,
)
RATED = EventSpec[RatedData](
    EventType.RATED, Tone.INFO, RatedData, citizen=Citizen(), rating_field="rating"
)
REVISITED = EventSpec[RevisitedData](
    EventType.REVISITED, Tone.INFO, RevisitedData, citizen=Citizen(), rating_field="result"
)
REOPENED = EventSpec[ReopenedData](
    EventType.REOPENED,
    Tone.DANGER,
    ReopenedData,
    stage=StageEffect.START,
    # reopened after completion, so no stage is open; were one, it went to another unit
    ends_open_stage=_always(StageEnd.REASSIGNED),
    citizen=Citizen(),
)
CLOSED = EventSpec[ClosedImportData | None](
    EventType.CLOSED, Tone.SUCCESS, ClosedImportData, citizen=Citizen()
)
CANCELLED = EventSpec[None](
    EventType.CANCELLED, Tone.SECONDARY, stage=StageEffect.CANCEL, citizen=Citizen()
)
ESCALATED = EventSpec[EscalatedData](
    EventType.ESCALATED,
    Tone.WARNING,
    EscalatedData,
    stage=StageEffect.START,
    ends_open_stage=_escalation_end,
    citizen=Citizen(unit=True),
    ticker=Ticker.ESCALATED,
)
CONSULTATION = EventSpec[ConsultationData](
    EventType.CONSULTATION,
    Tone.SECONDARY,
    ConsultationData,
    stage=StageEffect.START,
    ends_open_stage=_always(StageEnd.CONSULTATION),
    citizen=Citizen(),
)
REASSIGNED = EventSpec[None](
    EventType.REASSIGNED,
    Tone.SECONDARY,
    stage=StageEffect.START,
    ends_open_stage=_always(StageEnd.REASSIGNED),
    citizen=Citizen(unit=True),
)
#: a handler sends a wrongly routed case back to the township centre, which routes it again
RETURNED = EventSpec[None](
    EventType.RETURNED,
    Tone.SECONDARY,
    stage=StageEffect.START,
    ends_open_stage=_always(StageEnd.REASSIGNED),
    citizen=Citizen(unit=True),
)
INSTRUCTED = EventSpec[None](EventType.INSTRUCTED, Tone.DARK)
REMINDED = EventSpec[DeadlineData](
    EventType.REMINDED, Tone.WARNING, DeadlineData, stage=StageEffect.REMIND
)
WARNED = EventSpec[DeadlineData](
    EventType.WARNED, Tone.ORANGE, DeadlineData, stage=StageEffect.WARN
)
OVERDUE = EventSpec[DeadlineData](
    EventType.OVERDUE, Tone.DANGER, DeadlineData, stage=StageEffect.OVERDUE, ticker=Ticker.OVERDUE
)
LEADER_NOTIFIED = EventSpec[None](EventType.LEADER_NOTIFIED, Tone.DANGER)
DUPLICATE_ATTACHED = EventSpec[DuplicateData](
    EventType.DUPLICATE_ATTACHED, Tone.SECONDARY, DuplicateData, citizen=Citizen()
)

SPECS: dict[str, EventSpec[Any]] = {
    s.type.value: s
    for s in (
        REPORTED,
        DISPATCHED,
        ACCEPTED,
        STARTED,
        PAUSED,
        RESUMED,
        RESOLVED,
        RATED,
        REVISITED,
        REOPENED,
        CLOSED,
        CANCELLED,
        ESCALATED,
        CONSULTATION,
        REASSIGNED,
        RETURNED,
        INSTRUCTED,
        REMINDED,
        WARNED,
        OVERDUE,
        LEADER_NOTIFIED,
        DUPLICATE_ATTACHED,
    )
}

#: the event types that start a stage, and the ones the wall's ticker tells
STAGE_START_TYPES: frozenset[str] = frozenset(
    t for t, s in SPECS.items() if s.stage is StageEffect.START
)
TICKER_TYPES: dict[str, Ticker] = {t: s.ticker for t, s in SPECS.items() if s.ticker is not None}


class UnknownEventType(LookupError):
    """An event type no spec describes: a new type added without its spec, or a bad row."""


def spec_of(event_type: str) -> EventSpec[Any]:
    try:
        return SPECS[event_type]
    except KeyError:
        raise UnknownEventType(f"no spec for event type {event_type!r}") from None


# ----------------------------------------------------------------------------- reading payloads


def escalated_by(event: Mapping[str, Any]) -> EscalatedBy:
    """Who moved an escalated case up: the clock (overdue), a person, or a handler's request."""
    data = event.get("data") or {}
    by = data.get("by")
    if by not in ("clock", "hand", "handler request"):
        raise ValueError(f"escalated event without a valid 'by': {data!r}")
    return by  # type: ignore[no-any-return]


def rating_of(event: Mapping[str, Any]) -> str | None:
    """The citizen's rating an event records (a rating or a revisit's answer), if any."""
    field = spec_of(event["type"]).rating_field
    if field is None:
        return None
    value = (event.get("data") or {}).get(field)
    return value if isinstance(value, str) else None


def consultation_of(event: Mapping[str, Any]) -> ConsultationData | None:
    """The lead and co-responsible units of a consultation event."""
    if event["type"] != EventType.CONSULTATION.value or not event.get("data"):
        return None
    data = event["data"]
    return ConsultationData(lead=data.get("lead") or "", co_units=list(data.get("co_units") or []))
