"""The conversation service: what the webhooks, the simulator and the worker loops call.

It puts together the jobs of a conversation, each in its own module:

* ``bot.flows.recorder``: recording inbound messages (the inbox), one cleaning rule;
* ``bot.flows.inbox``: finding who has messages waiting and running them in order, one
  transaction each (the crisis lane takes the ``urgent`` ones first);
* ``bot.flows.step_runner``: one step: the engine (``bot.flows.machine``) over one message;
* ``bot.flows.effects`` and ``bot.flows.erasure``: writing what the step decided.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Engine

from bot.crypto import Cipher
from bot.db.models import utcnow
from bot.flows.inbox import Inbox
from bot.flows.machine import Engine as FlowEngine
from bot.flows.recorder import InboxRecorder, Received
from bot.flows.step_hooks import StepHooks, StepOutcome
from bot.flows.step_runner import StepRunner
from bot.flows.store import StepStore
from bot.flows.types import Inbound
from bot.outbox.enums import Channel


class ConversationService:
    """Records inbound messages and runs conversation steps over them.

    ``receive`` is the durable intake a simulator does before stepping (the webhooks batch
    theirs through ``bot.channels.intake``, into the same recorder). ``process_sender`` runs
    the pending messages of one person, in order, one transaction each. ``handle`` does both
    at once (the simulators).
    """

    def __init__(
        self,
        db: Engine,
        flow: FlowEngine,
        cipher: Cipher,
        *,
        default_language: str = "es",
        inline_channels: Collection[str] = (Channel.SIM,),
        clock: Callable[[], datetime] = utcnow,
        hooks: StepHooks | None = None,
    ) -> None:
        self.db = db
        self.flow = flow
        self.cipher = cipher
        #: Read at each step (tests replace it with a controllable clock).
        self.clock = clock
        store = StepStore(db.dialect.name == "postgresql")
        self.recorder = InboxRecorder(db, cipher, flow.detect_crisis)
        runner = StepRunner(
            flow,
            store,
            default_language=default_language,
            inline_channels=inline_channels,
            hooks=hooks,
        )
        self.inbox = Inbox(
            db,
            runner,
            store,
            flow.detect_crisis,
            inline_channels=inline_channels,
            clock=lambda: self.clock(),
        )

    def receive(self, msg: Inbound) -> Received:
        """Record ``msg`` durably. A redelivery of a recorded message returns a duplicate."""
        return self.recorder.receive(msg)

    def handle(self, msg: Inbound) -> StepOutcome:
        """Receive and process at once; the outcome of ``msg`` itself is returned."""
        received = self.receive(msg)
        if received.duplicate:
            return StepOutcome(duplicate=True)
        outcomes = self.process_sender(received.channel, received.sender_hash)
        for outcome in outcomes:
            if outcome.inbound_id == received.inbound_id:
                return outcome
        # Another worker processed it first; its replies are in the outbox.
        return StepOutcome(inbound_id=received.inbound_id)

    def pending_senders(self, limit: int = 100) -> list[tuple[str, str, int]]:
        return self.inbox.pending_senders(limit)

    def urgent_senders(self, limit: int = 100) -> list[tuple[str, str]]:
        return self.inbox.urgent_senders(limit)

    def process_pending(self, limit: int = 100) -> list[StepOutcome]:
        return self.inbox.process_pending(limit)

    def process_sender(
        self, channel: str, sender_hash: str, limit: int | None = None
    ) -> list[StepOutcome]:
        return self.inbox.process_sender(channel, sender_hash, limit)
