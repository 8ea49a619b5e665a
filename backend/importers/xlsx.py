"""Excel workbooks (``.xlsx``), as Chinese government data is usually handed over: the first
sheet streamed one row at a time, so memory stays flat however many rows the sheet holds.
Cells become the text a CSV export of the sheet would hold, so every importer reads both the
same way; a date-styled cell becomes ISO text, an unstyled date stays an Excel serial number
and the date reader recognises it.

openpyxl (read-only mode) opens the workbook: its structure, styles and shared strings. The
sheet's rows are read here with lxml, which hands over a row at a time from C, and each cell
is read by openpyxl's own rules for its kind but without openpyxl's objects per cell: a row
of 41 cells costs about 60 µs instead of openpyxl's 240–280 µs, more than the rest of the
import costs a row. ``tests/test_import_xlsx.py`` checks both give the same texts for every
kind of cell. Entities are not resolved and nothing is fetched: the file is not trusted."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from lxml import etree
from openpyxl.utils.datetime import from_excel, from_ISO8601

from backend.importers.common import ImportFatal

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _VALUE, _INLINE = f"{_NS}row", f"{_NS}v", f"{_NS}is"
_TEXT, _RUN = f"{_NS}t", f"{_NS}r"
#: Excel's columns, A to XFD
MAX_COLUMNS = 16_384


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
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, ParseError) as exc:
        # (ParseError: openpyxl reads each sheet's XML for its size, and refuses entities)
        raise ImportFatal(str(path), "import_not_xlsx", error=str(exc)) from None
    try:
        if not book.worksheets:
            raise ImportFatal(str(path), "import_no_sheet")
        sheet = book.worksheets[0]
        lean = LeanSheet.of(book, sheet)
        rows = lean.rows() if lean is not None else openpyxl_rows(sheet)
        try:
            for line, texts in rows:
                if line == 1 or any(t.strip() for t in texts):
                    yield line, texts
        except (etree.XMLSyntaxError, ParseError) as exc:
            raise ImportFatal(str(path), "import_bad_sheet", error=str(exc)) from None
    finally:
        book.close()


def openpyxl_rows(sheet: Any) -> Iterator[tuple[int, list[str]]]:
    """openpyxl's own reading of the rows, every row numbered (gaps as empty rows)."""
    for line, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        yield line, [cell_text(v) for v in values]


class LeanSheet:
    """The sheet's rows read straight from its XML (see the module's docstring)."""

    def __init__(self, archive: zipfile.ZipFile, member: str, book: Any, sheet: Any) -> None:
        self.archive = archive
        self.member = member
        self.strings: list[Any] = sheet._shared_strings
        self.dates: set[int] = set(book._date_formats)
        self.durations: set[int] = set(book._timedelta_formats)
        self.epoch: datetime = book.epoch
        self.columns: dict[str, int] = {}

    @classmethod
    def of(cls, book: Any, sheet: Any) -> LeanSheet | None:
        """The lean reader for ``sheet``, or None where this openpyxl keeps what it needs
        elsewhere (openpyxl's own reader is used then)."""
        archive = getattr(book, "_archive", None)
        member = getattr(sheet, "_worksheet_path", None)
        needed = ("_date_formats", "_timedelta_formats", "epoch")
        if not isinstance(archive, zipfile.ZipFile) or not isinstance(member, str):
            return None
        if not all(hasattr(book, a) for a in needed) or not hasattr(sheet, "_shared_strings"):
            return None
        return cls(archive, member, book, sheet)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row from the first, numbered as the sheet numbers them; missing rows come as
        empty ones (as openpyxl gives them), missing cells as empty texts."""
        expected = 1
        with self.archive.open(self.member) as xml:
            events = etree.iterparse(
                xml,
                events=("end",),
                tag=_ROW,
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,
            )
            for _, row in events:
                number = row.get("r")
                line = int(number) if number and number.isdigit() else expected
                while expected < line:  # rows with no cells at all
                    yield expected, []
                    expected += 1
                yield line, self._texts(row)
                expected = line + 1
                row.clear()  # flat memory: drop the rows read
                while row.getprevious() is not None:
                    del row.getparent()[0]

    def _texts(self, row: Any) -> list[str]:
        texts: list[str] = []
        col = 0
        for cell in row:
            ref = cell.get("r")
            if ref:
                col = self._column(ref)
            if col >= MAX_COLUMNS:  # past Excel's last column (XFD): not a cell of a sheet
                continue
            if col >= len(texts):
                texts.extend([""] * (col + 1 - len(texts)))
            texts[col] = cell_text(self._value(cell))
            col += 1
        return texts

    def _column(self, ref: str) -> int:
        """0-based column of a cell reference such as ``AB12``."""
        letters = ref.rstrip("0123456789")
        col = self.columns.get(letters)
        if col is None:
            n = 0
            for ch in letters.upper():
                n = n * 26 + (ord(ch) - 64)
            col = self.columns[letters] = max(n - 1, 0)
        return col

    def _value(self, cell: Any) -> Any:
        """The cell's value as openpyxl's read-only, data-only reader gives it."""
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            child = cell.find(_INLINE)
            return None if child is None else _inline_text(child)
        value = cell.findtext(_VALUE) or None
        if value is None:
            return None
        if kind == "n":
            try:
                number: float = (
                    float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                )
            except ValueError:  # not a number whatever the cell says: its text, as written
                return value
            s = cell.get("s")
            style = int(s) if s and s.isdigit() else 0  # a style that is no index: none
            if style in self.dates:
                try:
                    return from_excel(number, self.epoch, timedelta=style in self.durations)
                except (OverflowError, ValueError):
                    return "#VALUE!"
            return number
        if kind == "s":
            try:
                return self.strings[int(value)]
            except (ValueError, IndexError):
                return None  # a shared string that is not there
        if kind == "b":
            return value not in ("0", "false")
        if kind == "d":
            try:
                return from_ISO8601(value)
            except ValueError:
                return value
        return value  # "str" (a formula's text), "e" (an error such as #N/A)


def _inline_text(child: Any) -> str:
    """An inline string's text without its formatting: the plain text, then each run's
    (phonetic guides left out), as openpyxl's ``Text.content``."""
    parts: list[str] = []
    for node in child:
        if node.tag == _TEXT:
            parts.append(node.text or "")
        elif node.tag == _RUN:
            t = node.find(_TEXT)
            if t is not None:
                parts.append(t.text or "")
    return "".join(parts)
