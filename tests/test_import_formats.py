"""Issue 13: real files as cities hold them. Dates in every format a portal or a spreadsheet
writes, Excel workbooks, a 12345 export with its own columns, and the bulk road giving the
same rows, events and report figures as the engine's road."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from backend.importers import FORMATS
from backend.importers.common import Mapping
from backend.importers.dates import DateReader
from backend.importers.load import run_import
from backend.queries.reports import build_report
from backend.queries.scope import Scope
from backend.store.models import case_events, case_reports, cases
from tests.test_importers import LA_COLUMNS, rows_of, write_csv

MAPPING_12345 = (
    Path(__file__).resolve().parent.parent / "backend" / "importers" / "mappings" / "12345.yaml"
)
LA = ZoneInfo("America/Los_Angeles")


# ----------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1/1/20 0:05", "12/31/20 23:59"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
        (["01/01/2020 12:05:00 AM"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
        (["2020-01-01T00:05:00-08:00"], datetime(2020, 1, 1, 8, 5, tzinfo=UTC)),
        (["2020-01-01T08:05:00Z"], datetime(2020, 1, 1, 8, 5, tzinfo=UTC)),
        (["2020-01-01 00:05:00.123"], datetime(2020, 1, 1, 0, 5, 0, 123000, tzinfo=LA)),
        (["2020年1月1日 0:05"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
        (["2020/1/1 0:05"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
        (["43831.00347222"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
        (["1/1/2020 0:05", "13/1/2020 8:00"], datetime(2020, 1, 1, 0, 5, tzinfo=LA)),
    ],
)
def test_each_family_reads_its_own_values(values, expected):
    dates = DateReader(LA)
    dates.detect("t", values)
    assert dates.parse("t", values[0]) == expected


def test_the_fixed_layouts_read_as_the_general_patterns_do():
    """The portals' and ISO's own layouts are read by shorter patterns first: every value,
    valid or not (hour 13 with PM, month 13, day 0, lower case), reads as the general
    pattern reads it."""
    import random

    from backend.importers import dates as d

    def general(family: str, text: str) -> datetime | None:
        pattern = d._YMD if family == "ymd" else d._XY
        m = pattern.fullmatch(text)
        if m is None:
            return None
        g = m.groups()
        y, mo, day = int(g[0]), int(g[1]), int(g[2])
        if family != "ymd":
            mo, day = (y, mo) if family == "mdy" else (mo, y)
            y = d._year(g[2])
        try:
            return d._build(y, mo, day, g[3:], LA)
        except ValueError:
            return None

    rng = random.Random(13)

    def two(hi: int) -> str:
        return f"{rng.randint(0, hi):02d}"

    fast = 0
    for _ in range(20_000):
        clock = f"{two(13)}:{two(60)}:{two(60)}"
        xy = f"{two(13)}/{two(32)}/{rng.choice(['2021', '1999'])} {clock} "
        xy += rng.choice(["AM", "PM", "pm", "aM", "XM"])
        ymd = f"{rng.choice(['2021', '0000'])}-{two(13)}-{two(32)}{rng.choice(' T')}{clock}"
        for family, text in (("mdy", xy), ("dmy", xy), ("ymd", ymd)):
            assert d.parse_family(family, text, LA) == general(family, text), (family, text)
            fast += d.parse_family(family, text, LA) is not None
    assert fast > 10_000  # most of them were dates, read by the short patterns


def test_month_and_day_order_from_the_sample_or_reported():
    dates = DateReader(LA)
    dates.detect("shown", ["3/4/2020 10:00", "25/4/2020 10:00"])
    assert dates.parse("shown", "3/4/2020 10:00").month == 4  # 25 can only be a day
    dates.detect("unsure", ["3/4/2020 10:00", "5/6/2020 10:00"])
    assert dates.parse("unsure", "3/4/2020 10:00").month == 3  # the source's convention
    said = dict(dates.report())
    assert said["import_date_ambiguous"]["column"] == "unsure"
    # a day-first value in a month-first column is refused, never read the other way round
    with pytest.raises(ValueError, match="not a date and time: '25/4/2020 10:00'"):
        dates.parse("unsure", "25/4/2020 10:00")
    forced = DateReader(LA, forced="dmy")
    forced.detect("f", ["3/4/2020 10:00"])
    assert forced.parse("f", "3/4/2020 10:00").month == 4
    pattern = DateReader(LA, forced="%d.%m.%Y %H:%M")
    pattern.detect("p", ["03.04.2020 10:00"])
    assert pattern.parse("p", "03.04.2020 10:00") == datetime(2020, 4, 3, 10, tzinfo=LA)
    with pytest.raises(ValueError, match="outside 2000"):
        DateReader(LA).parse("old", "01/01/1900 12:00:00 AM")


def test_a_spreadsheet_resave_of_myla311_imports_every_row(system, cli, tmp_path):
    """The issue's file: 10,000 rows refused for ``1/1/20 0:05``; now all of them import."""
    rows = [
        {"SRNumber": f"1-{i}", "CreatedDate": f"1/{1 + i % 28}/20 {i % 24}:{i % 60:02d}",
         "ClosedDate": f"2/{1 + i % 28}/20 {i % 24}:05" if i % 3 else "",
         "Status": "Closed" if i % 3 else "Open", "RequestType": "Bulky Items", "Owner": "BOS",
         "Address": f"{i} MAIN ST"}
        for i in range(1, 41)
    ]  # fmt: skip
    rows.append({**rows[0], "SRNumber": "1-bad", "CreatedDate": "soon"})
    path = tmp_path / "resaved.csv"
    write_csv(path, LA_COLUMNS, rows)
    r = cli(str(path), "--format", "la311")
    assert r.exit_code == 3, r.output
    assert "imported: 40" in r.stdout
    assert f"{path}:42:2: CreatedDate: not a date and time: 'soon'" in r.stderr
    assert "CreatedDate: month/day/year, e.g. '1/2/20 1:01'" in r.stdout
    got = rows_of(system)
    assert got["la311:1-1"]["reported_at"] == datetime(2020, 1, 2, 9, 1, tzinfo=UTC)
    assert got["la311:1-2"]["completed_at"] == datetime(2020, 2, 3, 10, 5, tzinfo=UTC)
    # forcing day first: 1/13/20 fits no day/month/year value, so it is listed, not guessed
    day_first = tmp_path / "dmy.csv"
    write_csv(
        day_first, LA_COLUMNS, [{**rows[0], "SRNumber": "2-1", "CreatedDate": "1/13/20 8:00"}]
    )
    r = cli(str(day_first), "--format", "la311", "--date-format", "dmy")
    assert r.exit_code == 3 and "not a date and time: '1/13/20 8:00'" in r.stderr
    r = cli(str(day_first), "--format", "la311", "--date-format", "nonsense")
    assert r.exit_code == 2 and "--date-format must be one of" in r.stderr


# ----------------------------------------------------------------------------- 12345 / xlsx

HOTLINE = ["工单编号", "受理时间", "诉求内容", "办结时间", "承办单位", "满意度"]


def _hotline_rows() -> list[list[object]]:
    return [
        ["GD2024010001", datetime(2024, 1, 5, 8, 30), "新潭社区幸福路12号门口路灯不亮已经三天了",
         datetime(2024, 1, 6, 17, 0), "城市管理局", "满意"],
        ["GD2024010002", "2024/1/5 9:10", "市民反映小区楼下烧烤店油烟扰民，地址：新潭社区",
         "", "市场监管局", ""],
        # the parser cannot tell what this is about: the triage queue, not a guess
        ["GD2024010003", 45296.5, "我想反映一下那个事情", None, "", ""],
        ["GD2024010004", "2024-01-05 11:00", "新潭社区路灯不亮", "2024-01-07 10:00", "城市管理局",
         "不满意"],
        ["GD2024010005", "明天", "新潭社区路灯不亮", None, "城市管理局", ""],
    ]  # fmt: skip


def _xlsx(path: Path, header: list[str], rows: list[list[object]]) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    book.save(path)


def test_a_12345_excel_export_with_the_shipped_mapping(system, cli, tmp_path):
    path = tmp_path / "工单.xlsx"
    _xlsx(path, HOTLINE, _hotline_rows())
    r = cli(str(path), "--format", "table", "--mapping", str(MAPPING_12345))
    assert r.exit_code == 3, r.output
    assert f"{path}:6:2: 受理时间: not a date and time: '明天'" in r.stderr
    assert "imported: 3" in r.stdout
    assert "left in the triage queue: 1" in r.stdout
    got = rows_of(system)
    first = got["12345:GD2024010001"]
    assert first["category"] == "streetlight_out" and first["unit_code"] == "城市管理局"
    assert first["status"] == "closed" and first["rating"] == "satisfied"
    # Asia/Shanghai: 08:30 local is 00:30 UTC
    assert first["reported_at"] == datetime(2024, 1, 5, 0, 30, tzinfo=UTC)
    assert first["completed_at"] == datetime(2024, 1, 6, 9, 0, tzinfo=UTC)
    fumes = got["12345:GD2024010002"]
    assert fumes["category"] == "cooking_fumes" and fumes["status"] == "dispatched"
    assert got["12345:GD2024010004"]["rating"] == "unsatisfied"
    assert "12345:GD2024010003" not in got
    with system.db.connect() as conn:
        waiting = (
            conn.execute(
                select(case_reports).where(case_reports.c.source_ref == "12345:GD2024010003")
            )
            .mappings()
            .one()
        )
        rep = build_report(
            conn,
            datetime(2024, 1, 1, tzinfo=UTC),
            datetime(2024, 2, 1, tzinfo=UTC),
            datetime(2024, 3, 1, tzinfo=UTC),
            scope=Scope.city(),
        )
    assert waiting["state"] == "triage" and "category uncertain" in waiting["reason"]
    # 满意度 counts in the satisfaction rate: one satisfied of two rated
    assert rep["satisfaction_rate"] == 0.5 and rep["closed"] == 2
    # again: nothing new, nothing queued twice
    again = cli(str(path), "--format", "table", "--mapping", str(MAPPING_12345))
    assert "imported: 0" in again.stdout and "already imported: 3" in again.stdout
    assert "there already: 1" in again.stdout
    with system.db.connect() as conn:
        n = conn.execute(select(func.count()).select_from(case_reports)).scalar_one()
    assert n == 1


def test_the_same_export_as_csv_reads_the_same(system, cli, tmp_path):
    path = tmp_path / "工单.csv"
    rows = [[str(c) if c is not None else "" for c in r] for r in _hotline_rows()[:2]]
    rows[0][1], rows[0][3] = "2024-01-05 08:30:00", "2024-01-06 17:00:00"
    path.write_text(
        "\ufeff" + ",".join(HOTLINE) + "\n" + "\n".join(",".join(r) for r in rows) + "\n",
        encoding="utf-8",
    )
    r = cli(str(path), "--format", "table", "--mapping", str(MAPPING_12345))
    assert r.exit_code == 0, r.output
    got = rows_of(system)
    assert got["12345:GD2024010001"]["completed_at"] == datetime(2024, 1, 6, 9, 0, tzinfo=UTC)
    assert "受理时间: year-month-day" in r.stdout


def test_a_gbk_csv_as_chinese_spreadsheets_save_it(system, cli, tmp_path):
    """Excel in a Chinese locale saves "CSV" in GBK: the columns are still found."""
    path = tmp_path / "工单_gbk.csv"
    row = "GD1,2024-01-05 08:30,新潭社区路灯不亮,2024-01-06 17:00,城管局,满意"
    lines = [",".join(HOTLINE), row]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gbk"))
    r = cli(str(path), "--format", "table", "--mapping", str(MAPPING_12345))
    assert r.exit_code == 0, r.output
    got = rows_of(system)["12345:GD1"]
    assert got["unit_code"] == "城管局" and got["rating"] == "satisfied"


# ----------------------------------------------------------------------------- the same figures


def _nyc_file(path: Path, n: int) -> None:
    import random

    from bench.importers import write_nyc

    write_nyc(path, n, random.Random(5))


def _snapshot(system, source: str) -> tuple[list[tuple], list[tuple]]:
    """Cases and events of ``source``, without the ids and refs that differ between runs."""
    skip = {"id", "ref", "source"}
    with system.db.connect() as conn:
        rows = (
            conn.execute(
                select(cases)
                .where(cases.c.source == source)
                .order_by(cases.c.reported_at, cases.c.ref)
            )
            .mappings()
            .all()
        )
        ids = {r["id"]: i for i, r in enumerate(rows)}
        evs = (
            conn.execute(select(case_events).where(case_events.c.case_id.in_(list(ids))))
            .mappings()
            .all()
        )
    case_rows = [tuple((k, v) for k, v in r.items() if k not in skip) for r in rows]
    event_rows = sorted(
        (
            ids[e["case_id"]],
            *(
                (k, str(v).replace(source, "SRC"))
                for k, v in e.items()
                if k not in ("id", "case_id")
            ),
        )
        for e in evs
    )
    return case_rows, event_rows


def test_bulk_and_engine_give_the_same_rows_events_and_figures(system):
    """The same file through the engine (the old road), in bulk, and in bulk shared by two
    worker processes, under three source names: every case column, every event and every
    report figure the same."""
    path = Path(system.settings.var_dir) / "same.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    _nyc_file(path, 1200)
    cls = FORMATS["nyc311"]
    mapping = Mapping.for_format("nyc311", set(system.ref.categories), cls.default_channel)
    window = (
        datetime(2021, 1, 1, tzinfo=UTC),
        datetime(2021, 3, 1, tzinfo=UTC),
        datetime(2021, 6, 1, tzinfo=UTC),
    )
    summaries = []
    reports = []
    roads = (("nycslow", False, 1), ("nycfast", True, 1), ("nycshared", True, 2))
    for source, bulk, workers in roads:
        importer = cls(path, ZoneInfo(cls.default_tz))
        importer.source = source
        summaries.append(
            run_import(
                system,
                importer,
                mapping,
                err=io.StringIO(),
                bulk=bulk,
                batch_size=300,
                workers=workers,
            )  # fmt: skip
        )
        with system.db.connect() as conn:
            reports.append(build_report(conn, *window, scope=Scope.city()))
    slow, fast, shared = summaries
    assert slow.imported == fast.imported == shared.imported == 1200
    assert slow.lines() == fast.lines() == shared.lines()
    assert _snapshot(system, "nycslow") == _snapshot(system, "nycfast")
    assert _snapshot(system, "nycslow") == _snapshot(system, "nycshared")
    before, after = reports[0], reports[1]
    assert reports[2]["cases_total"] == 3 * before["cases_total"]
    # the second import doubles every count and leaves every rate and median as it was
    assert after["cases_total"] == 2 * before["cases_total"]
    assert after["closed"] == 2 * before["closed"]
    for figure in ("close_rate", "on_time_rate", "median_hours_to_close"):
        assert after[figure] == pytest.approx(before[figure]), figure
    assert {k: v["cases_total"] * 2 for k, v in before["by_unit"].items()} == {
        k: v["cases_total"] for k, v in after["by_unit"].items()
    }
    # a re-run on the bulk road is recognised, record by record
    again = run_import(system, cls(path, ZoneInfo(cls.default_tz)), mapping, err=io.StringIO())
    assert again.imported == 1200  # (its own source name, nyc311: new cases)
    rerun = run_import(system, cls(path, ZoneInfo(cls.default_tz)), mapping, err=io.StringIO())
    assert rerun.imported == 0 and rerun.already == 1200


def test_an_interrupted_bulk_import_resumes(system, tmp_path):
    """A batch is one transaction: Ctrl-C after two batches leaves two batches' whole cases;
    running it again imports the rest, every row once."""
    path = tmp_path / "big.csv"
    _nyc_file(path, 700)
    cls = FORMATS["nyc311"]
    mapping = Mapping.for_format("nyc311", set(system.ref.categories), cls.default_channel)
    calls = []

    def interrupt(done: int, rows: int) -> None:
        calls.append(rows)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(
            system, cls(path, ZoneInfo(cls.default_tz)), mapping, err=io.StringIO(),
            batch_size=100, progress=interrupt,
        )  # fmt: skip
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 200
    second = run_import(
        system, cls(path, ZoneInfo(cls.default_tz)), mapping, err=io.StringIO(), batch_size=100
    )
    assert second.already == 200 and second.imported == 500
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 700
        n_events = conn.execute(select(func.count()).select_from(case_events)).scalar_one()
    # every case has its events once: reported + dispatched, and closed or cancelled
    assert n_events == 2 * 700 + second.closed + second.cancelled


@pytest.mark.parametrize("workers", [1, 2])
def test_records_already_there_after_new_ones_are_found(system, tmp_path, workers):
    """The bulk road stops looking refs up while batches find none there; an existing
    record further on is refused by the unique index, and its batch is written again with
    the look-up: every record once, the old ones told as already imported."""
    path = tmp_path / "whole.csv"
    _nyc_file(path, 700)
    header, *lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    tail = tmp_path / "tail.csv"
    tail.write_text(header + "".join(lines[450:]), encoding="utf-8")
    cls = FORMATS["nyc311"]
    mapping = Mapping.for_format("nyc311", set(system.ref.categories), cls.default_channel)

    def run(p: Path) -> Any:
        return run_import(
            system, cls(p, ZoneInfo(cls.default_tz)), mapping, err=io.StringIO(),
            batch_size=100, workers=workers,
        )  # fmt: skip

    first = run(tail)
    assert first.imported == 250
    whole = run(path)
    assert whole.imported == 450 and whole.already == 250
    with system.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(cases)).scalar_one() == 700
        per_case = conn.execute(
            select(case_events.c.case_id, func.count())
            .group_by(case_events.c.case_id)
            .having(func.count(case_events.c.seq) != func.count(func.distinct(case_events.c.seq)))
        ).all()
        n_events = conn.execute(select(func.count()).select_from(case_events)).scalar_one()
    assert per_case == []
    # the summary tells the closes of every row of the file, already imported or not
    assert n_events == 2 * 700 + whole.closed + whole.cancelled
