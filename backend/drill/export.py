"""The periodic report as a table, and as CSV and XLSX files.

The rows are ``build_report``'s figures exactly as ``gridwatch report --json`` prints them:
the whole window first, then every group of ``by_unit``, ``by_channel``, ``by_category`` and
``by_tier``. Names are added beside the codes, never instead of them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook

from backend.queries.reports import FIGURES, GROUPS

#: section, key, name, then the figures in the report's order
COLUMNS = ("section", "key", "name", *FIGURES)
SECTIONS = ("total", *GROUPS)


def report_rows(
    report: dict[str, Any], name_of: Callable[[str, str], str] | None = None
) -> list[dict[str, Any]]:
    """One row for the window, then one per group; ``name_of(section, key)`` names a key."""
    name_of = name_of or (lambda _s, k: k)
    rows = [{"section": "total", "key": "", "name": name_of("total", ""), **_figs(report)}]
    for section in GROUPS:
        for key, figs in report[section].items():
            rows.append(
                {"section": section, "key": key, "name": name_of(section, key), **_figs(figs)}
            )
    return rows


def _figs(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in FIGURES}


def to_csv(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """UTF-8 CSV with a BOM (so spreadsheet programs read the Chinese names); the window and
    the report's clock in the first lines, then a header and the rows. Rates as fractions."""
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf, lineterminator="\n")
    for k in ("title", "from", "to", "as_of"):
        if k in meta:
            w.writerow([f"# {k}", meta[k]])
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if r[c] is None else r[c] for c in COLUMNS])
    return buf.getvalue()


def to_xlsx(rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    """One sheet, ``report``: the window above, then the same table as the CSV, numbers as
    numbers (an empty cell where a rate has nothing to measure)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "report"
    line = 1
    for k in ("title", "from", "to", "as_of"):
        if k in meta:
            ws.cell(line, 1, k)
            ws.cell(line, 2, str(meta[k]))
            line += 1
    for j, c in enumerate(COLUMNS, 1):
        ws.cell(line, j, c)
    for r in rows:
        line += 1
        for j, c in enumerate(COLUMNS, 1):
            ws.cell(line, j, r[c])
    ws.freeze_panes = ws.cell(line - len(rows) + 1, 4)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def header_line(meta: dict[str, Any]) -> int:
    """The sheet row (1-based) of the column header, for readers of the file."""
    return sum(1 for k in ("title", "from", "to", "as_of") if k in meta) + 1
