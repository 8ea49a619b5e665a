"""The deadline clock of a case at its current tier: start, pause, resume, stop and fire.

Budgets are measured with the calendar's meter for the allowance's unit (working days,
working hours or clock hours), so 50% / 80% mean the same thing for every kind of allowance,
and a pause simply stops the meter.
"""

from __future__ import annotations

from datetime import datetime

from backend.deadlines.policy import PolicyPack, TierRule
from backend.deadlines.workcalendar import Allowance, WorkCalendar
from backend.domain.case import CaseState
from backend.domain.vocabulary import Colour, Milestone, Tier

_COLOUR_AFTER = {
    Milestone.REMINDER: Colour.YELLOW,
    Milestone.WARNING: Colour.ORANGE,
    Milestone.DUE: Colour.RED,
}
_MILESTONES: dict[str, Milestone] = {m.value: m for m in Milestone}
_NEXT = {
    Milestone.REMINDER: Milestone.WARNING,
    Milestone.WARNING: Milestone.DUE,
    Milestone.DUE: None,
}


class DeadlineClock:
    """Applies one policy pack on one working-day calendar."""

    def __init__(self, calendar: WorkCalendar, policy: PolicyPack) -> None:
        self.calendar = calendar
        self.policy = policy
        self._allowances: dict[str, Allowance] = {}

    def rule_for(self, case: CaseState, tier: str | None = None) -> TierRule:
        return self.policy.resolve(
            tier=tier or case.tier or Tier.GRID,
            channel=case.channel,
            category=case.category,
            severity=case.severity,
            complexity=case.complexity,
            mode=case.mode,
        )

    def start(self, case: CaseState, now: datetime) -> None:
        """A fresh allowance for the case's current tier, counted from ``now``."""
        allowance = self.rule_for(case).allowance
        p = self.policy
        due, budget, (reminder, warning) = self.calendar.schedule(
            now, allowance, (p.reminder, p.warning)
        )
        case.allowance = allowance.text
        case.budget_seconds = budget
        case.used_seconds = 0.0
        case.segment_started_at = now
        case.due_at = due
        case.colour = Colour.GREEN
        # as _schedule places them from a fresh budget
        case.reminder_at = reminder
        case.warning_at = warning
        case.next_milestone = Milestone.REMINDER
        case.next_due_at = reminder

    def pause(self, case: CaseState, now: datetime) -> None:
        """Stop the meter (waiting for the citizen); nothing fires while paused."""
        if case.segment_started_at is None or case.allowance is None:
            return
        unit = self._allowance(case.allowance).unit
        case.used_seconds += self.calendar.measure(case.segment_started_at, now, unit)
        case.segment_started_at = None
        case.next_due_at = None

    def resume(self, case: CaseState, now: datetime) -> None:
        """Restart the meter with what was left of the budget."""
        if case.allowance is None or case.budget_seconds is None:
            return
        unit = self._allowance(case.allowance).unit
        case.segment_started_at = now
        pending = _MILESTONES.get(case.next_milestone or "")
        if pending is None:
            # everything had fired already (overdue, not escalated): the deadline stays where
            # it was, so the case keeps showing how long it has been overdue
            return
        self._schedule(
            case, now, unit, case.budget_seconds, case.used_seconds, first=pending, resumed=True
        )

    def stop(self, case: CaseState) -> None:
        """Handling completed or cancelled: the clock no longer runs."""
        case.next_due_at = None
        case.next_milestone = None
        case.segment_started_at = None

    def fire(self, case: CaseState, now: datetime) -> list[Milestone]:
        """Milestones now due, in order; advances colour and the next milestone."""
        fired: list[Milestone] = []
        while case.next_due_at is not None and case.next_due_at <= now and case.next_milestone:
            m = _MILESTONES[case.next_milestone]
            fired.append(m)
            case.colour = _COLOUR_AFTER[m]
            nxt = _NEXT[m]
            case.next_milestone = nxt
            case.next_due_at = self._milestone_time(case, nxt) if nxt else None
        return fired

    # ------------------------------------------------------------------ internals

    def _allowance(self, text: str) -> Allowance:
        a = self._allowances.get(text)
        if a is None:
            a = self._allowances[text] = Allowance.parse(text)
        return a

    def _schedule(
        self,
        case: CaseState,
        start: datetime,
        unit: str,
        budget: float,
        used: float,
        first: Milestone,
        resumed: bool,
    ) -> None:
        """Place the milestones not yet fired after ``start``, given ``used`` of ``budget``."""
        cal = self.calendar
        p = self.policy
        if first is Milestone.REMINDER:
            case.reminder_at = cal.advance(start, max(0.0, budget * p.reminder - used), unit)
        if first in (Milestone.REMINDER, Milestone.WARNING):
            case.warning_at = cal.advance(start, max(0.0, budget * p.warning - used), unit)
        if resumed:
            case.due_at = cal.advance(start, max(0.0, budget - used), unit)
        case.next_milestone = first
        case.next_due_at = self._milestone_time(case, first)

    @staticmethod
    def _milestone_time(case: CaseState, m: Milestone) -> datetime | None:
        if m is Milestone.REMINDER:
            return case.reminder_at
        if m is Milestone.WARNING:
            return case.warning_at
        return case.due_at
