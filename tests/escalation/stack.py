"""A running service for end-to-end tests: the web app with its webhooks, the inbox and
escalation loops run by hand (``Stack.settle``), and a dispatcher sending to the fake
platform APIs, all on one controllable clock (nothing waits for a timeout)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Engine

from bot.channels.intake import Intake
from bot.channels.registry import build_senders
from bot.delivery.dispatcher import Dispatcher
from bot.settings import Settings
from bot.worker import escalation_round
from tests.delivery.support import FAST
from tests.escalation.support import Clock, Desk
from tests.fakes.telegram_api import FakeTelegramApi
from tests.web.webhooks_support import Running, post_update, running_app, text_update


@dataclass
class Stack:
    running: Running
    dispatcher: Dispatcher
    clock: Clock
    api: FakeTelegramApi

    @property
    def desk(self) -> Desk:
        return Desk(self.running.runtime, self.clock)

    async def post(self, update: dict[str, Any]) -> httpx.Response:
        response = await post_update(self.running.client, update)
        assert response.status_code == 200
        return response

    async def say(self, chat: int, *texts: str) -> None:
        for text in texts:
            await self.post(text_update(chat, text))

    async def settle(self) -> None:
        """Run every loop until there is nothing left to do."""
        runtime = self.running.runtime
        for _ in range(20):
            work = len(await asyncio.to_thread(runtime.conversations.process_pending))
            work += await asyncio.to_thread(escalation_round, runtime)
            work += await self.dispatcher.tick()
            if not work:
                return
        raise AssertionError("the loops did not settle")

    def sent_to(self, chat: int) -> list[dict[str, Any]]:
        return [
            c.params for c in self.api.calls("sendMessage") if str(c.params["chat_id"]) == str(chat)
        ]


@asynccontextmanager
async def running_stack(
    settings: Settings, db: Engine, api: FakeTelegramApi
) -> AsyncIterator[Stack]:
    """The service on ``settings`` (its fake platform URLs), with one clock for all."""
    clock = Clock()
    async with running_app(settings, db) as running:
        runtime = running.runtime
        runtime.conversations.clock = clock
        runtime.escalation.clock = clock
        running.app.state.intake = Intake(runtime.conversations.recorder)
        senders = build_senders(settings)
        for sender in senders.values():
            sender.limits = FAST  # the fake clock does not move while the loops settle
        dispatcher = Dispatcher(db, runtime.cipher, senders, clock=clock)
        try:
            yield Stack(running, dispatcher, clock, api)
        finally:
            await dispatcher.close()
