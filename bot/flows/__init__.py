"""The conversation engine: channel-independent screening conversations."""

from bot.flows.machine import CrisisMatch, Engine
from bot.flows.service import ConversationService
from bot.flows.state import ConvState, State
from bot.flows.step_hooks import StepOutcome
from bot.flows.types import Inbound

__all__ = [
    "ConvState",
    "ConversationService",
    "CrisisMatch",
    "Engine",
    "Inbound",
    "State",
    "StepOutcome",
]
