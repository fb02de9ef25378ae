"""The conversation engine: channel-independent screening conversations."""

from bot.flows.machine import CrisisMatch, Engine
from bot.flows.service import ConversationService, StepOutcome
from bot.flows.state import ConvState, State
from bot.flows.types import Choice, Inbound, Reply

__all__ = [
    "Choice",
    "ConvState",
    "ConversationService",
    "CrisisMatch",
    "Engine",
    "Inbound",
    "Reply",
    "State",
    "StepOutcome",
]
