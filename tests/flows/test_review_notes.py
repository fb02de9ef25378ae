"""Messages kept for review (``NoteForReview``): what the engine notes, and what the service
stores (only with consent) and erases (on BORRAR and on a refusal of consent)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session, select

from bot.content import Content
from bot.crypto import Cipher
from bot.db.models import Conversation, DetectionReview
from bot.escalation.crisis import concern_detector, crisis_detector
from bot.flows import ConversationService, Inbound
from bot.flows import Engine as FlowEngine
from bot.flows.concern import ConcernDetector
from bot.flows.machine import CrisisDetector
from bot.flows.matching import is_free_text
from bot.flows.types import NoteForReview
from tests.flows.chat import EngineChat

CRISIS = Path(__file__).resolve().parents[2] / "config" / "crisis"
SECRET = "review-tests-secret-key-0123456789abcdef0123"
UNSURE = "ya no aguanto más"
UNCLEAR = "no sé qué responder a eso"
_ids = itertools.count(1)


@pytest.fixture(scope="module")
def detectors() -> tuple[CrisisDetector, ConcernDetector]:
    crisis, concern = crisis_detector(CRISIS), concern_detector(CRISIS)
    assert crisis(UNSURE) is None and concern(UNSURE) is not None, "not unsure any more"
    assert crisis(UNCLEAR) is None
    return crisis, concern


@pytest.fixture
def service(
    db: Engine, content: Content, detectors: tuple[CrisisDetector, ConcernDetector]
) -> ConversationService:
    crisis, concern = detectors
    flow = FlowEngine(content, detect_crisis=crisis, detect_concern=concern)
    return ConversationService(db, flow, Cipher(SECRET))


def talk(service: ConversationService, *texts: str, who: str = "+51900000001") -> None:
    for text in texts:
        service.handle(
            Inbound(
                channel="sim",
                external_id=who,
                provider_message_id=f"r{next(_ids)}",
                received_at=datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
                text=text,
            )
        )


def reviews(db: Engine) -> list[DetectionReview]:
    with Session(db) as session:
        return list(session.exec(select(DetectionReview).order_by(DetectionReview.id)))  # type: ignore[arg-type]


def test_free_text_is_words_not_numbers_commands_or_one_word() -> None:
    assert is_free_text("no entiendo la pregunta")
    assert not is_free_text("3")
    assert not is_free_text("3 4")
    assert not is_free_text("/phq9 ahora")
    assert not is_free_text("hola")


def test_the_engine_notes_the_check_question_and_unrecognised_free_text(
    content: Content, detectors: tuple[CrisisDetector, ConcernDetector]
) -> None:
    crisis, concern = detectors
    chat = EngineChat(content, detect_crisis=crisis, detect_concern=concern)
    chat.to_menu()
    chat.say("1")
    chat.say("2")  # PHQ-9, first answer
    chat.say("7")  # a number that is no option: not free text
    chat.say("x")  # one word: not free text
    assert chat.effects_of(NoteForReview) == []
    chat.say(UNCLEAR)
    chat.say(UNSURE)
    notes = chat.effects_of(NoteForReview)
    assert [n.kind for n in notes] == ["unrecognised", "unsure"]
    found = concern(UNSURE)
    assert found is not None
    assert (notes[1].category, notes[1].score) == (found.category, round(found.score, 3))


def test_an_unsure_message_mid_phq9_is_kept_with_its_text(
    service: ConversationService, db: Engine
) -> None:
    talk(service, "hola", "1", "1", "1", "2", UNSURE)
    (row,) = reviews(db)
    assert (row.kind, row.text, row.language, row.label) == ("unsure", UNSURE, "es", None)
    assert row.category and row.score is not None and row.participant_id is not None


def test_unrecognised_free_text_is_kept(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", UNCLEAR)
    assert [(r.kind, r.text) for r in reviews(db)] == [("unrecognised", UNCLEAR)]


def test_nothing_is_kept_before_consent(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", UNCLEAR, UNSURE)
    assert reviews(db) == []


def test_deleting_their_data_erases_their_reviews(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", "1", "2", UNSURE, "no")
    talk(service, "hola", "1", "1", UNCLEAR, who="+51900000002")
    assert len(reviews(db)) == 2
    talk(service, "BORRAR", "1")
    assert [r.text for r in reviews(db)] == [UNCLEAR]  # the other person's stays


def test_refusing_consent_erases_their_reviews(service: ConversationService, db: Engine) -> None:
    talk(service, "hola", "1", "1", UNCLEAR)
    assert len(reviews(db)) == 1
    # Asked to consent again (e.g. a new consent text), the person refuses.
    with Session(db) as session:
        session.execute(update(Conversation).values(state="consent"))
        session.commit()
    talk(service, "2")
    assert reviews(db) == []
