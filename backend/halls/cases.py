"""Hall matters that become cases: a very dissatisfied rating, an alert escalated twice. Each
is an ordinary engine create command, for the hall's township (the county centre's county),
so the case climbs tiers and counts in the assessment like any other."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.core.i18n import t
from backend.domain.commands import Command, create_command
from backend.halls.model import Hall
from backend.halls.rules import RulePack
from backend.refdata.index import RefIndex

ACTOR = "halls"


def unit_for(hall: Hall, ref: RefIndex) -> str | None:
    return ref.township_unit.get(hall.township_code) or ref.county_unit.get(hall.township_code)


def case_command(
    *,
    hall: Hall,
    ref: RefIndex,
    pack: RulePack,
    case_ref: str,
    description: str,
    source_type: str,
    at: datetime,
) -> Command | None:
    """The create command, or None when the hall's area has no unit or grid to hang it on."""
    unit = unit_for(hall, ref)
    grids = ref.grids_by_area.get(hall.township_code) or []
    if unit is None or not grids:
        return None
    case: dict[str, Any] = {
        "category": pack.cases["category"],
        "description": description,
        "channel": pack.cases["channel"],
        "grid": grids[0],
        "unit": unit,
        "source": "hall",
        "source_type": source_type,
    }
    return create_command(case, actor=ACTOR, ref=case_ref, at=at, command_id=case_ref)


def rating_description(hall: Hall, window: str, comment: str | None) -> str:
    text = t("hall_case_rating", "zh", hall=hall.name, window=window)
    return f"{text}：{comment}" if comment else text


def alert_description(hall: Hall, rule: str, window: str | None) -> str:
    where = f"{hall.name} {window}" if window else hall.name
    return t("hall_case_alert", "zh", where=where, rule=t(f"hall_rule_{rule}", "zh"))
