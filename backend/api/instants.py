"""Instants a client sends (a report's ``received_at``, a feed's ``start_date``), checked at
the edge: a real time zone, a year a case can have, and not in the future beyond the clock
skew a sender's clock may have. Year 1 and year 9999 break arithmetic (a day added, another
zone) far from where they came in; they are refused here instead, per field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.core.i18n import t

#: no case was reported before this, and no filter needs to reach past either end
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def parse_instant(text: object) -> tuple[datetime | None, str | None]:
    """An ISO 8601 time with an offset, inside [EARLIEST, LATEST); else the reason (English,
    from the translation table) and no time."""
    if not isinstance(text, str):
        return None, t("time_iso", "en")
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None, t("time_iso", "en")
    if at.tzinfo is None:
        return None, t("time_offset", "en")
    try:
        in_utc = at.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59-14:00 is in year 10000 in UTC
        in_utc = LATEST
    if not EARLIEST <= in_utc < LATEST:
        return None, t("time_range", "en", first=EARLIEST.year, last=LATEST.year - 1)
    return at, None


def past_instant(
    text: object, now: datetime, skew: timedelta
) -> tuple[datetime | None, str | None]:
    """As ``parse_instant``, and not later than ``now`` plus ``skew``: a report cannot have
    been received after it was sent."""
    at, why = parse_instant(text)
    if at is not None and at > now + skew:
        return None, t("time_future", "en", seconds=int(skew.total_seconds()))
    return at, why
