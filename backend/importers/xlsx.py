"""Excel workbooks (``.xlsx``), as Chinese government data is usually handed over: the first
sheet streamed with openpyxl's read-only mode, one row at a time, so memory stays flat however
many rows the sheet holds. Cells become the text a CSV export of the sheet would hold, so every
importer reads both the same way; a date-styled cell becomes ISO text, an unstyled date stays
an Excel serial number and the date reader recognises it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from backend.importers.common import ImportFatal

if TYPE_CHECKING:
    from backend.importers.csvbase import CsvImporter, Row


def cell_text(v: Any) -> str:
    """A cell's value as the text a CSV export would hold."""
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.isoformat(" ")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, time):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))  # ids stored as numbers: 1001.0 is "1001"
    return str(v)


def xlsx_rows(importer: CsvImporter) -> Iterator[Row]:
    """The first sheet's rows after its header row (line = the sheet's row number). The
    workbook is a zip file, read from its path (zip needs to seek)."""
    from openpyxl import load_workbook

    from backend.importers.csvbase import Row

    try:
        book = load_workbook(importer.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFatal(f"{importer.path}: not an Excel .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise ImportFatal(f"{importer.path}: the workbook has no sheet")
        cells = sheet.iter_rows(values_only=True)
        header = next(cells, None)
        if header is None:
            raise ImportFatal(f"{importer.path}: the first sheet is empty")
        index = importer.header_index([cell_text(v) for v in header])
        for line, values in enumerate(cells, start=2):
            texts = [cell_text(v) for v in values]
            if not any(t.strip() for t in texts):
                continue
            yield Row(texts, index, line, importer.dates)
    finally:
        book.close()
