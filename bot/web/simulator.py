"""A chat page for trying the bot with no Telegram or Twilio account.

It goes through the same code path as the webhooks (``ConversationService.handle``), on the
``sim`` channel, against the configured database.

Outside production it is served at ``/simulator`` to anyone (``make run``). In production it
is off unless ``SIMULATOR_ENABLED=true``, and then served at ``/dashboard/simulator`` to
signed-in staff only (the session cookie is scoped to ``/dashboard``). Either way conversation
ids are issued by the server (``POST …/api/conversations``, ``bot.web.sim_ids``): a made-up id
is refused with 404 instead of starting a conversation, and each account (or, outside
production, each client address) may send ``SIMULATOR_RATE_LIMIT`` requests a minute (429).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from bot.dashboard.accounts import ActiveSession
from bot.dashboard.auth import require_session
from bot.db.models import utcnow
from bot.flows import Inbound
from bot.outbox.enums import Channel, Purpose
from bot.settings import Settings
from bot.web import sim_inbox
from bot.web.deps import RuntimeDep
from bot.web.sim_ids import ConversationIds
from bot.web.throttle import Throttle

PREFIX = "/simulator"
SIGNED_IN_PREFIX = "/dashboard/simulator"
PAGE = (Path(__file__).parent / "static" / "simulator.html").read_text(encoding="utf-8")
UNKNOWN_CONVERSATION = "unknown conversation: start one with POST {prefix}/api/conversations"


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


class SimConversation(BaseModel):
    conversation: str


class SimInbox(BaseModel):
    conversation: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class SimDelivered(BaseModel):
    #: ``psychologist``: written by a psychologist (dashboard or Telegram); ``bot``: the rest.
    sender: str
    text: str
    choices: list[SimChoice]


class SimInboxResponse(BaseModel):
    messages: list[SimDelivered]


def _delivered(found: list[sim_inbox.Delivered]) -> SimInboxResponse:
    return SimInboxResponse(
        messages=[
            SimDelivered(
                sender="psychologist" if m.purpose == Purpose.PSYCHOLOGIST_MESSAGE else "bot",
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


def prefix_for(settings: Settings) -> str:
    return SIGNED_IN_PREFIX if settings.simulator_needs_sign_in else PREFIX


def _owner(request: Request) -> str:
    """Whom a conversation id is issued to: the signed-in account, or nobody (development)."""
    active: ActiveSession | None = getattr(request.state, "dashboard_session", None)
    return f"staff:{active.user.id}" if active is not None else ""


def _client(request: Request) -> str:
    """The key of the rate limit: the account, else the direct client's address."""
    owner = _owner(request)
    if owner:
        return owner
    return f"address:{request.client.host if request.client else ''}"


def router_for(settings: Settings) -> APIRouter:
    """The simulator's routes, as the settings want them (see the module's docstring)."""
    prefix = prefix_for(settings)
    guards = [Depends(require_session)] if settings.simulator_needs_sign_in else []
    router = APIRouter(prefix=prefix, dependencies=guards, include_in_schema=False)
    ids = ConversationIds(settings.secret_key.get_secret_value())
    throttle = Throttle(settings.simulator_rate_limit)

    def limit(request: Request) -> None:
        if not throttle.allow(_client(request)):
            raise HTTPException(
                status_code=429,
                detail="too many simulator messages: wait a minute",
                headers={"Retry-After": str(int(throttle.window))},
            )

    @router.get("", response_class=HTMLResponse)
    def page() -> str:
        return PAGE

    @router.post("/api/conversations", dependencies=[Depends(limit)])
    def start(request: Request) -> SimConversation:
        return SimConversation(conversation=ids.issue(_owner(request)))

    @router.post("/api/messages", dependencies=[Depends(limit)])
    def send(message: SimMessage, request: Request, runtime: RuntimeDep) -> SimResponse:
        if not ids.valid(message.conversation, _owner(request)):
            raise HTTPException(status_code=404, detail=UNKNOWN_CONVERSATION.format(prefix=prefix))
        outcome = runtime.conversations.handle(
            Inbound(
                channel=Channel.SIM,
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
                    choices=[
                        SimChoice(key=c.key, label=c.label, payload=c.payload) for c in r.choices
                    ],
                )
                for r in outcome.replies
            ],
        )

    @router.post("/api/inbox")
    def inbox(message: SimInbox, request: Request, runtime: RuntimeDep) -> SimInboxResponse:
        """Messages queued for this simulated person since (polled by the page; not counted
        by the rate limit)."""
        if not ids.valid(message.conversation, _owner(request)):
            raise HTTPException(status_code=404, detail=UNKNOWN_CONVERSATION.format(prefix=prefix))
        found = sim_inbox.collect(runtime.db, runtime.cipher, message.conversation, utcnow())
        return _delivered(found)

    return router


#: ``/`` leads to the simulator when it is served without sign-in (``make run``).
root_router = APIRouter(include_in_schema=False)


@root_router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(PREFIX)
