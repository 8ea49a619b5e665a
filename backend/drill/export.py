"""The periodic report as a table, as CSV for machines and as the leader's XLSX workbook.

The rows are ``build_report``'s figures exactly as ``gridwatch report --json`` prints them:
the whole window first, then every group of ``by_unit``, ``by_channel``, ``by_category`` and
``by_tier``. Names are added beside the codes, never instead of them.
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd

from backend.core.i18n import t
from backend.queries.reports import FIGURES, GROUPS

#: section, key, name, then the figures in the report's order
COLUMNS = ("section", "key", "name", *FIGURES)
#: what the files say of the report above the table, in this order
META = ("title", "from", "to", "as_of")


def report_rows(
    report: dict[str, Any],
    name_of: Callable[[str, str], str] | None = None,
    *,
    units: int | None = None,
) -> list[dict[str, Any]]:
    """One row for the window, then one per group; ``name_of(section, key)`` names a key.
    ``units``: only that many units, those with the most cases (a screen's rows; a month of
    Shangrao has 12,000 units, which the files carry)."""
    name_of = name_of or (lambda _s, k: k)
    rows = [{"section": "total", "key": "", "name": name_of("total", ""), **_figs(report)}]
    for section in GROUPS:
        parts = report[section]
        keys: Iterable[str] = parts
        if section == "by_unit" and units is not None:
            keys = heapq.nsmallest(units, parts, key=lambda k: (-parts[k]["cases_total"], k))
        for key in keys:
            figs = parts[key]
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


#: columns whose figures are fractions, shown as percentages in the leader's workbook
RATES = frozenset(k for k in FIGURES if k.endswith("_rate"))
#: the figure each rate is a share of, when the report's figures give it
RATE_BASES = {"close_rate": "handled", "on_time_rate": "closed"}
_WIDTHS = {"section": 12, "key": 24, "name": 30}


def to_xlsx(
    rows: list[dict[str, Any]],
    meta: dict[str, Any],
    lang: str = "zh",
    halls: list[dict[str, Any]] | None = None,
) -> bytes:
    """The leader's workbook of a 日报/旬报/月报: a summary sheet (title, period, the report's
    local time, the key figures with their bases), then the whole table (headers in the
    reader's language, rates as percentages, numbers as numbers, an empty cell where a rate
    has nothing to measure), columns sized, header frozen and filtered, printed A4 landscape
    one page wide with the header on every page; then, given ``halls`` (``hall_report.
    hall_rows``), the service halls' attendance on a sheet of its own. The CSV stays the
    machines' format (the cases' table; the halls' figures are in ``report --json --halls``)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    summary = wb.active
    assert summary is not None
    summary.title = t("xl_sheet_summary", lang)
    title = str(meta.get("title", ""))
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE6F0")
    summary["A1"] = title
    summary["A1"].font = Font(bold=True, size=16)
    summary.merge_cells("A1:D1")
    lines = [
        (t("xl_period", lang), _period_text(meta, lang)),
        (t("xl_as_of", lang), str(meta.get("as_of_local") or meta.get("as_of", ""))),
        (t("xl_scope", lang), str(meta.get("scope", t("xl_scope_city", lang)))),
    ]
    for i, (k, v) in enumerate(lines, start=2):
        summary.cell(row=i, column=1, value=k).font = bold
        summary.cell(row=i, column=2, value=v)
    top = len(lines) + 3
    for c, text in enumerate((t("xl_figure", lang), t("xl_value", lang), t("xl_base", lang)), 1):
        cell = summary.cell(row=top, column=c, value=text)
        cell.font, cell.fill = bold, head_fill
    total = next((r for r in rows if r["section"] == "total"), None)
    bases = _bases(total) if total else {}
    for i, k in enumerate(FIGURES, start=top + 1):
        summary.cell(row=i, column=1, value=t(f"fig_{k}", lang))
        value = summary.cell(row=i, column=2, value=total[k] if total else None)
        if k in RATES:
            value.number_format = "0.0%"
        elif k == "median_hours_to_close":
            value.number_format = "0.0"
        if k in RATE_BASES and total:
            summary.cell(row=i, column=3, value=t(f"xl_base_{k}", lang, n=bases[k]))
    for col, width in zip("ABCD", (24, 22, 28, 10), strict=True):
        summary.column_dimensions[col].width = width
    _print_setup(summary, title, portrait=True)

    table = wb.create_sheet(t("xl_sheet_table", lang))
    columns = list(COLUMNS)
    table.append([_header(c, lang) for c in columns])
    for c in range(1, len(columns) + 1):
        cell = table.cell(row=1, column=c)
        cell.font, cell.fill = bold, head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for r in rows:
        table.append([t(f"sec_{r['section']}", lang) if c == "section" else r[c] for c in columns])
    for c, name in enumerate(columns, start=1):
        letter = get_column_letter(c)
        table.column_dimensions[letter].width = _WIDTHS.get(name, 12)
        fmt = "0.0%" if name in RATES else "0.0" if name == "median_hours_to_close" else None
        if fmt:
            for (cell,) in table.iter_rows(min_row=2, min_col=c, max_col=c):
                cell.number_format = fmt
    table.freeze_panes = "D2"
    table.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    _print_setup(table, title, portrait=False)
    table.print_title_rows = "1:1"
    if halls is not None:
        _halls_sheet(wb, halls, title, lang)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _halls_sheet(wb: Any, halls: list[dict[str, Any]], title: str, lang: str) -> None:
    """The service halls' attendance: one row a hall, rates as percentages, minutes as
    numbers, the lowest on-post rate first (as on screen)."""
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from backend.queries.hall_report import HALL_COLUMNS

    sheet = wb.create_sheet(t("xl_sheet_halls", lang))
    sheet.append([t(f"hcol_{c}", lang) for c in HALL_COLUMNS])
    for c in range(1, len(HALL_COLUMNS) + 1):
        cell = sheet.cell(row=1, column=c)
        cell.font, cell.fill = Font(bold=True), PatternFill("solid", fgColor="DDE6F0")
    for r in halls:
        sheet.append([r[c] for c in HALL_COLUMNS])
    for c, name in enumerate(HALL_COLUMNS, start=1):
        letter = get_column_letter(c)
        sheet.column_dimensions[letter].width = 30 if name == "name" else 14
        if name.endswith("_rate"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=c, max_col=c):
                cell.number_format = "0.0%"
    sheet.freeze_panes = "C2"
    _print_setup(sheet, title, portrait=False)
    sheet.print_title_rows = "1:1"


def _header(column: str, lang: str) -> str:
    if column in FIGURES:
        return t(f"fig_{column}", lang)
    return t(f"xl_col_{column}", lang)


def _bases(total: dict[str, Any]) -> dict[str, int]:
    return {
        "close_rate": int(total["cases_total"]) - int(total["cancelled"]),
        "on_time_rate": int(total["closed"]),
    }


def _period_text(meta: dict[str, Any], lang: str) -> str:
    frm = meta.get("from_local") or str(meta.get("from", ""))[:10]
    to = meta.get("to_local") or str(meta.get("to", ""))[:10]
    return t("xl_period_range", lang, frm=frm, to=to)


def _print_setup(sheet: Any, title: str, *, portrait: bool) -> None:
    """A4, one page wide, the title in the page header and page numbers in the footer."""
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "portrait" if portrait else "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddHeader.center.text = title.replace("&", "&&")
    sheet.oddFooter.center.text = "&P / &N"


def header_line(meta: dict[str, Any]) -> int:
    """The sheet row (1-based) of the column header on the workbook's table sheet."""
    return 1
