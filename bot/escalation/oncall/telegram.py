"""On-call changes from a psychologist's Telegram chat, for supervisors on the move.

* ``/oncall`` (``/guardia``): who is on call now, the gaps of the next 7 days, the changes in
  force (anyone on the roster);
* ``/cover luis ana 20:00 08:00`` (``/cubrir``): Luis covers Ana tonight from 20:00 to
  08:00; without ``ana`` Luis becomes the primary; a date (``2026-12-24``) may come before
  the first time, and the rest of the line is a note;
* ``/away ana 20:00 08:00`` (``/ausente``): Ana is unavailable then;
* ``/undo [N]`` (``/deshacer``): undo one's last change still in force (or change N).

Changing needs a supervisor: a psychologist listed in the roster file's ``supervisors``, or
one whose dashboard account (``psychologist_id``) has the supervisor or admin role. Every
change goes through :mod:`bot.escalation.oncall.edit` (validated and audited as from the dashboard),
inside the inbox step's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, select

from bot.accounts.models import DashboardUser
from bot.escalation.context import Escalation
from bot.escalation.oncall import edit
from bot.escalation.oncall.changes import AdjustedRoster, Change, Segment, adjusted, segments
from bot.escalation.roster import Roster
from bot.escalation.roster_file import PsychologistEntry
from bot.escalation.texts import StaffCatalog

COMMANDS = {
    "oncall": "oncall",
    "guardia": "oncall",
    "cover": "cover",
    "cubrir": "cover",
    "away": "away",
    "ausente": "away",
    "undo": "undo",
    "deshacer": "undo",
}
HORIZON = timedelta(days=7)
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NOW = frozenset({"now", "ahora"})
MAX_LINES = 12


def command_of(text: str | None) -> str | None:
    """The on-call command a message starts with, if any."""
    words = (text or "").strip().split(maxsplit=1)
    if not words or not words[0].startswith("/"):
        return None
    return COMMANDS.get(words[0][1:].split("@", 1)[0].lower())


@dataclass(frozen=True)
class Window:
    start: datetime  # local, naive (as the roster file's overrides)
    end: datetime
    note: str


def parse_window(words: list[str], local_now: datetime) -> Window | None:
    """``[date] start end [note…]``: ``end`` is the first such time after ``start``;
    without a date, a window that would already be over is tomorrow's."""
    day: date | None = None
    if words and _DATE.match(words[0]):
        try:
            day = date.fromisoformat(words.pop(0))
        except ValueError:
            return None
    if len(words) < 2:
        return None
    first, second = words[0].lower(), words[1]
    end_time = _clock(second)
    if end_time is None:
        return None
    if first in _NOW:
        start = local_now.replace(second=0, microsecond=0)
    else:
        start_time = _clock(first)
        if start_time is None:
            return None
        start = datetime.combine(day or local_now.date(), start_time)
    end = datetime.combine(start.date(), end_time)
    if end <= start:
        end += timedelta(days=1)
    if day is None and first not in _NOW and end <= local_now:
        start, end = start + timedelta(days=1), end + timedelta(days=1)
    return Window(start, end, " ".join(words[2:])[:200])


def _clock(word: str) -> time | None:
    match = _TIME.match(word)
    return time(int(match.group(1)), int(match.group(2))) if match else None


class OnCallDesk:
    def __init__(self, esc: Escalation) -> None:
        self.esc = esc

    def is_supervisor(self, session: Session, roster: Roster, who: PsychologistEntry) -> bool:
        if who.id in roster.data.supervisors:
            return True
        users = session.exec(
            select(DashboardUser).where(
                DashboardUser.psychologist_id == who.id,
                DashboardUser.active == True,  # noqa: E712
            )
        ).all()
        return any(user.is_supervisor for user in users)

    def run(
        self, session: Session, who: PsychologistEntry, text: str, catalog: StaffCatalog
    ) -> str:
        action = command_of(text) or "oncall"
        base = self.esc.roster_source.current()
        if base is None:
            return catalog.render("oncall_refused", reason=catalog.render("oncall_error_no_roster"))
        if action == "oncall":
            return self._overview(base, catalog)
        if not self.is_supervisor(session, base, who):
            return catalog.render("oncall_not_supervisor")
        words = text.strip().split()[1:]
        actor = f"telegram:{who.id}"
        try:
            if action == "undo":
                return self._undo(session, words, actor, base, catalog)
            return self._add(session, action, words, actor, base, catalog)
        except edit.ChangeError as exc:
            key = f"oncall_error_{exc.code}"
            known = key if key in catalog.text else "oncall_error_invalid"
            reason = catalog.render(known, id=exc.params.get("id", ""))
            return catalog.render("oncall_refused", reason=reason)

    def _add(
        self,
        session: Session,
        action: str,
        words: list[str],
        actor: str,
        roster: Roster,
        catalog: StaffCatalog,
    ) -> str:
        ids: list[str] = []
        limit = 2 if action == "cover" else 1
        while words and len(ids) < limit and words[0].lower() in roster.people:
            ids.append(words.pop(0).lower())
        if not ids:
            return catalog.render("oncall_usage")
        now = self.esc.clock()
        window = parse_window(words, now.astimezone(roster.zone).replace(tzinfo=None))
        if window is None:
            return catalog.render("oncall_usage")
        req = edit.request(
            kind=action,
            psychologist_id=ids[0],
            covers=ids[1] if len(ids) > 1 else None,
            start=window.start,
            end=window.end,
            note=window.note,
        )
        outcome = edit.add(self.esc, req, actor, session)
        lines = [
            catalog.render(
                "oncall_added",
                id=outcome.change.id,
                text=self._describe(outcome.change, roster, catalog),
                window=self._window(outcome.change, roster),
            )
        ]
        if outcome.gaps:
            lines.append(catalog.render("oncall_gap", gaps=self._gaps(outcome.gaps, roster)))
        return "\n".join(lines)

    def _undo(
        self, session: Session, words: list[str], actor: str, roster: Roster, catalog: StaffCatalog
    ) -> str:
        if words and words[0].lstrip("#").isdigit():
            change_id: int | None = int(words[0].lstrip("#"))
        else:
            change_id = edit.last_by(session, self.esc, actor)
        if change_id is None:
            return catalog.render("oncall_nothing")
        outcome = edit.undo(self.esc, change_id, actor, session)
        return catalog.render(
            "oncall_undone",
            id=outcome.change.id,
            text=self._describe(outcome.change, roster, catalog),
            window=self._window(outcome.change, roster),
        )

    def _overview(self, base: Roster, catalog: StaffCatalog) -> str:
        now = self.esc.clock()
        roster = adjusted(base, self.esc.db, now)
        team = roster.on_call(now)
        lines = [
            catalog.render(
                "oncall_now",
                primary=_names(roster, team.primary) or "—",
                backup=_names(roster, team.backup) or "—",
            )
        ]
        gaps = [s for s in segments(roster, now, now + HORIZON) if s.gap]
        if gaps:
            lines.append(catalog.render("oncall_gaps", gaps=self._gaps(gaps, roster)))
        else:
            lines.append(catalog.render("oncall_no_gaps"))
        changes = roster.changes if isinstance(roster, AdjustedRoster) else ()
        for change in [c for c in changes if c.end > now][:MAX_LINES]:
            lines.append(
                catalog.render(
                    "oncall_change_line",
                    id=change.id,
                    text=self._describe(change, roster, catalog),
                    window=self._window(change, roster),
                )
            )
        return "\n".join(lines)

    def _describe(self, change: Change, roster: Roster, catalog: StaffCatalog) -> str:
        who = _names(roster, [change.psychologist_id])
        if change.kind == "away":
            return catalog.render("oncall_text_away", who=who)
        if change.covers:
            return catalog.render(
                "oncall_text_cover", who=who, whom=_names(roster, [change.covers])
            )
        return catalog.render("oncall_text_primary", who=who)

    def _window(self, change: Change, roster: Roster) -> str:
        return f"{_local(change.start, roster)} – {_local(change.end, roster)}"

    def _gaps(self, gaps: list[Segment], roster: Roster) -> str:
        return ", ".join(f"{_local(g.start, roster)} – {_local(g.end, roster)}" for g in gaps)


def _local(at: datetime, roster: Roster) -> str:
    return f"{at.astimezone(roster.zone):%d/%m %H:%M}"


def _names(roster: Roster, ids: Iterable[str]) -> str:
    return ", ".join(roster.people[i].name if i in roster.people else i for i in ids)
