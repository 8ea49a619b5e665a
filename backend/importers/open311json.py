"""Open311 GeoReport v2 JSON (what ``GET requests.json`` answers): a JSON array of service
requests, or JSON Lines (one request per line). Read incrementally, one object at a time,
so a large file is never held whole; a problem is named by the line and column where its
object starts."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import IO, Any

from backend.core.i18n import said
from backend.importers.common import (
    Importer,
    ImportFatal,
    Record,
    RowError,
    RowProblem,
    Share,
    coordinate,
    said_of,
)

CHUNK = 1 << 16
MAX_OBJECT = 8 << 20  # one request larger than this is not a service request


class Open311Json(Importer):
    source = "open311"
    default_tz = "UTC"
    default_channel = "open311"

    def objects(self, stream: IO[bytes]) -> Iterator[tuple[int, int, Any]]:
        """(line, column, value) of each top-level request, streaming."""
        decoder = json.JSONDecoder()
        utf8 = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        buf = ""
        pos = 0
        line, col_base = 1, 0  # line of buf[pos]; offset in buf where that line starts
        started = False
        in_array = False
        eof = False

        def more() -> bool:
            nonlocal buf, pos, col_base, eof
            data = stream.read(CHUNK)
            if not data:
                eof = True
                buf += utf8.decode(b"", final=True)
                return False
            buf = buf[pos:] + utf8.decode(data)
            col_base -= pos
            pos = 0
            return True

        def advance(to: int) -> None:
            nonlocal pos, line, col_base
            seg = buf[pos:to]
            n = seg.count("\n")
            if n:
                line += n
                col_base = pos + seg.rindex("\n") + 1
            pos = to

        while True:
            # skip whitespace and separators
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n":
                    advance(pos + 1)
                if pos < len(buf) or not more():
                    break
            if pos >= len(buf):
                if in_array:
                    where = f"{self.path}:{line}:{pos - col_base + 1}"
                    raise ImportFatal(where, "import_json_open_array")
                return
            ch = buf[pos]
            if not started:
                started = True
                if ch == "[":
                    in_array = True
                    advance(pos + 1)
                    continue
            if in_array and ch == ",":
                advance(pos + 1)
                continue
            if in_array and ch == "]":
                return
            at_line, at_col = line, pos - col_base + 1
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except json.JSONDecodeError as exc:
                    if not eof and len(buf) - pos < MAX_OBJECT and more():
                        continue
                    where = f"{self.path}:{at_line}:{at_col}"
                    raise ImportFatal(where, "import_bad_json", error=exc.msg) from None
            advance(end)
            yield at_line, at_col, value

    def records(
        self, stream: IO[bytes], problems: list[RowError], share: Share | None = None
    ) -> Iterator[Record]:
        """(Not shareable: ``share`` is never given; one JSON document is read by one.)"""
        for i, (line, col, obj) in enumerate(self.objects(stream)):
            try:
                rec = self.record(line, obj)
            except RowProblem as p:
                problems.append(RowError(line, col, p.said, i))
                continue
            rec.row = i
            yield rec

    def record(self, line: int, obj: Any) -> Record:
        if not isinstance(obj, dict):
            raise RowProblem(1, "import_row_not_object")

        def text(name: str) -> str | None:
            v = obj.get(name)
            if v is None:
                return None
            v = str(v).strip()
            if "\x00" in v:  # PostgreSQL refuses NUL in text: listed, not sent to SQL
                raise RowProblem(1, "import_row_nul", name=name)
            return v or None

        rid = text("service_request_id")
        if rid is None:
            raise RowProblem(1, "import_row_no_id")
        raw_created = text("requested_datetime")
        if raw_created is None:
            raise RowProblem(1, "import_row_about", name=rid, problem=said("import_row_no_time"))
        try:
            created = self.dates.parse("requested_datetime", raw_created)
        except ValueError as exc:
            problem = said("import_row_about", name="requested_datetime", problem=said_of(exc))
            raise RowProblem(1, "import_row_about", name=rid, problem=problem) from None
        status_text = text("status") or "open"
        status = "closed" if status_text.lower() == "closed" else "open"
        closed, basis = None, "close"
        if status == "closed":
            # the specification: for a closed request, updated_datetime is when it was closed
            raw = text("updated_datetime")
            if raw:
                try:
                    closed = self.dates.parse("updated_datetime", raw)
                except ValueError:
                    closed = None
            if closed is None or closed < created:
                closed, basis = None, "unknown"
        lat = coordinate(text("lat"), -90, 90)
        lon = coordinate(text("long"), -180, 180)
        address = text("address")
        if address is None and text("address_id"):
            address = text("address_id")
        if address is None and (lat is None or lon is None):
            raise RowProblem(1, "import_row_about", name=rid, problem=said("import_row_no_place"))
        service_name = text("service_name")
        service = text("service_code") or service_name or "unknown"
        name = service_name or service
        return Record(
            line=line,
            source_id=rid,
            created=created,
            status=status,
            closed=closed,
            close_basis=basis,
            request_type=service,
            channel="open311",
            department=text("agency_responsible"),
            description=text("description") or name,
            address=address,
            lat=lat if lon is not None else None,
            lon=lon if lat is not None else None,
            status_text=status_text,
        )
