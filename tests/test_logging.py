from __future__ import annotations

import json
import logging

from bot.logging import JsonFormatter, scrub


def test_scrub_removes_phone_numbers_and_chat_ids() -> None:
    text = "from whatsapp:+51987654321 chat 123456789 step 3"
    cleaned = scrub(text)
    assert "987654321" not in cleaned and "123456789" not in cleaned
    assert "step 3" in cleaned


def test_json_lines_with_extras_scrubbed() -> None:
    record = logging.LogRecord(
        "bot", logging.INFO, __file__, 1, "sent to %s", ("+51987654321",), None
    )
    record.channel = "whatsapp"
    record.recipient = "whatsapp:+51987654321"
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["event"] == "sent to [redacted]"
    assert entry["channel"] == "whatsapp"
    assert "987654321" not in line


def test_scrub_keeps_dates_and_times() -> None:
    text = (
        "retry at 2026-12-04T09:43:04+0000, queued 2026-12-04 09:43:04.123456+00:00, "
        "since 2026-11-30, at 09:43:04, for +51 987 654 321"
    )
    cleaned = scrub(text)
    assert "2026-12-04T09:43:04+0000" in cleaned
    assert "2026-12-04 09:43:04.123456+00:00" in cleaned
    assert "2026-11-30" in cleaned and "09:43:04" in cleaned
    assert "987" not in cleaned and cleaned.endswith("for [redacted]")
