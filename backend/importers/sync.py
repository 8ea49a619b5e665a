"""``gridwatch sync open311 URL [--since DATE]``: another city's GeoReport v2 server, pulled
incrementally.

The server is asked for what changed in a window of time (``updated_after`` /
``updated_before``, the extension most GeoReport servers share, gridwatch's own included), a
window at a time from ``--since`` (or from where the last run stopped) up to now. A window
that comes back full (the server's page limit) is halved and asked again, so nothing is cut
off. Each window's requests are written like an imported file's (new cases in bulk, changed
ones through the engine: a request closed since the last run is closed here), and only then
is the window's end recorded as the cursor, in a small state file per URL: an interrupted
sync loses at most one window, and running it again repeats that window harmlessly (command
ids are stable per request).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx

from backend.core.clock import Clock
from backend.core.i18n import SaidError
from backend.importers.bulk import BulkWriter
from backend.importers.common import (
    ImportFatal,
    Mapping,
    Record,
    RowError,
    RowProblem,
    commands_for,
)
from backend.importers.open311json import Open311Json
from backend.system import System

#: the widest window asked for at once, and the narrowest a full page is split to
MAX_WINDOW = timedelta(days=30)
MIN_WINDOW = timedelta(seconds=1)
PAGE_LIMIT = 1000  # GeoReport servers answer at most this many (gridwatch: 1000)
RETRIES = 5


class SyncError(SaidError):
    """The server cannot be read (after retries), or answers something that is not GeoReport:
    said in the command's language by ``text``, ``str()`` in English."""


@dataclass
class SyncSummary:
    windows: int = 0
    received: int = 0
    imported: int = 0
    already: int = 0
    skipped: int = 0
    cursor: datetime | None = None
    problems: list[str] = field(default_factory=list)


def source_name(url: str) -> str:
    """The source of a synced server's cases, and their refs' prefix: ``o311-<10 hex of the
    host>`` (cases.source holds 16 characters; one server's ids never collide with another's,
    nor with a file imported as ``open311``)."""
    host = (urlsplit(url).netloc or url).lower()
    return "o311-" + hashlib.sha1(host.encode()).hexdigest()[:10]


def state_file(var: Path, url: str) -> Path:
    digest = hashlib.sha1(url.encode()).hexdigest()[:16]
    return var / f"sync-open311-{digest}.json"


def read_cursor(path: Path) -> datetime | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return datetime.fromisoformat(data["cursor"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_cursor(path: Path, url: str, cursor: datetime) -> None:
    """Atomically: a crash leaves the old cursor or the new one, never half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"url": url, "cursor": cursor.isoformat()}), encoding="utf-8")
    os.replace(tmp, path)


def _w3(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Fetcher:
    """GET requests.json for one window, with retries (and patience when told to slow down)."""

    def __init__(self, base: str, client: httpx.Client, sleep: Callable[[float], None]) -> None:
        self.url = base.rstrip("/") + "/requests.json"
        self.client = client
        self.sleep = sleep

    def window(self, after: datetime, before: datetime) -> list[Any]:
        params = {"updated_after": _w3(after), "updated_before": _w3(before)}
        last = ""
        for attempt in range(RETRIES):
            try:
                r = self.client.get(self.url, params=params)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
                self.sleep(min(2**attempt * 0.5, 10))
                continue
            if r.status_code == 429 or r.status_code >= 500:
                last = f"HTTP {r.status_code}"
                wait = r.headers.get("Retry-After", "")
                self.sleep(float(wait) if wait.isdigit() else min(2**attempt, 30))
                continue
            if r.status_code != 200:
                raise SyncError("sync_http", url=self.url, status=r.status_code, body=r.text[:300])
            try:
                data = r.json()
            except ValueError:
                raise SyncError("sync_not_json", url=self.url) from None
            if not isinstance(data, list):
                raise SyncError("sync_not_list", url=self.url)
            return data
        raise SyncError("sync_no_answer", url=self.url, n=RETRIES, last=last)


def sync_open311(
    system: System,
    url: str,
    *,
    since: datetime | None,
    mapping: Mapping,
    clock: Clock,
    state: Path,
    client: httpx.Client,
    err: IO[str],
    sleep: Callable[[float], None] = time.sleep,
    page_limit: int = PAGE_LIMIT,
    progress: Callable[[SyncSummary], None] | None = None,
    lang: str = "en",
) -> SyncSummary:
    """Pull every request changed since the cursor (or ``since``) up to now; requests that
    cannot be read are told in ``lang``."""
    summary = SyncSummary()
    cursor = read_cursor(state)
    if since is not None and (cursor is None or since > cursor):
        cursor = since
    if cursor is None:
        raise SyncError("sync_no_since")
    end = clock.now().replace(microsecond=0)
    source = source_name(url)
    reader = Open311Json(Path(url), system.tz)
    reader.source = source
    fetch = Fetcher(url, client, sleep)
    writer = BulkWriter(system)
    span = MAX_WINDOW
    while cursor < end:
        upper = min(cursor + span, end)
        items = fetch.window(cursor, upper)
        if len(items) >= page_limit and upper - cursor > MIN_WINDOW:
            span = max((upper - cursor) / 2, MIN_WINDOW)  # a full page: ask for less
            continue
        summary.windows += 1
        summary.received += len(items)
        records: list[Record] = []
        for i, obj in enumerate(items):
            try:
                records.append(reader.record(i + 1, obj))
            except RowProblem as p:
                summary.skipped += 1
                where = f"{url} {_w3(cursor)}"
                line = RowError(i + 1, p.column, p.said).format(where, lang)
                err.write(line + "\n")
        groups = [commands_for(r, source, mapping) for r in records]
        for rec, out in zip(records, writer.write(groups), strict=True):
            if out.error is not None:
                summary.skipped += 1
                err.write(f"{url}: request {rec.source_id}: {out.error}\n")
            elif out.already and not out.changed:
                summary.already += 1
            else:
                summary.imported += 1
        cursor = upper
        write_cursor(state, url, cursor)  # only after the window is in SQL
        summary.cursor = cursor
        span = min(span * 2, MAX_WINDOW)
        if progress:
            progress(summary)
    summary.cursor = cursor
    return summary


def run_sync(
    system: System,
    url: str,
    *,
    since: str | None,
    mapping: Path | None = None,
    timeout: float = 30.0,
    out: IO[str],
    err: IO[str],
) -> int:
    """The command: 0 all taken, 3 some requests skipped (listed), 2 stopped (said why)."""
    from backend.core.i18n import t
    from backend.importers.run import FATAL, OK, SOME_SKIPPED, cli_lang, write_error

    lang = cli_lang()
    if not url.startswith(("http://", "https://")):
        write_error(err, t("sync_bad_url", lang, url=repr(url)), lang)
        return FATAL
    start: datetime | None = None
    if since:
        try:
            start = datetime.fromisoformat(since.strip().replace("Z", "+00:00"))
        except ValueError:
            write_error(err, t("sync_bad_since", lang, since=repr(since)), lang)
            return FATAL
        if start.tzinfo is None:
            start = start.replace(tzinfo=system.tz)
    try:
        table = Mapping.for_format(
            "open311", set(system.ref.categories), Open311Json.default_channel, mapping
        )
    except ImportFatal as exc:  # the mapping file
        write_error(err, exc.text(lang), lang)
        return FATAL
    state = state_file(system.settings.var_dir, url)
    state.parent.mkdir(parents=True, exist_ok=True)
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            summary = sync_open311(
                system,
                url,
                since=start,
                mapping=table,
                clock=system.clock,
                state=state,
                client=client,
                err=err,
                lang=lang,
            )
    except SyncError as exc:
        cursor = read_cursor(state)
        write_error(err, exc.text(lang), lang)
        if cursor is not None:
            err.write(t("sync_resume", lang, cursor=cursor.isoformat()) + "\n")
        return FATAL
    out.write(
        t(
            "sync_summary",
            lang,
            windows=summary.windows,
            received=f"{summary.received:,}",
            imported=f"{summary.imported:,}",
            already=f"{summary.already:,}",
            skipped=f"{summary.skipped:,}",
            cursor=summary.cursor.isoformat() if summary.cursor else "-",
        )
        + "\n"
    )
    return SOME_SKIPPED if summary.skipped else OK
