"""MyLA311 service requests (the City of Los Angeles open-data export): SRNumber,
CreatedDate, UpdatedDate, ActionTaken, Owner, RequestType, Status, RequestSource, …,
ClosedDate, Address, ZipCode, Latitude, Longitude, Location, NCName. Times are local
Los Angeles time. The department is ``Owner`` (e.g. BOS, BSL, OCB)."""

from __future__ import annotations

from backend.importers.common import Record, RowProblem
from backend.importers.csvbase import CsvImporter, Row, closing, source_status

_STREET = ("HouseNumber", "Direction", "StreetName", "Suffix")


class LA311(CsvImporter):
    source = "la311"
    default_tz = "America/Los_Angeles"
    date_columns = ("CreatedDate", "UpdatedDate", "ClosedDate")
    required = ("SRNumber", "CreatedDate", "RequestType")

    def record(self, row: Row) -> Record:
        sr = row.need("SRNumber")
        created = row.time("CreatedDate")
        request_type = row.need("RequestType")
        status_text = row.get("Status") or ""
        status = source_status(status_text)
        closed, basis = None, "close"
        if status != "open":
            closed, basis = closing(row, created, ("ClosedDate", "UpdatedDate"))
        lat, lon = row.point()
        street = row.get("Address") or " ".join(p for p in map(row.get, _STREET) if p)
        full = ", ".join(p for p in (street, row.get("ZipCode"), row.get("NCName")) if p) or None
        if full is None and lat is None:
            raise RowProblem(row.column("Address"), "import_row_no_place")
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
            lat=lat,
            lon=lon,
            status_text=status_text or None,
        )
