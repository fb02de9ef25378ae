"""Structured (JSON-lines) logs that never carry phone numbers, chat ids or message text.

Code logs events and ids of our own (participant ids, pseudonyms), never identifiers or
text; as a second line of defence every record is scrubbed of long digit runs and
``whatsapp:+…`` addresses before it is written.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

_PERSONAL = re.compile(r"(whatsapp:)?\+?\d[\d\s\-]{5,}\d")
#: Dates and times (``2026-12-04``, ``2026-12-04T09:43:04.123+00:00``, ``09:43:04``) are
#: digit runs too, but no identifier: they are kept as they are.
_TIMESTAMP = re.compile(
    r"\d{4}-[01]\d-[0-3]\d(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{2}:\d{2}:\d{2}(?:[.,]\d+)?"
)
_SCRUBBED = re.compile(f"(?P<time>{_TIMESTAMP.pattern})|(?P<personal>{_PERSONAL.pattern})")
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def scrub(text: str) -> str:
    return _SCRUBBED.sub(lambda m: m.group("time") or "[redacted]", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "event": scrub(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    # Libraries that would log request URLs containing bot tokens or numbers, and the
    # request dumps of Twilio's HTTP client (about 11 INFO lines a call):
    for name in ("httpx", "httpcore", "telegram", "twilio", "twilio.http_client"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
