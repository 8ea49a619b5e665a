"""Import throughput (rows per second) of ``gridwatch import`` on SQLite and PostgreSQL, beside
two baselines measured in the same run:

- a plain CSV parse of the same file (how fast the file can be read at all);
- a plain write of the very rows the import wrote (cases, events, processed commands), prepared
  in advance and written with COPY (PostgreSQL) or executemany (SQLite) in the same big
  transactions: how fast the database takes them, with no reading and no state machine.
  On PostgreSQL it is timed twice: in COPY's binary form, as the import writes since
  2026-12-06, and in its text form, as both wrote before (the baseline of earlier sections).

    BENCH_PG_URL=postgresql://postgres@127.0.0.1:5432/gw13bench \
        python -m bench.importers [--rows 1000000] [--backend sqlite postgres] [--engine]

The file is written first with the real column names of the export and a realistic mix: 70%
closed (some with no close date, some with the 1900 placeholder), a few cancelled, blank
coordinates in 10%, 25 request types of which 20% are not in the mapping file. The import is
timed end to end: reading, mapping, the state machine (create + close), the SQL writes.
``--workers 1 2`` (default) times the bulk road in one process and shared by two;
``--engine`` also times the old road (every batch through the engine) on the same file.
Each road runs in a process of its own; its peak memory (max RSS of that process or of its
largest worker; on SQLite it includes the database file's pages SQLite maps into memory) is
printed beside each figure.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import text

from backend.bus.connection import shutdown_embedded
from backend.core.runtime import tune_gc
from backend.importers import FORMATS
from backend.importers.common import Mapping
from backend.importers.load import BULK_BATCH, run_import
from backend.store.fastsql import EVENT_FIELDS, CaseSQL, binary_copy
from backend.store.models import metadata
from backend.system import System
from bench.common import fresh_system, machine

NYC_TYPES = (
    "Noise - Residential", "Illegal Parking", "HEAT/HOT WATER", "Blocked Driveway",
    "Street Condition", "Street Light Condition", "Missed Collection", "Dirty Conditions",
    "Sewer", "Water System", "Graffiti", "Rodent", "Noise - Street/Sidewalk", "PLUMBING",
    "Abandoned Vehicle", "Damaged Tree", "Sidewalk Condition", "Food Establishment",
    "Illegal Dumping", "Unleashed Dog", "Consumer Complaint", "Taxi Complaint",
    "Traffic", "Benefit Card Replacement", "Lost Property",
)  # fmt: skip
LA_TYPES = (
    "Bulky Items", "Graffiti Removal", "Illegal Dumping Pickup", "Metal/Household Appliances",
    "Electronic Waste", "Dead Animal Removal", "Homeless Encampment",
    "Single Streetlight Issue", "Multiple Streetlight Issue", "Feedback", "Other",
    "Report Water Waste", "Pothole Repair", "Tree Trimming", "Sidewalk Repair",
)  # fmt: skip


def write_nyc(path: Path, n: int, rng: random.Random) -> None:
    from tests.test_importers import NYC_COLUMNS

    start = datetime(2021, 1, 1)
    agencies = ("NYPD", "HPD", "DOT", "DSNY", "DEP", "DOHMH", "DPR")
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=NYC_COLUMNS)
        w.writeheader()
        for i in range(n):
            created = start + timedelta(minutes=7 * i + rng.randint(0, 6))
            r = rng.random()
            status = "Closed" if r < 0.7 else ("Cancelled" if r < 0.72 else "Open")
            closed = ""
            if status != "Open" and rng.random() > 0.05:
                closed = (created + timedelta(hours=rng.uniform(1, 200))).strftime(
                    "%m/%d/%Y %I:%M:%S %p"
                )
                if rng.random() < 0.02:
                    closed = "01/01/1900 12:00:00 AM"
            blank = rng.random() < 0.1
            w.writerow(
                {
                    "Unique Key": str(50_000_000 + i),
                    "Created Date": created.strftime("%m/%d/%Y %I:%M:%S %p"),
                    "Closed Date": closed,
                    "Agency": rng.choice(agencies),
                    "Complaint Type": rng.choice(NYC_TYPES),
                    "Descriptor": "Loud Music/Party",
                    "Incident Zip": "10027",
                    "Incident Address": f"{rng.randint(1, 999)} WEST {rng.randint(1, 200)} STREET",
                    "City": "NEW YORK",
                    "Status": status,
                    "Resolution Action Updated Date": closed,
                    "Borough": "MANHATTAN",
                    "Open Data Channel Type": rng.choice(("PHONE", "ONLINE", "MOBILE", "UNKNOWN")),
                    "Latitude": "" if blank else f"{40.7 + rng.random() / 10:.6f}",
                    "Longitude": "" if blank else f"{-73.9 - rng.random() / 10:.6f}",
                }
            )


def write_la(path: Path, n: int, rng: random.Random) -> None:
    from tests.test_importers import LA_COLUMNS

    start = datetime(2019, 1, 1)
    owners = ("BOS", "OCB", "BSL", "LADBS", "ITA")
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=LA_COLUMNS)
        w.writeheader()
        for i in range(n):
            created = start + timedelta(minutes=7 * i)
            r = rng.random()
            status = "Closed" if r < 0.7 else ("Cancelled" if r < 0.72 else "Open")
            fmt = "%m/%d/%Y %I:%M:%S %p"
            closed = (created + timedelta(hours=rng.uniform(1, 200))).strftime(fmt)
            blank = rng.random() < 0.1
            w.writerow(
                {
                    "SRNumber": f"1-{100_000_000 + i}",
                    "CreatedDate": created.strftime(fmt),
                    "UpdatedDate": closed,
                    "ClosedDate": closed if status != "Open" and rng.random() > 0.05 else "",
                    "Owner": rng.choice(owners),
                    "RequestType": rng.choice(LA_TYPES),
                    "Status": status,
                    "RequestSource": rng.choice(("Call", "Mobile App", "Self Service")),
                    "Address": f"{rng.randint(1, 9999)} W {rng.randint(1, 99)}TH ST",
                    "ZipCode": "90017",
                    "Latitude": "" if blank else f"{34.0 + rng.random() / 10:.6f}",
                    "Longitude": "" if blank else f"{-118.2 - rng.random() / 10:.6f}",
                }
            )


def plain_parse(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as f:
        for _ in csv.DictReader(f):
            pass
    return time.perf_counter() - started


#: what the plain write copies, table by table (the import's own rows, read back)
TABLES = {
    "processed_commands": ("command_id", "applied_at"),
    "cases": None,  # every column
    "case_events": ("case_id", *[c for c in EVENT_FIELDS if c != "case_id"]),
}


#: the plain write's own database (fresh_system empties the one it is given)
PLAIN_PG_URL = os.environ.get(
    "BENCH_PG_PLAIN_URL", "postgresql://postgres@127.0.0.1:5432/gw13plain"
)


def plain_write(
    source: System, backend: str, rows_per_tx: int, binary: bool = True
) -> tuple[float, int]:
    """Copy the rows ``source``'s import wrote into a fresh database, a transaction per
    ``rows_per_tx`` source rows' worth; only the writes are timed. (seconds, rows written)
    ``binary=False`` (PostgreSQL): COPY's text form, the way the import wrote before it
    went binary, each value's type found by psycopg: the baseline of earlier sections."""
    target = fresh_system(backend, pg_url=PLAIN_PG_URL)
    sql = CaseSQL(target.db.dialect.name)
    ph = "%s" if sql.pg else "?"
    elapsed = 0.0
    written = 0
    with source.db.connect() as src:
        src_cur = src.connection.cursor()
        for table, cols in TABLES.items():
            if cols is None:
                src_cur.execute(f"SELECT * FROM {table} LIMIT 0")
                cols = tuple(d[0] for d in src_cur.description)
            names = ", ".join(cols)
            # PostgreSQL: a server-side cursor, so a million rows are not all fetched at once
            rows_cur = src.connection.cursor(name=f"plain_{table}") if sql.pg else src_cur
            rows_cur.execute(f"SELECT {names} FROM {table}")
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join([ph] * len(cols))})"
            # the import's own COPY, binary; the rows read back hold naive UTC instants
            copy = binary_copy(metadata.tables[table], cols, aware=False)
            while True:
                chunk = rows_cur.fetchmany(rows_per_tx * (3 if table == "case_events" else 1))
                if not chunk:
                    break
                chunk = [tuple(map(_as_sql, r)) for r in chunk]  # prepared: not timed
                started = time.perf_counter()
                with target.db.begin() as conn:
                    cur = conn.connection.cursor()
                    if sql.pg and not binary:
                        with cur.copy(f"COPY {table} ({names}) FROM STDIN") as text_copy:
                            for row in chunk:
                                text_copy.write_row(row)
                    else:
                        sql.write_rows(cur, insert, copy, chunk)
                elapsed += time.perf_counter() - started
                written += len(chunk)
            if rows_cur is not src_cur:
                rows_cur.close()
        src_cur.close()
    target.db.dispose()
    return elapsed, written


def _as_sql(v: Any) -> Any:
    """JSON read back as Python (PostgreSQL) goes back as its text."""
    return orjson.dumps(v).decode() if isinstance(v, dict | list) else v


def max_rss_mb() -> int:
    """The largest resident size of this process or of any worker it waited for (MB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, workers) // 1024


def run_one(
    path: Path, fmt: str, backend: str, rows: int, bulk: bool, workers: int = 1
) -> tuple[dict[str, Any], System]:
    system = fresh_system(backend)
    cls = FORMATS[fmt]
    mapping = Mapping.for_format(fmt, set(system.ref.categories), cls.default_channel)
    importer = cls(path, ZoneInfo(cls.default_tz))
    started = time.perf_counter()
    summary = run_import(system, importer, mapping, err=io.StringIO(), bulk=bulk, workers=workers)
    elapsed = time.perf_counter() - started
    return {
        "road": "bulk" if bulk else "engine",
        "workers": workers if bulk else 1,
        "rows": summary.rows,
        "imported": summary.imported,
        "skipped": summary.skipped,
        "seconds": round(elapsed, 1),
        "import_rows_per_s": round(summary.rows / elapsed),
        "max_rss_mb": max_rss_mb(),
    }, system


def in_own_process(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``fn()`` in a forked process of its own, so each road's peak memory (``max_rss_mb``:
    the process or its largest worker) is its own and not an earlier road's."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(fn())
        except BaseException as exc:  # the figure's place says what went wrong
            send.send({"error": f"{type(exc).__name__}: {exc}"})

    proc = ctx.Process(target=child)
    proc.start()
    send.close()
    try:
        out: dict[str, Any] = receive.recv()
    except EOFError:
        out = {"error": "the road's process ended without a figure"}
    proc.join()
    return out


def road(
    path: Path, fmt: str, backend: str, rows: int, bulk: bool, workers: int, plain: bool
) -> dict[str, Any]:
    """One import road's figures; ``plain``: also the plain write of the rows it wrote. The
    embedded Redis servers it started end with it (its process ends without clean-up)."""
    try:
        out, system = run_one(path, fmt, backend, rows, bulk, workers)
        if bulk:
            with system.db.connect() as conn:
                n = conn.execute(text("SELECT count(*) FROM case_events")).scalar_one()
            out["events"] = n
            if plain:
                seconds, written = plain_write(system, backend, BULK_BATCH)
                out["sql_rows_written"] = written
                out["plain_write_rows_per_s"] = round(rows / seconds)
                if backend == "postgres":
                    seconds, _ = plain_write(system, backend, BULK_BATCH, binary=False)
                    out["plain_text_copy_rows_per_s"] = round(rows / seconds)
        system.db.dispose()
        return out
    finally:
        shutdown_embedded()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--format", choices=("nyc311", "la311"), default="nyc311")
    ap.add_argument("--backend", nargs="+", choices=("sqlite", "postgres"), default=["sqlite"])
    ap.add_argument("--engine", action="store_true", help="also time the old road")
    ap.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2], help="bulk road with these processes"
    )
    args = ap.parse_args()
    tune_gc()
    rng = random.Random(11)
    path = Path(tempfile.mkdtemp(prefix="gwimport-")) / f"{args.format}.csv"
    (write_nyc if args.format == "nyc311" else write_la)(path, args.rows, rng)
    parse = plain_parse(path)
    for backend in args.backend:
        roads = [(True, w) for w in args.workers] + ([(False, 1)] if args.engine else [])
        plain: int | None = None
        text_plain: int | None = None
        for bulk, workers in roads:
            out = in_own_process(
                partial(
                    road,
                    path,
                    args.format,
                    backend,
                    args.rows,
                    bulk,
                    workers,
                    bulk and plain is None,
                )  # fmt: skip
            )
            plain = plain or out.get("plain_write_rows_per_s")
            text_plain = text_plain or out.get("plain_text_copy_rows_per_s")
            record: dict[str, Any] = {
                "bench": "importers",
                "format": args.format,
                "backend": backend,
                "machine": machine(),
                "file_mb": round(path.stat().st_size / 2**20, 1),
                "plain_csv_rows_per_s": round(args.rows / parse),
                **out,
            }
            if bulk and plain and "import_rows_per_s" in out:
                record["plain_write_rows_per_s"] = plain
                record["import_over_plain_write"] = round(out["import_rows_per_s"] / plain, 3)
            if bulk and text_plain and "import_rows_per_s" in out:
                record["plain_text_copy_rows_per_s"] = text_plain
                record["import_over_plain_text_copy"] = round(
                    out["import_rows_per_s"] / text_plain, 3
                )
            print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
