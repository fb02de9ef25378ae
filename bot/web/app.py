"""The FastAPI application: webhooks, health, and the chat simulator."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from bot.channels.registry import build_senders
from bot.channels.telegram import webhook as telegram_webhook
from bot.channels.twilio import status as twilio_status
from bot.channels.whatsapp import webhook as whatsapp_webhook
from bot.dashboard import routes as dashboard_routes
from bot.http.security_headers import SecurityHeaders, inline_page_headers
from bot.logging import configure_logging
from bot.runtime import Runtime, build_runtime
from bot.settings import Settings, get_settings
from bot.web import health, simulator
from bot.web import metrics as metrics_routes
from bot.web.fastpath import App
from bot.worker import build_workers

#: How often (seconds) a thread waiting for the interpreter lock asks for it.
SWITCH_INTERVAL = 0.001
#: The webhooks' handlers, taken before the app's middleware stack (``bot.web.fastpath``); their
#: routes stay for everything else (a GET there is answered 405 by the router).
SHORTCUTS = {
    telegram_webhook.PATH: telegram_webhook.telegram_webhook,
    whatsapp_webhook.PATH: whatsapp_webhook.whatsapp_webhook,
}


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    settings = settings or (runtime.settings if runtime else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = runtime is None
        rt = runtime or build_runtime(settings)
        workers = build_workers(rt, build_senders)
        app.state.runtime = rt
        app.state.workers = workers
        if settings.run_workers_in_server:
            workers.start()
        if own:
            # Everything loaded at start-up (modules, config, the runtime) lives as long as
            # the process: keep it out of the collector's full passes, which otherwise stall
            # every request for ~100 ms every few seconds under load.
            gc.collect()
            gc.freeze()
            # Database calls in worker threads (the intake's commits, the background loops)
            # release the interpreter lock and then wait for the event loop to hand it back:
            # 1 ms instead of Python's default 5 ms keeps those waits, and the locks held
            # through them, short (docs/benchmarks.md).
            sys.setswitchinterval(SWITCH_INTERVAL)
        try:
            yield
        finally:
            await workers.stop()
            if own:
                rt.close()

    os.environ.setdefault("PTB_TIMEDELTA", "true")  # PTB 22: timedeltas, no deprecation warning
    if runtime is None:
        configure_logging(settings.log_level)
    app = App(
        shortcuts=SHORTCUTS,  # the webhooks skip the middleware stack
        title="Screening bot",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.include_router(health.router)
    app.include_router(telegram_webhook.router)  # POST /webhooks/telegram
    app.include_router(whatsapp_webhook.router)  # POST /webhooks/whatsapp
    app.include_router(twilio_status.router)  # POST /webhooks/twilio/status
    app.include_router(metrics_routes.router)  # GET /metrics
    app.include_router(dashboard_routes.router)  # /dashboard (psychologists)
    pages: dict[str, dict[str, str]] = {}
    if settings.simulator_on:
        app.include_router(simulator.router_for(settings))
        if not settings.simulator_needs_sign_in:
            app.include_router(simulator.root_router)
        # Its page runs its own inline script and style, allowed by their hashes only.
        pages[simulator.prefix_for(settings)] = inline_page_headers(simulator.PAGE)
    # Every response through the stack, 404s included (the webhooks' short way excepted).
    app.add_middleware(SecurityHeaders, pages=pages)
    return app
