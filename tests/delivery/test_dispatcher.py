"""The outbox dispatcher with the real python-telegram-bot and twilio clients against the
fake APIs, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlmodel import Session
from telegram.error import NetworkError

from bot.channels.telegram.sender import TelegramSender
from bot.channels.whatsapp.sender import WhatsAppSender
from bot.db.engine import make_engine
from bot.db.models import OutboundMessage, utcnow
from bot.delivery import stats
from bot.delivery.claims import IN_FLIGHT, LEASE
from bot.delivery.dispatcher import BATCH_UNDER_PRESSURE, Dispatcher
from bot.delivery.ratelimit import RetryPolicy
from bot.outbox.enums import Purpose
from tests.delivery.support import (
    FAST,
    SECRET,
    START,
    FakeClock,
    add_person,
    dispatcher,
    drain,
    outbox,
    person,
    queue,
    row,
)
from tests.fakes import fixtures
from tests.fakes.loopback import LoopbackGuard
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.twilio_api import FakeTwilioApi

telegram_api = fixtures.telegram_api
twilio_api = fixtures.twilio_api
loopback_only = fixtures.loopback_only

A, B = "1001", "1002"
WA = "whatsapp:+34600111222"
FLOAT_SLACK = timedelta(microseconds=5)  # float-timestamp rounding in the rate limiter


@pytest.fixture
async def telegram(
    telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> AsyncIterator[TelegramSender]:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    sender.limits = FAST
    yield sender
    await sender.close()


@pytest.fixture
async def whatsapp(
    twilio_api: FakeTwilioApi, loopback_only: LoopbackGuard
) -> AsyncIterator[WhatsAppSender]:
    sender = WhatsAppSender(
        twilio_api.account_sid, twilio_api.auth_token, "whatsapp:+14155238886", twilio_api.url
    )
    sender.limits = FAST
    yield sender
    await sender.close()


def texts_to(api: FakeTelegramApi, chat: str, *, ok_only: bool = True) -> list[str]:
    return [
        c.params["text"]
        for c in api.calls("sendMessage")
        if c.params["chat_id"] == int(chat) and (c.status == 200 or not ok_only)
    ]


# --- order, and the normal path ------------------------------------------------------------


async def test_messages_go_in_order_per_person(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    chats = [A, B, "1003"]
    people = {chat: add_person(db, "telegram", chat) for chat in chats}
    for n in range(5):  # interleaved: ids alternate between people
        for chat in chats:
            queue(db, "telegram", chat, [f"{chat}-{n}"], participant_id=people[chat], at=utcnow())
    # The first message to A is slow: A's others must still wait for it.
    telegram_api.delay_next("sendMessage", 0.3, chat_id=A)

    await drain(dispatcher(db, {"telegram": telegram}))

    for chat in chats:
        assert texts_to(telegram_api, chat) == [f"{chat}-{n}" for n in range(5)]
    rows = outbox(db)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.attempts == 1 and r.error is None for r in rows)
    assert all(r.provider_message_id and r.provider_message_id.startswith("tg:") for r in rows)
    assert len({r.provider_message_id for r in rows}) == len(rows)


async def test_a_later_message_waits_while_an_earlier_one_is_retried(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock()
    pid = add_person(db, "telegram", A)
    first, second = queue(db, "telegram", A, ["primero", "segundo"], participant_id=pid)
    telegram_api.fail_next("sendMessage", 500, chat_id=A)
    d = dispatcher(db, {"telegram": telegram}, clock)

    assert await d.tick() == 1
    assert await d.tick() == 0  # "segundo" is not sent while "primero" is pending
    assert texts_to(telegram_api, A, ok_only=False) == ["primero"]
    assert (row(db, first).status, row(db, second).status) == ("pending", "pending")

    await drain(d, clock=clock)
    assert texts_to(telegram_api, A) == ["primero", "segundo"]


async def test_committed_messages_are_sent_exactly_once_by_a_fresh_dispatcher(
    db: Engine,
    database_url: str,
    telegram: TelegramSender,
    telegram_api: FakeTelegramApi,
    whatsapp: WhatsAppSender,
    twilio_api: FakeTwilioApi,
) -> None:
    """The process died after the conversation step committed, before anything was sent:
    the rows are in the outbox and a dispatcher started afterwards sends each once."""
    tg = add_person(db, "telegram", A)
    wa = add_person(db, "whatsapp", WA, last_inbound_at=utcnow())
    queue(db, "telegram", A, ["t1", "t2", "t3"], participant_id=tg, at=utcnow())
    queue(db, "whatsapp", WA, ["w1", "w2"], participant_id=wa, at=utcnow())

    restarted = make_engine(database_url)  # a new process: its own engine
    try:
        fresh = Dispatcher(restarted, dispatcher(db, {}).cipher, {"telegram": telegram})
        await drain(fresh)
        fresh = Dispatcher(restarted, fresh.cipher, {"telegram": telegram, "whatsapp": whatsapp})
        await drain(fresh)
        await drain(fresh)  # and again: nothing more goes out
    finally:
        restarted.dispose()

    assert texts_to(telegram_api, A) == ["t1", "t2", "t3"]
    assert [c.params["Body"] for c in twilio_api.calls("messages.create")] == ["w1", "w2"]
    assert {r.status for r in outbox(db)} == {"sent"}


# --- rate limits and retries -----------------------------------------------------------------


async def test_a_429_waits_at_least_retry_after_for_the_chat_and_the_bot(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock()
    pa, pb = add_person(db, "telegram", A), add_person(db, "telegram", B)
    [a1] = queue(db, "telegram", A, ["a1"], participant_id=pa)
    telegram_api.rate_limit("sendMessage", retry_after=7, chat_id=A)
    d = dispatcher(db, {"telegram": telegram}, clock)

    assert await d.tick() == 1
    limited = row(db, a1)
    assert (limited.status, limited.attempts, limited.error) == ("pending", 1, "telegram.429")
    assert limited.next_attempt_at == START + timedelta(seconds=7)

    [b1] = queue(db, "telegram", B, ["b1"], participant_id=pb, at=clock.now())
    clock.advance(4)
    assert await d.tick() == 0  # the whole bot waits too: b1 is not even claimed
    assert texts_to(telegram_api, B) == []

    await drain(d, clock=clock)

    for rid in (a1, b1):
        sent = row(db, rid)
        assert sent.status == "sent"
        assert sent.sent_at is not None
        assert sent.sent_at >= START + timedelta(seconds=7)
    assert texts_to(telegram_api, A, ok_only=False) == ["a1", "a1"]


async def test_the_per_chat_limit_spaces_a_burst_of_messages(
    db: Engine, telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> None:
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)  # real limits
    clock = FakeClock()
    pid = add_person(db, "telegram", A)
    ids = queue(db, "telegram", A, [f"m{n}" for n in range(6)], participant_id=pid)
    try:
        await drain(dispatcher(db, {"telegram": sender}, clock), clock=clock)
    finally:
        await sender.close()
    sent_at = [row(db, i).sent_at for i in ids]
    assert all(t is not None for t in sent_at)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(sent_at)]  # type: ignore[operator]
    assert gaps[:2] == [0.0, 0.0]  # a burst of three
    assert all(gap >= 0.99 for gap in gaps[2:])  # then one a second
    assert texts_to(telegram_api, A) == [f"m{n}" for n in range(6)]


@pytest.mark.parametrize("channel", ["telegram", "whatsapp"])
async def test_5xx_then_success(
    db: Engine,
    channel: str,
    telegram: TelegramSender,
    telegram_api: FakeTelegramApi,
    whatsapp: WhatsAppSender,
    twilio_api: FakeTwilioApi,
) -> None:
    clock = FakeClock()
    address = A if channel == "telegram" else WA
    pid = add_person(db, channel, address)
    [rid] = queue(db, channel, address, ["hola"], participant_id=pid)
    if channel == "telegram":
        telegram_api.fail_next("sendMessage", 502, times=2)
    else:
        twilio_api.fail_next(status=503, times=2)
    d = dispatcher(db, {"telegram": telegram, "whatsapp": whatsapp}, clock)

    await d.tick()
    first = row(db, rid)
    wait = (first.next_attempt_at - START).total_seconds()
    assert first.status == "pending"
    assert 0.5 <= wait <= 1.0  # backoff: base 1 s, half of it plus jitter
    await drain(d, clock=clock)

    sent = row(db, rid)
    assert (sent.status, sent.attempts, sent.error) == ("sent", 3, None)
    assert sent.sent_at is not None
    assert sent.sent_at - START >= timedelta(seconds=0.5 + 1.0)  # two growing waits


async def test_a_twilio_429_backs_off_the_whole_channel(
    db: Engine, whatsapp: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock()
    other = "whatsapp:+34600999888"
    pa, pb = add_person(db, "whatsapp", WA), add_person(db, "whatsapp", other)
    [first] = queue(db, "whatsapp", WA, ["uno"], participant_id=pa)
    twilio_api.fail_next(status=429)
    d = dispatcher(db, {"whatsapp": whatsapp}, clock)

    assert await d.tick() == 1
    wait = (row(db, first).next_attempt_at - START).total_seconds()
    assert 0.5 <= wait <= 1.0
    clock.advance(wait / 2)  # within the horizon, so claimed: but it waits out the pause
    [second] = queue(db, "whatsapp", other, ["dos"], participant_id=pb, at=clock.now())
    await drain(d, clock=clock)

    # The limiter keeps the pause as a float timestamp, so its end can land a microsecond
    # either side of the stored datetime; a message that ignored the pause would go at wait/2.
    resumed = START + timedelta(seconds=wait) - FLOAT_SLACK
    for rid in (first, second):
        sent_at = row(db, rid).sent_at
        assert sent_at is not None and sent_at >= resumed
    assert [c.status for c in twilio_api.calls("messages.create")] == [429, 201, 201]


async def test_nothing_retries_forever(
    db: Engine, whatsapp: WhatsAppSender, twilio_api: FakeTwilioApi
) -> None:
    clock = FakeClock()
    whatsapp.retry = RetryPolicy(max_attempts=3)
    pid = add_person(db, "whatsapp", WA)
    [rid] = queue(db, "whatsapp", WA, ["hola"], participant_id=pid)
    twilio_api.fail_next(status=500, times=None)
    failed_before = stats.MESSAGES_OUT.value(channel="whatsapp", outcome="failed")

    await drain(dispatcher(db, {"whatsapp": whatsapp}, clock), clock=clock)

    failed = row(db, rid)
    assert failed.status == "failed"
    assert failed.error == "gave up after 3 attempts: twilio.20500"
    assert len(twilio_api.calls("messages.create")) == 3
    assert stats.MESSAGES_OUT.value(channel="whatsapp", outcome="failed") == failed_before + 1


async def test_a_message_too_old_to_matter_is_failed_unsent(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock(START + timedelta(hours=25))
    pid = add_person(db, "telegram", A)
    [old] = queue(db, "telegram", A, ["ayer"], participant_id=pid)
    [new] = queue(db, "telegram", A, ["hoy"], participant_id=pid, at=clock.now())

    await drain(dispatcher(db, {"telegram": telegram}, clock), clock=clock)

    assert (row(db, old).status, row(db, new).status) == ("failed", "sent")
    assert texts_to(telegram_api, A) == ["hoy"]


# --- permanent failures ----------------------------------------------------------------------


async def test_a_blocked_user_is_marked_unreachable(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock()
    pa, pb = add_person(db, "telegram", A), add_person(db, "telegram", B)
    blocked = queue(db, "telegram", A, ["a1", "a2"], participant_id=pa)
    [fine] = queue(db, "telegram", B, ["b1"], participant_id=pb)
    telegram_api.block(A)

    await drain(dispatcher(db, {"telegram": telegram}, clock), clock=clock)

    for rid in blocked:
        failed = row(db, rid)
        assert failed.status == "failed"
        assert failed.attempts == 1  # not retried
        assert failed.error is not None
        assert failed.error.startswith("telegram.403: Forbidden: bot was blocked")
    assert person(db, pa).unreachable_at == START
    assert person(db, pb).unreachable_at is None
    assert row(db, fine).status == "sent"


@pytest.mark.parametrize(("code", "marked"), [(21610, "opted_out_at"), (21211, "unreachable_at")])
async def test_twilio_opt_out_and_invalid_numbers(
    db: Engine, whatsapp: WhatsAppSender, twilio_api: FakeTwilioApi, code: int, marked: str
) -> None:
    clock = FakeClock()
    pid = add_person(db, "whatsapp", WA)
    [rid] = queue(db, "whatsapp", WA, ["hola"], participant_id=pid)
    twilio_api.fail_next(code=code)

    await drain(dispatcher(db, {"whatsapp": whatsapp}, clock), clock=clock)

    failed = row(db, rid)
    assert (failed.status, failed.error, failed.attempts) == ("failed", f"twilio.{code}", 1)
    who = person(db, pid)
    other = {"opted_out_at", "unreachable_at"} - {marked}
    assert getattr(who, marked) == START
    assert getattr(who, other.pop()) is None


# --- crashes and concurrency ----------------------------------------------------------------


async def test_an_interrupted_send_is_retried_after_its_lease(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    """A dispatcher claimed the row and died: nobody knows whether it went out. The row is
    sent again once the lease ends (at least once), and the resend is counted."""
    clock = FakeClock()
    pid = add_person(db, "telegram", A)
    [rid] = queue(db, "telegram", A, ["¿sigues ahí?"], participant_id=pid)
    dead = dispatcher(db, {"telegram": telegram}, clock)
    [claim] = dead.outbox.claim(["telegram"], 10, clock.now(), lambda *_: 0.0)
    assert (row(db, rid).error, row(db, rid).attempts) == (IN_FLIGHT, 1)
    resent_before = stats.MESSAGES_OUT.value(channel="telegram", outcome="resent")

    fresh = dispatcher(db, {"telegram": telegram}, clock)
    assert await fresh.tick() == 0  # still leased
    clock.advance(LEASE.total_seconds())
    assert await fresh.tick() == 1

    assert row(db, rid).status == "sent"
    assert row(db, rid).attempts == 2
    assert texts_to(telegram_api, A) == ["¿sigues ahí?"]
    assert stats.MESSAGES_OUT.value(channel="telegram", outcome="resent") == resent_before + 1
    # The dead dispatcher's late writes change nothing (fenced by the claim's attempts).
    assert not dead.outbox.retry(claim, clock.now(), "late")
    assert row(db, rid).status == "sent"


class _FailSecondPart(FakeClock):
    """Programs a 500 for the next sendMessage when the dispatcher paces the second part."""

    def __init__(self, api: FakeTelegramApi) -> None:
        super().__init__()
        self.api = api
        self.armed = True

    async def sleep(self, seconds: float) -> None:
        if self.armed:
            self.armed = False
            self.api.fail_next("sendMessage", 500)
        await super().sleep(seconds)


async def test_parts_already_accepted_are_not_sent_again(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = _FailSecondPart(telegram_api)
    pid = add_person(db, "telegram", A)
    text = "\n".join(f"línea {n} " + "x" * 90 for n in range(100))  # three parts
    [rid] = queue(db, "telegram", A, [text], participant_id=pid)

    await drain(dispatcher(db, {"telegram": telegram}, clock), clock=clock)

    sent = texts_to(telegram_api, A, ok_only=False)
    assert len(sent) == 4  # part 1, part 2 (500), part 2 again, part 3
    assert sent[1] == sent[2] and sent[0] != sent[1] != sent[3]
    assert "\n".join([sent[0], sent[2], sent[3]]) == text
    done = row(db, rid)
    assert (done.status, done.attempts) == ("sent", 2)
    assert done.provider_message_id is not None and "#" not in done.provider_message_id


async def test_two_dispatchers_send_every_message_once_in_order(
    db: Engine, database_url: str, telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> None:
    """Two dispatchers (own engines, as two processes) race over 200 rows."""
    chats = [str(2000 + n) for n in range(40)]
    people = {chat: add_person(db, "telegram", chat) for chat in chats}
    for n in range(5):
        for chat in chats:
            queue(db, "telegram", chat, [f"{chat}:{n}"], participant_id=people[chat], at=utcnow())
    telegram_api.delay_next("sendMessage", 0.005, times=None)
    engines = [make_engine(database_url) for _ in range(2)]
    senders = [TelegramSender(telegram_api.token, telegram_api.base_url) for _ in range(2)]
    for sender in senders:
        sender.limits = FAST
    cipher = dispatcher(db, {}).cipher
    workers = [
        Dispatcher(engine, cipher, {"telegram": sender}, batch=10)
        for engine, sender in zip(engines, senders, strict=True)
    ]

    async def run(d: Dispatcher) -> int:
        handled = 0
        for _ in range(2000):
            done = await d.tick()
            handled += done
            if not done:
                if all(r.status == "sent" for r in outbox(db)):
                    return handled
                await asyncio.sleep(0.005)
        raise AssertionError("did not finish")

    try:
        handled = await asyncio.gather(*(run(d) for d in workers))
    finally:
        for sender in senders:
            await sender.close()
        for engine in engines:
            engine.dispose()

    assert sum(handled) == 200
    assert all(h > 0 for h in handled)  # both took part
    calls = telegram_api.calls("sendMessage")
    assert len(calls) == 200
    assert sorted(c.params["text"] for c in calls) == sorted(r.text for r in outbox(db))
    for chat in chats:
        assert texts_to(telegram_api, chat) == [f"{chat}:{n}" for n in range(5)]
    assert {r.attempts for r in outbox(db)} == {1}


# --- odd rows and channels ---------------------------------------------------------------


async def test_callback_answers_go_first_without_waiting(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock()
    pid = add_person(db, "telegram", A)
    [reply] = queue(db, "telegram", A, ["respuesta"], participant_id=pid)
    telegram_api.rate_limit("sendMessage", retry_after=30)
    d = dispatcher(db, {"telegram": telegram}, clock)
    await d.tick()  # 429: the chat and the bot pause for 30 s
    [answer] = queue(
        db,
        "telegram",
        A,
        ["cbq-1"],
        participant_id=pid,
        purpose=Purpose.CALLBACK_ANSWER,
        at=clock.now(),
    )

    assert await d.tick() == 1

    assert row(db, answer).status == "sent"
    assert row(db, reply).status == "pending"
    [call] = telegram_api.calls("answerCallbackQuery")
    assert call.params["callback_query_id"] == "cbq-1"


async def test_bad_rows_fail_alone(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    clock = FakeClock()
    pa, pb = add_person(db, "telegram", A), add_person(db, "telegram", B)
    [garbled] = queue(db, "telegram", A, ["x"], participant_id=pa)
    [missing] = queue(db, "telegram", A, ["y"], participant_id=pa)
    [odd] = queue(db, "telegram", B, ["z"], participant_id=pb)
    with Session(db) as session:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == garbled)
            .values(recipient_enc="junk")  # type: ignore[arg-type]
        )
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == missing).values(recipient_enc=None)  # type: ignore[arg-type]
        )
        session.execute(
            update(OutboundMessage).where(OutboundMessage.id == odd).values(choices=["?", 3])  # type: ignore[arg-type]
        )
        session.commit()

    await drain(dispatcher(db, {"telegram": telegram}, clock), clock=clock)

    assert (row(db, garbled).status, row(db, garbled).error) == ("failed", "recipient.unreadable")
    assert (row(db, missing).status, row(db, missing).error) == ("failed", "recipient.missing")
    assert row(db, odd).status == "sent"
    assert texts_to(telegram_api, B) == ["z"]


async def test_a_channel_without_credentials_waits_and_is_reported_once(
    db: Engine, telegram: TelegramSender, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    pid = add_person(db, "whatsapp", WA)
    [rid] = queue(db, "whatsapp", WA, ["hola"], participant_id=pid)
    d = dispatcher(db, {"telegram": telegram}, clock)

    with caplog.at_level(logging.ERROR, logger="bot.delivery.dispatcher"):
        for _ in range(3):
            assert await d.tick() == 0
            clock.advance(120)

    waiting = row(db, rid)
    assert (waiting.status, waiting.attempts) == ("pending", 0)
    reports = [r for r in caplog.records if "not configured" in r.getMessage()]
    assert len(reports) == 1
    assert reports[0].__dict__["channel"] == "whatsapp"
    assert stats.UNSENDABLE.value(channel="whatsapp") == 1


# --- the loop inside the service ----------------------------------------------------------


async def test_the_outbox_loop_sends_and_closes_its_clients(
    db: Engine, database_url: str, telegram_api: FakeTelegramApi, loopback_only: LoopbackGuard
) -> None:
    from bot.channels.registry import build_senders
    from bot.runtime import build_runtime
    from bot.settings import load_settings
    from bot.worker import build_workers

    settings = load_settings(
        database_url=database_url,
        secret_key=SECRET,
        telegram_bot_token=telegram_api.token,
        telegram_api_base_url=telegram_api.base_url,
        log_level="WARNING",
    )
    runtime = build_runtime(settings, db=db)
    workers = build_workers(runtime, build_senders)
    loop: Any = workers.loops["outbox"]
    pid = add_person(db, "telegram", A)
    queue(db, "telegram", A, ["desde el servicio"], participant_id=pid, at=utcnow())

    workers.start()
    try:
        workers.wake("outbox")
        await telegram_api.wait_for_async("sendMessage", timeout=10)
        runner = loop.on_stop.__self__
        sender = runner.dispatcher.senders["telegram"]
        for _ in range(200):
            if outbox(db)[0].status == "sent":
                break
            await asyncio.sleep(0.02)
    finally:
        await workers.stop()

    assert outbox(db)[0].status == "sent"
    assert runner.dispatcher is None
    with pytest.raises(NetworkError, match="not initialized"):  # closed with the loop
        await sender.bot.send_message(chat_id=A, text="after stop")


# --- a real process killed and restarted ---------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def _start_worker(
    database_url: str, api: FakeTelegramApi, tmp_path: Path
) -> subprocess.Popen[bytes]:
    """``python -m bot worker`` with only Telegram configured, pointed at the fake."""
    from bot.settings import Settings

    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET,
        TELEGRAM_BOT_TOKEN=api.token,
        TELEGRAM_API_BASE_URL=api.base_url,
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    with (tmp_path / "worker.log").open("wb") as log_file:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "worker"],
            cwd=tmp_path,  # no .env from the repository
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )


async def _until(condition: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    for _ in range(600):
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the worker exited ({proc.returncode}) before {what}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def file_db(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    from bot.db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


async def test_a_killed_worker_leaves_nothing_unsent(
    file_db: tuple[str, Engine],
    tmp_path: Path,
    telegram_api: FakeTelegramApi,
    loopback_only: LoopbackGuard,
) -> None:
    """Committed, not yet sent (Telegram said 429) when the process is killed: a restarted
    dispatcher sends every message exactly once, in order."""
    url, engine = file_db
    pid = add_person(engine, "telegram", A, last_inbound_at=utcnow())
    first, *_ = queue(
        engine, "telegram", A, ["uno", "dos", "tres"], participant_id=pid, at=utcnow()
    )
    telegram_api.rate_limit("sendMessage", retry_after=30, times=None)

    proc = _start_worker(url, telegram_api, tmp_path)
    try:
        await _until(lambda: row(engine, first).error == "telegram.429", proc, "the first attempt")
    finally:
        proc.kill()  # SIGKILL: no clean shutdown
        proc.wait()
    assert telegram_api.sent_messages == {}
    assert {r.status for r in outbox(engine)} == {"pending"}

    telegram_api.clear_faults()
    clock = FakeClock(utcnow() + timedelta(seconds=31))
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    try:
        await drain(dispatcher(engine, {"telegram": sender}, clock), clock=clock)
    finally:
        await sender.close()

    assert texts_to(telegram_api, A) == ["uno", "dos", "tres"]
    assert sorted(m["text"] for m in telegram_api.sent_messages.values()) == ["dos", "tres", "uno"]
    assert {r.status for r in outbox(engine)} == {"sent"}


async def test_a_worker_killed_mid_send_means_at_least_once(
    file_db: tuple[str, Engine],
    tmp_path: Path,
    telegram_api: FakeTelegramApi,
    loopback_only: LoopbackGuard,
) -> None:
    """Killed after Telegram took the message but before the worker recorded it: the message
    is sent again after the lease (the documented duplicate), the rest exactly once."""
    url, engine = file_db
    pid = add_person(engine, "telegram", A, last_inbound_at=utcnow())
    first, *_ = queue(engine, "telegram", A, ["uno", "dos"], participant_id=pid, at=utcnow())
    telegram_api.delay_next("sendMessage", 30)  # accepted, answer never read

    proc = _start_worker(url, telegram_api, tmp_path)
    try:
        await _until(lambda: bool(telegram_api.calls("sendMessage")), proc, "the first send")
    finally:
        proc.kill()
        proc.wait()
    assert (row(engine, first).status, row(engine, first).error) == ("pending", IN_FLIGHT)

    clock = FakeClock(utcnow())
    sender = TelegramSender(telegram_api.token, telegram_api.base_url)
    try:
        restarted = dispatcher(engine, {"telegram": sender}, clock)
        assert await restarted.tick() == 0  # leased: not yet
        clock.advance(LEASE.total_seconds())
        await drain(restarted, clock=clock)
    finally:
        await sender.close()

    assert texts_to(telegram_api, A) == ["uno", "uno", "dos"]
    assert {r.status for r in outbox(engine)} == {"sent"}


async def test_logs_carry_no_chat_ids_numbers_or_text(
    db: Engine,
    telegram: TelegramSender,
    telegram_api: FakeTelegramApi,
    whatsapp: WhatsAppSender,
    twilio_api: FakeTwilioApi,
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    chat, number, secret = "987654321", "whatsapp:+34611222333", "me siento muy mal hoy"
    tg, wa = add_person(db, "telegram", chat), add_person(db, "whatsapp", number)
    queue(db, "telegram", chat, [secret, secret], participant_id=tg)
    queue(db, "whatsapp", number, [secret, secret], participant_id=wa)
    telegram_api.rate_limit("sendMessage", retry_after=1)
    telegram_api.block(chat, times=1)
    twilio_api.fail_next(status=500, message=f"upstream said {number}")
    twilio_api.fail_next(code=21610, message=f"{number} unsubscribed")

    with caplog.at_level(logging.DEBUG, logger="bot"):
        await drain(
            dispatcher(db, {"telegram": telegram, "whatsapp": whatsapp}, clock), clock=clock
        )

    records = [r for r in caplog.records if r.name.startswith("bot.")]
    assert any("failed" in r.getMessage() for r in records)
    for record in records:
        blob = " ".join(str(v) for v in record.__dict__.values())
        for private in (chat, "611222333", secret):
            assert private not in blob
    for r in outbox(db):
        assert chat not in (r.error or "") and "611222333" not in (r.error or "")


async def test_rounds_are_smaller_while_the_webhooks_are_saturated(
    db: Engine, telegram: TelegramSender, telegram_api: FakeTelegramApi
) -> None:
    """The sends of a round run on the event loop that answers the webhooks: while they are
    saturated a round takes at most BATCH_UNDER_PRESSURE rows, and the rest wait their turn."""
    chats = [str(3000 + n) for n in range(20)]
    for chat in chats:
        queue(
            db,
            "telegram",
            chat,
            [f"hello {chat}"],
            participant_id=add_person(db, "telegram", chat),
            at=utcnow(),
        )
    saturated = True
    d = dispatcher(db, {"telegram": telegram}, pressure=lambda: saturated)
    assert await d.tick() == BATCH_UNDER_PRESSURE
    saturated = False
    assert await d.tick() == len(chats) - BATCH_UNDER_PRESSURE
    assert sorted(texts_to(telegram_api, chat)[0] for chat in chats) == sorted(
        f"hello {chat}" for chat in chats
    )
