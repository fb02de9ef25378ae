"""What a failed delivery says about the person, recorded on them: they blocked the bot or
the address is unusable (``unreachable_at``), or they opted out on the platform
(``opted_out_at``). Used when a send fails (``bot.delivery.claims``) and when Twilio reports
the failure later (``bot.channels.twilio.receipts``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Table, update

from bot.db.models import Participant
from bot.db.tables import table_of
from bot.outbox.failures import Failure

_PEOPLE: Table = table_of(Participant)
#: The person's column each failure sets.
MARKS = {Failure.UNREACHABLE: "unreachable_at", Failure.OPTED_OUT: "opted_out_at"}


def marks_person(failure: Failure | None) -> bool:
    return failure in MARKS


def mark_person(
    connection: Connection, participant_id: int | None, failure: Failure | None, now: datetime
) -> None:
    """Record ``failure`` on the person (first time only), if it says something about them."""
    column = MARKS.get(failure) if failure is not None else None
    if column is None or participant_id is None:
        return
    connection.execute(
        update(_PEOPLE)
        .where(_PEOPLE.c.id == participant_id, _PEOPLE.c[column].is_(None))
        .values({column: now})
    )
