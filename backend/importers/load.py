"""Reading a file's records and loading them: the summary, the bad rows named as they are
found, and the choice of road into SQL (the bulk writer, or the engine batch by batch)."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
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
    Summary,
    commands_for,
)
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
) -> Summary:
    """Import every record of ``importer``'s file: in bulk (default) or through the engine,
    ``batch_size`` records per SQL transaction. Bad rows are written to ``err`` as found."""
    err = err or sys.stderr
    write = BulkWriter(system).write if bulk else _engine_writer(system)
    batch_size = batch_size or (BULK_BATCH if bulk else 500)
    summary = Summary()
    problems: list[RowError] = []
    path = str(importer.path)

    def report(e: RowError, new_row: bool = True) -> None:
        if new_row:  # a row the reader could not make a record of (else: counted already)
            summary.rows += 1
        summary.skipped += 1
        err.write(e.format(path) + "\n")

    pending: list[tuple[Record, list[Command]]] = []

    def take(rec: Record) -> bool:
        summary.rows += 1
        if rec.triage:
            try:
                _to_triage(system, importer.source, mapping, rec, summary)
            except GridwatchError as exc:
                report(RowError(rec.line, 1, f"{rec.source_id}: {exc}"), False)
            return False
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
                report(RowError(rec.line, 1, message), False)
                return False
        pending.append((rec, commands_for(rec, importer.source, mapping)))
        return True

    def flush() -> None:
        if not pending:
            return
        outcomes = write([group for _, group in pending])
        for (rec, _), out in zip(pending, outcomes, strict=True):
            if out.error is not None:
                report(RowError(rec.line, 1, f"{rec.source_id}: {out.error}"), False)
            elif out.already:
                summary.already += 1
            else:
                summary.imported += 1
        pending.clear()

    with importer.path.open("rb") as raw:
        counted = CountingReader(raw)
        stream = io.BufferedReader(counted, buffer_size=1 << 16)
        try:
            for rec in importer.records(stream, problems):
                while problems:
                    report(problems.pop(0))
                if not take(rec):
                    continue
                if len(pending) >= batch_size:
                    flush()
                    if progress:
                        progress(counted.count, summary.rows)
                if limit is not None and summary.rows >= limit:
                    break
        except ImportFatal as exc:
            summary.fatal = str(exc)  # what was read before the break is still imported
        while problems:
            report(problems.pop(0))
        flush()
        if progress:
            progress(counted.count, summary.rows)
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
