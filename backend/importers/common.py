"""What every importer shares: reading a civic-data export as a stream of records, mapping
them to our categories, channels and units by a mapping file, turning each into engine
commands at the source's own times, batching them into the engine, and telling the user
every row it could not take (``file:line:column: message``), never silently.

A careful analyst's rules for messy rows:

- a closed request with no close date takes its last update time as the close time (counted
  in the summary); with neither, it counts as closed but stays out of the time-to-close
  figures (``close_imported`` with ``time_known: false``);
- a close date before the creation date is not a close date;
- blank, zero or out-of-range coordinates are no coordinates (the address is used);
- an unmapped request type takes the mapping file's default category (counted, by type);
- a row with no id, no creation time, or no location at all is skipped, with its line.
"""

from __future__ import annotations

import hashlib
import io
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import yaml

from backend.core.i18n import Said, SaidError, t
from backend.domain.commands import Command, action_command, create_command
from backend.domain.vocabulary import Channel
from backend.importers.dates import DateReader

MAPPINGS = Path(__file__).parent / "mappings"
_NS = uuid.UUID("5b1f1f0e-6a57-4d41-9d0c-8c4c0a6f3111")  # command ids are stable per record
_NS_BYTES = _NS.bytes


def stable_id(name: str) -> str:
    """``uuid.uuid5(_NS, name).hex``, without building UUID objects (two per row, and the ids
    must stay exactly these: files imported before are recognised by them)."""
    h = bytearray(hashlib.sha1(_NS_BYTES + name.encode("utf-8")).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50
    h[8] = (h[8] & 0x3F) | 0x80
    return h.hex()


class ImportFatal(SaidError):
    """The file cannot be imported at all (unreadable, or a required column is missing):
    ``where`` in the file (``path`` or ``path:line[:column]``) and what is wrong, said in
    the command's language by ``text``; ``str()`` is the English."""

    def __init__(self, where: str | None, key: str, **values: object) -> None:
        self.where = where
        super().__init__(key, **values)

    def text(self, lang: str = "en") -> str:
        body = self.said.text(lang)
        return f"{self.where}: {body}" if self.where else body

    def __str__(self) -> str:
        return self.text("en")

    def __reduce__(self) -> tuple[Any, ...]:  # across the pipe from a worker process
        return (_import_fatal, (self.where, self.said.key, self.said.values))


def _import_fatal(where: str | None, key: str, values: dict[str, object]) -> ImportFatal:
    return ImportFatal(where, key, **values)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: int
    message: Said | str  # str: the engine's own words about the record
    row: int = -1  # the data row's ordinal in the file (0 = the first after the header)

    def format(self, path: str, lang: str = "en") -> str:
        message = self.message if isinstance(self.message, str) else self.message.text(lang)
        return f"{path}:{self.line}:{self.column}: {message}"


def said_of(exc: BaseException) -> Said | str:
    """What an exception says: its words for a person where it has them (``said``), else
    its own text (a library's message, shown as it is)."""
    return exc.said if isinstance(exc, SaidError) else str(exc)


class RowProblem(SaidError):
    """A row that cannot be read: its column, and what is wrong (``said``)."""

    def __init__(self, column: int, key: str, **values: object) -> None:
        self.column = column
        super().__init__(key, **values)


@dataclass(slots=True)
class Record:
    """One source request, as the importer understood it."""

    line: int
    source_id: str
    created: datetime
    status: str  # open | closed | cancelled
    closed: datetime | None
    close_basis: str  # close | <proxy column> | unknown
    request_type: str
    channel: str | None
    department: str | None
    description: str
    address: str | None
    lat: float | None
    lon: float | None
    status_text: str | None = None
    category: str | None = None  # our category, decided by the reader (the text parser)
    grid: str | None = None  # our grid, when the reader found one (the text parser)
    rating: str | None = None  # the citizen's rating the source recorded (satisfied, …)
    triage: str | None = None  # why a person must decide: no case, a triage report instead
    parse: dict[str, Any] | None = None  # what the text parser found, kept with the report
    row: int = -1  # the data row's ordinal in the file (0 = the first after the header)


@dataclass(frozen=True, slots=True)
class Share:
    """One worker's share of a file read by ``workers`` processes at once: every ``workers``-th
    chunk of ``size`` data rows, starting with chunk ``index``. Each worker reads the whole
    file (cheap) but makes records only of its own rows (the costly part)."""

    index: int
    workers: int
    size: int

    def mine(self, row: int) -> bool:
        return (row // self.size) % self.workers == self.index


@dataclass
class Mapping:
    """Source values → ours (a YAML file; see backend/importers/mappings/)."""

    categories: dict[str, str]
    default_category: str | None
    channels: dict[str, str]
    default_channel: str
    units: dict[str, str]
    known: frozenset[str] = frozenset()  # our own category codes map to themselves

    @classmethod
    def for_format(
        cls, fmt: str, known_categories: set[str], channel: str, path: Path | None = None
    ) -> Mapping:
        """The mapping file given, or the one shipped for ``fmt``."""
        return cls.load(path or MAPPINGS / f"{fmt}.yaml", known_categories, channel)

    @classmethod
    def load(cls, path: Path, known_categories: set[str], channel: str = "hotline") -> Mapping:
        """``channel``: the format's own default, when the file names none."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ImportFatal(str(path), "import_mapping_unreadable", error=str(exc)) from None

        def table(name: str) -> dict[str, str]:
            raw = data.get(name) or {}
            if not isinstance(raw, dict):
                raise ImportFatal(str(path), "import_mapping_not_mapping", name=name)
            return {_key(k): str(v) for k, v in raw.items() if v is not None}

        cats = table("categories")
        bad = sorted({v for v in cats.values() if v not in known_categories})
        default = data.get("default_category")
        if default is not None and default not in known_categories:
            bad.append(str(default))
        if bad:
            raise ImportFatal(str(path), "import_unknown_categories", codes=", ".join(bad))
        channels = table("channels")
        valid = {c.value for c in Channel}
        default_channel = str(data.get("default_channel") or channel)
        wrong = sorted({v for v in [*channels.values(), default_channel] if v not in valid})
        if wrong:
            raise ImportFatal(str(path), "import_unknown_channels", channels=", ".join(wrong))
        return cls(
            cats, default, channels, default_channel, table("units"), frozenset(known_categories)
        )

    def category(self, request_type: str) -> str | None:
        hit = self.categories.get(_key(request_type))
        if hit is None and request_type in self.known:
            return request_type
        return hit or self.default_category

    def mapped(self, request_type: str) -> bool:
        return _key(request_type) in self.categories or request_type in self.known

    def channel(self, source: str | None) -> str:
        if not source:
            return self.default_channel
        return self.channels.get(_key(source), self.default_channel)

    def unit(self, department: str | None) -> str | None:
        if not department:
            return None
        return self.units.get(_key(department), department.strip())


@lru_cache(maxsize=4096)  # request types, channels, departments: few values, every row
def _key(text: object) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().lower()


@lru_cache(maxsize=4096)
def norm_column(name: str) -> str:
    """Column names match case-insensitively, and without spaces or underscores, so the
    portal's "Unique Key" and the API's "unique_key" are the same column. Letters of any
    script count (工单编号 is a name too), punctuation and spacing do not. Kept: a row asks
    for its columns by name a dozen times, a million rows over."""
    return re.sub(r"[\W_]", "", name.lower())


def coordinate(text: str | None, lo: float, hi: float) -> float | None:
    """Blank, zero, unreadable or out of range: no coordinate."""
    if text is None or not text.strip():
        return None
    try:
        v = float(text)
    except ValueError:
        return None
    return v if lo <= v <= hi and v != 0 else None


_POINT = re.compile(r"\(?\s*(-?[0-9.]+)\s*,\s*(-?[0-9.]+)\s*\)?")


def point(text: str | None) -> tuple[float | None, float | None]:
    """``(34.05, -118.24)`` as the portals write a Location column."""
    if not text:
        return None, None
    m = _POINT.search(text)
    if not m:
        return None, None
    return coordinate(m.group(1), -90, 90), coordinate(m.group(2), -180, 180)


# ----------------------------------------------------------------------------- commands


def commands_for(record: Record, source: str, mapping: Mapping) -> list[Command]:
    """The engine commands that rebuild one record: created at its own time, then closed or
    cancelled at the source's time. Ids are stable, so importing a file again changes
    nothing, and a newer export closes what was open."""
    ref = f"{source}:{record.source_id}"[:80]
    category = record.category or mapping.category(record.request_type)
    case: dict[str, Any] = {
        "category": category,
        "description": record.description[:4000],
        "channel": mapping.channel(record.channel),
        "source": source,
        "source_channel": (record.channel or "")[:64] or None,
        "source_type": record.request_type[:100] or None,
    }
    unit = mapping.unit(record.department)
    if unit:
        case["unit"] = unit[:48]
    if record.grid:
        case["grid"] = record.grid
    if record.address:
        case["address"] = record.address[:300]
    if record.lat is not None and record.lon is not None:
        case["lat"], case["lon"] = record.lat, record.lon
    actor = f"import:{source}"
    out = [
        create_command(
            case,
            actor=actor,
            ref=ref,
            at=record.created,
            command_id=stable_id(ref + "|create"),
        )
    ]
    if record.status == "closed":
        known = record.close_basis != "unknown"
        reason = f"source status: {record.status_text or 'Closed'}"
        if record.close_basis not in ("close", "unknown"):
            reason += f"; close time from {record.close_basis}"
        params: dict[str, Any] = {"time_known": known, "reason": reason}
        if record.rating:
            params["rating"] = record.rating
        out.append(
            action_command(
                "close_imported",
                params,
                ref=ref,
                actor=actor,
                at=record.closed if known else record.created,
                command_id=stable_id(ref + "|close"),
            )
        )
    elif record.status == "cancelled":
        out.append(
            action_command(
                "cancel",
                {"reason": f"source status: {record.status_text or 'Cancelled'}"},
                ref=ref,
                actor=actor,
                at=record.closed or record.created,
                command_id=stable_id(ref + "|cancel"),
            )
        )
    return out


# ----------------------------------------------------------------------------- reading


class CountingReader(io.RawIOBase):
    """Counts the bytes read from a binary file, for the progress bar."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.raw.read(len(b))
        n = len(data)
        b[:n] = data
        self.count += n
        return n


@dataclass
class Summary:
    rows: int = 0
    imported: int = 0
    already: int = 0
    skipped: int = 0
    closed: int = 0
    cancelled: int = 0
    close_from_proxy: Counter[str] = field(default_factory=Counter)
    close_unknown: int = 0
    no_coordinates: int = 0
    default_category: Counter[str] = field(default_factory=Counter)
    triage: int = 0
    triage_already: int = 0
    dates: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    fatal: str | None = None

    def add(self, other: Summary) -> None:
        """Add another pass's counts (a worker's share of the file); its fatal if none yet."""
        for name in ("rows", "imported", "already", "skipped", "closed", "cancelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.close_unknown += other.close_unknown
        self.no_coordinates += other.no_coordinates
        self.triage += other.triage
        self.triage_already += other.triage_already
        self.close_from_proxy.update(other.close_from_proxy)
        self.default_category.update(other.default_category)
        self.fatal = self.fatal or other.fatal

    def lines(self, lang: str = "en") -> list[str]:
        """The summary, in ``lang``, through the translation table."""
        out = [t(key, lang, **kw) for key, kw in self.dates]
        out.append(
            t(
                "import_counts",
                lang,
                rows=f"{self.rows:,}",
                imported=f"{self.imported:,}",
                already=f"{self.already:,}",
                skipped=f"{self.skipped:,}",
            )
        )
        out.append(
            t("import_closed", lang, closed=f"{self.closed:,}", cancelled=f"{self.cancelled:,}")
        )
        for col, n in self.close_from_proxy.most_common():
            out.append(t("import_close_proxy", lang, column=col, n=f"{n:,}"))
        if self.close_unknown:
            out.append(t("import_close_unknown", lang, n=f"{self.close_unknown:,}"))
        if self.no_coordinates:
            out.append(t("import_no_coordinates", lang, n=f"{self.no_coordinates:,}"))
        if self.default_category:
            top = ", ".join(f"{k!r} ({n})" for k, n in self.default_category.most_common(8))
            total = f"{sum(self.default_category.values()):,}"
            out.append(t("import_default_category", lang, n=total, top=top))
        if self.triage or self.triage_already:
            out.append(
                t("import_triage", lang, n=f"{self.triage:,}", again=f"{self.triage_already:,}")
            )
        return out


#: (bytes read, rows read): what the progress bar shows
ProgressFn = Callable[[int, int], None]


class Importer:
    """Streams records out of a file; subclasses know one format."""

    source = "import"
    default_tz = "UTC"
    default_channel = "hotline"

    #: the source's own month/day order, taken when a sample cannot tell (and reported)
    day_first = False

    def __init__(self, path: Path, tz: ZoneInfo, date_format: str | None = None) -> None:
        self.path = path
        self.tz = tz
        self.dates = DateReader(tz, day_first=self.day_first, forced=date_format)

    @property
    def shareable(self) -> bool:
        """Whether ``records`` takes a Share: a file several processes can each read whole
        for less than making its records costs."""
        return False

    def records(
        self, stream: IO[bytes], problems: list[RowError], share: Share | None = None
    ) -> Iterator[Record]:
        """The file's records in order, each with its row ordinal; a row that cannot be read
        goes to ``problems`` instead. With ``share``, only that share's rows."""
        raise NotImplementedError
