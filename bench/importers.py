"""Import throughput (rows per second) of ``gridwatch import`` beside a plain CSV parse of the
same file, measured in the same run.

    python -m bench.importers [--rows 20000] [--format nyc311|la311] [--backend sqlite|postgres]

The file is written first with the real column names of the export and a realistic mix: 70%
closed (some with no close date, some with the 1900 placeholder), a few cancelled, blank
coordinates in 10%, 25 request types of which 20% are not in the mapping file. The import is
timed end to end: reading, mapping, engine commands (create + close), one SQL transaction per
500 records, live publishes.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from backend.core.runtime import tune_gc
from backend.importers import FORMATS
from backend.importers.common import Mapping
from backend.importers.load import run_import
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--format", choices=("nyc311", "la311"), default="nyc311")
    ap.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = ap.parse_args()
    tune_gc()
    rng = random.Random(11)
    path = Path(tempfile.mkdtemp(prefix="gwimport-")) / f"{args.format}.csv"
    (write_nyc if args.format == "nyc311" else write_la)(path, args.rows, rng)
    baseline = plain_parse(path)
    system = fresh_system(args.backend)
    cls = FORMATS[args.format]
    mapping = Mapping.for_format(args.format, set(system.ref.categories), cls.default_channel)
    importer = cls(path, ZoneInfo(cls.default_tz))
    started = time.perf_counter()
    summary = run_import(system, importer, mapping, err=io.StringIO())
    elapsed = time.perf_counter() - started
    out: dict[str, Any] = {
        "bench": "importers",
        "format": args.format,
        "backend": args.backend,
        "machine": machine(),
        "rows": summary.rows,
        "imported": summary.imported,
        "skipped": summary.skipped,
        "file_mb": round(path.stat().st_size / 2**20, 1),
        "plain_csv_rows_per_s": round(args.rows / baseline),
        "import_rows_per_s": round(summary.rows / elapsed),
        "import_over_plain": round(baseline / elapsed, 4),
    }
    print(json.dumps(out))
    system.db.dispose()


if __name__ == "__main__":
    main()
