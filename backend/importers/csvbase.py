"""CSV exports (MyLA311, NYC 311): streamed row by row, columns found by name whatever their
case or spacing, every problem named by line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from backend.importers.common import (
    Importer,
    ImportFatal,
    Record,
    RowError,
    RowProblem,
    coordinate,
    norm_column,
    parse_time,
    point,
)

csv.field_size_limit(1 << 20)


class Row:
    """One CSV row with its columns by (normalised) name."""

    def __init__(self, values: list[str], index: dict[str, int], line: int) -> None:
        self.values = values
        self.index = index
        self.line = line

    def get(self, name: str) -> str | None:
        i = self.index.get(norm_column(name))
        if i is None or i >= len(self.values):
            return None
        v = self.values[i].strip()
        return v or None

    def column(self, name: str) -> int:
        return self.index.get(norm_column(name), 0) + 1

    def need(self, name: str) -> str:
        v = self.get(name)
        if v is None:
            raise RowProblem(self.column(name), f"{name} is empty")
        return v

    def time(self, name: str, tz: ZoneInfo) -> datetime:
        try:
            return parse_time(self.need(name), tz)
        except ValueError as exc:
            raise RowProblem(self.column(name), f"{name}: {exc}") from None

    def point(self) -> tuple[float | None, float | None]:
        """Latitude and Longitude, else the Location column; both or neither."""
        lat = coordinate(self.get("Latitude"), -90, 90)
        lon = coordinate(self.get("Longitude"), -180, 180)
        if lat is None or lon is None:
            lat, lon = point(self.get("Location"))
        if lat is None or lon is None:
            return None, None
        return lat, lon


def source_status(text: str) -> str:
    """The portals' Status as ours: closed, cancelled, or open (everything else)."""
    low = text.lower()
    return "closed" if low == "closed" else "cancelled" if low.startswith("cancel") else "open"


def closing(
    row: Row, created: datetime, tz: ZoneInfo, close_cols: tuple[str, ...]
) -> tuple[datetime | None, str]:
    """The close time of a closed request and where it came from (the close column, a proxy
    column, or unknown). Unreadable or earlier-than-created times are not close times."""
    for i, col in enumerate(close_cols):
        raw = row.get(col)
        if raw is None:
            continue
        try:
            t = parse_time(raw, tz)
        except ValueError:
            continue
        if t >= created:
            return t, "close" if i == 0 else col
    return None, "unknown"


class CsvImporter(Importer):
    #: columns without which the file cannot be read at all
    required: tuple[str, ...] = ()

    def rows(self, stream: IO[bytes]) -> Iterator[Row]:
        # undecodable bytes become U+FFFD rather than ending the import
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFatal(f"{self.path}: the file is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFatal(f"{self.path}:1: cannot read the header: {exc}") from None
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(norm_column(name), i)
        missing = [c for c in self.required if norm_column(c) not in index]
        if missing:
            raise ImportFatal(
                f"{self.path}:1: missing column(s) {', '.join(missing)} "
                f"(is this a {self.source} export?)"
            )
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise ImportFatal(f"{self.path}:{start}: unreadable CSV: {exc}") from None
            if not any(v.strip() for v in values):
                continue
            yield Row(values, index, start)

    def records(self, stream: IO[bytes], problems: list[RowError]) -> Iterator[Record]:
        for row in self.rows(stream):
            try:
                yield self.record(row)
            except RowProblem as p:
                problems.append(RowError(row.line, p.column, p.message))

    def record(self, row: Row) -> Record:
        raise NotImplementedError
