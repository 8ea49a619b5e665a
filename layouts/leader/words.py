"""The leader desk's words for what the database holds as codes: who did something (an actor
or a handler's staff id), a probability's basis, a date. One language at a time: every word
comes from the translation table, never the code itself when a name exists."""

from __future__ import annotations

from datetime import date

from backend.core.i18n import t
from backend.domain.vocabulary import Channel
from backend.queries.people import Person
from backend.refdata.index import RefIndex

_CHANNELS = {c.value for c in Channel}


def person(code: str | None, staff: dict[str, Person], ref: RefIndex, lang: str) -> str:
    """A handler: the person's name and unit when the staff table knows the id."""
    if not code:
        return "—"
    p = staff.get(code)
    if p is None:
        return actor(code, staff, ref, lang)
    if not p.unit_code:  # a signed-in person of no unit (a leader, a duty officer)
        return p.name
    u = ref.units.get(p.unit_code)
    return t("actor_person", lang, name=p.name, unit=u.name if u else p.unit_code)


def person_name(code: str | None, staff: dict[str, Person], ref: RefIndex, lang: str) -> str:
    """A handler in a narrow table cell: the name alone (the unit is the next column)."""
    p = staff.get(code or "")
    return p.name if p is not None else person(code, staff, ref, lang)


def actor(code: str | None, staff: dict[str, Person], ref: RefIndex, lang: str) -> str:
    """Who recorded an event (``clock``, ``sim:grid_worker``, ``leader:web``, a staff id…)."""
    if not code:
        return "—"
    if code in staff:
        return person(code, staff, ref, lang)
    kind, _, rest = code.partition(":")
    if code == "clock":
        return t("actor_clock", lang)
    if code == "leader:web":
        return t("actor_leader_web", lang)
    if code == "citizen:qr":
        return t("actor_citizen_qr", lang)
    if kind == "sim" and rest in _CHANNELS:
        return t("actor_sim_channel", lang, who=t(f"channel_who_{rest}", lang))
    if kind == "sim" and rest in ref.units:
        return t("actor_sim_unit", lang, unit=ref.units[rest].name)
    if kind == "api" and rest:
        return t("actor_api", lang, client=rest)
    if kind == "user" and rest:  # a signed-in person's account (issue 11)
        return t("actor_user", lang, user=rest)
    return t("actor_unknown", lang, code=code)


def risk_basis(basis: str | None, n: int | None, lang: str) -> str:
    """What a probability rests on: the group of similar past stages and how many."""
    if not basis:
        return "—"
    if basis == "past due":
        return t("risk_basis_past_due", lang)
    name = t(f"basis_{basis}", lang)
    return name if n is None else t("risk_basis_n", lang, basis=name, n=n)


def risk_tip(basis: str | None, n: int | None, lang: str) -> str:
    if not basis or basis == "past due" or n is None:
        return risk_basis(basis, n, lang)
    return t("risk_basis_tip", lang, basis=t(f"basis_{basis}", lang), n=n)


def day(d: date, lang: str) -> str:
    """A date as the reader writes it: 11月23日, or 23 Nov."""
    return t("day_md", lang, m=d.month, d=d.day, mon=d.strftime("%b"))
