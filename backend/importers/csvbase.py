"""CSV exports (MyLA311, NYC 311): streamed row by row, columns found by name whatever their
case or spacing, every problem named by line and column."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO

from backend.importers.common import (
    Importer,
    ImportFatal,
    Record,
    RowError,
    RowProblem,
    Share,
    coordinate,
    norm_column,
    point,
    said_of,
)
from backend.importers.dates import DateReader
from backend.importers.xlsx import sheet_rows

csv.field_size_limit(1 << 20)


#: the position of a column the file does not have: past the end of every row
_ABSENT = 1 << 30


class Row:
    """One CSV row with its columns by (normalised) name. ``index`` is the file's, shared by
    its rows: a column asked for by its own spelling is remembered under it too."""

    __slots__ = ("values", "index", "line", "dates")

    def __init__(
        self, values: list[str], index: dict[str, int], line: int, dates: DateReader
    ) -> None:
        self.values = values
        self.index = index
        self.line = line
        self.dates = dates

    def get(self, name: str) -> str | None:
        i = self.index.get(name)
        if i is None:  # first asked for by this name: remember its column (or its absence)
            i = self.index[name] = self.index.get(norm_column(name), _ABSENT)
        try:
            v = self.values[i].strip()
        except IndexError:  # a short row, or a column the file does not have
            return None
        if "\x00" in v:  # PostgreSQL refuses NUL in text: the row is listed, not sent to SQL
            raise RowProblem(i + 1, "import_row_nul", name=name)
        return v or None

    def column(self, name: str) -> int:
        i = self.index.get(norm_column(name), _ABSENT)
        return i + 1 if i < _ABSENT else 1

    def need(self, name: str) -> str:
        v = self.get(name)
        if v is None:
            raise RowProblem(self.column(name), "import_row_empty", name=name)
        return v

    def time(self, name: str) -> datetime:
        try:
            return self.dates.parse(name, self.need(name))
        except ValueError as exc:
            raise RowProblem(
                self.column(name), "import_row_about", name=name, problem=said_of(exc)
            ) from None

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
    row: Row, created: datetime, close_cols: tuple[str, ...]
) -> tuple[datetime | None, str]:
    """The close time of a closed request and where it came from (the close column, a proxy
    column, or unknown). Unreadable or earlier-than-created times are not close times."""
    for i, col in enumerate(close_cols):
        raw = row.get(col)
        if raw is None:
            continue
        try:
            t = row.dates.parse(col, raw)
        except ValueError:
            continue
        if t >= created:
            return t, "close" if i == 0 else col
    return None, "unknown"


def sniff_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without a BOM), unless the file's first block is not UTF-8 and is
    GB18030: what Chinese spreadsheet software writes when it saves "CSV" (GBK is a subset)."""
    peek = getattr(stream, "peek", None)
    head = peek(1 << 16)[: 1 << 16] if peek else b""
    try:
        head.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the block's end
            return "utf-8-sig"
    try:
        head.decode("gb18030")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 1:
            return "utf-8-sig"  # neither: read as UTF-8, bad bytes become U+FFFD
    return "gb18030"


def _values(rows: list[Row], col: str) -> list[str]:
    """The column's readable values (a value refused here is refused again, with its line,
    when its row is read)."""
    out: list[str] = []
    for r in rows:
        try:
            v = r.get(col)
        except RowProblem:
            continue
        if v is not None:
            out.append(v)
    return out


#: rows read before any is imported, to decide each date column's format
SAMPLE = 500


class CsvImporter(Importer):
    #: columns without which the file cannot be read at all
    required: tuple[str, ...] = ()
    #: columns holding dates, whose format is decided from a sample of the file
    date_columns: tuple[str, ...] = ()

    def header_index(self, header: list[str]) -> dict[str, int]:
        """Columns by normalised name; ImportFatal when a required one is missing (the file
        is not what --format says: stop at once)."""
        index: dict[str, int] = {}
        for i, name in enumerate(header):
            index.setdefault(norm_column(str(name or "")), i)
        missing = [c for c in self.required if norm_column(c) not in index]
        if missing:
            raise ImportFatal(
                f"{self.path}:1",
                "import_missing_columns",
                columns=", ".join(missing),
                source=self.source,
            )
        return index

    def sampled(self, rows: Iterator[Row]) -> Iterator[Row]:
        """The rows, after deciding each date column's format from the first SAMPLE."""
        head: list[Row] = []
        broken: ImportFatal | None = None
        try:
            for row in rows:
                head.append(row)
                if len(head) >= SAMPLE:
                    break
        except ImportFatal as exc:  # the rows before the break still import
            broken = exc
        for col in self.date_columns:
            self.dates.detect(col, _values(head, col))
        yield from head
        if broken is not None:
            raise broken
        yield from rows

    def rows(self, stream: IO[bytes]) -> Iterator[Row]:
        if self.path.suffix.lower() == ".xlsx":
            return self.sampled(self.xlsx_rows())
        return self.sampled(self.csv_rows(stream))

    def xlsx_rows(self) -> Iterator[Row]:
        """The first sheet's rows, as a CSV export of it would give them."""
        sheet = sheet_rows(self.path)
        first = next(sheet, None)
        if first is None:
            raise ImportFatal(str(self.path), "import_sheet_empty")
        index = self.header_index(first[1])
        for line, values in sheet:
            yield Row(values, index, line, self.dates)

    def csv_rows(self, stream: IO[bytes]) -> Iterator[Row]:
        # undecodable bytes become U+FFFD rather than ending the import
        encoding = sniff_encoding(stream)
        text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text)
        try:
            header = next(reader)
        except StopIteration:
            raise ImportFatal(str(self.path), "import_file_empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportFatal(f"{self.path}:1", "import_bad_header", error=str(exc)) from None
        index = self.header_index(header)
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except (csv.Error, UnicodeDecodeError) as exc:
                raise ImportFatal(
                    f"{self.path}:{start}", "import_bad_csv", error=str(exc)
                ) from None
            if not (values and values[0].strip()) and not any(v.strip() for v in values):
                continue  # a blank row (its first value, when there is one, tells at once)
            yield Row(values, index, start, self.dates)

    @property
    def shareable(self) -> bool:
        """A CSV file, yes; a workbook, no: reading the sheet (openpyxl) costs more than
        making the records, and every worker would read all of it."""
        return self.path.suffix.lower() != ".xlsx"

    def records(
        self, stream: IO[bytes], problems: list[RowError], share: Share | None = None
    ) -> Iterator[Record]:
        mine = share.mine if share is not None else None
        for i, row in enumerate(self.rows(stream)):
            if mine is not None and not mine(i):
                continue
            try:
                rec = self.record(row)
            except RowProblem as p:
                problems.append(RowError(row.line, p.column, p.said, i))
                continue
            rec.row = i
            yield rec

    def record(self, row: Row) -> Record:
        raise NotImplementedError
