"""The programme's figures for a period, computed from the database.

A period is a range of calendar days in Lima time, ``since`` to ``until`` inclusive.

* people screened: distinct people with at least one completed screening;
* screenings per instrument: completed screenings;
* positive depression / anxiety: distinct people with a positive PHQ-9 / GAD-7 (the
  instrument file's ``positive`` band);
* suicidal-ideation signals: risk signals from crisis words in free text, or from an
  instrument flag about suicide (``suicid…``), and how many people they concern;
* referrals: people whose result recommends referral (``referral: true`` in the file), and
  cases resolved as referred to a community mental-health centre (CSMC);
* cases by priority (opened in the period) and by outcome (resolved in the period);
* time to acknowledge: median and 90th percentile over cases opened in the period.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.content import Content
from bot.dashboard.web import LIMA
from bot.db.models import RiskSignal, Screening
from bot.escalation.models import OUTCOMES, PRIORITIES, Case, CaseStatus

DEPRESSION = ("phq9",)
ANXIETY = ("gad7",)
MAX_DAYS = 366 * 3


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    since: date
    until: date

    @classmethod
    def parse(cls, since: str | None, until: str | None, today: date) -> Period:
        """``YYYY-MM-DD`` strings (default: the last 30 days)."""
        try:
            end = date.fromisoformat(until) if until else today
            start = date.fromisoformat(since) if since else end - timedelta(days=29)
        except ValueError:
            raise PeriodError("date") from None
        if start > end:
            raise PeriodError("order")
        if (end - start).days > MAX_DAYS:
            raise PeriodError("length")
        return cls(start, end)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(0), LIMA).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.until + timedelta(days=1), time(0), LIMA).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.since + timedelta(days=i) for i in range((self.until - self.since).days + 1)]


@dataclass
class Report:
    period: Period
    people_screened: int = 0
    screenings_by_instrument: dict[str, int] = field(default_factory=dict)
    screenings_by_day: dict[date, int] = field(default_factory=dict)
    positive_depression: int = 0
    positive_anxiety: int = 0
    si_signals: int = 0
    si_people: int = 0
    referral_recommended: int = 0
    referred_csmc: int = 0
    cases_by_priority: dict[str, int] = field(default_factory=dict)
    cases_by_outcome: dict[str, int] = field(default_factory=dict)
    cases_open: int = 0
    ack_count: int = 0
    ack_median: timedelta | None = None
    ack_p90: timedelta | None = None

    @property
    def screenings_total(self) -> int:
        return sum(self.screenings_by_instrument.values())


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (as numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def is_si_signal(signal: RiskSignal) -> bool:
    if signal.source == "free_text":
        return True
    flag = str(signal.detail.get("flag", ""))
    return signal.source == "instrument" and flag.startswith("suicid")


def _referral_codes(content: Content) -> set[tuple[str, str]]:
    codes: set[tuple[str, str]] = set()
    for instrument in content.instruments.values():
        codes |= {(instrument.id, b.code) for b in instrument.bands if b.referral}
        codes |= {(instrument.id, r.code) for r in instrument.results if r.referral}
    return codes


def build_report(db: Engine, content: Content, period: Period) -> Report:
    report = Report(period)
    start, end = period.start, period.end
    with Session(db) as session:
        screenings = session.exec(
            select(Screening).where(Screening.completed_at >= start, Screening.completed_at < end)
        ).all()
        signals = session.exec(
            select(RiskSignal).where(
                RiskSignal.created_at >= start,
                RiskSignal.created_at < end,
                col(RiskSignal.withdrawn_at).is_(None),  # check questions answered "no"
            )
        ).all()
        opened = session.exec(
            select(Case).where(Case.opened_at >= start, Case.opened_at < end)
        ).all()
        resolved = session.exec(
            select(Case).where(col(Case.resolved_at) >= start, col(Case.resolved_at) < end)
        ).all()
    _screening_figures(report, content, list(screenings))
    si = [s for s in signals if is_si_signal(s)]
    report.si_signals = len(si)
    report.si_people = len({s.participant_id for s in si if s.participant_id is not None})
    _case_figures(report, list(opened), list(resolved))
    return report


def _screening_figures(report: Report, content: Content, screenings: list[Screening]) -> None:
    referral = _referral_codes(content)
    report.people_screened = len({s.participant_id for s in screenings})
    report.screenings_by_instrument = dict(
        sorted(Counter(s.instrument_id for s in screenings).items())
    )
    by_day = Counter(s.completed_at.astimezone(LIMA).date() for s in screenings)
    report.screenings_by_day = {day: by_day.get(day, 0) for day in report.period.days()}
    report.positive_depression = len(
        {s.participant_id for s in screenings if s.instrument_id in DEPRESSION and s.positive}
    )
    report.positive_anxiety = len(
        {s.participant_id for s in screenings if s.instrument_id in ANXIETY and s.positive}
    )
    report.referral_recommended = len(
        {
            s.participant_id
            for s in screenings
            if (s.instrument_id, s.band or s.result or "") in referral
        }
    )


def _case_figures(report: Report, opened: list[Case], resolved: list[Case]) -> None:
    priorities = Counter(c.priority for c in opened)
    report.cases_by_priority = {p: priorities.get(p, 0) for p in PRIORITIES}
    outcomes = Counter(c.outcome or "" for c in resolved)
    report.cases_by_outcome = {o: outcomes.get(o, 0) for o in OUTCOMES}
    report.referred_csmc = outcomes.get("referred_csmc", 0)
    report.cases_open = sum(1 for c in opened if c.status != CaseStatus.RESOLVED)
    waits = [
        (c.acknowledged_at - c.opened_at).total_seconds()
        for c in opened
        if c.acknowledged_at is not None
    ]
    report.ack_count = len(waits)
    median, p90 = percentile(waits, 0.5), percentile(waits, 0.9)
    report.ack_median = timedelta(seconds=median) if median is not None else None
    report.ack_p90 = timedelta(seconds=p90) if p90 is not None else None
