"""NYC 311 Service Requests (NYC Open Data): Unique Key, Created Date, Closed Date, Agency,
Agency Name, Complaint Type, Descriptor, Incident Zip, Incident Address, Street Name,
Cross Street 1/2, Intersection Street 1/2, City, Status, Resolution Description,
Resolution Action Updated Date, Borough, Open Data Channel Type, Latitude, Longitude,
Location. Portal exports ("Unique Key") and API exports ("unique_key") both read. Times are
New York local time. The department is ``Agency`` (e.g. NYPD, HPD, DSNY)."""

from __future__ import annotations

from backend.importers.common import Record, RowProblem
from backend.importers.csvbase import CsvImporter, Row, closing, source_status

_CLOSE = ("Closed Date", "Resolution Action Updated Date")


class NYC311(CsvImporter):
    source = "nyc311"
    default_tz = "America/New_York"
    date_columns = ("Created Date", "Closed Date", "Resolution Action Updated Date")
    required = ("Unique Key", "Created Date", "Complaint Type")

    def record(self, row: Row) -> Record:
        key = row.need("Unique Key")
        created = row.time("Created Date")
        complaint = row.need("Complaint Type")
        status_text = row.get("Status") or ""
        status = source_status(status_text)
        closed, basis = None, "close"
        if status != "open":
            closed, basis = closing(row, created, _CLOSE)
        lat, lon = row.point()
        street = row.get("Incident Address")
        if street is None:
            a, b = row.get("Intersection Street 1"), row.get("Intersection Street 2")
            street = f"{a} & {b}" if a and b else (row.get("Street Name") or a or b)
        place = row.get("City") or row.get("Borough")
        full = ", ".join(p for p in (street, place, row.get("Incident Zip")) if p) or None
        if full is None and lat is None:
            where = row.column("Incident Address")
            raise RowProblem(where, "import_row_no_place")
        descriptor = row.get("Descriptor")
        return Record(
            line=row.line,
            source_id=key,
            created=created,
            status=status,
            closed=closed,
            close_basis=basis,
            request_type=complaint,
            channel=row.get("Open Data Channel Type"),
            department=row.get("Agency"),
            description=complaint + (f": {descriptor}" if descriptor else ""),
            address=full,
            lat=lat,
            lon=lon,
            status_text=status_text or None,
        )
