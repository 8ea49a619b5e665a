"""The deadline a stage was working to, in seconds from its start.

Where the stage went overdue the event log says when; otherwise the SLA policy is asked what
allowance that tier, channel, category and severity get from the stage's start (the same
``DeadlineClock`` the engine uses). A pause during the stage moved its real deadline on; the
policy's figure ignores that, which matters only for the few stages that waited for a citizen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.deadlines.sla import DeadlineClock
from backend.domain.case import CaseState


def policy_due_seconds(
    clock: DeadlineClock, case: Any, tier: str, unit: str, start: datetime, consultation: bool
) -> float | None:
    """Seconds from ``start`` to the deadline the policy gives a stage of ``case`` at ``tier``."""
    probe = CaseState.received(
        ref="",
        at=start,
        channel=case.channel,
        category=case.category,
        severity=case.severity,
        complexity=case.complexity,
        description="",
        mode="consultation" if consultation else "normal",
        status="dispatched",
        tier=tier,
        unit_code=unit,
        stage_started_at=start,
    )
    try:
        clock.start(probe, start)
    except (LookupError, ValueError):  # a tier or category the policy does not know
        return None
    return (probe.due_at - start).total_seconds() if probe.due_at is not None else None
