"""The engine's hot path to SQL: batched writes and reads of cases and events on the DBAPI
cursor, with values converted once per dialect.

SQLAlchemy Core spends most of a batch building and type-processing parameters row by row;
here each row is one tuple in column order, so the database driver does the work in C.
The values written are exactly what the Core tables (store/models.py) read back: naive UTC
timestamps (SQLite: ``YYYY-MM-DD HH:MM:SS.ffffff`` text), JSON as text.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import compress
from operator import attrgetter, itemgetter, ne
from typing import Any

import orjson
from sqlalchemy import JSON, BigInteger, Boolean, Connection, Float, Integer, String, Table

from backend.core.errors import VersionConflict
from backend.domain.case import CASE_FIELDS, CaseState
from backend.store.models import UTCDateTime, case_events, cases, processed_commands

#: the event log's columns the engine writes (its id comes from the database)
EVENT_FIELDS: tuple[str, ...] = tuple(c.name for c in case_events.columns if c.name != "id")
_DT_CASE = {c.name for c in cases.columns if c.type.__class__.__name__ == "UTCDateTime"}
_JSON_CASE = {c.name for c in cases.columns if c.type.__class__.__name__ == "JSON"}
_DT_EVENT = {c.name for c in case_events.columns if c.type.__class__.__name__ == "UTCDateTime"}
_JSON_EVENT = {c.name for c in case_events.columns if c.type.__class__.__name__ == "JSON"}

#: Columns that never change after a case is created: left out of every UPDATE.
IMMUTABLE = frozenset(
    {
        "id",
        "ref",
        "reported_at",
        "channel",
        "description",
        "reporter",
        "address",
        "lat",
        "lon",
        "source",
        "source_channel",
        "source_type",
    }
)
MUTABLE = tuple(f for f in CASE_FIELDS if f not in IMMUTABLE)
_VERSION = CASE_FIELDS.index("version")
_ID = CASE_FIELDS.index("id")
_EVENT_CASE_ID = EVENT_FIELDS.index("case_id")
#: an event's values in column order, taken in C
_EVENT_OF = itemgetter(*EVENT_FIELDS)
#: the mutable fields of a CaseState, and of its snapshot tuple, in the order of MUTABLE
_MUTABLE_OF_CASE = attrgetter(*MUTABLE)
_MUTABLE_OF_SNAPSHOT = itemgetter(*(CASE_FIELDS.index(f) for f in MUTABLE))


def _sqlite_text_dt(v: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text, always with six fractional digits (so text order is
    time order)."""
    if v.tzinfo is not UTC:
        if v.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        v = v.astimezone(UTC)
    return v.isoformat(" ", "microseconds")[:26]  # drop the "+00:00"


#: the engine's batches: the same instants recur (a batch's now, shared deadlines). Not on
#: the bulk road, where nearly every instant is new and a miss costs twice the conversion.
_sqlite_dt = lru_cache(maxsize=1 << 16)(_sqlite_text_dt)


def _sqlite_read_dt(v: str) -> datetime:
    return datetime.fromisoformat(v + "+00:00")


def _pg_read_dt(v: datetime) -> datetime:
    return v.replace(tzinfo=UTC)


def _single(name: str) -> Any:
    get = attrgetter(name)
    return lambda obj: (get(obj),)


def _pg_dt(v: datetime) -> datetime:
    if v.tzinfo is not UTC:
        if v.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        v = v.astimezone(UTC)
    return v.replace(tzinfo=None)


def _converted(values: list[Any], converters: list[tuple[int, Any]]) -> list[Any]:
    """``values`` with each ``(position, converter)`` applied in place where not None."""
    for i, conv in converters:
        v = values[i]
        if v is not None:
            values[i] = conv(v)
    return values


def _json(v: Any) -> str | None:
    return None if v is None else orjson.dumps(v).decode()


@dataclass(frozen=True, slots=True)
class BinaryCopy:
    """``COPY table (columns) FROM STDIN`` in PostgreSQL's binary form, with the type each
    column's values are sent as. psycopg's text form formats every timestamp in Python's
    datetime and the server parses it back: 2.5 µs a value, 29 µs a case row of eleven
    instants on a slow core, against 2 µs for the whole row in binary."""

    sql: str
    columns: tuple[str, ...]
    types: tuple[str, ...]


def _wire_type(table: Table, name: str, aware: bool) -> str:
    """The binary COPY type of a column's values. A UTC instant goes as ``timestamptz``:
    on the wire both timestamp types are microseconds since 2000-01-01 00:00, so an aware
    UTC instant arrives as the naive UTC the column holds, with no naive copy made in
    Python (``aware=False``: the values are naive UTC already). JSON goes as its text, which
    is the binary form of ``json``."""
    t = table.c[name].type
    if isinstance(t, UTCDateTime):
        return "timestamptz" if aware else "timestamp"
    if isinstance(t, JSON | String):
        return "text"
    if isinstance(t, BigInteger):
        return "int8"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Integer):
        return "int4"
    if isinstance(t, Float):
        return "float8"
    raise TypeError(f"{table.name}.{name}: no binary COPY type for {t!r}")


def binary_copy(table: Table, names: Sequence[str], *, aware: bool = True) -> BinaryCopy:
    """The binary COPY of ``names`` of ``table`` (``aware``: instants as aware UTC)."""
    return BinaryCopy(
        f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT BINARY)",
        tuple(names),
        tuple(_wire_type(table, n, aware) for n in names),
    )


class CaseSQL:
    """Prepared SQL text and converters for one dialect ("sqlite" or "postgresql")."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.pg = dialect == "postgresql"
        ph = "%s" if self.pg else "?"
        self._dt = _pg_dt if self.pg else _sqlite_dt

        def holder(name: str, json_cols: set[str]) -> str:
            return f"{ph}::json" if self.pg and name in json_cols else ph

        cols_ins = CASE_FIELDS
        self.insert_case_sql = (
            f"INSERT INTO cases ({', '.join(cols_ins)}) VALUES "
            f"({', '.join(holder(c, _JSON_CASE) for c in cols_ins)})"
        )
        self._update_sql: dict[tuple[str, ...], str] = {}
        self._holder = lambda c: holder(c, _JSON_CASE)
        self.insert_event_sql = (
            f"INSERT INTO case_events ({', '.join(EVENT_FIELDS)}) VALUES "
            f"({', '.join(holder(c, _JSON_EVENT) for c in EVENT_FIELDS)})"
        )
        self.copy_event_sql = binary_copy(case_events, EVENT_FIELDS)
        self.copy_case_sql = binary_copy(cases, CASE_FIELDS)
        self.copy_processed_sql = binary_copy(processed_commands, ("command_id", "applied_at"))
        self.insert_processed_sql = (
            f"INSERT INTO processed_commands (command_id, applied_at) VALUES ({ph}, {ph})"
        )
        self.select_cols = ", ".join(CASE_FIELDS)
        self.ph = ph
        self._case_conv = [self._converter(f, _DT_CASE, _JSON_CASE) for f in CASE_FIELDS]
        self._event_conv = [self._converter(f, _DT_EVENT, _JSON_EVENT) for f in EVENT_FIELDS]
        self._read_conv = [self._reader(f) for f in CASE_FIELDS]
        self._conv_by_name = dict(zip(CASE_FIELDS, self._case_conv, strict=True))
        # bulk writes (write_rows): on PostgreSQL binary COPY takes aware instants as they
        # are, as timestamptz (microseconds since 2000-01-01 UTC, which is the naive UTC the
        # column holds: see BinaryCopy); psycopg converts any other zone to UTC and refuses
        # a naive instant. No conversion at all, then: a dozen instants per case imported.
        self._copy_dt: Any = None if self.pg else _sqlite_text_dt
        self._copy_conv_by_name = {
            f: (self._copy_dt if c is self._dt else c) for f, c in self._conv_by_name.items()
        }
        self._plans: dict[tuple[tuple[str, ...], bool], tuple[Any, list[tuple[int, Any]]]] = {}
        self._event_conv_idx = [
            (i, conv)
            for i, c in enumerate(self._event_conv)
            if (conv := self._copy_dt if c is self._dt else c) is not None
        ]
        self._read_idx = [(i, r) for i, r in enumerate(self._read_conv) if r is not None]

    def _converter(self, name: str, dts: set[str], jsons: set[str]) -> Any:
        if name in dts:
            return self._dt
        if name in jsons:
            return _json
        return None

    def _reader(self, name: str) -> Any:
        if name in _DT_CASE:
            return _pg_read_dt if self.pg else _sqlite_read_dt
        if name in _JSON_CASE and not self.pg:
            return orjson.loads
        return None

    # ------------------------------------------------------------------ rows

    def _plan(self, fields: tuple[str, ...], copy: bool) -> tuple[Any, list[tuple[int, Any]]]:
        """How ``fields`` are taken from a case (in C) and which of them are converted."""
        plan = self._plans.get((fields, copy))
        if plan is None:
            by_name = self._copy_conv_by_name if copy else self._conv_by_name
            convs = [(i, by_name[f]) for i, f in enumerate(fields)]
            plan = self._plans[fields, copy] = (
                attrgetter(*fields) if len(fields) > 1 else _single(fields[0]),
                [(i, c) for i, c in convs if c is not None],
            )
        return plan

    def case_rows(self, cases: list[CaseState]) -> list[list[Any]]:
        """Every column of each case, converted for ``write_rows``: ``case_values`` of
        CASE_FIELDS with ``copy``, the plan found once for them all."""
        get, converted = self._plan(CASE_FIELDS, True)
        if not converted:
            return [list(get(c)) for c in cases]
        return [_converted(list(get(c)), converted) for c in cases]

    def case_values(
        self, case: CaseState, fields: tuple[str, ...], copy: bool = False
    ) -> list[Any]:
        """The values of ``fields`` of ``case``, converted for the driver (``copy``: for
        ``write_rows``, COPY on PostgreSQL), in order."""
        get, converted = self._plan(fields, copy)
        return _converted(list(get(case)), converted)

    def event_values(self, e: dict[str, Any]) -> list[Any]:
        """An event's row for ``write_rows`` (COPY on PostgreSQL)."""
        return _converted(list(_EVENT_OF(e)), self._event_conv_idx)

    def case_from_row(self, row: Sequence[Any]) -> CaseState:
        return CaseState(*_converted(list(row), self._read_idx))

    # ------------------------------------------------------------------ operations

    def insert_cases(self, conn: Connection, new: list[CaseState]) -> None:
        """Insert new cases and give each its id (see ``_allocate``)."""
        if not new:
            return
        rows = self.case_rows(new)
        self.insert_case_rows(conn, new, rows)

    def insert_case_rows(self, conn: Connection, new: list[CaseState], rows: list[Any]) -> None:
        """Insert cases whose rows were converted beforehand (``case_values(copy=True)``,
        outside the transaction): each gets its id, in its row and on its CaseState."""
        if not new:
            return
        with _write_cursor(conn) as cur:
            ids = self._allocate(cur, len(new))
            for case, row, new_id in zip(new, rows, ids, strict=True):
                case.id = row[_ID] = new_id
            self.write_rows(cur, self.insert_case_sql, self.copy_case_sql, rows)

    def _allocate(self, cur: Any, n: int) -> list[int]:
        """``n`` new case ids. They come from the database: PostgreSQL's sequence, or on
        SQLite the table's maximum, read after this transaction has taken SQLite's single
        write lock (the caller writes first), so no other process can be allocating at the
        same time."""
        if self.pg:
            cur.execute("SELECT nextval('cases_id_seq') FROM generate_series(1, %s)", (n,))
            return [r[0] for r in cur.fetchall()]
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM cases")
        top = int(cur.fetchone()[0])
        return list(range(top + 1, top + 1 + n))

    def update_cases(
        self, conn: Connection, changed: list[CaseState], originals: dict[int, tuple[Any, ...]]
    ) -> None:
        """UPDATE each case where its version is still the one read; else VersionConflict.

        Only the columns that changed are written (grouped by which changed), so SQLite and
        PostgreSQL leave untouched indexes alone.
        """
        if not changed:
            return
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        # always in id order: two engines updating the same cases cannot deadlock
        for case in sorted(changed, key=_case_id):
            assert case.id is not None
            snap = originals[case.id]
            old_version = snap[_VERSION]
            case.version = old_version + 1
            # the changed columns, compared field by field in C (this runs for every case)
            changed_flags = map(ne, _MUTABLE_OF_CASE(case), _MUTABLE_OF_SNAPSHOT(snap))
            cols = tuple(compress(MUTABLE, changed_flags))
            groups.setdefault(cols, []).append(
                (*self.case_values(case, cols), case.id, old_version)
            )
        missing = 0
        cur = _cursor(conn)
        try:
            for cols, params in groups.items():
                sql = self._update_sql.get(cols)
                if sql is None:
                    sets = ", ".join(f"{c} = {self._holder(c)}" for c in cols)
                    sql = self._update_sql[cols] = (
                        f"UPDATE cases SET {sets} WHERE id = {self.ph} AND version = {self.ph}"
                    )
                # both drivers report the total of an executemany (psycopg since 3.1)
                cur.executemany(sql, params)
                missing += len(params) - cur.rowcount
        finally:
            cur.close()
        if missing:
            raise VersionConflict(f"{missing} case(s) changed meanwhile")

    def write_rows(self, cur: Any, insert_sql: str, copy_sql: BinaryCopy, rows: list[Any]) -> None:
        """Bulk insert: binary COPY on PostgreSQL (far cheaper than a statement per row),
        executemany on SQLite."""
        if self.pg:
            with cur.copy(copy_sql.sql) as copy:
                copy.set_types(list(copy_sql.types))
                for r in rows:
                    copy.write_row(r)
        else:
            cur.executemany(insert_sql, rows)

    def insert_events(self, conn: Connection, events: list[dict[str, Any]]) -> None:
        if not events:
            return
        self.insert_event_rows(conn, [self.event_values(e) for e in events])

    def insert_event_rows(
        self, conn: Connection, rows: list[Any], cases: list[CaseState] | None = None
    ) -> None:
        """Insert events converted beforehand; ``cases``: each row's case, whose id (given
        since) goes into the row."""
        if not rows:
            return
        if cases is not None:
            for row, case in zip(rows, cases, strict=True):
                row[_EVENT_CASE_ID] = case.id
        with _write_cursor(conn) as cur:
            self.write_rows(cur, self.insert_event_sql, self.copy_event_sql, rows)

    def processed_rows(self, rows: list[tuple[str, datetime]]) -> list[tuple[str, Any]]:
        """Processed command ids with their times, converted for ``insert_processed_rows``."""
        dt = self._copy_dt
        if dt is None:  # binary COPY: as they are
            return rows
        return [(cid, dt(at)) for cid, at in rows]

    def insert_processed(self, conn: Connection, rows: list[tuple[str, datetime]]) -> None:
        self.insert_processed_rows(conn, self.processed_rows(rows))

    def insert_processed_rows(self, conn: Connection, rows: list[tuple[str, Any]]) -> None:
        if not rows:
            return
        with _write_cursor(conn) as cur:
            self.write_rows(cur, self.insert_processed_sql, self.copy_processed_sql, rows)

    def _rows_in(self, conn: Connection, sql: str, keys: Sequence[Any]) -> list[Any]:
        """Rows of ``sql … IN ({marks})`` for every key, in chunks the drivers accept; on
        PostgreSQL ``= ANY(%s)`` of one array instead, one statement for all the keys
        (psycopg parses a statement of 900 placeholders in Python, each time)."""
        keys = list(keys)
        rows: list[Any] = []
        if not keys:
            return rows
        cur = _cursor(conn)
        try:
            if self.pg:
                cur.execute(sql.replace("IN ({marks})", "= ANY(%s)"), (keys,))
                return list(cur.fetchall())
            for i in range(0, len(keys), 900):
                chunk = keys[i : i + 900]
                cur.execute(sql.format(marks=", ".join([self.ph] * len(chunk))), chunk)
                rows += cur.fetchall()
        finally:
            cur.close()
        return rows

    def load(self, conn: Connection, column: str, keys: Sequence[Any]) -> list[CaseState]:
        """Cases whose ``column`` (id or ref) is in ``keys``."""
        sql = f"SELECT {self.select_cols} FROM cases WHERE {column} IN ({{marks}})"
        return [self.case_from_row(r) for r in self._rows_in(conn, sql, keys)]

    def due(
        self,
        conn: Connection,
        now: datetime,
        limit: int,
        counties: Sequence[str] | None = None,
    ) -> list[CaseState]:
        """Cases with a milestone due at ``now`` (in ``counties``, if named): an index range
        scan on next_due_at."""
        if counties is not None and not counties:
            return []  # no county named: nothing of this engine's is due
        where = ""
        params: list[Any] = [self._dt(now)]
        if counties is not None:
            where = f" AND county_code IN ({', '.join([self.ph] * len(counties))})"
            params += list(counties)
        cur = _cursor(conn)
        try:
            cur.execute(
                f"SELECT {self.select_cols} FROM cases WHERE next_due_at IS NOT NULL AND "
                f"next_due_at <= {self.ph}{where} ORDER BY next_due_at LIMIT {int(limit)}",
                params,
            )
            return [self.case_from_row(r) for r in cur.fetchall()]
        finally:
            cur.close()

    def existing(self, conn: Connection, table: str, column: str, keys: Sequence[str]) -> set[str]:
        """Which of ``keys`` are already in ``table.column``."""
        sql = f"SELECT {column} FROM {table} WHERE {column} IN ({{marks}})"
        return {r[0] for r in self._rows_in(conn, sql, keys)}


def _cursor(conn: Connection) -> Any:
    """The DBAPI cursor of ``conn``'s current transaction."""
    return conn.connection.cursor()


def _case_id(case: CaseState) -> int:
    return case.id or 0


def is_transient(exc: BaseException) -> bool:
    """A lost race rather than a fault: a deadlock, a serialisation failure, a busy database.

    Such a batch is simply run again on fresh state.
    """
    orig = getattr(exc, "orig", None) or exc  # SQLAlchemy wraps driver errors
    name = type(orig).__name__
    if name in ("DeadlockDetected", "SerializationFailure", "LockNotAvailable"):
        return True
    text = str(orig).lower()
    return name == "OperationalError" and ("locked" in text or "busy" in text)


@contextmanager
def _write_cursor(conn: Connection) -> Iterator[Any]:
    """A cursor for bulk writes: closed afterwards; a unique violation becomes a lost race."""
    cur = _cursor(conn)
    try:
        yield cur
    except Exception as exc:
        _reraise_integrity(exc)
        raise
    finally:
        cur.close()


def _reraise_integrity(exc: Exception) -> None:
    """A unique violation from the driver means another engine got there first."""
    name = type(exc).__name__
    if name in ("IntegrityError", "UniqueViolation"):
        raise VersionConflict(str(exc)) from exc
