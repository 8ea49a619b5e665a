"""Loading a file: the choice of road into SQL (the bulk writer, or the engine batch by
batch), in this process or shared by worker processes (importers/parallel.py); the pass
over the records itself is importers/loader.py."""

from __future__ import annotations

import io
import multiprocessing
import os
import sys
from collections.abc import Callable
from typing import IO

from backend.domain.commands import Command
from backend.importers.bulk import BulkWriter, Outcome, PlannerStatistics
from backend.importers.common import (
    CountingReader,
    Importer,
    Mapping,
    ProgressFn,
    Summary,
)
from backend.importers.loader import Loader, line_writer
from backend.importers.parallel import run_parallel
from backend.store.db import sqlite_file
from backend.system import System

#: rows of the file per transaction on the bulk road (big transactions make it fast)
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
        return run_parallel(
            system, importer, mapping, size=size, limit=limit, progress=progress, err=err,
            workers=workers, lang=lang,
        )  # fmt: skip
    writer = BulkWriter(system, settle_at_end=True) if bulk else None
    write = writer.write if writer is not None else _engine_writer(system)
    loader = Loader(system, importer, mapping, write, line_writer(err), lang=lang)
    with importer.path.open("rb") as raw:
        counted = CountingReader(raw)
        stream = io.BufferedReader(counted, buffer_size=1 << 16)

        def chunk_done(_: int) -> None:
            if progress:
                progress(counted.count, loader.summary.rows)

        loader.load(stream, size=size, limit=limit, chunk_done=chunk_done)
    if writer is not None:
        writer.settle()
    summary = loader.summary
    summary.dates = importer.dates.report()
    return summary
