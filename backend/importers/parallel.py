"""One file imported by several processes at once: the state machine and the row-by-row
reading are Python, one core's worth per process, so a big file goes as fast as the cores
(and the database) allow rather than as one interpreter does.

The file is cut into chunks of a batch's rows; worker ``k`` of ``n`` makes records of chunks
``k, k + n, k + 2n, …`` only (each worker reads the whole file, which is cheap; making
records of its rows is what costs) and writes each chunk in one transaction with its own
bulk writer. The parent takes the workers' reports chunk by chunk in file order, so bad rows
are told in the order of the file, and does what must be done once and in order: records
whose case exists already go through its engine, uncertain rows into the triage queue.

Workers are forked, so they start with the reference data and deadline calendar the parent
built, and never use the parent's database connections (dropped in the child) or Redis.
Stopping the import (Ctrl-C) stops every worker; each chunk is a transaction, so what is
in SQL is whole chunks, and running the import again takes up where it stopped.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import IO, Any

from backend.core.i18n import SaidError
from backend.importers.bulk import BulkWriter, Outcome
from backend.importers.common import (
    CountingReader,
    Importer,
    Mapping,
    ProgressFn,
    Share,
    Summary,
)
from backend.importers.dates import ColumnFormat
from backend.importers.loader import Deferred, Item, Loader, ToTriage, line_writer
from backend.system import System

#: what a worker inherited and must leave alone (see _work)
_INHERITED: list[Any] = []


class WorkerFailed(SaidError, RuntimeError):
    """A worker process stopped with an error (its message is this one's): said in the
    command's language by ``text``, ``str()`` in English."""


def run_parallel(
    system: System,
    importer: Importer,
    mapping: Mapping,
    *,
    size: int,
    limit: int | None,
    progress: ProgressFn | None,
    err: IO[str],
    workers: int,
    lang: str = "en",
) -> Summary:
    """Import with ``workers`` processes, ``size`` rows per chunk; the summary of them all
    (bad rows told in ``lang``)."""
    # built once, before the fork: every worker starts with them
    _ = system.ref, system.deadlines
    ctx = multiprocessing.get_context("fork")
    pipes: list[Connection] = []
    procs: list[Any] = []
    try:
        for k in range(workers):
            receive, send = ctx.Pipe(duplex=False)
            share = Share(k, workers, size)
            proc = ctx.Process(
                target=_work,
                args=(system, importer, mapping, share, limit, send, lang),
                name=f"gridwatch-import-{k}",
                daemon=True,
            )
            proc.start()
            send.close()  # the parent's copy: EOF on receive when the worker is gone
            pipes.append(receive)
            procs.append(proc)
        return _gather(system, importer, mapping, pipes, progress, err, lang)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # mid-transaction: rolled back, whole chunks stay
        for proc in procs:
            proc.join()


def _gather(
    system: System,
    importer: Importer,
    mapping: Mapping,
    pipes: list[Connection],
    progress: ProgressFn | None,
    err: IO[str],
    lang: str,
) -> Summary:
    """Take the workers' chunks in file order: tell their bad rows, finish what they handed
    on, add up their counts."""
    n = len(pipes)
    engine = BulkWriter(system)
    here = Loader(system, importer, mapping, engine.write, line_writer(err), lang=lang)
    summary = Summary()
    ends: dict[int, tuple[Any, ...]] = {}
    chunk = 0
    done_bytes = 0
    while len(ends) < n:
        k = chunk % n
        if k in ends:  # its worker has no such chunk: the file ended before it
            for j in range(n):
                if j not in ends:
                    ends[j] = _receive(pipes[j], j, expect="end")
            break
        msg = _receive(pipes[k], k)
        if msg[0] == "end":
            ends[k] = msg
            continue
        _, number, items, part, nbytes = msg
        if number != chunk:
            raise WorkerFailed("import_worker_out_of_order", k=k, number=number, chunk=chunk)
        _finish(engine, here, items)
        summary.add(part)
        if part.imported:
            # no delta per historical case: a gap in the sequence makes screens resync
            with contextlib.suppress(Exception):
                system.publisher.skip()
        done_bytes = max(done_bytes, nbytes)
        if progress:
            progress(done_bytes, summary.rows)
        chunk += 1
    for k in range(n):
        summary.add(ends[k][1])
    summary.add(here.summary)
    importer.dates.columns = _dates([ends[k][2] for k in range(n)])
    summary.dates = importer.dates.report()
    return summary


def _receive(pipe: Connection, k: int, expect: str | None = None) -> tuple[Any, ...]:
    try:
        msg: tuple[Any, ...] = pipe.recv()
    except EOFError:
        raise WorkerFailed("import_worker_silent", k=k) from None
    if msg[0] == "failed":
        raise WorkerFailed("import_worker_failed", k=k, error=msg[1])
    if expect is not None and msg[0] != expect:
        raise WorkerFailed("import_worker_unexpected", k=k, got=repr(msg[0]), due=repr(expect))
    return msg


def _finish(engine: BulkWriter, here: Loader, items: list[Item]) -> None:
    """A chunk's items in file order: lines told, existing cases through the engine (all of
    the chunk's at once), triage rows filed."""
    deferred = [i for i in items if isinstance(i, Deferred)]
    outcomes = [Outcome() for _ in deferred]
    if deferred:
        engine.through_engine([d.commands for d in deferred], outcomes)
    done = iter(outcomes)
    for item in items:
        if isinstance(item, str):
            here.emit(item)
        elif isinstance(item, Deferred):
            here.tell(item.line, item.source_id, next(done))
        elif isinstance(item, ToTriage):
            here.triage(item.record)


def _dates(parts: list[dict[str, ColumnFormat]]) -> dict[str, ColumnFormat]:
    """The date formats every worker decided from the same sample, with the values each read
    by another family added up."""
    merged = dict(parts[0])
    for other in parts[1:]:
        for column, fmt in other.items():
            if column in merged:
                merged[column].other_family += fmt.other_family
            else:
                merged[column] = fmt
    return merged


def _die_with_parent() -> None:
    """On Linux, end this worker when the parent ends, however it ends (killed, too): its
    open transaction is rolled back, and no orphan goes on importing."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


#: prctl(2)'s option for the signal a process gets when its parent ends
_PR_SET_PDEATHSIG = 1


def _work(
    system: System,
    importer: Importer,
    mapping: Mapping,
    share: Share,
    limit: int | None,
    out: Connection,
    lang: str,
) -> None:
    """A worker: its chunks written, each reported to the parent once committed."""
    try:
        _die_with_parent()
        # the parent's pooled connections stay the parent's: never used here, and never
        # closed either (SQLite must not close a connection in a forked child), so kept
        # referenced until the worker ends with os._exit
        _INHERITED.append(system.db.pool)
        system.db.dispose(close=False)
        items: list[Item] = []
        # one worker keeps the planner's statistics for all: ANALYZE of a wide table costs
        # the server most of a second, and every worker's would be the same
        analyse_for = share.workers if share.index == 0 else 0
        writer = BulkWriter(
            system,
            defer_existing=True,
            publish=False,
            analyse_for=analyse_for,
            settle_at_end=True,
        )
        loader = Loader(
            system, importer, mapping, writer.write, items.append, worker=True, lang=lang
        )
        with importer.path.open("rb") as raw:
            counted = CountingReader(raw)
            stream = io.BufferedReader(counted, buffer_size=1 << 16)

            def chunk_done(chunk: int) -> None:
                out.send(("chunk", chunk, list(items), loader.summary, counted.count))
                items.clear()
                loader.summary = Summary()

            loader.load(stream, size=share.size, limit=limit, share=share, chunk_done=chunk_done)
        writer.settle()  # durable before the parent hears the end
        out.send(("end", loader.summary, importer.dates.columns))
    except BaseException as exc:  # told to the parent, which stops the import
        with contextlib.suppress(Exception):
            out.send(("failed", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()
