"""``gridwatch import FILE --format la311|nyc311|open311|table``: the command around the
importers, with a progress bar on stderr (rows/s and the time left) and a summary at the end."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from backend.core.i18n import t
from backend.importers import FORMATS
from backend.importers.common import Importer, ImportFatal, Mapping
from backend.importers.dates import FAMILIES
from backend.importers.load import default_workers, run_import
from backend.importers.parallel import WorkerFailed
from backend.system import System

#: exit codes: every row imported · some rows skipped (listed) · nothing could be imported
OK, SOME_SKIPPED, FATAL = 0, 3, 2
ALL_FORMATS = (*FORMATS, "table")


class RowsPerSecond(ProgressColumn):
    """Rows read per second so far (the bar itself counts bytes, which the ETA needs)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def render(self, task: Task) -> Text:
        rows = task.fields.get("rows", 0)
        elapsed = task.elapsed or 0.0
        rate = rows / elapsed if elapsed > 0 else 0.0
        shown = t("import_rate", self.lang, rows=f"{rows:,}", rate=f"{rate:,.0f}")
        return Text(shown, style="progress.data.speed")


def write_error(err: IO[str], message: str, lang: str) -> None:
    """One ``error: …`` line of the command, in ``lang``."""
    err.write(t("import_error", lang, message=message) + "\n")


def cli_lang() -> str:
    """The CLI's language: GRIDWATCH_LANG (zh or en); English by default, as before."""
    return "zh" if os.environ.get("GRIDWATCH_LANG", "en").lower().startswith("zh") else "en"


def _importer(
    system: System,
    path: Path,
    fmt: str,
    mapping: Path | None,
    tz: str | None,
    date_format: str | None,
) -> tuple[Importer, Mapping]:
    """The importer and mapping for ``fmt``; ImportFatal for what stops the import at once."""
    known = set(system.ref.categories)
    if fmt == "table":
        from backend.importers.table import TableImporter, TableSpec
        from backend.intake.textparse import parser_for

        if mapping is None:
            raise ImportFatal(None, "import_table_needs_mapping")
        spec = TableSpec.load(mapping)
        zone = _zone(tz or spec.tz or TableImporter.default_tz)
        table = Mapping.load(mapping, known, TableImporter.default_channel)
        importer: Importer = TableImporter(
            path,
            zone,
            date_format,
            spec=spec,
            mapping=table,
            parser=parser_for(system.ref),
            confidence=system.settings.text_confidence,
        )
        return importer, table
    cls = FORMATS[fmt]
    table = Mapping.for_format(fmt, known, cls.default_channel, mapping)
    return cls(path, _zone(tz or cls.default_tz), date_format), table


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImportFatal(None, "import_bad_tz", tz=repr(name)) from None


def import_file(
    system: System,
    path: Path,
    fmt: str,
    *,
    mapping: Path | None = None,
    tz: str | None = None,
    date_format: str | None = None,
    batch: int | None = None,
    limit: int | None = None,
    progress: bool = True,
    bulk: bool = True,
    workers: int | None = None,
) -> int:
    err = sys.stderr
    lang = cli_lang()

    def error(message: str) -> None:
        write_error(err, message, lang)

    if fmt not in ALL_FORMATS:
        error(t("import_bad_format", lang, formats=", ".join(ALL_FORMATS), fmt=repr(fmt)))
        return FATAL
    if not path.is_file():
        error(t("import_no_file", lang, path=path))
        return FATAL
    if date_format is not None and date_format not in FAMILIES and "%" not in date_format:
        error(t("import_bad_date_format", lang, families=", ".join(FAMILIES)))
        return FATAL
    try:
        importer, table = _importer(system, path, fmt, mapping, tz, date_format)
    except ImportFatal as exc:
        error(exc.text(lang))
        return FATAL
    size = path.stat().st_size
    console = Console(file=err)
    bar = Progress(
        TextColumn(escape(t("import_progress", lang, name=path.name))),
        BarColumn(),
        DownloadColumn(),
        RowsPerSecond(lang),
        TimeRemainingColumn(),
        console=console,
        disable=not progress,
        transient=False,
    )
    try:
        with bar:
            task = bar.add_task("import", total=size, rows=0)
            summary = run_import(
                system,
                importer,
                table,
                batch_size=batch,
                limit=limit,
                progress=lambda done, rows: bar.update(task, completed=done, rows=rows),
                err=err,
                bulk=bulk,
                lang=lang,
                workers=workers or default_workers(),
            )
    except (ImportFatal, WorkerFailed) as exc:  # before any record (the header), or a worker
        error(exc.text(lang))
        return FATAL
    if summary.fatal:
        error(summary.fatal)
    for line in summary.lines(lang):
        print(line)
    if summary.fatal:
        return FATAL
    return SOME_SKIPPED if summary.skipped else OK
