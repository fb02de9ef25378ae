"""Helpers for the webhook tests: a running app per test, Telegram updates, signed Twilio posts."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.db.models import InboundMessage, OutboundMessage
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, load_settings
from bot.web.app import create_app
from tests.fakes.telegram_api import DEFAULT_TOKEN
from tests.fakes.twilio_signing import sign_twilio_request

SECRET_KEY = "webhook-tests-secret-key-0123456789abcdef"
WEBHOOK_SECRET = "tg_Webhook-Secret_0123456789"
TWILIO_TOKEN = "twilio-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://bot.example.org"
BOT_ID = DEFAULT_TOKEN.split(":", 1)[0]
WHATSAPP_URL = f"{PUBLIC_BASE_URL}/webhooks/whatsapp"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "secret_key": SECRET_KEY,
        "telegram_bot_token": DEFAULT_TOKEN,
        "telegram_webhook_secret": WEBHOOK_SECRET,
        "twilio_account_sid": "AC" + "0" * 32,
        "twilio_auth_token": TWILIO_TOKEN,
        "twilio_whatsapp_from": "whatsapp:+14155238886",
        "public_base_url": PUBLIC_BASE_URL,
        "run_workers_in_server": False,
        "log_level": "WARNING",
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime


@asynccontextmanager
async def running_app(settings: Settings, db: Engine) -> AsyncIterator[Running]:
    """The real app with its lifespan (and loops, if the settings say so) and a client."""
    runtime = build_runtime(settings, db=db)
    app = create_app(settings, runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Running(app, client, runtime)


# --- Telegram ------------------------------------------------------------------------------

_update_ids = itertools.count(10_000)


def next_update_id() -> int:
    return next(_update_ids)


def private_chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Ana"}


def user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Ana"}


def message(chat: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {
        "message_id": 100,
        "date": 1_790_000_000,
        "chat": chat,
        "from": user(abs(chat["id"])),
        **content,
    }


def text_update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "message": message(private_chat(chat_id), text=text),
    }


def callback_update(
    chat_id: int, data: str | None, query_id: str, update_id: int | None = None
) -> dict[str, Any]:
    query: dict[str, Any] = {
        "id": query_id,
        "from": user(chat_id),
        "chat_instance": "-42",
        "message": message(private_chat(chat_id), text="Question"),
    }
    if data is not None:
        query["data"] = data
    return {
        "update_id": update_id if update_id is not None else next_update_id(),
        "callback_query": query,
    }


async def post_update(
    client: httpx.AsyncClient, update: Any, secret: str | None = WEBHOOK_SECRET
) -> httpx.Response:
    """POST ``update`` as Telegram does (JSON with escaped non-ASCII, so lone surrogates too)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = json.dumps(update).encode()
    return await client.post("/webhooks/telegram", content=body, headers=headers)


# --- WhatsApp (Twilio) -----------------------------------------------------------------------

_sids = itertools.count(1)


def next_sid() -> str:
    return f"SM{next(_sids):032x}"


def twilio_form(sender: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    sid = sid or next_sid()
    return {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "ProfileName": "Ana",
        "WaId": sender.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
        **extra,
    }


async def post_twilio(
    client: httpx.AsyncClient,
    form: Mapping[str, str] | list[tuple[str, str]],
    *,
    token: str = TWILIO_TOKEN,
    signed_url: str = WHATSAPP_URL,
    query: str = "",
    signature: str | None = None,
    path: str = "/webhooks/whatsapp",
) -> httpx.Response:
    """POST ``form`` to ``path`` as Twilio would, signed with ``token`` over ``signed_url``
    (+ query)."""
    url = f"{signed_url}?{query}" if query else signed_url
    sig = signature if signature is not None else sign_twilio_request(token, url, form)
    path += f"?{query}" if query else ""
    body = urlencode(list(form.items()) if isinstance(form, Mapping) else form)
    headers = {"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"}
    return await client.post(path, content=body, headers=headers)


# --- the database ----------------------------------------------------------------------------


def inbound_rows(db: Engine) -> list[InboundMessage]:
    with Session(db) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)))  # type: ignore[arg-type]


def outbound_rows(db: Engine, purpose: str | None = None) -> list[OutboundMessage]:
    with Session(db) as session:
        query = select(OutboundMessage).order_by(OutboundMessage.id)  # type: ignore[arg-type]
        if purpose is not None:
            query = query.where(OutboundMessage.purpose == purpose)
        return list(session.exec(query))
