"""SQL schema: the source of truth. SQLAlchemy Core tables, shared by SQLite and PostgreSQL.

Core (not the ORM) because the engine writes tens of thousands of rows a second in batches;
the API and reports read through the same tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

#: Integer primary keys: BIGINT on PostgreSQL, the rowid alias on SQLite.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (the same on both backends)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # pragma: no cover - raw SQL on SQLite
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)


# ---------------------------------------------------------------- reference data

areas = Table(
    "areas",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", String(32), nullable=True, index=True),
    Column("lon", Float, nullable=True),
    Column("lat", Float, nullable=True),
)

units = Table(
    "units",
    metadata,
    Column("code", String(48), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("area_code", String(32), nullable=False),
    Column("kind", String(16), nullable=False),
)

staff = Table(
    "staff",
    metadata,
    Column("staff_id", String(32), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("role", String(32), nullable=False),
    Column("unit_code", String(48), nullable=False, index=True),
    Column("grid_code", String(32), nullable=True),
    Column("phone", String(20), nullable=True),
)

categories = Table(
    "categories",
    metadata,
    Column("code", String(48), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("name_en", String(100), nullable=False),
    Column("whistle_class", String(32), nullable=False),
    Column("owner_unit", String(48), nullable=False),
    Column("default_tier", String(16), nullable=False),
    Column("complexity", String(16), nullable=False),
    Column("major", Boolean, nullable=False),
    Column("keywords", Text, nullable=False, default=""),
)

settings_kv = Table(
    "settings_kv",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# ---------------------------------------------------------------- cases

cases = Table(
    "cases",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("ref", String(80), nullable=False, unique=True),
    Column("reported_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("category", String(48), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("complexity", String(16), nullable=False),
    Column("mode", String(16), nullable=False, default="normal"),
    Column("grid_code", String(32), nullable=True),
    Column("township_code", String(32), nullable=True),
    Column("county_code", String(32), nullable=True),
    Column("address", String(300), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("description", Text, nullable=False),
    Column("reporter", String(100), nullable=True),
    Column("status", String(16), nullable=False),
    Column("prev_status", String(16), nullable=True),
    Column("tier", String(16), nullable=True),
    Column("unit_code", String(48), nullable=True),
    Column("holder", String(32), nullable=True),
    Column("stage_started_at", UTCDateTime, nullable=True),
    Column("status_changed_at", UTCDateTime, nullable=False),
    # deadline clock of the current tier
    Column("allowance", String(16), nullable=True),
    Column("budget_seconds", Float, nullable=True),
    Column("used_seconds", Float, nullable=False, default=0.0),
    Column("segment_started_at", UTCDateTime, nullable=True),
    Column("reminder_at", UTCDateTime, nullable=True),
    Column("warning_at", UTCDateTime, nullable=True),
    Column("due_at", UTCDateTime, nullable=True),
    Column("next_due_at", UTCDateTime, nullable=True),
    Column("next_milestone", String(16), nullable=True),
    Column("colour", String(8), nullable=False, default="green"),
    Column("overdue_tiers", String(64), nullable=False, default=""),
    Column("escalations", Integer, nullable=False, default=0),
    Column("reopen_count", Integer, nullable=False, default=0),
    Column("consultation", JSON, nullable=True),
    Column("completed_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("rating", String(16), nullable=True),
    Column("duplicate_count", Integer, nullable=False, default=1),
    # what an imported record said, kept beside the mapped values
    Column("source", String(16), nullable=True),
    Column("source_channel", String(64), nullable=True),
    Column("source_type", String(100), nullable=True),
    Column("event_count", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=1),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(
        "ix_cases_next_due_at",
        "next_due_at",
        sqlite_where=text("next_due_at IS NOT NULL"),
        postgresql_where=text("next_due_at IS NOT NULL"),
    ),
    Index("ix_cases_status_tier", "status", "tier"),
    Index("ix_cases_unit_code", "unit_code"),
    Index("ix_cases_township_code", "township_code"),
    Index("ix_cases_reported_at", "reported_at"),
)

case_events = Table(
    "case_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # no foreign key: the engine writes a case and its events in one transaction (migration 0003)
    Column("case_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(32), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=True),
    Column("from_unit", String(48), nullable=True),
    Column("to_unit", String(48), nullable=True),
    Column("from_tier", String(16), nullable=True),
    Column("to_tier", String(16), nullable=True),
    Column("reason", Text, nullable=True),
    Column("data", JSON, nullable=True),
    Index("uq_case_events_case_id_seq", "case_id", "seq", unique=True),
    Index("ix_case_events_actor_at", "actor", "at"),  # a person's own record (/work/me)
)

#: Commands already applied: redelivered stream entries are recognised and skipped.
processed_commands = Table(
    "processed_commands",
    metadata,
    Column("command_id", String(64), primary_key=True),
    Column("applied_at", UTCDateTime, nullable=False),
)

#: How far the engines have applied each partition of the command stream, and the epoch of
#: the lease under which that was committed: a commit under an older epoch is refused.
stream_partitions = Table(
    "stream_partitions",
    metadata,
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("epoch", BigInteger, nullable=False),
    Column("position", String(48), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    # what the key may do (backend/auth/permissions.py, KEY_PERMISSIONS) and the area it sees
    Column("permissions", JSON, nullable=True),
    Column("area_code", String(32), nullable=True),
)

# ---------------------------------------------------------------- people (issue 11)

#: Local accounts. Passwords are argon2 hashes; a run of wrong passwords locks the account for
#: a while; ``active`` false keeps the row (and what it signed) but refuses the login.
users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(64), nullable=False),
    Column("password_hash", String(200), nullable=True),  # None: single sign-on only
    Column("role", String(32), nullable=False),
    Column("area_code", String(32), nullable=True),  # None: the whole city
    Column("units", JSON, nullable=True),  # a handler's units
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_changed_at", UTCDateTime, nullable=True),
    Column("oidc_subject", String(200), nullable=True, unique=True),
)

#: Signed-in sessions, durable: Redis holds them for speed (backend/auth/sessions.py), this
#: table decides when Redis is away or has lost them, so a wall stays signed in across a
#: Redis restart and an ended session stays ended. Only a digest of the session id is kept.
sessions = Table(
    "sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
)

#: Append-only: logins, refusals, actions, exports and views of personal data. Never updated.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(64), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("target", String(100), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("detail", JSON, nullable=True),
)

# ---------------------------------------------------------------- intake (issue 5)

#: Every report that reached gridwatch, whatever the channel: the first report of a case, each
#: duplicate attached to it, and what waits for a person to triage. Kept apart from ``cases`` so
#: the engine's hot table stays narrow; the case keeps the count (``duplicate_count``).
case_reports = Table(
    "case_reports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=True, index=True),
    Column("received_at", UTCDateTime, nullable=False),
    Column("channel", String(16), nullable=False),
    # case: opened a case · attached: a duplicate of an open case · triage: waits for a person
    # · rejected: a person decided it is no case
    Column("state", String(16), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("reporter", String(100), nullable=True),
    Column("grid_code", String(32), nullable=True),
    Column("address", String(300), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("source_ref", String(80), nullable=True),
    Column("token_hash", String(64), nullable=True, unique=True),
    Column("parse", JSON, nullable=True),
    Column("reason", Text, nullable=True),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("decided_by", String(64), nullable=True),
    # the digest of the key a retry repeats (REST ref, hotline order number, Idempotency-Key
    # header, with the sender): the same key answers with what the first report became
    Column("idem_key", String(64), nullable=True, unique=True),
)

#: Photos citizens sent with a report, in SQL so every web process serves the same bytes.
report_photos = Table(
    "report_photos",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("report_id", BigInteger, ForeignKey("case_reports.id"), nullable=False, index=True),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

#: Photos a handler sent with a resolution (/work): what was done, shown with the case.
resolution_photos = Table(
    "resolution_photos",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("case_id", BigInteger, nullable=False, index=True),
    Column("actor", String(64), nullable=False),
    Column("content_type", String(32), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# ---------------------------------------------------------------- leader drill-down projections
# Read-side tables the leader screens query instead of scanning the event log per click. They
# are derived from ``case_events`` (backend/domain/stages.py) and can be rebuilt from it at any
# time; the engine never writes them, so they cost its hot path nothing.

#: One row per stage of a case: the time between being handed to a unit at a tier and leaving
#: it (completed, escalated, reassigned, cancelled), or still open.
drill_stages = Table(
    "drill_stages",
    metadata,
    Column("case_id", BigInteger, primary_key=True, autoincrement=False),
    Column("stage_no", Integer, primary_key=True, autoincrement=False),
    Column("day", Date, nullable=False),  # local date the case was reported
    Column("grid_code", String(32), nullable=True),
    Column("township_code", String(32), nullable=True),
    Column("county_code", String(32), nullable=True),
    Column("category", String(48), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("tier", String(16), nullable=False),
    Column("unit_code", String(48), nullable=False),
    Column("start_event", String(32), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime, nullable=True),
    Column("end_kind", String(16), nullable=False),
    Column("dwell_seconds", Float, nullable=True),
    Column("bin", Integer, nullable=True),
    #: seconds from the stage's start to its deadline (where it went overdue, or the policy's)
    Column("due_seconds", Float, nullable=True),
    Column("next_tier", String(16), nullable=True),
    Column("overdue_at", UTCDateTime, nullable=True),
    Column("reminders", Integer, nullable=False, default=0),
    Column("warnings", Integer, nullable=False, default=0),
    Index("ix_drill_stages_day", "day"),
    Index("ix_drill_stages_unit_code", "unit_code"),
)

#: The overdue risk of each open case, recomputed in the background (backend/drill/risk.py).
drill_case_risk = Table(
    "drill_case_risk",
    metadata,
    Column("case_id", BigInteger, primary_key=True, autoincrement=False),
    Column("p_miss", Float, nullable=False),
    Column("basis", String(16), nullable=False),
    #: how many similar past stages the basis group had still running at the same point
    Column("n_similar", Integer, nullable=True),
    #: a risk belongs to the stage that was running then: it is shown only while the case's
    #: present stage began before this (queries/risk_bands.py, queries/grid.py)
    Column("computed_at", UTCDateTime, nullable=False),
    Index("ix_drill_case_risk_p_miss", "p_miss"),
)

#: Where each projection stands: the last event id folded in, and when.
drill_state = Table(
    "drill_state",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False, default=0),
    #: events found just below the watermark, to notice ids that commit late (projection.py)
    Column("window_count", BigInteger, nullable=False, default=0),
    Column("refreshed_at", UTCDateTime, nullable=True),
)

#: The city's cases summed by the local day they were reported, per unit, category, channel and
#: current tier (``dim``/``key``; ``dim`` "all" has key ""), kept by backend/drill/days.py so a
#: report or assessment of any period is a sum over its days. Only the figures that change with
#: the case rows (events) are kept; those that change with the clock alone (overdue now) are
#: counted live over the period's open cases. ``closes``: the exact times to close (microseconds,
#: comma-separated) of the cases completed, the day's histogram the medians are taken from.
drill_days = Table(
    "drill_days",
    metadata,
    Column("day", Date, primary_key=True),
    Column("dim", String(8), primary_key=True),
    Column("key", String(48), primary_key=True),
    Column("total", Integer, nullable=False, default=0),
    Column("cancelled", Integer, nullable=False, default=0),
    Column("closed", Integer, nullable=False, default=0),
    Column("on_time", Integer, nullable=False, default=0),
    Column("rated", Integer, nullable=False, default=0),
    Column("satisfied", Integer, nullable=False, default=0),
    Column("escalated_cases", Integer, nullable=False, default=0),
    #: cases recorded overdue at one tier or more (``rules.went_overdue`` without "now")
    Column("tiered", Integer, nullable=False, default=0),
    #: the unit's stages (``drill_stages``) and those that ended with the case moved up
    Column("stages", Integer, nullable=False, default=0),
    Column("moved_up", Integer, nullable=False, default=0),
    Column("closes", Text, nullable=True),
)

#: ``drill_days`` summed by calendar month (its first day), kept with it: a month's report or
#: assessment reads its 12,000 rows instead of summing 85,000 days' rows (backend/drill/days.py)
drill_months = Table(
    "drill_months",
    metadata,
    Column("month", Date, primary_key=True),
    Column("dim", String(8), primary_key=True),
    Column("key", String(48), primary_key=True),
    *(
        Column(c.name, Integer, nullable=False, default=0)
        for c in drill_days.columns
        if isinstance(c.type, Integer)
    ),
    Column("closes", Text, nullable=True),
)

#: Periodic reports and assessments as computed at one instant (backend/drill/snapshots.py).
report_snapshots = Table(
    "report_snapshots",
    metadata,
    Column("what", String(16), primary_key=True),  # "report" | "assessment"
    Column("kind", String(16), primary_key=True),  # daily | dekad | monthly
    Column("period_start", Date, primary_key=True),
    Column("scope", String(64), primary_key=True),  # "city" or "<level>:<area code>"
    Column("as_of", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),  # the figures, JSON
)

# ---------------------------------------------------------------- service halls (issue 12)

#: Halls, their windows (with the services they serve), staff and daily shifts: reference data.
halls = Table(
    "halls",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("township_code", String(32), nullable=False),
    Column("county_code", String(32), nullable=False),
    Column("hours", String(64), nullable=False),
)

hall_windows = Table(
    "hall_windows",
    metadata,
    Column("hall_code", String(32), primary_key=True),
    Column("code", String(16), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("services", Text, nullable=False, default=""),  # 事项, joined by "|"
)

hall_staff = Table(
    "hall_staff",
    metadata,
    Column("staff_id", String(48), primary_key=True),
    Column("name", String(50), nullable=False),
    Column("hall_code", String(32), nullable=False, index=True),
    Column("window_code", String(16), nullable=False),
    Column("phone", String(20), nullable=True),
)

hall_shifts = Table(
    "hall_shifts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("staff_id", String(48), nullable=False),
    Column("hall_code", String(32), nullable=False, index=True),
    Column("window_code", String(16), nullable=False),
    Column("start_time", String(5), nullable=False),
    Column("end_time", String(5), nullable=False),
)

#: Every hall event received, once (its id is the sender's): the idempotency and the record.
hall_events = Table(
    "hall_events",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("hall_code", String(32), nullable=False),
    Column("window_code", String(16), nullable=True),
    Column("type", String(24), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("data", JSON, nullable=True),
    Index("ix_hall_events_hall_code_at", "hall_code", "at"),
)

#: Each hall's live state (windows, queue, camera) as the processor last committed it.
hall_state = Table(
    "hall_state",
    metadata,
    Column("hall_code", String(32), primary_key=True),
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

#: Alerts: one row per alert (repeats of the same condition grouped into it).
hall_alerts = Table(
    "hall_alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(120), nullable=False, index=True),  # rule|hall|window
    Column("rule", String(32), nullable=False),
    Column("hall_code", String(32), nullable=False, index=True),
    Column("window_code", String(16), nullable=True),
    Column("state", String(16), nullable=False, index=True),  # open | acknowledged | resolved
    Column("level", Integer, nullable=False, default=0),  # escalations so far
    Column("count", Integer, nullable=False, default=1),  # times the condition was raised
    Column("opened_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("acked_at", UTCDateTime, nullable=True),
    Column("acked_by", String(64), nullable=True),
    Column("note", Text, nullable=True),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("case_ref", String(80), nullable=True),
    Column("snapshot_url", String(500), nullable=True),
    Column("detail", JSON, nullable=True),
)

#: Every change of every alert, appended only (the database refuses updates and deletes).
hall_alert_events = Table(
    "hall_alert_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert_id", BigInteger, nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("type", String(16), nullable=False),
    Column("actor", String(64), nullable=False),
    Column("note", Text, nullable=True),
    Column("data", JSON, nullable=True),
)

#: Planned closures: no alert of ``rule`` (any when null) for the hall (window) in the span.
hall_silences = Table(
    "hall_silences",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("hall_code", String(32), nullable=False),
    Column("window_code", String(16), nullable=True),
    Column("rule", String(32), nullable=True),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(64), nullable=False),
)
