"""Files from a person with an open case reach the psychologist (issue 11, item 6): through
the Telegram and WhatsApp webhooks, the inbox, the escalation loop, the fake Bot API and the
fake Twilio API, then opened on the dashboard (behind its login), on SQLite and PostgreSQL,
with a controllable clock."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.dashboard.accounts import Accounts
from bot.db.models import InboundMessage
from bot.escalation.models import CaseEvent
from tests.escalation.stack import Stack, running_stack
from tests.escalation.support import ANA, PERSON, write_roster
from tests.fakes import fixtures
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.twilio_api import FakeTwilioApi
from tests.web.webhooks_support import (
    TWILIO_TOKEN,
    make_settings,
    message,
    next_sid,
    next_update_id,
    post_twilio,
    twilio_form,
)

telegram_api = fixtures.telegram_api
loopback_only = fixtures.loopback_only
ACCOUNT = "AC" + "0" * 32  # the account make_settings configures
WA_PERSON = "whatsapp:+51987000111"
PASSWORD = "correct horse battery staple"
#: hola, Español, consent, the PHQ-9 with item 9 = 1: a "high" case, Ana alerted.
ITEM9 = ("hola", "1", "1", "/phq9", *["0"] * 8, "1")
VOICE = b"OggS\x00\x02voice-note-bytes"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_MEDIA_LINK = re.compile(r'href="(/dashboard/cases/\d+/media/\d+)"')


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilioApi]:
    with FakeTwilioApi(ACCOUNT, TWILIO_TOKEN) as fake:
        yield fake


@pytest.fixture
async def stack(
    db: Engine,
    database_url: str,
    tmp_path: Path,
    telegram_api: FakeTelegramApi,
    twilio_api: FakeTwilioApi,
    loopback_only: object,
) -> AsyncIterator[Stack]:
    settings = make_settings(
        database_url,
        oncall_file=write_roster(tmp_path / "oncall.yaml"),
        telegram_api_base_url=telegram_api.base_url,
        twilio_api_base_url=twilio_api.url,
    )
    async with running_stack(settings, db, telegram_api) as running:
        yield running


async def disclose(stack: Stack) -> int:
    await stack.say(PERSON, *ITEM9)
    await stack.settle()
    case_id = stack.desk.case().id
    assert case_id is not None
    return case_id


async def send_voice(stack: Stack, file_id: str) -> None:
    chat = {"id": PERSON, "type": "private", "first_name": "A"}
    voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": 3}
    voice["mime_type"] = "audio/ogg"
    await stack.post({"update_id": next_update_id(), "message": message(chat, voice=voice)})
    await stack.settle()


@asynccontextmanager
async def signed_in(stack: Stack, db: Engine) -> AsyncIterator[httpx.AsyncClient]:
    """A browser signed in to the dashboard (its own cookies; https, as the cookies are
    Secure when PUBLIC_BASE_URL is https)."""
    Accounts(db).create_user("rosa", PASSWORD, "admin")
    transport = httpx.ASGITransport(app=stack.running.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        form = await client.get("/dashboard/login")
        token = _CSRF.search(form.text)
        assert token is not None
        response = await client.post(
            "/dashboard/login",
            data={"username": "rosa", "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert response.status_code == 303, response.text
        yield client


def events(db: Engine, kind: str) -> list[CaseEvent]:
    with Session(db) as session:
        query = select(CaseEvent).where(CaseEvent.kind == kind).order_by(col(CaseEvent.id))
        return list(session.exec(query))


async def test_a_voice_note_reaches_the_alerted_psychologist_and_opens_behind_the_login(
    stack: Stack, db: Engine
) -> None:
    case_id = await disclose(stack)
    stack.api.add_file("voice-1", VOICE, "voice/file_7.oga")
    await send_voice(stack, "voice-1")

    # Nobody has acknowledged: the psychologist the chain alerted is told at once.
    note = stack.sent_to(ANA)[-1]["text"]
    assert f"Caso #{case_id}" in note and "nota de voz" in note and "panel" in note
    # The person gets kind words with the lines (they are still waiting).
    reply = stack.sent_to(PERSON)[-1]["text"]
    assert "113" in reply and "106" in reply

    # A second file a minute later is on the case but makes no second note.
    stack.clock.advance(minutes=1)
    stack.api.add_file("voice-2", VOICE, "voice/file_8.oga")
    await send_voice(stack, "voice-2")
    assert sum("nota de voz" in m["text"] for m in stack.sent_to(ANA)) == 1
    # The chain's next alert names the files.
    stack.clock.advance(minutes=5)
    await stack.settle()
    alert = stack.sent_to(ANA)[-1]["text"]
    assert "Aviso 2" in alert and "📎 Envió: nota de voz ×2" in alert

    # Without signing in, nothing is fetched.
    anonymous = stack.running.client
    page = await anonymous.get(f"/dashboard/cases/{case_id}")
    assert page.status_code in (303, 401)
    calls_before = len(stack.api.calls("getFile"))

    async with signed_in(stack, db) as browser:
        page = await browser.get(f"/dashboard/cases/{case_id}")
        assert page.status_code == 200
        links = _MEDIA_LINK.findall(page.text)
        assert len(links) == 2 and "nota de voz" in page.text
        opened = await browser.get(links[0])
    assert opened.status_code == 200
    assert opened.content == VOICE
    assert opened.headers["content-type"] == "audio/ogg"
    assert "sandbox" in opened.headers["content-security-policy"]
    assert opened.headers["cache-control"].startswith("no-store")
    assert len(stack.api.calls("getFile")) == calls_before + 1
    assert [e.actor for e in events(db, "media_viewed")] == ["dashboard:rosa"]
    assert len(events(db, "media_noted")) == 1


async def test_a_file_the_platform_no_longer_has_gets_a_page_that_says_so(
    stack: Stack, db: Engine
) -> None:
    case_id = await disclose(stack)
    await send_voice(stack, "expired-file")  # the fake Bot API does not know it
    async with signed_in(stack, db) as browser:
        page = await browser.get(f"/dashboard/cases/{case_id}")
        [link] = _MEDIA_LINK.findall(page.text)
        opened = await browser.get(link)
    assert opened.status_code == 404
    assert "ya no tiene este archivo" in opened.text
    assert f'href="/dashboard/cases/{case_id}"' in opened.text


async def test_a_whatsapp_photo_with_a_caption_is_on_the_case_and_opens_through_twilio(
    stack: Stack, db: Engine, twilio_api: FakeTwilioApi
) -> None:
    client = stack.running.client
    for text in ("hola", "1", "1", "me quiero matar"):
        assert (await post_twilio(client, twilio_form(WA_PERSON, text))).status_code == 200
    await stack.settle()
    case_id = stack.desk.case().id
    sid = next_sid()
    url = twilio_api.add_media(sid, b"\xff\xd8\xff\xe0photo", "image/jpeg")
    form = twilio_form(
        WA_PERSON,
        "mire lo que tengo",
        sid=sid,
        NumMedia="1",
        MediaUrl0=url,
        MediaContentType0="image/jpeg",
    )
    assert (await post_twilio(client, form)).status_code == 200
    await stack.settle()

    assert "foto" in stack.sent_to(ANA)[-1]["text"]
    async with signed_in(stack, db) as browser:
        page = await browser.get(f"/dashboard/cases/{case_id}")
        assert "mire lo que tengo" in page.text and "foto" in page.text
        [link] = _MEDIA_LINK.findall(page.text)
        opened = await browser.get(link)
    assert opened.status_code == 200 and opened.content == b"\xff\xd8\xff\xe0photo"
    assert opened.headers["content-type"] == "image/jpeg"
    [fetch] = twilio_api.calls("media.fetch")
    assert fetch.headers["authorization"].startswith("Basic ")


async def test_a_message_of_another_person_cannot_be_opened_through_a_case(
    stack: Stack, db: Engine
) -> None:
    case_id = await disclose(stack)
    stranger = PERSON + 1
    chat = {"id": stranger, "type": "private", "first_name": "B"}
    photo = [{"file_id": "p-other", "file_unique_id": "q", "width": 9, "height": 9}]
    stack.api.add_file("p-other", b"other-photo", "photos/file_9.jpg")
    await stack.post({"update_id": next_update_id(), "message": message(chat, photo=photo)})
    await stack.settle()
    with Session(db) as session:
        other = session.exec(
            select(InboundMessage).where(InboundMessage.media_kind == "photo")
        ).one()
    async with signed_in(stack, db) as browser:
        opened = await browser.get(f"/dashboard/cases/{case_id}/media/{other.id}")
    assert opened.status_code == 404
    assert stack.api.calls("getFile") == []


async def test_a_file_from_someone_without_consent_or_case_is_not_kept(
    stack: Stack, db: Engine
) -> None:
    chat = {"id": PERSON, "type": "private", "first_name": "A"}
    photo = [
        {"file_id": "small", "file_unique_id": "s", "width": 9, "height": 9},
        {"file_id": "large", "file_unique_id": "l", "width": 900, "height": 900},
    ]
    await stack.post({"update_id": next_update_id(), "message": message(chat, photo=photo)})
    await stack.settle()
    with Session(db) as session:
        row = session.exec(select(InboundMessage)).one()
    assert (row.media_kind, row.media_type, row.media_ref_enc) == ("photo", "image/jpeg", None)
    assert events(db, "message_from_person") == []


async def test_erasing_the_person_erases_their_files_and_the_case_page_shows_none(
    stack: Stack, db: Engine
) -> None:
    case_id = await disclose(stack)
    stack.api.add_file("voice-1", VOICE, "voice/file_7.oga")
    await send_voice(stack, "voice-1")
    await stack.say(PERSON, "borrar", "1")
    await stack.settle()
    with Session(db) as session:
        rows = session.exec(select(InboundMessage)).all()
    assert rows and all(
        (r.media_kind, r.media_type, r.media_ref_enc, r.text) == (None, None, None, None)
        for r in rows
    )
    async with signed_in(stack, db) as browser:
        page = await browser.get(f"/dashboard/cases/{case_id}")
    assert page.status_code == 200 and _MEDIA_LINK.findall(page.text) == []


async def test_a_location_is_named_on_the_case_without_a_link_or_a_missing_file(
    stack: Stack, db: Engine
) -> None:
    case_id = await disclose(stack)
    chat = {"id": PERSON, "type": "private", "first_name": "A"}
    location = {"latitude": -12.05, "longitude": -77.04}
    await stack.post({"update_id": next_update_id(), "message": message(chat, location=location)})
    await stack.settle()
    async with signed_in(stack, db) as browser:
        page = await browser.get(f"/dashboard/cases/{case_id}")
    assert "ubicación, contacto u otro contenido" in page.text
    assert _MEDIA_LINK.findall(page.text) == []
    assert '· <em class="muted">no guardado</em>' not in page.text
