"""Issue 13: one file imported by two worker processes at once (importers/parallel.py): the
same cases as one process, bad rows told in the file's order, the same record twice in the
file imported once, and an interrupted import whole chunks only, finished by a re-run."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from backend.importers import FORMATS
from backend.importers.common import Mapping
from backend.importers.load import parallel_ok, run_import
from backend.store.models import case_events, cases
from bench.importers import write_nyc

NYC = FORMATS["nyc311"]
#: rows of a file the workers cannot finish before the parent has taken its first chunks
BIG = 20_000


def _file(path: Path, n: int, edit=None) -> Path:
    import random

    write_nyc(path, n, random.Random(7))
    if edit is not None:
        with path.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        edit(rows)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return path


def _import(system, path: Path, workers: int, source: str = "nyc311", **kw):
    mapping = Mapping.for_format("nyc311", set(system.ref.categories), NYC.default_channel)
    importer = NYC(path, ZoneInfo(NYC.default_tz))
    importer.source = source
    err = io.StringIO()
    summary = run_import(system, importer, mapping, err=err, workers=workers, **kw)
    return summary, err.getvalue().splitlines()


def _count(system, table) -> int:
    with system.db.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_a_file_this_process_can_share(system, tmp_path):
    path = _file(tmp_path / "a.csv", 3)
    assert parallel_ok(system, NYC(path, ZoneInfo(NYC.default_tz)))
    json_importer = FORMATS["open311"](tmp_path / "a.json", ZoneInfo("UTC"))
    assert not parallel_ok(system, json_importer)  # one JSON document: read by one process
    # a workbook: its sheet costs more to read than its records to make, read by one
    assert not parallel_ok(system, NYC(tmp_path / "a.xlsx", ZoneInfo(NYC.default_tz)))


def test_bad_rows_are_told_in_file_order_as_one_process_tells_them(system, tmp_path):
    """Bad rows in chunks of both workers: the same lines, in the same order."""

    def spoil(rows):
        for i in (3, 120, 130, 250, 399):
            rows[i]["Created Date"] = "not a date"

    path = _file(tmp_path / "bad.csv", 450, spoil)
    one, one_err = _import(system, path, 1, "nycone", batch_size=100)
    two, two_err = _import(system, path, 2, "nyctwo", batch_size=100)
    assert len(two_err) == 5 and two_err == one_err
    lines = [int(e.split(":")[1]) for e in two_err]
    assert lines == [5, 122, 132, 252, 401]  # data row i is line i + 2
    assert two.lines() == one.lines() and two.skipped == 5 and two.imported == 445


def test_the_same_record_twice_in_the_file_is_imported_once(system, tmp_path):
    """Rows 10 and 150 share a key: chunk 0 (worker 0) and chunk 1 (worker 1) with batches of
    100; one case, the other row already imported, as in one process."""

    def twice(rows):
        rows[150]["Unique Key"] = rows[10]["Unique Key"]

    path = _file(tmp_path / "twice.csv", 300, twice)
    summary, err = _import(system, path, 2, batch_size=100)
    assert err == []
    assert summary.imported == 299 and summary.already == 1
    assert _count(system, cases) == 299


def test_an_interrupted_shared_import_leaves_whole_chunks_and_resumes(system, tmp_path):
    """Ctrl-C (here: from the progress bar) stops both workers; what is in SQL is whole
    chunks of 100 with all their events, and a re-run imports the rest, every row once."""
    # big enough that the workers are still at work when the parent has seen two chunks
    n = BIG
    path = _file(tmp_path / "big.csv", n)
    calls: list[int] = []

    def interrupt(done: int, rows: int) -> None:
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _import(system, path, 2, batch_size=100, progress=interrupt)
    first = _count(system, cases)
    assert first % 100 == 0 and 200 <= first < n
    second, err = _import(system, path, 2, batch_size=100)
    assert err == []
    assert second.already == first and second.imported == n - first
    assert _count(system, cases) == n
    # every case has its events once: reported + dispatched, and closed or cancelled
    assert _count(system, case_events) == 2 * n + second.closed + second.cancelled


def test_a_limit_counts_rows_of_the_whole_file(system, tmp_path):
    path = _file(tmp_path / "limit.csv", 500)
    summary, _ = _import(system, path, 2, batch_size=100, limit=250)
    assert summary.rows == 250 and summary.imported == 250
    assert _count(system, cases) == 250


def _gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_killing_the_import_ends_its_workers_and_leaves_whole_chunks(system, tmp_path):
    """kill -9 of the importing process (no cleanup of its own): its workers end too, rather
    than importing on as orphans, and what is in SQL is whole chunks a re-run finishes."""
    import multiprocessing
    import os
    import signal
    import time

    n = BIG  # the workers are still at work when the parent has seen the first chunk
    path = _file(tmp_path / "killed.csv", n)
    pids = tmp_path / "workers.txt"

    def importer_process() -> None:
        system.db.dispose(close=False)  # the test's connections stay the test's

        def progress(done: int, rows: int) -> None:
            if rows >= 100:
                pids.write_text(" ".join(str(p.pid) for p in multiprocessing.active_children()))
                os.kill(os.getpid(), signal.SIGKILL)

        _import(system, path, 2, batch_size=100, progress=progress)

    proc = multiprocessing.get_context("fork").Process(target=importer_process)
    proc.start()
    proc.join(60)
    assert proc.exitcode == -signal.SIGKILL
    workers = [int(p) for p in pids.read_text().split()]
    assert len(workers) == 2
    deadline = time.monotonic() + 15
    while not all(_gone(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(_gone(p) for p in workers)
    first = _count(system, cases)
    assert first % 100 == 0 and 100 <= first < n
    again, err = _import(system, path, 2, batch_size=100)
    assert err == [] and again.already == first and again.imported == n - first
    assert _count(system, case_events) == 2 * n + again.closed + again.cancelled


def test_one_worker_keeps_the_planner_statistics_for_all(system, tmp_path):
    """PostgreSQL: the tables are analysed as the import doubles them, once for the whole
    import, not once per worker (and not never: 6,000 cases each would not have reached
    the first 10,000 in either worker's own count)."""
    if system.db.dialect.name != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's; SQLite plans without statistics")
    path = _file(tmp_path / "stats.csv", 12_000)
    summary, _ = _import(system, path, 2, batch_size=1000)
    assert summary.imported == 12_000

    def analysed() -> int:
        with system.db.connect() as conn:
            return conn.execute(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'cases'")
            ).scalar_one()

    deadline = time.monotonic() + 10  # the workers' statistics reach the server as they end
    while analysed() < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert analysed() == 1
    with system.db.connect() as conn:
        planned = conn.execute(
            text(
                "SELECT attname FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename = 'cases'"
            )
        ).scalars()
        rows = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'cases'::regclass"))
        # the columns looked up by, and the table's size as the planner sees it: analysed
        # when worker 0 had written its half of 10,000 (never analysed: -1)
        assert {"id", "ref"} <= set(planned)
        assert rows.scalar_one() >= 5_000


def test_the_import_is_durable_once_its_writer_settles(system, tmp_path):
    """PostgreSQL: a batch commits without waiting for its WAL to reach the disk, and
    ``settle`` waits once for all of them: after it, the WAL is on disk past every batch."""
    from backend.importers.bulk import BulkWriter
    from backend.importers.loader import Loader, line_writer

    writer = BulkWriter(system, settle_at_end=True)
    if system.db.dialect.name != "postgresql":
        assert writer.settle_at_end is False  # SQLite commits as it always has
        pytest.skip("synchronous_commit is PostgreSQL's")
    path = _file(tmp_path / "settle.csv", 300)
    mapping = Mapping.for_format("nyc311", set(system.ref.categories), NYC.default_channel)
    importer = NYC(path, ZoneInfo(NYC.default_tz))
    loader = Loader(system, importer, mapping, writer.write, line_writer(io.StringIO()))
    with path.open("rb") as raw:
        loader.load(io.BufferedReader(raw), size=100)
    assert loader.summary.imported == 300
    with system.db.connect() as conn:
        written = conn.execute(text("SELECT pg_current_wal_insert_lsn()::text")).scalar_one()
    writer.settle()
    with system.db.connect() as conn:
        flushed = conn.execute(
            text("SELECT pg_current_wal_flush_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": written}
        ).scalar_one()
    assert flushed is True
