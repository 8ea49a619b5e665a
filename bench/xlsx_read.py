"""Reading an .xlsx sheet: gridwatch's row reader (importers/xlsx.py: openpyxl opens the
workbook, lxml reads the rows) beside openpyxl's own read-only row reader, on the same
workbook in the same run.

    python -m bench.xlsx_read [--rows 20000] [--repeat 3]

The workbook is saved the way Excel and WPS save one (a size element, shared strings): the
NYC-shaped rows of bench/importers.py, numbers as numbers. Each figure includes opening the
workbook (openpyxl reads the shared strings and styles for both). One JSON line per repeat.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
from pathlib import Path

from openpyxl import Workbook, load_workbook

from backend.importers.xlsx import openpyxl_rows, sheet_rows
from bench.common import machine
from bench.importers import write_nyc


def workbook(rows: int) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gwxlsx-"))
    source = folder / "nyc.csv"
    write_nyc(source, rows, random.Random(11))
    book = Workbook()
    sheet = book.active
    with source.open(newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            sheet.append([int(v) if v.isdigit() else v for v in row])
    path = folder / "nyc.xlsx"
    book.save(path)
    return path


def lean(path: Path) -> int:
    return sum(1 for _ in sheet_rows(path))


def openpyxl_only(path: Path) -> int:
    book = load_workbook(path, read_only=True, data_only=True)
    try:
        return sum(
            1
            for line, texts in openpyxl_rows(book.worksheets[0])
            if line == 1 or any(t.strip() for t in texts)
        )
    finally:
        book.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = workbook(args.rows)
    for _ in range(args.repeat):
        figures: dict[str, float] = {}
        for name, read in (("gridwatch", lean), ("openpyxl", openpyxl_only)):
            started = time.perf_counter()
            n = read(path)
            figures[name] = (n - 1) / (time.perf_counter() - started)
        print(
            json.dumps(
                {
                    "bench": "xlsx_read",
                    "machine": machine(),
                    "rows": args.rows,
                    "file_mb": round(path.stat().st_size / 2**20, 1),
                    "gridwatch_rows_per_s": round(figures["gridwatch"]),
                    "openpyxl_rows_per_s": round(figures["openpyxl"]),
                    "ratio": round(figures["gridwatch"] / figures["openpyxl"], 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
