"""Excel workbooks (``.xlsx``), as Chinese government data is usually handed over: the first
sheet streamed with openpyxl's read-only mode, one row at a time, so memory stays flat however
many rows the sheet holds. Cells become the text a CSV export of the sheet would hold, so every
importer reads both the same way; a date-styled cell becomes ISO text, an unstyled date stays
an Excel serial number and the date reader recognises it."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from backend.importers.common import ImportFatal


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


def sheet_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(row number, cell texts) of the first sheet's rows, the header first; blank rows are
    left out. The workbook is a zip file, read from its path (zip needs to seek)."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFatal(f"{path}: not an Excel .xlsx workbook ({exc})") from None
    try:
        if not book.worksheets:
            raise ImportFatal(f"{path}: the workbook has no sheet")
        for line, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            texts = [cell_text(v) for v in values]
            if line == 1 or any(t.strip() for t in texts):
                yield line, texts
    finally:
        book.close()
