"""The periodic report as a table, and as CSV and XLSX files.

The rows are ``build_report``'s figures exactly as ``gridwatch report --json`` prints them:
the whole window first, then every group of ``by_unit``, ``by_channel``, ``by_category`` and
``by_tier``. Names are added beside the codes, never instead of them.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pandas as pd

from backend.queries.reports import FIGURES, GROUPS

#: section, key, name, then the figures in the report's order
COLUMNS = ("section", "key", "name", *FIGURES)
#: what the files say of the report above the table, in this order
META = ("title", "from", "to", "as_of")
SHEET = "report"


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


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a table with the columns in ``COLUMNS``' order. The cells stay the report's
    own Python values (``object`` columns): a count stays an int and a missing rate ``None``,
    where inferred dtypes would turn a column with a gap into floats (``5.0``) and NaN."""
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)


def _meta_frame(meta: dict[str, Any], *, prefix: str) -> pd.DataFrame:
    """The window and the report's clock as two columns: name, value."""
    return pd.DataFrame(
        [(f"{prefix}{k}", meta[k]) for k in META if k in meta], columns=["k", "v"], dtype=object
    )


def to_csv(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """UTF-8 CSV with a BOM (so spreadsheet programs read the Chinese names); the window and
    the report's clock in the first lines, then a header and the rows. Rates as fractions."""
    buf = io.StringIO()
    buf.write("\ufeff")  # to a text buffer pandas writes no BOM, whatever the encoding says
    _meta_frame(meta, prefix="# ").to_csv(buf, header=False, index=False, lineterminator="\n")
    frame(rows).to_csv(buf, index=False, na_rep="", lineterminator="\n")
    return buf.getvalue()


def to_xlsx(rows: list[dict[str, Any]], meta: dict[str, Any]) -> bytes:
    """One sheet, ``report``: the window above, then the same table as the CSV, numbers as
    numbers (an empty cell where a rate has nothing to measure), the header and the section,
    key and name columns frozen."""
    head = _meta_frame(meta, prefix="").astype(str)
    table = frame(rows)
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as xl:
        if len(head):
            head.to_excel(xl, sheet_name=SHEET, header=False, index=False)
        table.to_excel(
            xl, sheet_name=SHEET, index=False, startrow=len(head), freeze_panes=(len(head) + 1, 3)
        )
        # pandas writes a missing value as text (na_rep, "" at least), which a formula reads
        # as text, not as nothing: those cells are emptied on the sheet it made
        sheet = xl.sheets[SHEET]
        first = len(head) + 2  # the sheet row of the table's first row
        for r, c in zip(*table.isna().to_numpy().nonzero(), strict=True):
            sheet.cell(row=first + int(r), column=int(c) + 1).value = None
    return out.getvalue()


def header_line(meta: dict[str, Any]) -> int:
    """The sheet row (1-based) of the column header, for readers of the file."""
    return sum(1 for k in META if k in meta) + 1
