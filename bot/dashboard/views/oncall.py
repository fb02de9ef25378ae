"""On-call changes: coverage for the next 7 days with its gaps, the changes in force, their
history; supervisors and admins add covers and absences and undo them
(:mod:`bot.escalation.oncall.edit`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from bot.dashboard.accounts import ActiveSession
from bot.dashboard.auth import SessionDep, page_for
from bot.dashboard.i18n import Strings
from bot.dashboard.views.common import RowId, see_other
from bot.dashboard.web import dashboard, render
from bot.escalation.oncall import edit
from bot.escalation.oncall.changes import Segment, adjusted, segments
from bot.escalation.oncall.models import OnCallChange
from bot.escalation.roster import Roster
from bot.escalation.roster_file import DAYS

router = APIRouter()
HORIZON = timedelta(days=7)
FORM_TIME = "%Y-%m-%dT%H:%M"


def require_supervisor(active: SessionDep) -> ActiveSession:
    if not active.user.is_supervisor:
        raise HTTPException(status_code=403, detail="supervisors only")
    return active


SupervisorDep = Annotated[ActiveSession, Depends(require_supervisor)]


@dataclass(frozen=True)
class SegmentView:
    start: str
    end: str
    primary: str
    backup: str
    supervisor: str
    gap: bool


@dataclass(frozen=True)
class ChangeView:
    id: int
    text: str
    window: str
    note: str
    by: str
    undone: bool = False


def _when(t: Strings, roster: Roster, at: datetime) -> str:
    local = at.astimezone(roster.zone)
    return f"{t('oncall.day_' + DAYS[local.weekday()])} {local:%d/%m %H:%M}"


def _names(roster: Roster, ids: Any) -> str:
    return ", ".join(roster.people[i].name if i in roster.people else str(i) for i in ids)


def _segment(t: Strings, roster: Roster, segment: Segment) -> SegmentView:
    team = segment.on_call
    return SegmentView(
        _when(t, roster, segment.start),
        _when(t, roster, segment.end),
        _names(roster, team.primary),
        _names(roster, team.backup),
        _names(roster, team.supervisor),
        segment.gap,
    )


def _name(roster: Roster, pid: str | None) -> str:
    return _names(roster, [pid]) if pid else ""


def describe(t: Strings, roster: Roster, change: OnCallChange) -> str:
    who = _name(roster, change.psychologist_id)
    if change.kind == "away":
        return t("oncall.text_away", who=who)
    if change.covers:
        return t("oncall.text_cover", who=who, whom=_name(roster, change.covers))
    return t("oncall.text_primary", who=who)


def _change(t: Strings, roster: Roster, change: OnCallChange) -> ChangeView:
    window = t(
        "oncall.window",
        start=_when(t, roster, change.starts_at),
        end=_when(t, roster, change.ends_at),
    )
    return ChangeView(
        change.id or 0,
        describe(t, roster, change),
        window,
        change.note,
        change.created_by,
        change.undone_at is not None,
    )


def _summary(roster: Roster, rows: list[dict[str, Any]]) -> str:
    parts = [
        f"{_names(roster, row.get('primary', [])) or '—'}"
        + (f" (+ {_names(roster, row['backup'])})" if row.get("backup") else "")
        for row in rows
    ]
    return " · ".join(parts) or "—"


def _defaults(roster: Roster, now: datetime) -> tuple[str, str]:
    """Tonight 20:00 to tomorrow 08:00 (or from the next hour when it is later than 20:00)."""
    local = now.astimezone(roster.zone).replace(tzinfo=None)
    start = datetime.combine(local.date(), time(20, 0))
    if local >= start:
        start = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    end = datetime.combine(start.date() + timedelta(days=1), time(8, 0))
    return start.strftime(FORM_TIME), end.strftime(FORM_TIME)


def _page(
    request: Request,
    active: ActiveSession,
    flash: str | None = None,
    error: bool = False,
    status: int = 200,
) -> Response:
    page = page_for(request, active, "oncall")
    t = page.t
    esc = dashboard(request).runtime.escalation
    now = esc.clock()
    base = esc.roster_source.current()
    if base is None:
        message = t("roster.unavailable", error=esc.roster_source.error or "")
        return render(page, "oncall.html", status, roster=None, flash=message, flash_error=True)
    roster = adjusted(base, esc.db, now)
    coverage = [_segment(t, roster, s) for s in segments(roster, now, now + HORIZON)]
    history = [
        (
            _when(t, roster, audit.at),
            audit.actor,
            t("oncall.action_" + audit.action),
            _change(t, roster, change),
            _summary(roster, audit.before),
            _summary(roster, audit.after),
        )
        for audit, change in edit.history(esc)
    ]
    start, end = _defaults(roster, now)
    return render(
        page,
        "oncall.html",
        status,
        roster=roster,
        people=[(pid, p.name) for pid, p in roster.people.items()],
        coverage=coverage,
        gaps=sum(1 for s in coverage if s.gap),
        changes=[_change(t, roster, c) for c in edit.upcoming(esc)],
        history=history,
        can_edit=active.user.is_supervisor,
        default_start=start,
        default_end=end,
        flash=flash,
        flash_error=error,
    )


@router.get("/oncall")
def oncall(request: Request, active: SessionDep, msg: str | None = None) -> Response:
    t = page_for(request, active).t
    key = f"oncall.msg_{msg}"
    return _page(request, active, t(key) if msg and key in t.texts else None)


def _actor(active: ActiveSession) -> str:
    return f"dashboard:{active.user.username}"


def _error(t: Strings, exc: edit.ChangeError) -> str:
    key = f"oncall.error_{exc.code}"
    text = t(key, **exc.params) if key in t.texts else t("oncall.error_invalid", **exc.params)
    field = f"oncall.field_{exc.field}"
    return f"{t(field)}: {text}" if field in t.texts else text


def _local(value: str) -> datetime | str:
    try:
        return datetime.strptime(value.strip(), FORM_TIME)
    except ValueError:
        return value


def _add(request: Request, active: ActiveSession, values: dict[str, Any]) -> Response:
    esc = dashboard(request).runtime.escalation
    try:
        outcome = edit.add(esc, edit.request(**values), _actor(active))
    except edit.ChangeError as exc:
        t = page_for(request, active).t
        return _page(request, active, _error(t, exc), True, 400)
    key = "gap_left" if outcome.gaps else "added"
    return see_other(f"/dashboard/oncall?msg={key}")


@router.post("/oncall/cover")
def add_cover(
    request: Request,
    active: SupervisorDep,
    psychologist_id: Annotated[str, Form(max_length=64)] = "",
    covers: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=32)] = "",
    end: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {
        "kind": "cover",
        "psychologist_id": psychologist_id.strip(),
        "covers": covers.strip() or None,
        "start": _local(start),
        "end": _local(end),
        "note": note,
    }
    return _add(request, active, values)


@router.post("/oncall/away")
def add_away(
    request: Request,
    active: SupervisorDep,
    psychologist_id: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=32)] = "",
    end: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    values = {
        "kind": "away",
        "psychologist_id": psychologist_id.strip(),
        "start": _local(start),
        "end": _local(end),
        "note": note,
    }
    return _add(request, active, values)


@router.post("/oncall/{change_id}/undo")
def undo(request: Request, active: SupervisorDep, change_id: RowId) -> Response:
    esc = dashboard(request).runtime.escalation
    try:
        edit.undo(esc, change_id, _actor(active))
    except edit.ChangeError as exc:
        return _page(request, active, _error(page_for(request, active).t, exc), True, 400)
    return see_other("/dashboard/oncall?msg=undone")
