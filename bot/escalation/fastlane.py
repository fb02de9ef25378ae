"""The crisis lane: messages with crisis words jump the inbox queue.

Under load the inbox loop runs people oldest first, so a message can wait behind a backlog
of ordinary answers. A message whose text holds crisis words is flagged ``urgent`` when it
is recorded (``bot.channels.intake``, ``ConversationService.receive``), in the same row, so
the flag survives a restart and is seen by the lane of every process. Each round the lane
takes the people with urgent messages waiting (an index lookup: it never reads the backlog)
and runs their pending steps at once, in their order, under the same per-person lock as the
inbox loop, so nothing runs twice or out of order. The step raises the risk signal and
queues the crisis-lines reply; escalation takes it from there. A message the lane does not
reach is still run by the inbox loop in its turn.
"""

from __future__ import annotations

import logging

from bot.flows.service import ConversationService
from bot.flows.step_hooks import StepOutcome

log = logging.getLogger(__name__)

#: People taken per round (more wait for the next round, which follows at once).
PEOPLE_PER_ROUND = 50


class CrisisLane:
    def __init__(self, conversations: ConversationService) -> None:
        self.conversations = conversations

    def run(self) -> list[StepOutcome]:
        """One round: the steps of people whose waiting messages hold crisis words."""
        urgent = self.conversations.urgent_senders(PEOPLE_PER_ROUND)
        outcomes: list[StepOutcome] = []
        for channel, sender in urgent:
            outcomes.extend(self.conversations.process_sender(channel, sender))
        if urgent:
            log.info("crisis words ahead of the inbox queue", extra={"people": len(urgent)})
        return outcomes
