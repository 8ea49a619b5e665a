"""What every importer shares: reading a civic-data export as a stream of records, mapping
them to our categories, channels and units by a mapping file, turning each into engine
commands at the source's own times, batching them into the engine, and telling the user
every row it could not take (``file:line:column: message``), never silently.

A careful analyst's rules for messy rows:

- a closed request with no close date takes its last update time as the close time (counted
  in the summary); with neither, it counts as closed but stays out of the time-to-close
  figures (``close_imported`` with ``time_known: false``);
- a close date before the creation date is not a close date;
- blank, zero or out-of-range coordinates are no coordinates (the address is used);
- an unmapped request type takes the mapping file's default category (counted, by type);
- a row with no id, no creation time, or no location at all is skipped, with its line.
"""

from __future__ import annotations

import io
import re
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import yaml

from backend.domain.commands import Command, action_command, create_command
from backend.domain.vocabulary import Channel
from backend.importers.dates import DateReader
from backend.system import System

MAPPINGS = Path(__file__).parent / "mappings"
_NS = uuid.UUID("5b1f1f0e-6a57-4d41-9d0c-8c4c0a6f3111")  # command ids are stable per record


class ImportFatal(Exception):
    """The file cannot be imported at all (unreadable, or a required column is missing)."""


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: int
    message: str

    def format(self, path: str) -> str:
        return f"{path}:{self.line}:{self.column}: {self.message}"


class RowProblem(Exception):
    def __init__(self, column: int, message: str) -> None:
        self.column = column
        self.message = message
        super().__init__(message)


@dataclass(slots=True)
class Record:
    """One source request, as the importer understood it."""

    line: int
    source_id: str
    created: datetime
    status: str  # open | closed | cancelled
    closed: datetime | None
    close_basis: str  # close | <proxy column> | unknown
    request_type: str
    channel: str | None
    department: str | None
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    status_text: str | None = None


@dataclass
class Mapping:
    """Source values → ours (a YAML file; see backend/importers/mappings/)."""

    categories: dict[str, str]
    default_category: str | None
    channels: dict[str, str]
    default_channel: str
    units: dict[str, str]
    known: frozenset[str] = frozenset()  # our own category codes map to themselves

    @classmethod
    def for_format(
        cls, fmt: str, known_categories: set[str], channel: str, path: Path | None = None
    ) -> Mapping:
        """The mapping file given, or the one shipped for ``fmt``."""
        return cls.load(path or MAPPINGS / f"{fmt}.yaml", known_categories, channel)

    @classmethod
    def load(cls, path: Path, known_categories: set[str], channel: str = "hotline") -> Mapping:
        """``channel``: the format's own default, when the file names none."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ImportFatal(f"{path}: cannot read the mapping file: {exc}") from None

        def table(name: str) -> dict[str, str]:
            raw = data.get(name) or {}
            if not isinstance(raw, dict):
                raise ImportFatal(f"{path}: {name} must be a mapping of source value → ours")
            return {_key(k): str(v) for k, v in raw.items() if v is not None}

        cats = table("categories")
        bad = sorted({v for v in cats.values() if v not in known_categories})
        default = data.get("default_category")
        if default is not None and default not in known_categories:
            bad.append(str(default))
        if bad:
            raise ImportFatal(f"{path}: unknown category code(s): {', '.join(bad)}")
        channels = table("channels")
        valid = {c.value for c in Channel}
        default_channel = str(data.get("default_channel") or channel)
        wrong = sorted({v for v in [*channels.values(), default_channel] if v not in valid})
        if wrong:
            raise ImportFatal(f"{path}: unknown channel(s): {', '.join(wrong)}")
        return cls(
            cats, default, channels, default_channel, table("units"), frozenset(known_categories)
        )

    def category(self, request_type: str) -> str | None:
        hit = self.categories.get(_key(request_type))
        if hit is None and request_type in self.known:
            return request_type
        return hit or self.default_category

    def mapped(self, request_type: str) -> bool:
        return _key(request_type) in self.categories or request_type in self.known

    def channel(self, source: str | None) -> str:
        if not source:
            return self.default_channel
        return self.channels.get(_key(source), self.default_channel)

    def unit(self, department: str | None) -> str | None:
        if not department:
            return None
        return self.units.get(_key(department), department.strip())


@lru_cache(maxsize=4096)  # request types, channels, departments: few values, every row
def _key(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


@lru_cache(maxsize=1024)  # the same few column names, looked up for every row
def norm_column(name: str) -> str:
    """Column names match case-insensitively, and without spaces or underscores, so the
    portal's "Unique Key" and the API's "unique_key" are the same column."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def coordinate(text: str | None, lo: float, hi: float) -> float | None:
    """Blank, zero, unreadable or out of range: no coordinate."""
    if text is None or not text.strip():
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if lo <= v <= hi and v != 0 else None


_POINT = re.compile(r"\(?\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\)?")


def point(text: str | None) -> tuple[float | None, float | None]:
    """``(34.05, -118.24)`` as the portals write a Location column."""
    if not text:
        return None, None
    m = _POINT.search(text)
    if not m:
        return None, None
    return coordinate(m.group(1), -90, 90), coordinate(m.group(2), -180, 180)


# ----------------------------------------------------------------------------- commands


def commands_for(record: Record, source: str, mapping: Mapping) -> list[Command]:
    """The engine commands that rebuild one record: created at its own time, then closed or
    cancelled at the source's time. Ids are stable, so importing a file again changes
    nothing, and a newer export closes what was open."""
    ref = f"{source}:{record.source_id}"[:80]
    category = mapping.category(record.request_type)
    case: dict[str, Any] = {
        "category": category,
        "description": record.description[:4000],
        "channel": mapping.channel(record.channel),
        "source": source,
        "source_channel": (record.channel or "")[:64] or None,
        "source_type": record.request_type[:100] or None,
    }
    unit = mapping.unit(record.department)
    if unit:
        case["unit"] = unit[:48]
    if record.address:
        case["address"] = record.address[:300]
    if record.lat is not None and record.lon is not None:
        case["lat"], case["lon"] = record.lat, record.lon
    actor = f"import:{source}"
    out = [
        create_command(
            case,
            actor=actor,
            ref=ref,
            at=record.created,
            command_id=uuid.uuid5(_NS, ref + "|create").hex,
        )
    ]
    if record.status == "closed":
        known = record.close_basis != "unknown"
        reason = f"source status: {record.status_text or 'Closed'}"
        if record.close_basis not in ("close", "unknown"):
            reason += f"; close time from {record.close_basis}"
        out.append(
            action_command(
                "close_imported",
                {"time_known": known, "reason": reason},
                ref=ref,
                actor=actor,
                at=record.closed if known else record.created,
                command_id=uuid.uuid5(_NS, ref + "|close").hex,
            )
        )
    elif record.status == "cancelled":
        out.append(
            action_command(
                "cancel",
                {"reason": f"source status: {record.status_text or 'Cancelled'}"},
                ref=ref,
                actor=actor,
                at=record.closed or record.created,
                command_id=uuid.uuid5(_NS, ref + "|cancel").hex,
            )
        )
    return out


# ----------------------------------------------------------------------------- reading


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


@dataclass
class Summary:
    rows: int = 0
    imported: int = 0
    already: int = 0
    skipped: int = 0
    closed: int = 0
    cancelled: int = 0
    close_from_proxy: Counter[str] = field(default_factory=Counter)
    close_unknown: int = 0
    no_coordinates: int = 0
    default_category: Counter[str] = field(default_factory=Counter)
    fatal: str | None = None

    def lines(self) -> list[str]:
        out = [
            f"rows read: {self.rows:,}; imported: {self.imported:,}; already imported: "
            f"{self.already:,}; skipped (bad rows, listed above): {self.skipped:,}",
            f"closed: {self.closed:,}; cancelled: {self.cancelled:,}",
        ]
        for col, n in self.close_from_proxy.most_common():
            out.append(f"closed with no close date, closed at their {col} instead: {n:,}")
        if self.close_unknown:
            out.append(
                f"closed with no close date at all (counted closed, left out of the "
                f"time-to-close figures): {self.close_unknown:,}"
            )
        if self.no_coordinates:
            out.append(
                f"rows without usable coordinates (located by address): {self.no_coordinates:,}"
            )
        if self.default_category:
            top = ", ".join(f"{t!r} ({n})" for t, n in self.default_category.most_common(8))
            out.append(
                f"request types not in the mapping file, given its default category: "
                f"{sum(self.default_category.values()):,} rows: {top}"
            )
        return out


ProgressFn = Callable[[int], None]


class Importer:
    """Streams records out of a file; subclasses know one format."""

    source = "import"
    default_tz = "UTC"
    default_channel = "hotline"

    #: the source's own month/day order, taken when a sample cannot tell (and reported)
    day_first = False

    def __init__(self, path: Path, tz: ZoneInfo, date_format: str | None = None) -> None:
        self.path = path
        self.tz = tz
        self.dates = DateReader(tz, day_first=self.day_first, forced=date_format)

    def records(self, stream: IO[bytes], problems: list[RowError]) -> Iterator[Record]:
        raise NotImplementedError


def run_import(
    system: System,
    importer: Importer,
    mapping: Mapping,
    *,
    batch_size: int = 500,
    limit: int | None = None,
    progress: ProgressFn | None = None,
    err: IO[str] | None = None,
) -> Summary:
    """Import every record of ``importer``'s file into the engine, ``batch_size`` records per
    engine batch (one SQL transaction). Bad rows are written to ``err`` as they are found."""
    err = err or sys.stderr
    summary = Summary()
    problems: list[RowError] = []
    path = str(importer.path)

    def report(e: RowError, new_row: bool = True) -> None:
        if new_row:  # a row the reader could not make a record of (else: counted already)
            summary.rows += 1
        summary.skipped += 1
        err.write(e.format(path) + "\n")

    pending: list[tuple[Record, list[Command]]] = []

    def take(rec: Record) -> bool:
        summary.rows += 1
        if rec.status == "closed":
            summary.closed += 1
            if rec.close_basis == "unknown":
                summary.close_unknown += 1
            elif rec.close_basis != "close":
                summary.close_from_proxy[rec.close_basis] += 1
        elif rec.status == "cancelled":
            summary.cancelled += 1
        if rec.lat is None:
            summary.no_coordinates += 1
        if not mapping.mapped(rec.request_type):
            summary.default_category[rec.request_type] += 1
            if mapping.default_category is None:
                message = (
                    f"request type {rec.request_type!r} is not in the mapping file "
                    "and it names no default_category"
                )
                report(RowError(rec.line, 1, message), False)
                return False
        pending.append((rec, commands_for(rec, importer.source, mapping)))
        return True

    def flush() -> None:
        if not pending:
            return
        cmds = [c for _, group in pending for c in group]
        results = system.engine.apply(cmds).results
        i = 0
        for rec, group in pending:
            mine = results[i : i + len(group)]
            i += len(group)
            first_error = next((r.error for r in mine if not r.ok), None)
            if first_error is not None:
                report(RowError(rec.line, 1, f"{rec.source_id}: {first_error}"), False)
            elif mine[0].skipped:
                summary.already += 1
            else:
                summary.imported += 1
        pending.clear()

    with importer.path.open("rb") as raw:
        counted = CountingReader(raw)
        stream = io.BufferedReader(counted, buffer_size=1 << 16)
        try:
            for rec in importer.records(stream, problems):
                while problems:
                    report(problems.pop(0))
                if not take(rec):
                    continue
                if len(pending) >= batch_size:
                    flush()
                    if progress:
                        progress(counted.count)
                if limit is not None and summary.rows >= limit:
                    break
        except ImportFatal as exc:
            summary.fatal = str(exc)  # what was read before the break is still imported
        while problems:
            report(problems.pop(0))
        flush()
        if progress:
            progress(counted.count)
    return summary
