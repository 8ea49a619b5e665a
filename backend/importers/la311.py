"""MyLA311 service requests (the City of Los Angeles open-data export): SRNumber,
CreatedDate, UpdatedDate, ActionTaken, Owner, RequestType, Status, RequestSource, …,
ClosedDate, Address, ZipCode, Latitude, Longitude, Location, NCName. Times are local
Los Angeles time. The department is ``Owner`` (e.g. BOS, BSL, OCB)."""

from __future__ import annotations

from datetime import datetime

from backend.importers.common import Record, RowProblem, coordinate, parse_time, point
from backend.importers.csvbase import CsvImporter, Row


def closing(
    row: Row, created: datetime, tz: object, close_cols: tuple[str, ...]
) -> tuple[datetime | None, str]:
    """The close time of a closed request and where it came from (the close column, a proxy
    column, or unknown). Unreadable or earlier-than-created times are not close times."""
    for i, col in enumerate(close_cols):
        raw = row.get(col)
        if raw is None:
            continue
        try:
            t = parse_time(raw, tz)  # type: ignore[arg-type]
        except ValueError:
            continue
        if t >= created:
            return t, "close" if i == 0 else col
    return None, "unknown"


class LA311(CsvImporter):
    source = "la311"
    default_tz = "America/Los_Angeles"
    required = ("SRNumber", "CreatedDate", "RequestType")

    def record(self, row: Row) -> Record:
        sr = row.need("SRNumber")
        try:
            created = parse_time(row.need("CreatedDate"), self.tz)
        except ValueError as exc:
            raise RowProblem(row.column("CreatedDate"), f"CreatedDate: {exc}") from None
        request_type = row.need("RequestType")
        status_text = row.get("Status") or ""
        low = status_text.lower()
        status = (
            "closed" if low == "closed" else "cancelled" if low.startswith("cancel") else "open"
        )
        closed, basis = (None, "close")
        if status != "open":
            closed, basis = closing(row, created, self.tz, ("ClosedDate", "UpdatedDate"))
        lat = coordinate(row.get("Latitude"), -90, 90)
        lon = coordinate(row.get("Longitude"), -180, 180)
        if lat is None or lon is None:
            lat, lon = point(row.get("Location"))
        address = row.get("Address") or " ".join(
            p
            for p in (row.get(c) for c in ("HouseNumber", "Direction", "StreetName", "Suffix"))
            if p
        )
        parts = [address, row.get("ZipCode"), row.get("NCName")]
        full = ", ".join(p for p in parts if p) or None
        if full is None and (lat is None or lon is None):
            raise RowProblem(
                row.column("Address"), "no address and no coordinates: cannot place it"
            )
        action = row.get("ActionTaken")
        return Record(
            line=row.line,
            source_id=sr,
            created=created,
            status=status,
            closed=closed,
            close_basis=basis,
            request_type=request_type,
            channel=row.get("RequestSource"),
            department=row.get("Owner"),
            description=request_type + (f" ({action})" if action else ""),
            address=full,
            lat=lat if lon is not None else None,
            lon=lon if lat is not None else None,
            status_text=status_text or None,
        )
