"""The event specs (backend/domain/events.py): one per event type, every key translated, and
what the state machine writes is what each spec says it carries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args, get_type_hints

import pytest
from sqlalchemy import select

from backend.core.i18n import TEXT
from backend.domain import events as ev
from backend.domain.events import SPECS, EventType, StageEffect, UnknownEventType, spec_of
from backend.domain.stages import stages_from_events
from backend.store.models import case_events
from tests.helpers import act, report


def test_every_event_type_has_a_spec_and_every_spec_a_type():
    assert set(SPECS) == {t.value for t in EventType}
    for name, spec in SPECS.items():
        assert spec.type.value == name
        # a stage start says how a stage still open before it ends
        assert (spec.stage is StageEffect.START) == (spec.ends_open_stage is not None), name


def test_every_spec_key_is_in_the_translation_table_in_both_languages():
    for spec in SPECS.values():
        ticker_key = spec.ticker.label_key if spec.ticker is not None else None
        for key in (spec.label_key, spec.citizen_key, ticker_key):
            if key is None:
                continue
            assert key in TEXT, key
            zh, en = TEXT[key]
            assert zh and en, key


def test_a_type_without_a_spec_is_an_error_where_it_is_read():
    with pytest.raises(UnknownEventType):
        spec_of("teleported")
    rows = [  # only the fields the reader uses
        {"type": "dispatched", "at": _t(0), "to_tier": "grid", "to_unit": "u1", "reason": None},
        {"type": "teleported", "at": _t(1), "to_tier": "grid", "to_unit": "u2"},
    ]
    with pytest.raises(UnknownEventType):
        stages_from_events(rows)


def _t(hours: int) -> Any:
    from tests.conftest import local

    return local(2026, 11, 23, 9, 0) + timedelta(hours=hours)


def _payload_keys(spec: ev.EventSpec[Any]) -> set[str]:
    assert spec.payload is not None
    return set(get_type_hints(spec.payload))


def test_the_state_machine_writes_each_event_with_the_payload_its_spec_types(system, clock):
    """Every action and every clock milestone, then every event row read back: its data has
    exactly the fields of its spec's payload (or none where the spec has no payload)."""
    units = sorted(system.ref.units)
    a = report(system)
    for action, params in (
        ("accept", {"holder": "张三"}),
        ("start", {}),
        ("pause", {"reason": "等待群众补充材料"}),
        ("resume", {}),
        ("instruct", {"text": "请尽快办理"}),
        ("resolve", {"reason": "已清理"}),
        ("rate", {"rating": "unsatisfied"}),  # reopens
        ("accept", {}),
        ("resolve", {"reason": "再次清理"}),
        ("revisit", {"result": "satisfied"}),
        ("close", {}),
    ):
        assert act(system, a, action, **params).results[0].ok, action
    b = report(system)
    assert act(system, b, "attach", channel="hotline", reason="再次来电").results[0].ok
    assert act(system, b, "escalate", reason="需乡镇协调").results[0].ok
    assert act(system, b, "request_escalation", reason="需部门处理").results[0].ok
    assert act(system, b, "reassign", unit=units[0], reason="职责调整").results[0].ok
    lead, co = units[1], [units[2]]
    assert act(system, b, "consult", lead=lead, co_units=co, reason="多部门会商").results[0].ok
    c = report(system)
    assert act(system, c, "return", reason="非本网格事项").results[0].ok
    assert act(system, c, "cancel", reason="群众撤回").results[0].ok
    report(system)  # left alone: reminded, warned, overdue, moved up to the county by the clock
    for _ in range(2 * 70):  # 70 days: past the grid's, township's, department's allowances
        clock.advance(timedelta(hours=12))
        system.engine.tick()
    imported = report(system, source="la311", unit="BOS")
    assert act(system, imported, "close_imported", time_known=False).results[0].ok

    with system.db.connect() as conn:
        rows = conn.execute(select(case_events)).mappings().all()
    seen = {r["type"] for r in rows}
    assert seen == set(SPECS), set(SPECS) - seen  # the scenario reaches every type
    for r in rows:
        spec = spec_of(r["type"])
        data = r["data"]
        if spec.payload is None:
            assert data is None, (r["type"], data)
        elif r["type"] == EventType.CLOSED and data is None:
            continue  # closed by a person: only an imported record's close says more
        else:
            # every required field, and no field the payload does not type (NotRequired
            # ones, e.g. an imported close's rating, only when there is one)
            assert spec.payload is not None
            required = set(spec.payload.__required_keys__)  # type: ignore[attr-defined]
            assert required <= set(data) <= _payload_keys(spec), (r["type"], data)
        if r["type"] == EventType.ESCALATED:
            assert data["by"] in get_args(ev.EscalatedBy)
            assert (data["by"] == "clock") == (r["actor"] == "clock")
