"""Reading a file's records and loading them: the summary, the bad rows named as they are
found, and the choice of road into SQL (the bulk writer, or the engine batch by batch), in
this process or shared by worker processes (importers/parallel.py)."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from sqlalchemy import select

from backend.core.errors import GridwatchError
from backend.domain.commands import Command
from backend.importers.bulk import BulkWriter, Outcome, PlannerStatistics
from backend.importers.common import (
    CountingReader,
    Importer,
    ImportFatal,
    Mapping,
    ProgressFn,
    Record,
    RowError,
    Share,
    Summary,
    commands_for,
)
from backend.store.db import sqlite_file
from backend.store.models import case_reports
from backend.system import System

#: records per transaction on the bulk road (big transactions are what makes it fast)
BULK_BATCH = 5000


def _engine_writer(system: System) -> Callable[[list[list[Command]]], list[Outcome]]:
    """The old road: every batch through ``engine.apply``, as live commands go."""

    statistics = PlannerStatistics(system)

    def write(groups: list[list[Command]]) -> list[Outcome]:
        results = system.engine.apply([c for g in groups for c in g]).results
        out: list[Outcome] = []
        i = 0
        for group in groups:
            mine = results[i : i + len(group)]
            i += len(group)
            error = next((r.error for r in mine if not r.ok), None)
            out.append(Outcome(error, error is None and mine[0].skipped))
        statistics.grew(sum(1 for o in out if o.error is None and not o.already))
        return out

    return write


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
    ) -> None:
        self.system = system
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
        self.emit(e.format(self.path))

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
                message = (
                    f"request type {rec.request_type!r} is not in the mapping file "
                    "and it names no default_category"
                )
                self.problem(RowError(rec.line, 1, message), False)
                return
        self.pending.append((rec, commands_for(rec, self.importer.source, mapping)))

    def triage(self, rec: Record) -> None:
        """File a row the text parser was unsure of as a report in the triage queue."""
        try:
            _to_triage(self.system, self.importer.source, self.mapping, rec, self.summary)
        except GridwatchError as exc:
            self.problem(RowError(rec.line, 1, f"{rec.source_id}: {exc}"), False)

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
            self.problem(RowError(line, 1, f"{source_id}: {out.error}"), False)
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
                if not told() or not reach(rec.row):
                    break
                self.take(rec)
        except ImportFatal as exc:
            self.summary.fatal = str(exc)  # what was read before the break is still imported
        told()
        self.flush()
        if chunk is not None and chunk_done:
            chunk_done(chunk)


def parallel_ok(system: System, importer: Importer) -> bool:
    """Whether worker processes can share this import: a file several can read, a database
    several processes can open (not an in-memory one), and fork to hand them what is built."""
    return (
        importer.shareable
        and "fork" in multiprocessing.get_all_start_methods()
        and (system.db.dialect.name == "postgresql" or sqlite_file(system.db) is not None)
    )


def default_workers() -> int:
    """Two worker processes where there are two cores (the database needs some of them)."""
    return max(1, min(2, os.cpu_count() or 1))


def run_import(
    system: System,
    importer: Importer,
    mapping: Mapping,
    *,
    batch_size: int | None = None,
    limit: int | None = None,
    progress: ProgressFn | None = None,
    err: IO[str] | None = None,
    bulk: bool = True,
    lang: str = "en",
    workers: int = 1,
) -> Summary:
    """Import every record of ``importer``'s file: in bulk (default) or through the engine,
    ``batch_size`` rows of the file per SQL transaction. Bad rows are written to ``err`` as
    found. ``workers`` > 1: that many processes share the file's rows (bulk road only;
    one process where it cannot be shared, see ``parallel_ok``)."""
    err = err or sys.stderr
    size = batch_size or (BULK_BATCH if bulk else 500)
    if bulk and workers > 1 and parallel_ok(system, importer):
        from backend.importers.parallel import run_parallel

        return run_parallel(
            system, importer, mapping, size=size, limit=limit, progress=progress, err=err,
            workers=workers,
        )  # fmt: skip
    write = BulkWriter(system).write if bulk else _engine_writer(system)

    def emit(item: Item) -> None:
        assert isinstance(item, str)  # nothing is deferred in one process
        err.write(item + "\n")

    loader = Loader(system, importer, mapping, write, emit)
    with importer.path.open("rb") as raw:
        counted = CountingReader(raw)
        stream = io.BufferedReader(counted, buffer_size=1 << 16)

        def chunk_done(_: int) -> None:
            if progress:
                progress(counted.count, loader.summary.rows)

        loader.load(stream, size=size, limit=limit, chunk_done=chunk_done)
    summary = loader.summary
    summary.dates = importer.dates.report()
    return summary


def _to_triage(
    system: System, source: str, mapping: Mapping, rec: Record, summary: Summary
) -> None:
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
