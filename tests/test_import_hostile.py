"""The hostile-input suite for files and the command line (issue 13): ``gridwatch import`` and
``gridwatch sync open311`` given what a broken export, a wrong --format or a hostile server
hands them. A file that is not what --format says stops at once with a clear message and
imports nothing; a bad row is listed by line and column and the rest imports; no input ends
in a traceback, and nothing reaches SQL that SQL refuses (PostgreSQL: NUL in text).

Grow it with every new format or option (``NASTY_VALUES``, ``WRONG_FILES``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import func, select
from typer.testing import CliRunner

from backend.cli import app
from backend.store.models import case_events, cases
from tests.browser import serving
from tests.conftest import cli_env
from tests.test_importers import NYC_COLUMNS, write_csv

MAPPING_12345 = (
    Path(__file__).resolve().parent.parent / "backend" / "importers" / "mappings" / "12345.yaml"
)

#: values any column of a row may hold in a broken or hostile export
NASTY_VALUES = (
    "' OR '1'='1",
    "1; DROP TABLE cases; --",
    "<script>alert(1)</script>",
    "a\x00b",
    "\x00",
    "x" * 20_000,
    '=HYPERLINK("http://evil")',
    "\u202e\u0645\u0631\u062d\u0628\u0627",  # right-to-left override
    "99999.99",
    "-1e308",
    "NaN",
    "0/0/0000 25:61",
    "2020-02-30 10:00",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
)

GOOD = {
    "Unique Key": "70000001", "Created Date": "02/10/2021 11:05:00 PM", "Agency": "NYPD",
    "Complaint Type": "Noise - Residential", "Status": "Open",
    "Incident Address": "100 WEST 125 STREET", "Open Data Channel Type": "PHONE",
}  # fmt: skip


def count(system, table=cases) -> int:
    with system.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.mark.parametrize(
    "column",
    ["Unique Key", "Created Date", "Closed Date", "Agency", "Complaint Type", "Descriptor",
     "Incident Address", "Status", "Latitude", "Open Data Channel Type", "City"],
)  # fmt: skip
def test_nasty_values_in_every_column_never_break_the_import(system, cli, tmp_path, column):
    """Each nasty value in one column of one row: that row imports or is listed by line and
    column; the good row after it always imports; never a traceback."""
    rows = [{**GOOD, "Unique Key": f"7100{i:04d}", column: v} for i, v in enumerate(NASTY_VALUES)]
    rows.append({**GOOD, "Unique Key": "79999999"})
    path = tmp_path / "nasty.csv"
    write_csv(path, NYC_COLUMNS, rows)
    r = cli(str(path), "--format", "nyc311")
    assert r.exit_code in (0, 3), r.output
    assert "Traceback" not in r.output
    listed = [line for line in r.stderr.splitlines() if line.startswith(f"{path}:")]
    imported = int(r.stdout.split("imported: ")[1].split(";")[0].replace(",", ""))
    assert imported + len(listed) == len(rows)
    for line in listed:  # file:line:column: message
        _, line_no, col, _ = line[len(str(path)) :].split(":", 3)
        assert int(line_no) >= 2 and int(col) >= 1
    with system.db.connect() as conn:
        refs = set(conn.execute(select(cases.c.ref)).scalars())
        descriptions = list(conn.execute(select(cases.c.description)).scalars())
    assert "nyc311:79999999" in refs
    assert not any("\x00" in d for d in descriptions)


def _json_as_csv(p: Path) -> None:
    p.write_text(json.dumps([{"service_request_id": "1"}]))


def _binary(p: Path) -> None:
    p.write_bytes(bytes(range(256)) * 64)


def _empty(p: Path) -> None:
    p.write_bytes(b"")


def _bom_only(p: Path) -> None:
    p.write_bytes(b"\xef\xbb\xbf")


def _csv_as_json(p: Path) -> None:
    p.write_text("Unique Key,Created Date\n1,2\n")


def _text_as_xlsx(p: Path) -> None:
    p.write_text("this is not a workbook")


def _zip_not_xlsx(p: Path) -> None:
    import zipfile

    with zipfile.ZipFile(p, "w") as z:
        z.writestr("hello.txt", "a zip, but no workbook in it")


def _xlsx_of_other_columns(p: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["a", "b"])
    sheet.append([1, 2])
    book.save(p)


def _unclosed_quote(p: Path) -> None:
    p.write_text(",".join(NYC_COLUMNS) + '\n"70000001,"02/10/2021' + "\n" * 3)


WRONG_FILES: list[tuple[str, str, Callable[[Path], None], str]] = [
    ("json.csv", "nyc311", _json_as_csv, "missing column(s)"),
    ("binary.csv", "nyc311", _binary, "missing column(s)"),
    ("empty.csv", "la311", _empty, "the file is empty"),
    ("bom.csv", "la311", _bom_only, "the file is empty"),
    ("requests.json", "open311", _csv_as_json, "not valid JSON"),
    ("sheet.xlsx", "nyc311", _text_as_xlsx, "not an Excel .xlsx workbook"),
    ("zip.xlsx", "table", _zip_not_xlsx, "not an Excel .xlsx workbook"),
    ("other.xlsx", "table", _xlsx_of_other_columns, "missing column(s) 工单编号"),
]


@pytest.mark.parametrize(("name", "fmt", "write", "said"), WRONG_FILES)
def test_a_file_that_is_not_what_format_says_stops_at_once(
    system, cli, tmp_path, name, fmt, write, said
):  # noqa: E501
    path = tmp_path / name
    write(path)
    extra = ["--mapping", str(MAPPING_12345)] if fmt == "table" else []
    r = cli(str(path), "--format", fmt, *extra)
    assert r.exit_code == 2, r.output
    assert said in r.stderr and "Traceback" not in r.output
    assert count(system) == 0 and count(system, case_events) == 0


def test_an_unclosed_quote_keeps_what_came_before(system, cli, tmp_path):
    path = tmp_path / "cut.csv"
    write_csv(path, NYC_COLUMNS, [GOOD])
    with path.open("a") as f:
        f.write('"70000002,"02/10/2021 11:05:00 PM,NYPD' + "x" * (2 << 20))
    r = cli(str(path), "--format", "nyc311")
    assert r.exit_code == 2 and "unreadable CSV" in r.stderr
    assert count(system) == 1


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--tz", "Mars/Olympus"], "is not a time zone"),
        (["--tz", "../../../etc/passwd"], "is not a time zone"),
        (["--date-format", "yesterday"], "--date-format must be one of"),
        (["--format", "table"], "--format table needs --mapping"),
        (["--workers", "0"], "--workers"),
        (["--workers", "many"], "--workers"),
        (["--workers", "999"], "--workers"),
    ],
)
def test_bad_options_are_named(system, cli, tmp_path, args, said):
    path = tmp_path / "ok.csv"
    write_csv(path, NYC_COLUMNS, [GOOD])
    fmt = [] if "--format" in args else ["--format", "nyc311"]
    r = cli(str(path), *fmt, *args)
    assert r.exit_code == 2 and said in r.stderr, r.output
    assert count(system) == 0


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("- a list\n- not a mapping\n", "a mapping file is a YAML mapping"),
        ("columns: [1, 2]\n", "needs a 'columns' section"),
        ("columns:\n  id: a\n  created: b\n", "columns must name description"),
        ("columns:\n  id: a\n  created: b\n  description: c\n  evil: d\n", "unknown field"),
        ("columns:\n  id: a\n  created: b\n  description: c\nratings:\n  好: great\n",
         "ratings must be one of"),
        ("a: &a [*a, *a]\n", "needs a 'columns' section"),  # recursive, not expanded
        ("columns: {id: a, created: b, description: c}\ncategories: {x: nonsense}\n",
         "unknown category code(s): nonsense"),
        ("\x00\x01binary", "cannot read the mapping file"),
    ],
)  # fmt: skip
def test_a_hostile_mapping_file_is_refused_before_any_row(system, cli, tmp_path, text, said):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(text)
    path = tmp_path / "ok.csv"
    write_csv(path, ["a", "b", "c"], [{"a": "1", "b": "2024-01-01", "c": "路灯不亮"}])
    r = cli(str(path), "--format", "table", "--mapping", str(mapping))
    assert r.exit_code == 2 and said in r.stderr, r.output
    assert count(system) == 0


# ----------------------------------------------------------------------------- sync


def _hostile_server() -> FastAPI:
    api = FastAPI()

    @api.get("/html/requests.json")
    def html() -> Response:
        return PlainTextResponse("<html>maintenance</html>")

    @api.get("/object/requests.json")
    def obj() -> dict[str, Any]:
        return {"requests": []}

    @api.get("/down/requests.json")
    def down() -> Response:
        return PlainTextResponse("busy", status_code=503, headers={"Retry-After": "0"})

    @api.get("/forbidden/requests.json")
    def forbidden() -> Response:
        return PlainTextResponse("no", status_code=403)

    @api.get("/junk/requests.json")
    def junk() -> list[Any]:
        return [
            1, "x", None, [], {"service_request_id": "1"},
            {"service_request_id": "2", "requested_datetime": "2026-11-20T10:00:00Z",
             "service_code": "\x00", "address": "a\x00b", "description": "x" * 10_000},
            {"service_request_id": "3", "requested_datetime": "2026-11-21T10:00:00Z",
             "service_code": "fire", "lat": 1e308, "long": "nan", "address": "新潭社区"},
        ]  # fmt: skip

    return api


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("html", "the answer is not JSON"),
        ("object", "not a list of service requests"),
        ("down", "no answer after 5 attempts (HTTP 503)"),
        ("forbidden", "HTTP 403"),
    ],
)
def test_a_hostile_server_stops_the_sync_with_a_reason(system, sync_cli, path, said):
    with serving(_hostile_server()) as base:
        r = sync_cli(f"{base}/{path}", "--since", "2026-11-01")
    assert r.exit_code == 2 and said in r.stderr, r.output
    assert count(system) == 0


def test_junk_requests_are_listed_and_the_rest_syncs(system, sync_cli):
    with serving(_hostile_server()) as base:
        r = sync_cli(f"{base}/junk", "--since", "2026-11-01T00:00:00+08:00")
    assert r.exit_code == 3, r.output
    assert "Traceback" not in r.output
    with system.db.connect() as conn:
        rows = conn.execute(select(cases.c.ref, cases.c.category, cases.c.lat))
        got = {ref.split(":", 1)[1]: (cat, lat) for ref, cat, lat in rows}
    assert got == {"3": ("fire", None)}  # 1e308 is no latitude
    # NUL in text is listed, never sent to SQL (PostgreSQL refuses it)
    assert "a NUL character is not text" in r.stderr
    # this server ignores the window: each of the two windows gets all seven again
    assert "new or changed: 1; already here: 1; skipped: 12" in r.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["file:///etc/passwd"], "is not an http(s) URL"),
        (["http://127.0.0.1:9/open311/v2", "--since", "last tuesday"], "is not a date and time"),
        (["http://127.0.0.1:9/open311/v2"], "no --since given"),
    ],
)
def test_bad_sync_arguments_are_named(system, sync_cli, args, said):
    r = sync_cli(*args)
    assert r.exit_code == 2 and said in r.stderr, r.output


def test_the_sync_speaks_chinese_when_asked(system, settings):
    """GRIDWATCH_LANG=zh: why a sync stopped comes from the translation table, in Chinese."""
    env = {**cli_env(settings), "GRIDWATCH_LANG": "zh"}

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["sync", "open311", *args], env=env)

    r = run("http://127.0.0.1:9/open311/v2")
    assert r.exit_code == 2 and "错误：未给出 --since" in r.stderr, r.output
    with serving(_hostile_server()) as base:
        r = run(f"{base}/html", "--since", "2026-11-01")
        assert r.exit_code == 2 and f"{base}/html/requests.json：返回的不是 JSON" in r.stderr
        r = run(f"{base}/object", "--since", "2026-11-01")
        assert r.exit_code == 2 and "返回的不是服务请求列表" in r.stderr
    assert "answer" not in r.stderr


def test_the_command_speaks_chinese_when_asked(system, settings, tmp_path):
    """GRIDWATCH_LANG=zh: a bad row's line, a file's fatal error and the summary all come
    from the translation table in Chinese; the file positions stay as they are."""
    env = {**cli_env(settings), "GRIDWATCH_LANG": "zh"}

    def run(*args: str) -> Any:
        return CliRunner().invoke(app, ["import", *args, "--no-progress"], env=env)

    bad_date = dict(GOOD, **{"Unique Key": "70000002", "Created Date": "someday"})
    no_place = dict(GOOD, **{"Unique Key": "70000003", "Incident Address": ""})
    rows = tmp_path / "rows.csv"
    write_csv(rows, NYC_COLUMNS, [GOOD, bad_date, no_place])
    r = run(str(rows), "--format", "nyc311")
    assert r.exit_code == 3, r.output
    assert f"{rows}:3:2: Created Date：不是日期时间：'someday'" in r.stderr
    assert f"{rows}:4:" in r.stderr and "没有地址也没有坐标，无法定位" in r.stderr
    assert "读取 3 行；导入 1" in r.stdout
    assert "not a date" not in r.output and "rows read" not in r.output

    other = tmp_path / "other.csv"
    write_csv(other, ["a", "b"], [{"a": "1", "b": "2"}])
    r = run(str(other), "--format", "nyc311")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"错误：{other}:1: 缺少列 Unique Key"), r.stderr
    r = run(str(tmp_path / "nowhere.csv"), "--format", "nyc311")
    assert r.exit_code == 2 and "没有这个文件" in r.stderr
    assert count(system) == 1
