"""Detection measured through the conversation engine, as a person would meet it.

Each labelled message is typed by a new person in the middle of a PHQ-9 (after consent,
the language and the first answer), with the real engine and the real detector. What the
person gets is read from the replies, as the independent measure reads them:

* ``crisis``: the reply gives a crisis line (Línea 113) at once;
* ``ask``: the reply asks something, and answering "sí" ("yes") to it brings the lines;
* ``none``: anything else (e.g. "No reconocí esa respuesta").

So this also catches what the detector alone cannot: a risk message taken as an answer,
a check question whose "sí" does not lead to help, a state that swallows the message.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from bot.content import Content
from bot.escalation.detection.corpus import Row
from bot.flows import ConvState, Engine, Inbound, State
from bot.flows.state import Step
from bot.outbox.enums import Channel
from tools.detection.evaluation import Report

#: The number every crisis reply gives first (``config/resources.yaml``).
CRISIS_LINE = "113"
CONTEXT = "conversation"
_START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _say(engine: Engine, conv: ConvState, text: str, now: datetime) -> Step:
    msg = Inbound(
        channel=Channel.SIM, external_id="eval", provider_message_id="0", received_at=now, text=text
    )
    return engine.step(conv, msg, now)


def _text(step: Step) -> str:
    return "\n".join(reply.text for reply in step.replies)


def outcome_in_phq9(engine: Engine, text: str, language: str) -> str:
    """``crisis``, ``ask`` or ``none`` for ``text`` typed mid-PHQ-9 by a new person."""
    conv = ConvState()
    now = _START
    opening = ("hola", "1" if language != "en" else "2", "1", "1", "1")  # language, consent
    for said in opening:
        now += timedelta(seconds=20)
        _say(engine, conv, said, now)
    if conv.state is not State.QUESTION:
        raise RuntimeError("the opening no longer reaches the PHQ-9's second question")
    now += timedelta(seconds=20)
    step = _say(engine, conv, text, now)
    if CRISIS_LINE in _text(step):
        return "crisis"
    if conv.state is not State.QUESTION and step.replies and step.replies[-1].choices:
        now += timedelta(seconds=20)
        yes = _say(engine, conv, "sí" if language != "en" else "yes", now)
        if CRISIS_LINE in _text(yes):
            return "ask"
    return "none"


def score_in_conversation(rows: Iterable[Row], content: Content, engine: Engine) -> Report:
    report = Report(CONTEXT)
    for row in rows:
        started = time.perf_counter()
        answer = outcome_in_phq9(engine, row.text, row.language)
        report.record(row, answer, None, (time.perf_counter() - started) * 1e6)
    return report
