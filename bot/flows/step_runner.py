"""One conversation step for one pending message, in the caller's transaction: load the
person and their conversation, run the engine, write its effects, save the state, queue the
replies. The inbox (``bot.flows.inbox``) picks the message and owns the transaction."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session

from bot.crypto import new_pseudonym
from bot.db.models import InboundMessage
from bot.flows.effects import EffectWriter
from bot.flows.machine import Engine as FlowEngine
from bot.flows.state import ConvState, State
from bot.flows.step_hooks import StepHooks, StepOutcome
from bot.flows.store import PendingMessage, Person, StepStore, StoredConversation
from bot.flows.types import DeleteData, Effect, ForgetMessages, Inbound, RecordConsent
from bot.flows.waiting import WAITING_STATES
from bot.outbox.enums import Purpose
from bot.outbox.queue import Recipient, enqueue_many, outbox_row
from bot.outbox.reply import Reply
from bot.outbox.window import HOLDING_CHANNELS, may_have_held, release_held

#: States in which the person has not (or no longer) consented: message text is not kept.
NO_CONSENT_STATES = frozenset({State.NEW, State.LANGUAGE, State.CONSENT, State.REFUSED})


class StepRunner:
    """Runs the engine over one pending message and stores everything it decided."""

    def __init__(
        self,
        flow: FlowEngine,
        store: StepStore,
        *,
        default_language: str,
        inline_channels: Collection[str],
        hooks: StepHooks | None,
    ) -> None:
        self.flow = flow
        self.store = store
        self.default_language = default_language
        self.inline_channels = frozenset(inline_channels)
        self.hooks = hooks
        self.effects = EffectWriter(hooks)

    def run(
        self, session: Session, conn: Connection, pending: PendingMessage, now: datetime
    ) -> StepOutcome:
        hooks = self.hooks
        if hooks is not None and hooks.is_staff(
            pending.channel, pending.sender_hash, pending.payload
        ):
            # A message from on-call staff is not a conversation step (the desk uses the ORM).
            inbound = session.get(InboundMessage, pending.id)
            assert inbound is not None
            return hooks.staff_step(session, inbound, now)
        person = pending.person or self._new_person(conn, pending, now)
        msg = Inbound(
            channel=pending.channel,
            external_id="",  # the engine never needs the identifier
            provider_message_id=pending.provider_message_id,
            received_at=pending.received_at,
            text=pending.text or "",
            payload=pending.payload,
            kind="text" if pending.kind == "text" else "unsupported",
        )
        conv = _load_state(pending.conversation, person)
        # A psychologist is talking with the person: the flow pauses (crisis words still count).
        paused = hooks is not None and hooks.paused_for(conn, person.id)
        was_waiting = conv.state in WAITING_STATES
        if was_waiting and not paused and hooks is not None and hooks.waiting_over(conn, person.id):
            self.flow.end_waiting(conv)
            was_waiting = False
        step = (self.flow.step_paused if paused else self.flow.step)(conv, msg, now)
        # While a psychologist talks with the person, ``relay`` puts the message on the case.
        on_case = paused
        if (
            hooks is not None
            and not paused
            and (was_waiting or conv.state in WAITING_STATES or pending.media_kind is not None)
        ):
            # The psychologist sees on the case what a waiting person writes, and any file
            # from a person with an open case (a psychologist talking with them included);
            # whoever has the case is told of a file.
            on_case = hooks.note_waiting(
                session, person.id, pending.id, pending.kind, now, media=pending.media_kind
            )

        keep_text = conv.state not in NO_CONSENT_STATES or _consented(step.effects)
        # (without consent nothing is kept)
        kept = pending.text if keep_text else None
        self.store.finish_message(
            conn, pending.id, person.id, now, kept, keep_media=keep_text or on_case
        )
        outcome = StepOutcome(inbound_id=pending.id, participant_id=person.id, replies=step.replies)
        # Erasure, or a refusal of consent (which keeps only the refusal): the person goes.
        deleted = any(isinstance(e, (DeleteData, ForgetMessages)) for e in step.effects)
        opted_out = person.opted_out_at
        # Their message opens a new window: messages held while it was closed can go.
        returning = (
            pending.person is not None
            and pending.channel in HOLDING_CHANNELS
            and may_have_held(person.last_inbound_at, now)
        )
        for effect in step.effects:
            self.effects.apply(session, effect, person, now, outcome, kept, conv.language)
        if not deleted:
            person.language = conv.language
            person.last_inbound_at = max(
                person.last_inbound_at or pending.received_at, pending.received_at
            )
            self.store.save_person(conn, person, opt_out_changed=person.opted_out_at != opted_out)
            self.store.save_conversation(
                conn, person.id, pending.conversation, _stored_values(conv, now)
            )
        if returning and not deleted:
            # Before the new replies (lower ids go first): what was held was written earlier.
            released = release_held(conn, person.id, now)
            outcome.outbound_ids += released
            outcome.released = len(released)
        outcome.outbound_ids += enqueue_many(
            conn, self._outbox_rows(person, step.replies, pending.channel, now, detached=deleted)
        )
        if paused and hooks is not None:
            outcome.outbound_ids += hooks.relay(
                session, person.id, pending.id, pending.text, now, media=pending.media_kind
            )
        return outcome

    def _new_person(self, conn: Connection, pending: PendingMessage, now: datetime) -> Person:
        if pending.sender_enc is None:
            raise ValueError("pending inbound message without its sender")
        values = {
            "channel": pending.channel,
            "external_hash": pending.sender_hash,
            "external_enc": pending.sender_enc,
            "pseudonym": new_pseudonym(),
            "language": self.default_language,
            "created_at": now,
        }
        person_id = self.store.new_person(conn, values)
        return Person(
            id=person_id,
            external_hash=pending.sender_hash,
            external_enc=pending.sender_enc,
            language=self.default_language,
            last_inbound_at=None,
            opted_out_at=None,
        )

    def _outbox_rows(
        self,
        person: Person,
        replies: list[Reply],
        channel: str,
        now: datetime,
        *,
        detached: bool,
    ) -> list[dict[str, Any]]:
        inline = channel in self.inline_channels
        if detached and inline:
            return []  # the simulator shows the replies; nothing about the person is kept
        # A reply to a person who is gone has no person, and is deleted once sent.
        to = Recipient(
            channel, person.external_hash, person.external_enc, None if detached else person.id
        )
        return [
            outbox_row(
                to,
                reply.text,
                now,
                purpose=Purpose.FAREWELL if detached else reply.purpose,
                choices=reply.choices,
                shown=inline,
            )
            for reply in replies
        ]


def _load_state(stored: StoredConversation | None, person: Person) -> ConvState:
    opted_out = person.opted_out_at is not None
    if stored is None:
        return ConvState(language=person.language, opted_out=opted_out)
    return ConvState(
        state=State(stored.state),
        language=stored.language,
        instrument_id=stored.instrument_id,
        item_id=stored.item_id,
        answers=dict(stored.answers),
        plan=list(stored.plan),
        context=dict(stored.context),
        last_activity_at=stored.last_activity_at,
        opted_out=opted_out,
    )


def _stored_values(conv: ConvState, now: datetime) -> dict[str, Any]:
    return {
        "state": conv.state.value,
        "language": conv.language,
        "instrument_id": conv.instrument_id,
        "item_id": conv.item_id,
        "answers": dict(conv.answers),
        "plan": list(conv.plan),
        "context": dict(conv.context),
        "last_activity_at": conv.last_activity_at or now,
    }


def _consented(effects: list[Effect]) -> bool:
    return any(isinstance(e, RecordConsent) and e.given for e in effects)
