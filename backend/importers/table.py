"""Any city's own columns (``--format table --mapping FILE.yaml``): a CSV or Excel export whose
column names the mapping file gives, for instance a 12345 hotline export (工单编号, 受理时间,
诉求内容, 办结时间, 承办单位, 满意度). See docs/import-table.md for the file's format.

A row that names no category (or a request type the mapping does not know) and no place goes
through the hotline text parser, as a 12345 order arriving live would; when the parser is not
sure, the row becomes a report in the triage queue for a person, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from backend.domain.vocabulary import Rating
from backend.importers.common import (
    ImportFatal,
    Mapping,
    Record,
    RowProblem,
    coordinate,
    said_of,
)
from backend.importers.csvbase import CsvImporter, Row
from backend.intake.textparse import TextParser

#: our fields a mapping file may name a column for; the first three are required
FIELDS = (
    "id",
    "created",
    "description",
    "closed",
    "status",
    "category",
    "request_type",
    "unit",
    "channel",
    "address",
    "lat",
    "lon",
    "satisfaction",
)
REQUIRED = ("id", "created", "description")


@dataclass
class TableSpec:
    """The ``columns``, ``status_values``, ``ratings`` and date settings of a mapping file."""

    path: Path
    columns: dict[str, str]
    closed_values: frozenset[str] = frozenset()
    cancelled_values: frozenset[str] = frozenset()
    ratings: dict[str, str] = field(default_factory=dict)
    day_first: bool = False
    tz: str | None = None
    source: str = "table"

    @classmethod
    def load(cls, path: Path) -> TableSpec:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ImportFatal(str(path), "import_mapping_unreadable", error=str(exc)) from None
        if not isinstance(data, dict):
            raise ImportFatal(str(path), "import_mapping_not_yaml")
        cols = data.get("columns")
        if not isinstance(cols, dict):
            raise ImportFatal(str(path), "import_table_needs_columns")
        unknown = sorted(str(k) for k in cols if k not in FIELDS)
        if unknown:
            raise ImportFatal(
                str(path),
                "import_table_unknown_fields",
                fields=", ".join(unknown),
                known=", ".join(FIELDS),
            )
        missing = [f for f in REQUIRED if not cols.get(f)]
        if missing:
            raise ImportFatal(str(path), "import_table_missing_fields", fields=", ".join(missing))
        status = data.get("status_values") or {}
        ratings = data.get("ratings") or {}
        if not isinstance(status, dict) or not isinstance(ratings, dict):
            raise ImportFatal(str(path), "import_table_not_mappings")
        valid = {r.value for r in Rating}
        bad = sorted({str(v) for v in ratings.values() if str(v) not in valid})
        if bad:
            raise ImportFatal(
                str(path), "import_table_bad_ratings", valid=", ".join(sorted(valid)), bad=bad
            )
        source = str(data.get("source") or "table")
        return cls(
            path=path,
            columns={k: str(v) for k, v in cols.items() if v},
            closed_values=_values(status.get("closed")),
            cancelled_values=_values(status.get("cancelled")),
            ratings={str(k).strip(): str(v) for k, v in ratings.items()},
            day_first=bool(data.get("day_first", False)),
            tz=data.get("tz"),
            source=source[:16],
        )


def _values(raw: Any) -> frozenset[str]:
    if raw is None:
        return frozenset()
    if isinstance(raw, str):
        raw = [raw]
    return frozenset(str(v).strip() for v in raw)


class TableImporter(CsvImporter):
    """Rows of a CSV or .xlsx file, read by the columns a mapping file names."""

    default_tz = "Asia/Shanghai"

    def __init__(
        self,
        path: Path,
        tz: ZoneInfo,
        date_format: str | None = None,
        *,
        spec: TableSpec,
        mapping: Mapping,
        parser: TextParser,
        confidence: float,
    ) -> None:
        self.day_first = spec.day_first
        super().__init__(path, tz, date_format)
        self.spec = spec
        self.mapping = mapping
        self.parser = parser
        self.confidence = confidence
        self.source = spec.source
        c = spec.columns
        self.required = tuple(c[f] for f in REQUIRED)
        self.date_columns = tuple(c[f] for f in ("created", "closed") if f in c)

    def _get(self, row: Row, name: str) -> str | None:
        col = self.spec.columns.get(name)
        return row.get(col) if col else None

    def record(self, row: Row) -> Record:
        c = self.spec.columns
        sid = row.need(c["id"])
        created = row.time(c["created"])
        description = row.need(c["description"])
        closed: datetime | None = None
        raw_closed = self._get(row, "closed")
        if raw_closed is not None:
            try:
                closed = row.dates.parse(c["closed"], raw_closed)
            except ValueError as exc:
                raise RowProblem(
                    row.column(c["closed"]),
                    "import_row_about",
                    name=c["closed"],
                    problem=said_of(exc),
                ) from None
            if closed < created:
                closed = None
        status_text = self._get(row, "status")
        if status_text is not None:
            status = (
                "closed"
                if status_text in self.spec.closed_values
                else "cancelled"
                if status_text in self.spec.cancelled_values
                else "open"
            )
        else:
            status = "closed" if raw_closed is not None else "open"
        basis = "close" if closed is not None else "unknown"
        lat = coordinate(self._get(row, "lat"), -90, 90)
        lon = coordinate(self._get(row, "lon"), -180, 180)
        if lat is None or lon is None:
            lat = lon = None
        address = self._get(row, "address")
        category = self._get(row, "category")
        request_type = self._get(row, "request_type") or category or ""
        ours = None
        if category and (category in self.mapping.known or self.mapping.mapped(category)):
            ours = self.mapping.category(category)
        elif request_type and self.mapping.mapped(request_type):
            ours = self.mapping.category(request_type)
        rating_text = self._get(row, "satisfaction")
        rating = self.spec.ratings.get(rating_text) if rating_text else None
        rec = Record(
            line=row.line,
            source_id=sid,
            created=created,
            status=status,
            closed=closed,
            close_basis=basis,
            request_type=request_type,
            channel=self._get(row, "channel"),
            department=self._get(row, "unit"),
            description=description,
            address=address,
            lat=lat,
            lon=lon,
            status_text=status_text,
            category=ours,
            rating=rating if status == "closed" else None,
        )
        if ours is None or (address is None and lat is None):
            self._parse(rec)
        return rec

    def _parse(self, rec: Record) -> None:
        """Category and place from the text, as the hotline intake reads a 12345 order;
        unsure: the row waits in the triage queue."""
        parsed = self.parser.parse(rec.description)
        rec.parse = parsed.as_json()
        if rec.category is None:
            if parsed.category is None or parsed.confidence < self.confidence:
                rec.triage = parsed.triage_reason(self.confidence)
                return
            rec.category = parsed.category
        if rec.address is None and rec.lat is None:
            if parsed.grid is None and parsed.address is None:
                rec.triage = "no place named"
                return
            rec.grid = parsed.grid
            rec.address = parsed.address
