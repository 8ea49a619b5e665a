"""A city's halls as plain files beside its other reference files (backend/refdata/files.py):
``halls.csv``, ``hall_windows.csv``, ``hall_staff.csv`` and ``hall_shifts.csv``. All four are
optional together: a city without halls has none. A bad file is reported with line and column.
"""

from __future__ import annotations

import csv
from pathlib import Path

from backend.halls.model import (
    DEFAULT_HOURS,
    HALL_KINDS,
    Hall,
    HallData,
    HallStaff,
    Shift,
    Window,
    parse_hours,
)
from backend.refdata.files import Problem, RefDataError

HALLS_FILE = "halls.csv"
WINDOWS_FILE = "hall_windows.csv"
STAFF_FILE = "hall_staff.csv"
SHIFTS_FILE = "hall_shifts.csv"
COLUMNS: dict[str, tuple[str, ...]] = {
    HALLS_FILE: ("code", "name", "kind", "township_code", "county_code", "hours"),
    WINDOWS_FILE: ("hall_code", "code", "name", "services"),
    STAFF_FILE: ("staff_id", "name", "hall_code", "window_code", "phone"),
    SHIFTS_FILE: ("staff_id", "hall_code", "window_code", "start", "end"),
}


def write_halls(data: HallData, directory: Path) -> None:
    """Write ``data`` as the four files ``load_halls`` reads back equal."""
    rows: dict[str, list[tuple[object, ...]]] = {
        HALLS_FILE: [
            (h.code, h.name, h.kind, h.township_code, h.county_code, h.hours) for h in data.halls
        ],
        WINDOWS_FILE: [(w.hall_code, w.code, w.name, "|".join(w.services)) for w in data.windows],
        STAFF_FILE: [
            (s.staff_id, s.name, s.hall_code, s.window_code, s.phone or "") for s in data.staff
        ],
        SHIFTS_FILE: [
            (s.staff_id, s.hall_code, s.window_code, s.start, s.end) for s in data.shifts
        ],
    }
    for name, body in rows.items():
        with (directory / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(COLUMNS[name])
            w.writerows(body)


def _read(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS[path.name] if c not in (reader.fieldnames or [])]
        if missing:
            problems.append(Problem(path.name, 1, None, f"missing column(s): {', '.join(missing)}"))
            return []
        return [
            (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k}) for row in reader
        ]


def load_halls(directory: Path) -> HallData | None:
    """The halls in ``directory``, None when it has no ``halls.csv``; RefDataError listing
    every problem (file, line, column) when the files cannot be used."""
    if not (directory / HALLS_FILE).is_file():
        return None
    problems: list[Problem] = []
    for name in COLUMNS:
        if not (directory / name).is_file():
            problems.append(Problem(name, None, None, f"file not found in {directory}"))
    if problems:
        raise RefDataError(problems)
    halls: list[Hall] = []
    for line, r in _read(directory / HALLS_FILE, problems):
        if r["kind"] not in HALL_KINDS:
            problems.append(Problem(HALLS_FILE, line, "kind", f"one of {', '.join(HALL_KINDS)}"))
        try:
            parse_hours(r["hours"] or DEFAULT_HOURS)
        except ValueError as exc:
            problems.append(Problem(HALLS_FILE, line, "hours", str(exc)))
        if not r["code"] or not r["name"]:
            problems.append(Problem(HALLS_FILE, line, "code", "code and name are required"))
        halls.append(
            Hall(
                r["code"],
                r["name"],
                r["kind"],
                r["township_code"],
                r["county_code"],
                r["hours"] or DEFAULT_HOURS,
            )
        )
    codes = {h.code for h in halls}
    windows: list[Window] = []
    for line, r in _read(directory / WINDOWS_FILE, problems):
        if r["hall_code"] not in codes:
            problems.append(Problem(WINDOWS_FILE, line, "hall_code", "unknown hall"))
        services = tuple(s for s in r["services"].split("|") if s)
        windows.append(Window(r["hall_code"], r["code"], r["name"], services))
    known = {(w.hall_code, w.code) for w in windows}
    staff: list[HallStaff] = []
    for line, r in _read(directory / STAFF_FILE, problems):
        if (r["hall_code"], r["window_code"]) not in known:
            problems.append(Problem(STAFF_FILE, line, "window_code", "unknown hall window"))
        staff.append(
            HallStaff(
                r["staff_id"], r["name"], r["hall_code"], r["window_code"], r["phone"] or None
            )
        )
    shifts: list[Shift] = []
    for line, r in _read(directory / SHIFTS_FILE, problems):
        try:
            parse_hours(f"{r['start']}-{r['end']}")
        except ValueError as exc:
            problems.append(Problem(SHIFTS_FILE, line, "start", str(exc)))
        if (r["hall_code"], r["window_code"]) not in known:
            problems.append(Problem(SHIFTS_FILE, line, "window_code", "unknown hall window"))
        shifts.append(Shift(r["staff_id"], r["hall_code"], r["window_code"], r["start"], r["end"]))
    if problems:
        raise RefDataError(problems)
    return HallData(halls, windows, staff, shifts)
