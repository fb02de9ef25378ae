"""One OS process of the concurrency test: several threads deliver and process messages of
one person at the same moment as the other processes.

``python -m tests.flows.concurrency_worker URL START_AT THREADS MESSAGE_ID=TEXT ...``
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from bot.content import load_content
from bot.crypto import Cipher
from bot.db.engine import make_engine
from bot.db.models import utcnow
from bot.flows import ConversationService, Inbound
from bot.flows import Engine as FlowEngine

SECRET = "concurrency-test-secret-0123456789abcdef"
PHONE = "whatsapp:+51900000001"
CHANNEL = "whatsapp"
CONFIG = Path(__file__).resolve().parents[2] / "config"


def make_service(db: Engine) -> ConversationService:
    return ConversationService(db, FlowEngine(load_content(CONFIG)), Cipher(SECRET))


def message(message_id: str, text: str) -> Inbound:
    return Inbound(
        channel=CHANNEL,
        external_id=PHONE,
        provider_message_id=message_id,
        received_at=utcnow(),
        text=text,
    )


def deliver(
    service: ConversationService,
    messages: Sequence[tuple[str, str]],
    threads: int,
    start_at: float,
) -> None:
    """Split ``messages`` over ``threads``; each receives its share and, after every message,
    runs the person's pending steps (as webhooks and inbox loops racing would). An error in
    any thread is raised here."""
    barrier = threading.Barrier(threads)

    def run(share: Sequence[tuple[str, str]], index: int) -> None:
        barrier.wait(timeout=30)
        time.sleep(max(0.0, start_at - time.time()))
        for message_id, text in share:
            received = service.receive(message(message_id, text))
            if index % 2:
                service.process_pending()
            else:
                service.process_sender(received.channel, received.sender_hash)
        service.process_sender(CHANNEL, service.cipher.lookup_hash(CHANNEL, PHONE))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(run, messages[i::threads], i) for i in range(threads)]
        for future in futures:
            future.result(timeout=120)


def main(argv: Sequence[str]) -> int:
    url, start_at, threads, *pairs = argv
    messages = [tuple(pair.split("=", 1)) for pair in pairs]
    db = make_engine(url)
    try:
        deliver(make_service(db), messages, int(threads), float(start_at))  # type: ignore[arg-type]
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
