"""A chat page for trying the bot with no Telegram or Twilio account.

It goes through the same code path as the webhooks (``ConversationService.handle``), on the
``sim`` channel, against the configured database.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from bot.db.models import utcnow
from bot.escalation.service import PSYCHOLOGIST_MESSAGE
from bot.flows import Inbound
from bot.web import sim_inbox
from bot.web.deps import RuntimeDep

router = APIRouter()
PAGE = (Path(__file__).parent / "static" / "simulator.html").read_text(encoding="utf-8")


class SimMessage(BaseModel):
    conversation: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    message_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    text: str = Field(default="", max_length=20_000)
    payload: str | None = Field(default=None, max_length=64)


class SimChoice(BaseModel):
    key: str
    label: str
    payload: str


class SimReply(BaseModel):
    text: str
    choices: list[SimChoice]


class SimResponse(BaseModel):
    duplicate: bool
    replies: list[SimReply]


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    return RedirectResponse("/simulator")


@router.get("/simulator", response_class=HTMLResponse)
def page() -> str:
    return PAGE


class SimInbox(BaseModel):
    conversation: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class SimDelivered(BaseModel):
    #: ``psychologist``: written by a psychologist (dashboard or Telegram); ``bot``: the rest.
    sender: str
    text: str
    choices: list[SimChoice]


class SimInboxResponse(BaseModel):
    messages: list[SimDelivered]


@router.post("/simulator/api/inbox")
def inbox(request: SimInbox, runtime: RuntimeDep) -> SimInboxResponse:
    """Messages queued for this simulated person since (polled by the page)."""
    found = sim_inbox.collect(runtime.db, runtime.cipher, request.conversation, utcnow())
    return SimInboxResponse(
        messages=[
            SimDelivered(
                sender="psychologist" if m.purpose == PSYCHOLOGIST_MESSAGE else "bot",
                text=m.text,
                choices=[
                    SimChoice(
                        key=str(c.get("key", "")),
                        label=str(c.get("label", "")),
                        payload=str(c.get("payload", "")),
                    )
                    for c in m.choices
                ],
            )
            for m in found
        ]
    )


@router.post("/simulator/api/messages")
def send(message: SimMessage, runtime: RuntimeDep) -> SimResponse:
    outcome = runtime.conversations.handle(
        Inbound(
            channel="sim",
            external_id=message.conversation,
            provider_message_id=message.message_id,
            received_at=utcnow(),
            text=message.text,
            payload=message.payload,
        )
    )
    return SimResponse(
        duplicate=outcome.duplicate,
        replies=[
            SimReply(
                text=r.text,
                choices=[SimChoice(key=c.key, label=c.label, payload=c.payload) for c in r.choices],
            )
            for r in outcome.replies
        ],
    )
