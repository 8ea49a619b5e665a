"""A city's service halls as plain frozen dataclasses: halls, their windows and the services
(事项) each serves, the staff, their shifts and the hall's opening hours.

The generator, the file loader and the SQL loader speak these shapes, like backend/refdata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

#: Hall kinds: the county centre (县便民服务中心) and township halls (乡镇便民服务中心).
HALL_KINDS: tuple[str, ...] = ("county", "township")
#: Opening hours when a hall states none: the working windows of the working-day calendar.
DEFAULT_HOURS = "08:30-12:00,14:00-17:30"


def parse_hours(text: str) -> tuple[tuple[time, time], ...]:
    """``"08:30-12:00,14:00-17:30"`` → ((08:30, 12:00), (14:00, 17:30)); ValueError if bad."""
    spans: list[tuple[time, time]] = []
    for part in text.split(","):
        start, sep, end = part.strip().partition("-")
        if not sep:
            raise ValueError(f"{part!r} is not HH:MM-HH:MM")
        a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if b <= a:
            raise ValueError(f"{part!r} ends before it starts")
        if spans and a < spans[-1][1]:
            raise ValueError(f"{part!r} overlaps the span before it")
        spans.append((a, b))
    if not spans:
        raise ValueError("no opening hours")
    return tuple(spans)


@dataclass(frozen=True, slots=True)
class Hall:
    """One service hall, in a township (or the county seat) whose leader answers for it."""

    code: str
    name: str
    kind: str
    township_code: str  # the area whose township (or county) leader an escalation reaches
    county_code: str
    hours: str = DEFAULT_HOURS


@dataclass(frozen=True, slots=True)
class Window:
    """One window (窗口) of a hall and the services it serves."""

    hall_code: str
    code: str
    name: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HallStaff:
    """One person posted at a hall's window."""

    staff_id: str
    name: str
    hall_code: str
    window_code: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class Shift:
    """A person's daily shift at a window, on the hall's working days (local times)."""

    staff_id: str
    hall_code: str
    window_code: str
    start: str  # "08:30"
    end: str  # "12:00"


@dataclass(frozen=True, slots=True)
class HallData:
    """Every hall of a city with its windows, staff and shifts; indexed once."""

    halls: list[Hall]
    windows: list[Window]
    staff: list[HallStaff]
    shifts: list[Shift]
    _halls: dict[str, Hall] = field(init=False, repr=False, compare=False)
    _windows: dict[tuple[str, str], Window] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_halls", {h.code: h for h in self.halls})
        object.__setattr__(self, "_windows", {(w.hall_code, w.code): w for w in self.windows})

    def hall(self, code: str) -> Hall | None:
        return self._halls.get(code)

    def window(self, hall_code: str, code: str) -> Window | None:
        return self._windows.get((hall_code, code))

    def windows_of(self, hall_code: str) -> list[Window]:
        return [w for w in self.windows if w.hall_code == hall_code]
