"""Issue 13, item 2: an .xlsx sheet read row by row from its XML (importers/xlsx.py) gives the
very texts openpyxl's own reader gives, for every kind of cell, in a workbook saved normally
(shared strings) or streamed (inline strings), and a hostile sheet is refused, not obeyed."""

from __future__ import annotations

import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from backend.importers.common import ImportFatal
from backend.importers.xlsx import LeanSheet, openpyxl_rows, sheet_rows

HEADER = ["id", "when", "what", "n", "flag", "extra"]


def _rows() -> list[list[object]]:
    return [
        [1001, datetime(2024, 1, 5, 8, 30), "路灯不亮", 3.5, True, None],
        [1002.0, date(2024, 1, 6), "  spaces kept  ", -7, False, "#N/A"],
        [1e20, time(13, 45, 10), "", 0.1, None, "=1+1"],
        [None, None, None, None, None, None],  # a blank row: left out
        ["GD-3", datetime(1900, 1, 1), "x\ny", 12345678901234, "TRUE", "<&>\"'"],
        [4, timedelta(hours=30, minutes=5), "timedelta", 1.5e-7, 0, "last"],
    ]


def _workbook(path: Path, *, write_only: bool, epoch_1904: bool = False) -> Path:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet() if write_only else wb.active
    if epoch_1904:
        wb.epoch = datetime(1904, 1, 1)
    ws.append(HEADER)
    for row in _rows():
        ws.append(row)
    if not write_only:
        ws["B9"] = datetime(2024, 2, 29, 23, 59, 59)
        ws["B9"].number_format = "yyyy年m月d日 h:mm"  # a custom date format
        ws["C9"] = CellRichText("rich ", TextBlock(InlineFont(b=True), "text"))
        ws["F9"] = timedelta(days=2)
        ws["F9"].number_format = "[h]:mm"
        ws["AB12"] = "far away"  # a gap of rows and of columns
    wb.save(path)
    return path


def _reference(path: Path) -> list[tuple[int, list[str]]]:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return [
            (line, texts)
            for line, texts in openpyxl_rows(book.worksheets[0])
            if line == 1 or any(t.strip() for t in texts)
        ]
    finally:
        book.close()


def _trimmed(rows: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """Rows without trailing empty cells (openpyxl pads every row to the sheet's width)."""
    out = []
    for line, texts in rows:
        texts = list(texts)
        while texts and texts[-1] == "":
            texts.pop()
        out.append((line, texts))
    return out


@pytest.mark.parametrize("write_only", [False, True], ids=["shared strings", "inline strings"])
@pytest.mark.parametrize("epoch_1904", [False, True], ids=["1900", "1904"])
def test_the_lean_reader_gives_what_openpyxl_gives(tmp_path, write_only, epoch_1904):
    path = _workbook(tmp_path / "kinds.xlsx", write_only=write_only, epoch_1904=epoch_1904)
    book = load_workbook(path, read_only=True, data_only=True)
    assert LeanSheet.of(book, book.worksheets[0]) is not None  # the lean road is taken
    book.close()
    got = list(sheet_rows(path))
    assert _trimmed(got) == _trimmed(_reference(path))
    lines = [line for line, _ in got]
    assert 5 not in lines  # the blank row
    if not write_only:
        assert lines[-1] == 12 and got[-1][1][27] == "far away"
        row9 = dict(zip(HEADER, got[lines.index(9)][1], strict=False))
        assert row9["when"] == "2024-02-29 23:59:59" and row9["what"] == "rich text"


def _with_sheet(tmp_path: Path, xml: bytes) -> Path:
    """A real workbook whose first sheet's XML is replaced by ``xml``."""
    good = _workbook(tmp_path / "good.xlsx", write_only=False)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = xml
            dst.writestr(item, data)
    return bad


NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


@pytest.mark.parametrize(
    "xml",
    [
        # an entity that would read a file of the machine
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<worksheet " + NS + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&x;'
        b"</t></is></c></row></sheetData></worksheet>",
        # entities that expand a billion times
        b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        b'<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
        b'<!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;"><!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">'
        b'<!ENTITY h "&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;">'
        b'<!ENTITY i "&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;">]>'
        b"<worksheet " + NS + b'><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&i;'
        b"</t></is></c></row></sheetData></worksheet>",
        # not XML at all after the first row
        b"<worksheet " + NS + b'><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row <<',
        # numbers that are not, a shared string that is not there, a column past ZZZ
        b"<worksheet " + NS + b'><sheetData><row r="1"><c r="A1"><v>12abc</v></c>'
        b'<c r="B1" t="s"><v>99999</v></c><c r="ZZZZ1"><v>1</v></c><c r="C1" s="x"><v>2</v></c>'
        b"</row></sheetData></worksheet>",
    ],
    ids=["external entity", "entity expansion", "broken XML", "nonsense cells"],
)
def test_a_hostile_sheet_is_refused_or_read_as_text_never_obeyed(tmp_path, xml):
    path = _with_sheet(tmp_path, xml)
    try:
        rows = list(sheet_rows(path))
    except ImportFatal as exc:
        assert str(path) in str(exc)
        return
    text = "".join(t for _, texts in rows for t in texts)
    assert "root:" not in text  # /etc/passwd was not read
    assert len(text) < 10_000  # nothing was expanded
    assert all(len(texts) <= 16_384 for _, texts in rows)  # no row past Excel's last column
