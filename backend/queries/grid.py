"""Rows of the stuck-case table, a block at a time, for AG Grid's infinite row model.

The grid sends the block it needs (``startRow``/``endRow``), its sort model and its column
filters; everything is done in SQL (WHERE, ORDER BY, LIMIT/OFFSET), so a city with millions of
cases costs one indexed query per block, never a table in memory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, case, func, or_, select

from backend.core.errors import CommandInvalid
from backend.domain.vocabulary import TIER_ORDER, Colour
from backend.queries.people import ids_named as named
from backend.queries.risk_bands import with_risk
from backend.queries.scope import Scope
from backend.queries.stuck import StuckFilter, stuck_row, where_clauses
from backend.refdata.index import RefIndex
from backend.store.models import cases, drill_case_risk

MAX_BLOCK = 500
_TIER_RANK = case({t.value: i for i, t in enumerate(TIER_ORDER)}, value=cases.c.tier, else_=-1)
_COLOUR_RANK = case({c.value: i for i, c in enumerate(Colour)}, value=cases.c.colour, else_=-1)
#: column id → what it sorts by; "longest in stage" is the oldest stage start
SORTS: dict[str, tuple[Any, bool]] = {
    "code": (cases.c.id, False),
    "reported_at": (cases.c.reported_at, False),
    "category": (cases.c.category, False),
    "status": (cases.c.status, False),
    "tier": (_TIER_RANK, False),
    "unit": (cases.c.unit_code, False),
    "holder": (cases.c.holder, False),
    "township": (cases.c.township_code, False),
    "in_stage": (cases.c.stage_started_at, True),  # more time in stage = earlier start
    "left": (cases.c.due_at, False),
    "colour": (_COLOUR_RANK, False),
    "risk": (drill_case_risk.c.p_miss, False),
}
_DIGITS = re.compile(r"(\d+)\s*$")


def _number(spec: dict[str, Any], col: str) -> float:
    try:
        return float(spec["filter"])
    except (KeyError, TypeError, ValueError):
        raise CommandInvalid({col: "a number"}) from None


def _text(spec: dict[str, Any]) -> str:
    return str(spec.get("filter") or "").strip()


def _matching(names: Mapping[str, tuple[str, ...]], needle: str) -> list[str]:
    n = needle.lower()
    return [code for code, labels in names.items() if any(n in x.lower() for x in labels)]


def column_filters(model: dict[str, Any], ref: RefIndex, now: datetime) -> list[Any]:
    """AG Grid's filter model → SQL conditions. Names are matched against the reference data
    in memory (a few hundred units), then looked up by code in SQL."""
    conds: list[Any] = []
    for col, spec in (model or {}).items():
        if not isinstance(spec, dict):
            continue
        kind = spec.get("type")
        if col == "code":
            m = _DIGITS.search(_text(spec))
            if m:  # the case number ends in the zero-padded id
                conds.append(cases.c.id == int(m.group(1)[-8:]))
        elif col == "unit" and _text(spec):
            units = {u.code: (u.code, u.name) for u in ref.units.values()}
            conds.append(cases.c.unit_code.in_(_matching(units, _text(spec)) or [""]))
        elif col == "category" and _text(spec):
            cats = {c.code: (c.code, c.name, c.name_en) for c in ref.categories.values()}
            conds.append(cases.c.category.in_(_matching(cats, _text(spec)) or [""]))
        elif col == "township" and _text(spec):
            towns = {
                code: (code, name)
                for code, name in ref.area_names.items()
                if ref.area_levels.get(code) == "township"
            }
            conds.append(cases.c.township_code.in_(_matching(towns, _text(spec)) or [""]))
        elif col == "holder" and _text(spec):
            needle = _text(spec)
            conds.append(
                or_(
                    cases.c.holder.contains(needle, autoescape=True),
                    cases.c.holder.in_(named(needle)),
                )
            )
        elif col == "risk":
            value = _number(spec, col) / 100  # shown in per cent
            p = drill_case_risk.c.p_miss
            conds.append(p > value if kind == "greaterThan" else p < value)
        elif col == "in_stage":  # more than x hours in stage <=> the stage began before now - x
            at = now - timedelta(hours=_number(spec, col))
            started = cases.c.stage_started_at
            conds.append(started < at if kind == "greaterThan" else started > at)
        elif col == "left":  # less than x hours left <=> due before now + x
            at = now + timedelta(hours=_number(spec, col))
            conds.append(cases.c.due_at < at if kind == "lessThan" else cases.c.due_at > at)
    return conds


def _order(sort_model: list[dict[str, Any]] | None) -> list[Any]:
    out = []
    for s in sort_model or []:
        entry = SORTS.get(str(s.get("colId")))
        if entry is None:
            continue
        expr, inverted = entry
        desc = (s.get("sort") == "desc") != inverted
        out.append(expr.desc().nulls_last() if desc else expr.asc().nulls_last())
    if not out:  # the default: longest in its present stage first
        out.append(cases.c.stage_started_at.asc().nulls_last())
    out.append(cases.c.id.asc())
    return out


#: the furthest row a grid may ask for (a larger offset is no table's, and overflows SQL)
MAX_ROW = 10_000_000


def block_request(request: Any) -> dict[str, Any]:
    """The grid's request checked: rows as whole numbers, a list of sorts, a dict of filters
    (anything else a client sends is a 4xx-style ``CommandInvalid``, never an exception)."""
    if not isinstance(request, dict):
        raise CommandInvalid({"request": "an object"})
    try:
        start = max(0, int(request.get("startRow") or 0))
        end = int(request.get("endRow") or start + 100)
    except (TypeError, ValueError):
        raise CommandInvalid({"startRow": "a whole number"}) from None
    if start > MAX_ROW or end > MAX_ROW:  # past any table, and past a BIGINT offset
        raise CommandInvalid({"startRow": f"at most {MAX_ROW}"})
    sorts = request.get("sortModel") or []
    filters = request.get("filterModel") or {}
    if not isinstance(sorts, list) or not all(isinstance(x, dict) for x in sorts):
        raise CommandInvalid({"sortModel": "a list of sorts"})
    if not isinstance(filters, dict):
        raise CommandInvalid({"filterModel": "an object"})
    return {"startRow": start, "endRow": end, "sortModel": sorts, "filterModel": filters}


def grid_block(
    conn: Connection,
    f: StuckFilter,
    request: dict[str, Any],
    ref: RefIndex,
    scope: Scope,
    now: datetime,
    *,
    count: bool = True,
) -> dict[str, Any]:
    """One block of rows and the number of rows that match (``rowCount``)."""
    f.validate()
    request = block_request(request)
    start = request["startRow"]
    limit = max(1, min(MAX_BLOCK, request["endRow"] - start))
    conds = where_clauses(f, scope, now) + column_filters(request["filterModel"], ref, now)
    joined = with_risk()
    rows = conn.execute(
        select(
            cases, drill_case_risk.c.p_miss, drill_case_risk.c.basis, drill_case_risk.c.n_similar
        )
        .select_from(joined)
        .where(and_(*conds))
        .order_by(*_order(request.get("sortModel")))
        .limit(limit)
        .offset(start)
    ).mappings()
    items = []
    for r in rows:
        item = stuck_row(r, now)
        item["risk"] = r["p_miss"]
        item["risk_basis"] = r["basis"] if r["p_miss"] is not None else None
        item["risk_n"] = r["n_similar"]
        item["reported_at"] = r["reported_at"].isoformat()
        items.append(item)
    total = None
    if count:
        src = joined if "risk" in (request.get("filterModel") or {}) else cases
        total = int(
            conn.execute(select(func.count()).select_from(src).where(and_(*conds))).scalar_one()
        )
    return {"rows": items, "total": total}
