"""One pass over a file's records: each counted and sorted (triage, default category,
commands), batched and written, every bad row told as ``file:line:column: message`` in file
order. The same pass runs in the importing process or in each worker process sharing a file
(importers/parallel.py), which hands the parent what only it may do."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select

from backend.core.errors import GridwatchError
from backend.core.i18n import Said, message, said
from backend.domain.commands import Command
from backend.importers.bulk import Outcome
from backend.importers.common import (
    Importer,
    ImportFatal,
    Mapping,
    Record,
    RowError,
    Share,
    Summary,
    commands_for,
)
from backend.store.models import case_reports
from backend.system import System


@dataclass(slots=True)
class Deferred:
    """A record whose case exists already, met by a worker process: the parent's engine
    decides what its commands do (already there, or a newer state since)."""

    line: int
    source_id: str
    commands: list[Command]


@dataclass(slots=True)
class ToTriage:
    """A row for the triage queue, met by a worker process: the parent files it."""

    record: Record


#: what a pass hands on, in file order: a bad row's line, or work for the parent process
Item = str | Deferred | ToTriage


def line_writer(err: IO[str]) -> Callable[[Item], None]:
    """``emit`` for a Loader in the importing process: lines to ``err`` (no worker's items)."""

    def emit(item: Item) -> None:
        assert isinstance(item, str)  # only a worker hands on work, and only to the parent
        err.write(item + "\n")

    return emit


class Loader:
    """One pass over records: each counted and sorted (triage, default category, commands),
    batched, written by ``write``; every bad row told as ``file:line:column: message``
    through ``emit``, in file order. ``worker``: this pass runs in a worker process, which
    hands triage rows and existing cases to the parent instead of touching them."""

    def __init__(
        self,
        system: System,
        importer: Importer,
        mapping: Mapping,
        write: Callable[[list[list[Command]]], list[Outcome]],
        emit: Callable[[Item], None],
        *,
        worker: bool = False,
        lang: str = "en",
    ) -> None:
        """``lang``: the language the lines about bad rows are told in."""
        self.system = system
        self.lang = lang
        self.importer = importer
        self.mapping = mapping
        self.write = write
        self.emit = emit
        self.worker = worker
        self.path = str(importer.path)
        self.summary = Summary()
        self.pending: list[tuple[Record, list[Command]]] = []

    def problem(self, e: RowError, new_row: bool = True) -> None:
        """A row not imported: counted (``new_row``: not counted yet) and told."""
        if new_row:
            self.summary.rows += 1
        self.summary.skipped += 1
        self.emit(e.format(self.path, self.lang))

    def _about(self, source_id: str, exc: BaseException) -> Said:
        """A record the engine refused: its id and the engine's reason, in this language
        where the table has it."""
        return said("import_row_about", name=source_id, problem=message(str(exc), self.lang))

    def take(self, rec: Record) -> None:
        summary, mapping = self.summary, self.mapping
        summary.rows += 1
        if rec.triage:
            if self.worker:
                self.emit(ToTriage(rec))
            else:
                self.triage(rec)
            return
        if rec.status == "closed":
            summary.closed += 1
            if rec.close_basis == "unknown":
                summary.close_unknown += 1
            elif rec.close_basis != "close":
                summary.close_from_proxy[rec.close_basis] += 1
        elif rec.status == "cancelled":
            summary.cancelled += 1
        if rec.lat is None:
            summary.no_coordinates += 1
        if rec.category is None and not mapping.mapped(rec.request_type):
            summary.default_category[rec.request_type] += 1
            if mapping.default_category is None:
                unmapped = said("import_row_unmapped", type=repr(rec.request_type))
                self.problem(RowError(rec.line, 1, unmapped), False)
                return
        self.pending.append((rec, commands_for(rec, self.importer.source, mapping)))

    def triage(self, rec: Record) -> None:
        """File a row the text parser was unsure of as a report in the triage queue."""
        try:
            to_triage(self.system, self.importer.source, self.mapping, rec, self.summary)
        except GridwatchError as exc:
            self.problem(RowError(rec.line, 1, self._about(rec.source_id, exc)), False)

    def flush(self) -> None:
        """Write the pending records, one transaction, and tell what became of each."""
        if not self.pending:
            return
        outcomes = self.write([group for _, group in self.pending])
        for (rec, group), out in zip(self.pending, outcomes, strict=True):
            if out.deferred:
                self.emit(Deferred(rec.line, rec.source_id, group))
            else:
                self.tell(rec.line, rec.source_id, out)
        self.pending.clear()

    def tell(self, line: int, source_id: str, out: Outcome) -> None:
        """Count one record's outcome; an error is told with its line."""
        if out.error is not None:
            self.problem(RowError(line, 1, self._about(source_id, out.error)), False)
        elif out.already:
            self.summary.already += 1
        else:
            self.summary.imported += 1

    def load(
        self,
        stream: IO[bytes],
        *,
        size: int,
        limit: int | None = None,
        share: Share | None = None,
        chunk_done: Callable[[int], None] | None = None,
    ) -> None:
        """Read the records of ``stream`` (``share``'s only, if given) and write them a
        transaction per ``size`` rows of the file, calling ``chunk_done(chunk)`` after each;
        rows from ordinal ``limit`` on are not read. An ImportFatal ends the reading (what
        was read before it is still written) and is kept in the summary."""
        problems: list[RowError] = []
        chunk: int | None = None

        def reach(row: int) -> bool:
            """Move on to ``row``'s chunk (writing the one before); False past the limit."""
            nonlocal chunk
            if limit is not None and row >= limit:
                return False
            c = row // size
            if chunk is not None and c != chunk:
                self.flush()
                if chunk_done:
                    chunk_done(chunk)
            chunk = c
            return True

        def told() -> bool:
            for p in problems:
                if not reach(p.row):
                    return False
                self.problem(p)
            problems.clear()
            return True

        try:
            for rec in self.importer.records(stream, problems, share):
                if (problems and not told()) or not reach(rec.row):
                    break
                self.take(rec)
        except ImportFatal as exc:
            # what was read before the break is still imported
            self.summary.fatal = exc.text(self.lang)
        told()
        self.flush()
        if chunk is not None and chunk_done:
            chunk_done(chunk)


def to_triage(system: System, source: str, mapping: Mapping, rec: Record, summary: Summary) -> None:
    """A row the parser was not sure of: a report in the triage queue, as a live 12345 order
    would be (once: the source's id is the report's source_ref)."""
    from backend.intake.service import Intake, Report

    ref = f"{source}:{rec.source_id}"[:80]
    with system.db.connect() as conn:
        there = conn.execute(
            select(case_reports.c.id).where(case_reports.c.source_ref == ref).limit(1)
        ).first()
    if there is not None:
        summary.triage_already += 1
        return
    report = Report(
        channel=mapping.channel(rec.channel),
        text=rec.description[:4000],
        address=rec.address,
        lat=rec.lat,
        lon=rec.lon,
        source_ref=ref,
        received_at=rec.created,
        parse=rec.parse,
        triage=rec.triage,
        dedupe=False,
    )
    Intake(system).submit(report, f"import:{source}")
    summary.triage += 1
