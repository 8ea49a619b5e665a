"""One road into the engine for every intake channel: REST, Open311, hotline and WeChat text,
the QR page, triage decisions.

A report either opens a case, is attached to the open case it repeats (duplicates), or waits
in the triage queue for a person when the channel could not tell what or where it is. Every
report is kept in ``case_reports``; every case change goes through the engine.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from backend.core.errors import CommandInvalid, TransitionRefused
from backend.domain.commands import action_command, create_command
from backend.domain.transitions import validate_new_case
from backend.intake import store
from backend.intake.duplicates import find_duplicate, matter_lock
from backend.intake.photos import Photo
from backend.system import System

#: what a report became
CASE, ATTACHED, TRIAGE, REJECTED = "case", "attached", "triage", "rejected"
#: stored, and on its way to a case (the report is written before the case, so a process
#: that dies in between leaves a report a person can still decide, never a lost one)
RECEIVING = "receiving"


#: the case fields a report carries as its own attributes (beside channel, text, category)
CASE_FIELDS_OF_REPORT = ("grid", "address", "lat", "lon", "reporter", "severity")


@dataclass
class Report:
    """One citizen's (or one system's) report, as a channel understood it."""

    channel: str
    text: str
    category: str | None = None
    grid: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    reporter: str | None = None
    severity: str | None = None
    source_ref: str | None = None  # the channel's own id (hotline order number, …)
    ref: str | None = None  # the case ref an integration asks for (idempotent retries)
    received_at: datetime | None = None
    photos: list[Photo] = field(default_factory=list)
    parse: dict[str, Any] | None = None  # what the text parser found, for the record
    triage: str | None = None  # why a person must decide (then no case is opened yet)
    tracking: bool = False  # give the citizen a tracking link
    dedupe: bool = True
    extra: dict[str, Any] = field(default_factory=dict)  # other case fields (source, …)
    idem_key: str | None = None  # what a retry repeats (see ``idempotency_key``)

    def case_fields(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "category": self.category,
            "description": self.text,
            "channel": self.channel,
        }
        for name in CASE_FIELDS_OF_REPORT:
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        body.update(self.extra)
        return body


@dataclass(frozen=True, slots=True)
class Outcome:
    state: str
    report_id: int
    case_id: int | None
    token: str | None = None
    similarity: float | None = None
    replay: bool = False  # a retry: what an earlier report with the same key became


class Intake:
    def __init__(self, system: System) -> None:
        self.system = system

    # ------------------------------------------------------------------ public

    def submit(self, report: Report, actor: str) -> Outcome:
        """Take one report: open a case, attach it to its duplicate, or queue it for triage.
        Bad fields raise CommandInvalid before anything is stored."""
        now = report.received_at or self.system.clock.now()
        _check_report(report)
        if not report.triage:
            validate_new_case(report.case_fields(), self.system.ref)  # 422 before any write
        earlier = self._earlier(report, actor)
        if earlier is not None:
            return earlier
        token = secrets.token_urlsafe(18) if report.tracking else None
        first = TRIAGE if report.triage else RECEIVING
        try:
            with self.system.db.begin() as conn:
                rid = store.insert_report(conn, self._row(report, now, first, None, token))
                store.insert_photos(conn, rid, report.photos, now)
        except IntegrityError:  # a retry racing the first: the first's key is stored now
            earlier = self._earlier(report, actor)
            if earlier is None:
                raise
            return earlier
        if report.triage:
            return Outcome(TRIAGE, rid, None, token)
        try:
            state, case_id, score = self._route(report, actor, rid)
        except BaseException:
            with self.system.db.begin() as conn:  # refused: the report is no case after all
                store.delete_report(conn, rid)
            raise
        with self.system.db.begin() as conn:
            store.set_state(conn, rid, state=state, case_id=case_id)
        return Outcome(state, rid, case_id, token, score)

    def decide(self, report_id: int, decision: dict[str, Any], actor: str) -> Outcome:
        """A person's triage decision on a waiting report: category (and place) → a case,
        or ``reject`` with a reason."""
        now = self.system.clock.now()
        with self.system.db.begin() as conn:
            row = store.report_by_id(conn, report_id)
            if row is None:
                raise LookupError(report_id)
            if not store.claim_triage(conn, report_id, actor, now, now - STALE):
                raise TransitionRefused("decide", row["state"], "the report was decided already")
            # intake was interrupted after its case was opened: that case is the answer
            opened = store.case_by_ref(conn, _case_ref(None, report_id))
        if opened is not None:
            with self.system.db.begin() as conn:
                store.set_state(conn, report_id, state=CASE, case_id=opened)
            return Outcome(CASE, report_id, opened)
        try:
            reject = decision.get("reject")
            if reject is not None:
                if not isinstance(reject, str) or not reject.strip():
                    raise CommandInvalid({"reject": "the reason, a non-empty text"})
                with self.system.db.begin() as conn:
                    store.set_state(conn, report_id, state=REJECTED, reason=reject.strip()[:2000])
                return Outcome(REJECTED, report_id, None)
            unknown = set(decision) - {"category", "grid", "address", "severity"}
            if unknown:
                raise CommandInvalid({k: "unknown field" for k in sorted(unknown)})
            report = Report(
                channel=row["channel"],
                text=row["text"],
                category=decision.get("category"),
                grid=decision.get("grid") or row["grid_code"],
                address=decision.get("address") or row["address"],
                lat=row["lat"],
                lon=row["lon"],
                reporter=row["reporter"],
                severity=decision.get("severity"),
                received_at=row["received_at"],
            )
            state, case_id, score = self._route(report, actor, report_id)
        except BaseException:
            with self.system.db.begin() as conn:
                store.set_state(conn, report_id, state=TRIAGE, decided_by=None, decided_at=None)
            raise
        with self.system.db.begin() as conn:
            store.set_state(conn, report_id, state=state, case_id=case_id)
        return Outcome(state, report_id, case_id, None, score)

    # ------------------------------------------------------------------ internals

    def _earlier(self, report: Report, actor: str) -> Outcome | None:
        """What a report sent before with the same key (or a case with the same ref) became:
        a retry's answer. A first report still on its way is waited for, then finished here
        if it was interrupted (its commands carry its id, so they take effect once)."""
        digest = store.idem_digest(report.idem_key) if report.idem_key else None
        deadline = time.monotonic() + RETRY_WAIT
        while True:
            with self.system.db.connect() as conn:
                row = store.report_by_idem(conn, digest) if digest else None
                if row is None:
                    case_id = store.case_by_ref(conn, report.ref) if report.ref else None
                    if case_id is None:
                        return None
                    return Outcome(CASE, store.first_report_of(conn, case_id), case_id, replay=True)
            if row["state"] != RECEIVING or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        rid = int(row["id"])
        token = self._new_token(rid) if report.tracking else None
        if row["state"] == RECEIVING:
            state, case_id, score = self._route(report, actor, rid)
            with self.system.db.begin() as conn:
                store.set_state(conn, rid, state=state, case_id=case_id)
            return Outcome(state, rid, case_id, token, score, replay=True)
        return Outcome(row["state"], rid, row["case_id"], token, replay=True)

    def _new_token(self, rid: int) -> str:
        """A fresh tracking link for a citizen who sent the form again (the first answer
        never reached them; only a digest of the first link is kept)."""
        token = secrets.token_urlsafe(18)
        with self.system.db.begin() as conn:
            store.set_state(conn, rid, token_hash=store.token_digest(token))
        return token

    def _route(self, report: Report, actor: str, rid: int) -> tuple[str, int, float | None]:
        """Open a case for report ``rid`` or attach it to its duplicate. The commands carry
        the report's id, so doing it again after an interruption takes effect once."""
        system = self.system
        fields_in = validate_new_case(report.case_fields(), system.ref)
        grid = fields_in["grid"] or system.ref.locate(
            fields_in["lat"], fields_in["lon"], fields_in["address"]
        )
        if not (report.dedupe and grid):
            return CASE, self._create(report, actor, rid), None
        settings = system.settings
        with matter_lock(system.redis, system.keys, grid, fields_in["category"]):
            with system.db.connect() as conn:
                match = find_duplicate(
                    conn,
                    grid=grid,
                    category=fields_in["category"],
                    text=report.text,
                    at=report.received_at or system.clock.now(),
                    window=timedelta(hours=settings.duplicate_window_hours),
                    threshold=settings.duplicate_similarity,
                )
            if match is not None:
                cmd = action_command(
                    "attach",
                    {"channel": report.channel, "reason": report.text[:300]},
                    case_id=match.case_id,
                    actor=actor,
                    at=report.received_at,
                    command_id=f"attach-report-{rid}",
                )
                r = system.engine.apply([cmd]).results[0]
                if r.ok:
                    return ATTACHED, match.case_id, match.score
                if not isinstance(r.error, TransitionRefused):  # closed meanwhile: a new case
                    assert r.error is not None
                    raise r.error
            return CASE, self._create(report, actor, rid), None

    def _create(self, report: Report, actor: str, rid: int) -> int:
        ref = _case_ref(report.ref, rid)
        cmd = create_command(
            report.case_fields(),
            actor=actor,
            ref=ref,
            at=report.received_at,
            command_id=f"create-report-{rid}",
        )
        r = self.system.engine.apply([cmd]).results[0]
        if not r.ok:
            assert r.error is not None
            raise r.error
        if r.case_id is None:  # applied before (an interrupted intake): the case is there
            with self.system.db.connect() as conn:
                found = store.case_by_ref(conn, ref)
            assert found is not None
            return found
        return r.case_id

    @staticmethod
    def _row(
        report: Report, now: datetime, state: str, case_id: int | None, token: str | None
    ) -> dict[str, Any]:
        return {
            "case_id": case_id,
            "received_at": now,
            "channel": report.channel,
            "state": state,
            "text": report.text,
            "reporter": report.reporter,
            "grid_code": report.grid,
            "address": report.address,
            "lat": report.lat,
            "lon": report.lon,
            "source_ref": report.source_ref,
            "token_hash": store.token_digest(token) if token else None,
            "parse": report.parse,
            "reason": report.triage,
            "idem_key": store.idem_digest(report.idem_key) if report.idem_key else None,
        }


#: how long a retry waits for the first report with its key to become a case
RETRY_WAIT = 5.0

#: a report still receiving or being decided after this long was interrupted: it goes back
#: to the triage queue, where a person sees it
STALE = timedelta(minutes=5)


def _case_ref(asked: str | None, rid: int) -> str:
    """The case's ref: the integration's own (idempotent retries), else the report's."""
    return asked or f"report-{rid}"


def _check_report(report: Report) -> None:
    """What every report needs, even one that waits for triage."""
    errors: dict[str, str] = {}
    if not isinstance(report.text, str) or not report.text.strip():
        errors["description"] = "required, a non-empty text"
    elif len(report.text) > 4000 or "\x00" in report.text:
        errors["description"] = "at most 4000 characters"
    for name, limit in (("reporter", 100), ("address", 300), ("source_ref", 80)):
        value = getattr(report, name)
        if value is not None and (not isinstance(value, str) or len(value) > limit):
            errors[name] = f"a text of at most {limit} characters"
    if errors:
        raise CommandInvalid(errors)
