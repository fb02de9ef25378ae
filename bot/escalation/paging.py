"""Can anyone be paged right now? The answer behind ``/readyz``, ``/metrics`` and the
dashboard's banner.

Problems, checked on demand (cheap: one roster walk and one query):

* ``no_roster``: no valid on-call roster is loaded (an alarm).
* ``roster_edit_invalid``: the file was edited and the edit is invalid; the last valid
  roster is still in use (shown, not an alarm: paging still works).
* ``nobody_reachable``: for a priority, nobody its chain would page right now has a contact
  on a channel this service can send on (an alarm).
* ``alerts_failed``: an open, unacknowledged case whose alerts all failed (or that found
  nobody to page) and none is delivered or on its way (an alarm).
* ``alerts_off``: no alert channel is configured at all outside production (``make run``):
  cases reach only the dashboard. Shown, not an alarm; in production it is
  ``nobody_reachable`` for every priority.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from bot.escalation import notify
from bot.escalation.context import Escalation
from bot.escalation.models import (
    PRIORITIES,
    Case,
    CaseEvent,
    CaseNotification,
    CaseStatus,
    NotificationStatus,
)
from bot.escalation.roster import Roster

#: Alerts in these states still count: delivered, or on their way.
LIVE_ALERTS = (NotificationStatus.QUEUED, NotificationStatus.SENT)
MAX_CASES_LISTED = 20


@dataclass(frozen=True)
class Problem:
    kind: str
    alarm: bool
    priority: str | None = None
    cases: tuple[int, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        """For operators (``/readyz``): English, no personal data."""
        if self.kind == "nobody_reachable":
            return f"nobody reachable for {self.priority} cases right now"
        if self.kind == "alerts_failed":
            return f"alerts failed on every channel for open cases {list(self.cases)}"
        if self.kind == "no_roster":
            return f"no valid on-call roster: {self.detail}"
        if self.kind == "roster_edit_invalid":
            return f"on-call file edit refused (last valid roster in use): {self.detail}"
        return "no alert channel configured: cases reach only the dashboard"


def reachable_for(esc: Escalation, roster: Roster, priority: str, now: datetime) -> bool:
    """Would anyone the chain of ``priority`` pages now get an alert on a usable channel?"""
    for step in roster.chain(priority).steps:
        targets = roster.resolve(step.notify, now) or roster.resolve(["all"], now)
        for pid in targets:
            person = roster.get(pid)
            if person is not None and notify.usable_contacts(esc, person):
                return True
    return False


def failed_cases(esc: Escalation) -> tuple[int, ...]:
    """Open, unacknowledged cases with a failed alert and no alert delivered or on its way."""
    with Session(esc.db) as session:
        failed = set(
            session.exec(
                select(CaseEvent.case_id)
                .join(Case, col(Case.id) == CaseEvent.case_id)
                .where(CaseEvent.kind == "notify_failed", Case.status == CaseStatus.OPEN)
            ).all()
        )
        if not failed:
            return ()
        live = set(
            session.exec(
                select(CaseNotification.case_id).where(
                    col(CaseNotification.case_id).in_(failed),
                    col(CaseNotification.status).in_(LIVE_ALERTS),
                )
            ).all()
        )
    return tuple(sorted(failed - live))[:MAX_CASES_LISTED]


def problems(esc: Escalation, *, strict: bool) -> list[Problem]:
    """What stands between a new case and a psychologist now. ``strict`` (production): no
    alert channel at all is an alarm, not a development set-up."""
    roster = esc.roster
    source = esc.roster_source
    if roster is None:
        return [Problem("no_roster", True, detail=source.error or "")]
    found: list[Problem] = []
    if source.error:
        found.append(Problem("roster_edit_invalid", False, detail=source.error))
    if not esc.channels and not strict:
        return [*found, Problem("alerts_off", False)]
    now = esc.clock()
    found += [
        Problem("nobody_reachable", True, priority=p)
        for p in PRIORITIES
        if not reachable_for(esc, roster, p, now)
    ]
    try:
        cases = failed_cases(esc)
    except SQLAlchemyError:
        cases = ()  # the database's own check reports it
    if cases:
        found.append(Problem("alerts_failed", True, cases=cases))
    return found
