"""Builds the service's parts from the settings, once, for the server, the worker and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.content import Content, load_content
from bot.crypto import Cipher, cipher_for
from bot.db.engine import make_engine, timeouts_of
from bot.escalation.context import Escalation, build_escalation
from bot.escalation.crisis import concern_detector, crisis_detector
from bot.escalation.hooks import EscalationHooks
from bot.flows import ConversationService
from bot.flows import Engine as FlowEngine
from bot.settings import Settings
from bot.waiting.timing import expected_minutes


@dataclass
class Runtime:
    settings: Settings
    content: Content
    db: Engine
    cipher: Cipher
    conversations: ConversationService
    escalation: Escalation

    def close(self) -> None:
        self.db.dispose()


def build_runtime(settings: Settings, db: Engine | None = None) -> Runtime:
    content = load_content(settings.config_dir)
    engine = db or make_engine(settings.database_url, timeouts=timeouts_of(settings))
    cipher = cipher_for(settings.secret_key.get_secret_value())
    escalation = build_escalation(settings, engine, cipher)
    flow = FlowEngine(
        content,
        inactivity_expiry=timedelta(hours=settings.inactivity_expiry_hours),
        detect_crisis=crisis_detector(settings.config_dir / "crisis"),
        expect_minutes=expected_minutes(escalation),
        detect_concern=concern_detector(settings.config_dir / "crisis"),
    )
    conversations = ConversationService(
        engine,
        flow,
        cipher,
        default_language=settings.default_language,
        hooks=EscalationHooks(escalation),
    )
    return Runtime(settings, content, engine, cipher, conversations, escalation)
