"""Many messages of ONE person delivered at the same moment by several threads and two OS
processes, on PostgreSQL: the conversation is never corrupted.

Every message is processed exactly once; what one sender delivered one after the other is
processed in that order (messages delivered at the same instant have no order of their own:
on PostgreSQL an earlier inbox id can commit after a later one, and the steps follow the
commits); the conversation's version grows by exactly the number of steps; and the replies
and screenings are exactly those of the same messages processed one by one, in the order the
steps ran, on a fresh database (the reference run).
"""

from __future__ import annotations

import itertools
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel, select

from bot.db.engine import make_engine
from bot.db.models import Conversation, InboundMessage, OutboundMessage, Screening
from bot.flows import ConversationService
from tests.flows.concurrency_worker import (
    CHANNEL,
    PHONE,
    deliver,
    make_service,
    message,
)

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
PREAMBLE = ["hola", "1", "1", "1"]  # consent, Spanish, the PHQ-9: the first question is next
MESSAGES = 60


def sender_shares(messages: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """What each thread delivered, in its order: two processes of 3 threads take every third
    message from 0 and 1, this process's 4 threads those from 2 (see ``deliver``)."""
    shares: list[list[tuple[str, str]]] = []
    for start_index, threads in ((0, 3), (1, 3), (2, 4)):
        part = messages[start_index::3]
        shares.extend(part[i::threads] for i in range(threads))
    return shares


def fresh_engine(url: str) -> Engine:
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    return engine


def start(service: ConversationService) -> int:
    for index, text in enumerate(PREAMBLE):
        service.handle(message(f"pre-{index}", text))
    with Session(service.db) as session:
        return session.exec(select(Conversation)).one().version


def snapshot(db: Engine) -> tuple[list[InboundMessage], list[str], list[dict[str, str]], int]:
    with Session(db) as session:
        inbound = list(session.exec(select(InboundMessage).order_by(InboundMessage.id)))  # type: ignore[arg-type]
        replies = [
            r.text
            for r in session.exec(select(OutboundMessage).order_by(OutboundMessage.id))  # type: ignore[arg-type]
        ]
        screenings = [
            dict(s.answers)
            for s in session.exec(select(Screening).order_by(Screening.id))  # type: ignore[arg-type]
        ]
        version = session.exec(select(Conversation)).one().version
    return inbound, replies, screenings, version


def test_one_persons_messages_from_threads_and_processes(
    pg_schema_url: str, tmp_path: Path
) -> None:
    rng = random.Random(20261122)
    # Answers and an invalid one, no "hola" (it restarts the flow): whatever order the steps
    # run in, the PHQ-9 is completed, so the screenings compared below are never both empty.
    texts = [rng.choice(["0", "1", "2", "3", "1", "2", "x"]) for _ in range(MESSAGES)]
    messages = [(f"c-{i:03d}", text) for i, text in enumerate(texts)]

    db = fresh_engine(pg_schema_url)
    try:
        service = make_service(db)
        version_before = start(service)
        start_at = time.time() + 5
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "tests.flows.concurrency_worker", pg_schema_url,
                 str(start_at), "3", *(f"{mid}={text}" for mid, text in share)],
                cwd=ROOT,
                stderr=subprocess.PIPE,
                text=True,
            )
            for share in (messages[0::3], messages[1::3])
        ]  # fmt: skip
        deliver(service, messages[2::3], threads=4, start_at=start_at)
        for process in processes:
            _, err = process.communicate(timeout=240)
            assert process.returncode == 0, err
        service.process_sender(CHANNEL, service.cipher.lookup_hash(CHANNEL, PHONE))
        inbound, replies, screenings, version = snapshot(db)
    finally:
        db.dispose()

    delivered = [row for row in inbound if row.provider_message_id.startswith("c-")]
    # exactly once: every message recorded once, processed once, never failed
    assert sorted(r.provider_message_id for r in delivered) == [mid for mid, _ in messages]
    assert {(r.status, r.attempts) for r in inbound} == {("done", 0)}
    # the steps ran one at a time: the order in which they ran
    steps = sorted(delivered, key=lambda r: r.processed_at)  # type: ignore[arg-type,return-value]
    step_of = {r.provider_message_id: index for index, r in enumerate(steps)}
    # the two processes and this one really did deliver at the same time
    sources = [int(r.provider_message_id[2:]) % 3 for r in steps]
    assert sum(a != b for a, b in itertools.pairwise(sources)) >= 6, sources
    # in order: what one sender delivered one after the other ran in that order
    for share in sender_shares(messages):
        assert [step_of[mid] for mid, _ in share] == sorted(step_of[mid] for mid, _ in share)
    # the version grew by exactly one per step
    assert version == version_before + MESSAGES

    # The same messages, one by one in the order the steps ran, on a fresh database.
    reference_db = fresh_engine(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        reference = make_service(reference_db)
        assert start(reference) == version_before
        for row in steps:
            reference.handle(message(row.provider_message_id, row.text or ""))
        _, ref_replies, ref_screenings, ref_version = snapshot(reference_db)
    finally:
        reference_db.dispose()
    assert replies == ref_replies
    assert screenings == ref_screenings and len(screenings) >= 1
    assert version == ref_version
