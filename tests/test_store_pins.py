"""Pins of the hand-kept mirrors of the ``cases`` and ``case_events`` tables.

``CaseState`` (domain/case.py) mirrors ``cases`` column for column, and store/fastsql.py writes
and reads both tables on the DBAPI cursor, by position, with its own per-dialect converters.
Nothing but these tests ties them to the models (store/models.py): a column added to the model
without the dataclass, a field made optional on one side only, a datetime or JSON column the
converters do not know, or a delta field that is no case field fails here, not in production.
The round trips run on the database of the run (SQLite, or PostgreSQL with ``DATABASE_URL``),
at the schema the migrations build.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    Interval,
    MetaData,
    String,
    Table,
    inspect,
    select,
    text,
)
from sqlalchemy.types import TypeDecorator

from backend.core.errors import VersionConflict
from backend.deadlines.policy import policy_from_setting
from backend.deadlines.sla import DeadlineClock
from backend.deadlines.workcalendar import WorkCalendar
from backend.domain.case import CASE_FIELDS, CaseState
from backend.domain.transitions import Ctx, apply_action, apply_clock, new_case, validate_new_case
from backend.engine.delta import DELTA_FIELDS, delta
from backend.refdata.index import RefIndex
from backend.store.fastsql import EVENT_FIELDS, IMMUTABLE, MUTABLE, CaseSQL, binary_copy
from backend.store.models import UTCDateTime, case_events, cases
from tests.conftest import local

#: Fields optional in ``CaseState`` whose column is NOT NULL, and why that is meant.
OPTIONAL_NOT_NULL = {
    "id": "None until the database gives the new case its id (insert_cases)",
    "updated_at": "a default so a probe case (deadlines/stage_due.py) needs none; new_case sets it",
}


# ------------------------------------------------------------------------------ the checker


def _annotation_parts(tp: Any) -> tuple[bool, Any]:
    """(optional?, the type without None) of a field's annotation."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = typing.get_args(tp)
        rest = [a for a in args if a is not type(None)]
        assert len(rest) == 1, f"a union of several types: {tp}"
        return len(rest) < len(args), rest[0]
    return False, tp


def python_type(col: Column[Any]) -> type:
    """The Python type a column holds (SQLAlchemy says ``object`` for a decorator and JSON)."""
    t = col.type
    if isinstance(t, TypeDecorator):
        t = t.impl_instance
    if isinstance(t, JSON):
        return dict
    return t.python_type


def _column_default(col: Column[Any]) -> Any:
    d = col.default
    if d is None or not getattr(d, "is_scalar", False):
        return dataclasses.MISSING
    return getattr(d, "arg", None)


def mirror_problems(table: Table, cls: type, optional_not_null: frozenset[str]) -> list[str]:
    """Every way the dataclass ``cls`` fails to mirror ``table``; empty when it does.

    Names and order; a field optional exactly where its column is nullable (but for the
    ``optional_not_null`` exceptions); the field's type the column's Python type; a field's
    default on a NOT NULL column the column's default.
    """
    cols = [c.name for c in table.columns]
    fields = dataclasses.fields(cls)
    names = [f.name for f in fields]
    problems: list[str] = []
    if names != cols:
        problems.append(
            f"fields {names} are not the columns {cols} "
            f"(only in the table: {sorted(set(cols) - set(names))}, "
            f"only in {cls.__name__}: {sorted(set(names) - set(cols))})"
        )
    hints = typing.get_type_hints(cls)
    for f in fields:
        if f.name not in table.c:
            continue
        col = table.c[f.name]
        optional, tp = _annotation_parts(hints[f.name])
        if optional != bool(col.nullable) and f.name not in optional_not_null:
            problems.append(
                f"{f.name}: optional={optional} but the column's nullable={col.nullable}"
            )
        base = typing.get_origin(tp) or tp
        if base is not python_type(col):
            problems.append(f"{f.name}: {tp} but the column holds {python_type(col)}")
        default = _column_default(col)
        if (
            not col.nullable
            and f.default is not dataclasses.MISSING
            and f.name not in optional_not_null
            and f.default != default
        ):
            problems.append(f"{f.name}: default {f.default!r} but the column's is {default!r}")
    return problems


def test_case_state_mirrors_the_cases_table() -> None:
    assert mirror_problems(cases, CaseState, frozenset(OPTIONAL_NOT_NULL)) == []
    assert tuple(c.name for c in cases.columns) == CASE_FIELDS


def test_a_received_case_is_its_fields_by_name():
    """``received`` builds by position from a template: the same case as naming each field,
    every other field at its default, and a name that is no column refused."""
    from datetime import UTC, datetime

    at = datetime(2026, 3, 9, 1, 2, 3, tzinfo=UTC)
    given = {"channel": "hotline", "category": "noise", "severity": "general"}
    given |= {"complexity": "simple", "description": "loud"}
    columns = {"address": "1 Main St", "lat": 40.5, "lon": -73.9, "source": "nyc311"}
    columns |= {"grid_code": "G1", "status": "dispatched", "tier": "grid"}
    case = CaseState.received(ref="nyc311:1", at=at, **given, **columns)
    unset = dict.fromkeys(("id", "township_code", "county_code", "reporter", "prev_status"))
    unset |= dict.fromkeys(("unit_code", "holder", "stage_started_at"))
    named = CaseState(
        ref="nyc311:1", reported_at=at, status_changed_at=at, updated_at=at, mode="normal",
        **given, **columns, **unset,
    )  # fmt: skip
    assert case == named
    assert CaseState.received(ref="x", at=at, **given).status == "received"
    with pytest.raises(TypeError, match="no column 'colour_of_sky'"):
        CaseState.received(ref="x", at=at, **given, colour_of_sky="blue")


def test_the_exceptions_to_the_nullability_rule_are_still_needed() -> None:
    """Each exception names a field that really is optional over a NOT NULL column, so the
    list cannot keep hiding a field that no longer needs it."""
    hints = typing.get_type_hints(CaseState)
    for name in OPTIONAL_NOT_NULL:
        assert _annotation_parts(hints[name])[0], name
        assert not cases.c[name].nullable, name


def test_the_checker_notices_what_it_is_there_to_notice() -> None:
    """The checker above, on a small table: it must fail for each kind of drift."""

    @dataclasses.dataclass
    class Row:
        id: int | None
        name: str
        score: float | None = None
        count: int = 0

    def table(*extra: Column[Any], nullable_name: bool = False, count_default: int = 0) -> Table:
        return Table(
            "t",
            MetaData(),
            Column("id", Integer, primary_key=True),
            Column("name", String(10), nullable=nullable_name),
            Column("score", Float, nullable=True),
            Column("count", Integer, nullable=False, default=count_default),
            *extra,
        )

    ok = frozenset({"id"})
    assert mirror_problems(table(), Row, ok) == []
    # a column added to the model but not to the dataclass
    added = mirror_problems(table(Column("extra", String(5), nullable=True)), Row, ok)
    assert len(added) == 1 and "only in the table: ['extra']" in added[0]
    # a column made nullable, the field not optional
    assert mirror_problems(table(nullable_name=True), Row, ok) == [
        "name: optional=False but the column's nullable=True"
    ]
    # the primary key's exception is needed: without it, it is a problem
    assert mirror_problems(table(), Row, frozenset()) == [
        "id: optional=True but the column's nullable=False"
    ]
    # defaults that disagree
    assert mirror_problems(table(count_default=1), Row, ok) == [
        "count: default 0 but the column's is 1"
    ]
    # a different type, and columns in another order
    other = Table(
        "t",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("score", Float, nullable=True),
        Column("name", JSON, nullable=False),
        Column("count", Integer, nullable=False, default=0),
    )
    found = mirror_problems(other, Row, ok)
    assert len(found) == 2
    assert found[0].startswith("fields ['id', 'name', 'score', 'count'] are not the columns")
    assert found[1] == f"name: {str} but the column holds {dict}"


def test_the_migrated_schema_has_the_models_columns(db_url_and_engine) -> None:
    """What the migrations build is what the models (and so the mirrors) say."""
    _, engine = db_url_and_engine
    insp = inspect(engine)
    for table in (cases, case_events):
        built = {c["name"]: c["nullable"] for c in insp.get_columns(table.name)}
        assert built == {c.name: bool(c.nullable) for c in table.columns}, table.name


# ------------------------------------------------------------------------------ fastsql


def test_event_fields_are_the_event_logs_columns_but_its_id() -> None:
    assert tuple(c.name for c in case_events.columns if c.name != "id") == EVENT_FIELDS


def test_immutable_and_mutable_partition_the_case_columns() -> None:
    assert set(CASE_FIELDS) >= IMMUTABLE, sorted(IMMUTABLE - set(CASE_FIELDS))
    assert not IMMUTABLE & set(MUTABLE)
    assert set(MUTABLE) | IMMUTABLE == set(CASE_FIELDS)
    assert list(MUTABLE) == [f for f in CASE_FIELDS if f in set(MUTABLE)]  # column order
    assert len(MUTABLE) == len(set(MUTABLE))
    assert "id" in IMMUTABLE and {"version", "updated_at"} <= set(MUTABLE)


def test_the_delta_carries_case_fields_only() -> None:
    assert set(DELTA_FIELDS) <= set(CASE_FIELDS), sorted(set(DELTA_FIELDS) - set(CASE_FIELDS))
    case = full_case()
    d = delta(case)
    assert d.pop("v") == case.version
    for key, value in d.items():
        assert key in CASE_FIELDS, key
        assert value == getattr(case, key), key


def _datetime_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if python_type(c) is datetime}


def _json_columns(table: Table) -> set[str]:
    return {c.name for c in table.columns if python_type(c) is dict}


def test_every_datetime_column_is_utc_and_every_json_column_known() -> None:
    for table in (cases, case_events):
        for name in _datetime_columns(table):
            assert isinstance(table.c[name].type, UTCDateTime), f"{table.name}.{name}"
        assert _json_columns(table) == {c.name for c in table.columns if isinstance(c.type, JSON)}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_every_datetime_and_json_column_has_its_converter(dialect: str) -> None:
    """Each dialect's values for the driver: datetimes as naive UTC (SQLite: the text
    SQLAlchemy writes), JSON as text, everything else as it is; and back. Rows for COPY
    (PostgreSQL's bulk writes: every event, and cases inserted) keep instants as they are,
    which binary COPY sends as timestamptz, the same naive UTC the column holds."""
    sql = CaseSQL(dialect)
    case = full_case()
    written = sql.case_values(case, CASE_FIELDS)
    given = [getattr(case, f) for f in CASE_FIELDS]
    _check_written(dialect, cases, CASE_FIELDS, given, written)
    copied = sql.case_values(case, CASE_FIELDS, copy=True)
    _check_written(dialect, cases, CASE_FIELDS, given, copied, copy=True)
    event = full_event(7)
    _check_written(
        dialect,
        case_events,
        EVENT_FIELDS,
        [event[f] for f in EVENT_FIELDS],
        sql.event_values(event),
        copy=True,
    )
    # and read back: what the driver returns becomes the same case
    json_cols = _json_columns(cases)
    from_driver = [
        orjson.loads(v) if dialect == "postgresql" and f in json_cols else v
        for f, v in zip(CASE_FIELDS, written, strict=True)
    ]  # psycopg decodes json itself
    back = sql.case_from_row(from_driver)
    assert back == case
    _assert_utc(back)


def _check_written(
    dialect: str,
    table: Table,
    names: tuple[str, ...],
    given: list[Any],
    written: list[Any],
    copy: bool = False,
) -> None:
    dts, jsons = _datetime_columns(table), _json_columns(table)
    for name, value, out in zip(names, given, written, strict=True):
        where = f"{table.name}.{name}"
        if name in dts:
            utc = value.astimezone(UTC).replace(tzinfo=None)
            if dialect == "sqlite":
                assert out == utc.isoformat(" ", "microseconds"), where
            elif copy:  # binary COPY takes the aware instant as it is (timestamptz)
                assert out is value, where
            else:
                assert out == utc and out.tzinfo is None, where
        elif name in jsons:
            assert isinstance(out, str) and orjson.loads(out) == value, where
        else:
            assert out is value, where


# ------------------------------------------------------------------------------ round trips

BASE = local(2026, 11, 23, 9, 30, 15) + timedelta(microseconds=123456)


def full_case(**over: Any) -> CaseState:
    """A case with every field set, each datetime a different instant (a swap shows)."""
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(CaseState)
    for i, f in enumerate(dataclasses.fields(CaseState)):
        _, tp = _annotation_parts(hints[f.name])
        base = typing.get_origin(tp) or tp
        if base is datetime:
            values[f.name] = BASE + timedelta(minutes=7 * i, microseconds=i)
        elif base is float:
            values[f.name] = 1000.0 + i + 0.123456789
        elif base is int:
            values[f.name] = 100 + i
        elif base is dict:
            values[f.name] = {"lead": "U-县城管局", "co_units": ["U2", "U3"], "n": i}
        else:
            values[f.name] = f"{f.name[:4]}{i}"  # short: VARCHAR(8) and more
    values.update(
        id=None, lat=28.4547123, lon=117.9431234, version=3, overdue_tiers="grid,township"
    )
    values.update(over)
    return CaseState(**values)


def minimal_case(ref: str) -> CaseState:
    """A case with every optional field None."""
    at = BASE
    return CaseState(
        id=None,
        ref=ref,
        reported_at=at,
        channel="qr",
        category="cat",
        severity="general",
        complexity="simple",
        mode="normal",
        grid_code=None,
        township_code=None,
        county_code=None,
        address=None,
        lat=None,
        lon=None,
        description="描述",
        reporter=None,
        status="received",
        prev_status=None,
        tier=None,
        unit_code=None,
        holder=None,
        stage_started_at=None,
        status_changed_at=at,
        updated_at=at,
    )


def full_event(case_id: int, seq: int = 1) -> dict[str, Any]:
    e: dict[str, Any] = {}
    for i, c in enumerate(case_events.columns):
        if c.name == "id":
            continue
        t = python_type(c)
        if t is datetime:
            e[c.name] = BASE + timedelta(seconds=i)
        elif t is dict:
            e[c.name] = {"due_at": BASE.isoformat(), "by": "clock", "说明": [1, 2.5, None]}
        elif t is int:
            e[c.name] = 10 + i
        else:
            e[c.name] = f"{c.name[:8]}{i}"
    e.update(case_id=case_id, seq=seq)
    return e


def minimal_event(case_id: int, seq: int) -> dict[str, Any]:
    e: dict[str, Any] = {c.name: None for c in case_events.columns if c.name != "id"}
    e.update(case_id=case_id, seq=seq, at=BASE, type="reported", actor="intake")
    return e


def _assert_utc(case: CaseState) -> None:
    for f in CASE_FIELDS:
        v = getattr(case, f)
        if isinstance(v, datetime):
            assert v.utcoffset() == timedelta(0), f


def _read_both(engine: Any, sql: CaseSQL, case_id: int, ref: str) -> CaseState:
    """The case through SQLAlchemy Core and through fastsql (by id and by ref): the same."""
    with engine.connect() as conn:
        core = CaseState.from_row(conn.execute(select(cases).where(cases.c.id == case_id)).one())
        by_id = sql.load(conn, "id", [case_id])
        by_ref = sql.load(conn, "ref", [ref])
    assert by_id == [core] and by_ref == [core]
    for c in (core, by_id[0], by_ref[0]):
        _assert_utc(c)
    return core


#: how each of the database's column types must go in PostgreSQL's binary COPY (a timestamp
#: column holds naive UTC, which is on the wire what an aware UTC instant is as timestamptz)
_WIRE = {
    "bigint": "int8",
    "integer": "int4",
    "double precision": "float8",
    "character varying": "text",
    "text": "text",
    "json": "text",
    "timestamp without time zone": "timestamptz",
    "boolean": "bool",
}


def test_every_bulk_copied_column_goes_as_its_database_type(db_url_and_engine) -> None:
    """The binary COPY's type of every column the bulk writes fill, against what
    PostgreSQL's catalog says the column is: binary COPY takes bytes as they come, so a
    wrong width would store wrong numbers rather than fail."""
    _, engine = db_url_and_engine
    if engine.dialect.name != "postgresql":
        pytest.skip("binary COPY is PostgreSQL's; SQLite's bulk writes are executemany")
    sql = CaseSQL("postgresql")
    copies = {
        "cases": sql.copy_case_sql,
        "case_events": sql.copy_event_sql,
        "processed_commands": sql.copy_processed_sql,
    }
    with engine.connect() as conn:
        for table, copy in copies.items():
            declared = dict(
                conn.execute(
                    text(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = :t"
                    ),
                    {"t": table},
                ).all()
            )
            names = copy.columns
            assert copy.sql.endswith("FROM STDIN (FORMAT BINARY)")
            # every column (the event log's id is the database's own)
            own = {"id"} if table == "case_events" else set()
            assert set(names) == set(declared) - own, table
            for name, wire in zip(names, copy.types, strict=True):
                assert _WIRE[declared[name]] == wire, f"{table}.{name}: {declared[name]}"


def test_a_column_type_with_no_binary_form_is_refused_when_the_copy_is_built() -> None:
    odd = Table("odd", MetaData(), Column("when", Interval))
    with pytest.raises(TypeError, match="odd.when"):
        binary_copy(odd, ["when"])


@pytest.mark.parametrize("make", ["full", "minimal"])
def test_a_case_written_by_fastsql_reads_back_the_same_both_ways(db_url_and_engine, make) -> None:
    _, engine = db_url_and_engine
    sql = CaseSQL(engine.dialect.name)
    case = full_case(ref="pin-1") if make == "full" else minimal_case("pin-1")
    with engine.begin() as conn:
        sql.insert_cases(conn, [case])
    assert case.id is not None
    assert _read_both(engine, sql, case.id, "pin-1") == case


def test_instants_of_any_zone_are_written_as_the_same_instants(db_url_and_engine) -> None:
    """The bulk writes convert no instant themselves on PostgreSQL (binary COPY takes an
    aware one as timestamptz): one in another zone is stored as its UTC, and a naive one
    is refused, with nothing written."""
    from zoneinfo import ZoneInfo

    _, engine = db_url_and_engine
    sql = CaseSQL(engine.dialect.name)
    new_york = ZoneInfo("America/New_York")  # full_case gives Shanghai time
    case = full_case(ref="pin-zone")
    expected = dataclasses.replace(case)
    for f in dataclasses.fields(CaseState):
        v = getattr(case, f.name)
        if isinstance(v, datetime):
            setattr(case, f.name, v.astimezone(new_york))
    with engine.begin() as conn:
        sql.insert_cases(conn, [case])
    assert case.id is not None
    expected.id = case.id
    assert _read_both(engine, sql, case.id, "pin-zone") == expected
    naive = full_case(ref="pin-naive")
    naive.due_at = datetime(2026, 3, 9, 9, 0)
    with pytest.raises((TypeError, ValueError)), engine.begin() as conn:
        sql.insert_cases(conn, [naive])
    with engine.connect() as conn:
        there = conn.execute(select(cases.c.id).where(cases.c.ref == "pin-naive")).all()
    assert there == []


def test_an_update_by_fastsql_reads_back_the_same_both_ways(db_url_and_engine) -> None:
    """Every mutable column changed, then every nullable one cleared; the immutable ones
    are never written, whatever the object says."""
    _, engine = db_url_and_engine
    sql = CaseSQL(engine.dialect.name)
    case = full_case(ref="pin-2")
    with engine.begin() as conn:
        sql.insert_cases(conn, [case])
    assert case.id is not None
    stored = _read_both(engine, sql, case.id, "pin-2")

    changed = CaseState(*stored.snapshot())
    for f in MUTABLE:  # every mutable field a new value
        setattr(changed, f, _another(getattr(stored, f)))
    for f in IMMUTABLE - {"id"}:
        setattr(changed, f, _another(getattr(stored, f)))  # must not be written
    with engine.begin() as conn:
        sql.update_cases(conn, [changed], {case.id: stored.snapshot()})
    assert changed.version == stored.version + 1
    expected = CaseState(*changed.snapshot())
    for f in IMMUTABLE:
        setattr(expected, f, getattr(stored, f))
    after = _read_both(engine, sql, case.id, "pin-2")
    assert after == expected

    cleared = CaseState(*after.snapshot())
    for f in MUTABLE:
        if cases.c[f].nullable:
            setattr(cleared, f, None)
    with engine.begin() as conn:
        sql.update_cases(conn, [cleared], {case.id: after.snapshot()})
    assert _read_both(engine, sql, case.id, "pin-2") == cleared

    # the version check: an update from a stale read changes nothing
    stale = CaseState(*cleared.snapshot())
    stale.status = "closed"
    with pytest.raises(VersionConflict), engine.begin() as conn:
        sql.update_cases(conn, [stale], {case.id: after.snapshot()})
    assert _read_both(engine, sql, case.id, "pin-2") == cleared


def _another(v: Any) -> Any:
    """A different value of the same type."""
    if isinstance(v, bool):
        return not v
    if isinstance(v, datetime):
        return v + timedelta(hours=1, microseconds=1)
    if isinstance(v, int | float):
        return v + 1
    if isinstance(v, dict):
        return {**v, "changed": True}
    if isinstance(v, str):
        return v + "x"
    raise AssertionError(f"no other value for {v!r}")


def test_events_written_by_fastsql_read_back_the_same(db_url_and_engine) -> None:
    _, engine = db_url_and_engine
    sql = CaseSQL(engine.dialect.name)
    written = [full_event(41, 1), minimal_event(41, 2)]
    with engine.begin() as conn:
        sql.insert_events(conn, written)
    with engine.connect() as conn:
        rows = conn.execute(
            select(case_events).where(case_events.c.case_id == 41).order_by(case_events.c.seq)
        ).mappings()
        read = [{f: r[f] for f in EVENT_FIELDS} for r in rows]
    assert read == written
    assert read[0]["at"].utcoffset() == timedelta(0)
    assert read[0]["at"].tzinfo is not None and read[1]["data"] is None


# ------------------------------------------------------------------------------ the engine's side


@pytest.fixture
def domain(db_url_and_engine) -> tuple[RefIndex, DeadlineClock]:
    _, engine = db_url_and_engine
    with engine.connect() as conn:
        ref = RefIndex.load(conn)
    return ref, DeadlineClock(WorkCalendar(), policy_from_setting(None))


def test_the_state_machine_emits_events_of_the_logs_columns_and_never_changes_an_immutable_field(
    domain,
) -> None:
    """The event dicts the state machine makes are rows of the log (plus the case they
    belong to), and nothing it does to a case touches a column left out of every UPDATE."""
    ref, clock = domain
    grid = sorted(ref.grids)[0]
    cat = sorted(ref.categories)[0]
    units = sorted(ref.units)
    now = local(2026, 11, 23, 9, 0)
    events: list[dict[str, Any]] = []

    def run(case: CaseState | None, action: str, **params: Any) -> CaseState:
        nonlocal now
        now += timedelta(hours=1)
        ctx = Ctx(ref, clock, now, "pin")
        if case is None:
            body = {"category": cat, "description": "x", "channel": "qr", "grid": grid}
            case = new_case(validate_new_case(body, ref), ctx, f"r{len(events)}")
        elif action == "clock":
            ctx.now = now = now + timedelta(days=40)
            apply_clock(case, ctx)
        else:
            apply_action(case, ctx, action, params)
        events.extend(ctx.events)
        return case

    case = run(None, "create")
    case.id = 1
    before = {f: getattr(case, f) for f in IMMUTABLE}
    lead, co = units[0], units[1]
    for action, params in (
        ("accept", {"holder": "H1"}),
        ("start", {}),
        ("pause", {"reason": "waiting"}),
        ("resume", {}),
        ("request_escalation", {"reason": "too big"}),
        ("consult", {"lead": lead, "co_units": [co], "reason": "several units"}),
        ("reassign", {"unit": co, "reason": "theirs"}),
        ("attach", {"channel": "hotline"}),
        ("instruct", {"text": "hurry"}),
        ("clock", {}),
        ("accept", {}),
        ("resolve", {}),
        ("rate", {"rating": "unsatisfied"}),
        ("accept", {}),
        ("resolve", {}),
        ("revisit", {"result": "satisfied"}),
        ("close", {}),
    ):
        run(case, action, **params)
    assert {f: getattr(case, f) for f in IMMUTABLE} == before
    other = run(None, "create")
    run(other, "cancel", reason="withdrawn")
    assert len({e["type"] for e in events}) >= 15
    for e in events:
        assert set(e) - {"case"} == set(EVENT_FIELDS), e["type"]
