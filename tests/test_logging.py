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
