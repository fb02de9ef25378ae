"""The crisis lane: messages with crisis words jump the inbox queue.

Under load the inbox loop runs people oldest first, so a message can wait behind a backlog
of ordinary answers. This lane reads each newly recorded message once, runs crisis
detection on it and, for a match, runs that person's pending steps at once (in their order,
under the same per-person lock as the inbox loop, so nothing runs twice or out of order).
The step raises the risk signal and queues the crisis-lines reply; escalation takes it from
there. Nothing is lost if the lane misses a message (a restart, a late commit): the inbox
loop still runs it in its turn.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from sqlmodel import Session, col, select

from bot.db.models import InboundMessage
from bot.flows.service import ConversationService, StepOutcome

log = logging.getLogger(__name__)

#: Messages read per round, and how far behind the newest id a late commit is looked for.
BATCH = 1000
LOOKBACK = 200
SEEN = 20_000


class CrisisLane:
    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations
        self._cursor = 0
        self._seen: OrderedDict[int, None] = OrderedDict()

    def run(self) -> list[StepOutcome]:
        """One round: the steps run for people whose new messages hold crisis words."""
        detect = self.conversations.flow.detect_crisis
        with Session(self.conversations.db) as session:
            rows = session.exec(
                select(
                    InboundMessage.id,
                    InboundMessage.channel,
                    InboundMessage.sender_hash,
                    InboundMessage.text,
                )
                .where(
                    InboundMessage.status == "pending",
                    col(InboundMessage.id) > max(0, self._cursor - LOOKBACK),
                    InboundMessage.kind == "text",
                )
                .order_by(col(InboundMessage.id))
                .limit(BATCH)
            ).all()
        urgent: list[tuple[str, str]] = []
        for row_id, channel, sender, text in rows:
            if row_id is None or row_id in self._seen:
                continue
            self._remember(row_id)
            if text and detect(text) is not None and (channel, sender) not in urgent:
                urgent.append((channel, sender))
        outcomes: list[StepOutcome] = []
        for channel, sender in urgent:
            outcomes.extend(self.conversations.process_sender(channel, sender))
        if urgent:
            log.info("crisis words ahead of the inbox queue", extra={"people": len(urgent)})
        return outcomes

    def _remember(self, row_id: int) -> None:
        self._cursor = max(self._cursor, row_id)
        self._seen[row_id] = None
        while len(self._seen) > SEEN:
            self._seen.popitem(last=False)
