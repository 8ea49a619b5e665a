"""``gridwatch import FILE --format la311|nyc311|open311``: the command around the
importers, with a progress bar on stderr and a summary at the end."""

from __future__ import annotations

import sys
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from backend.importers import FORMATS
from backend.importers.common import ImportFatal, Mapping, run_import
from backend.system import System

#: exit codes: every row imported · some rows skipped (listed) · nothing could be imported
OK, SOME_SKIPPED, FATAL = 0, 3, 2


def import_file(
    system: System,
    path: Path,
    fmt: str,
    *,
    mapping: Path | None = None,
    tz: str | None = None,
    batch: int = 500,
    limit: int | None = None,
    progress: bool = True,
) -> int:
    err = sys.stderr
    if fmt not in FORMATS:
        err.write(f"error: --format must be one of {', '.join(FORMATS)}, not {fmt!r}\n")
        return FATAL
    if not path.is_file():
        err.write(f"error: {path}: no such file\n")
        return FATAL
    cls = FORMATS[fmt]
    try:
        zone = ZoneInfo(tz or cls.default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        err.write(f"error: --tz {tz!r} is not a time zone (e.g. America/New_York)\n")
        return FATAL
    try:
        table = Mapping.for_format(fmt, set(system.ref.categories), cls.default_channel, mapping)
    except ImportFatal as exc:
        err.write(f"error: {exc}\n")
        return FATAL
    importer = cls(path, zone)
    size = path.stat().st_size
    console = Console(file=err)
    bar = Progress(
        TextColumn(f"importing {path.name}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not progress,
        transient=False,
    )
    try:
        with bar:
            task = bar.add_task("import", total=size)
            summary = run_import(
                system,
                importer,
                table,
                batch_size=batch,
                limit=limit,
                progress=lambda done: bar.update(task, completed=done),
                err=err,
            )
    except ImportFatal as exc:  # before any record (the header)
        err.write(f"error: {exc}\n")
        return FATAL
    if summary.fatal:
        err.write(f"error: {summary.fatal}\n")
    for line in summary.lines():
        print(line)
    if summary.fatal:
        return FATAL
    return SOME_SKIPPED if summary.skipped else OK
