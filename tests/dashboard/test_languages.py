"""Every page speaks the reader's language: no English left in the Spanish interface."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from bot.escalation import timers
from bot.runtime import Runtime
from tests.dashboard.conftest import sign_in
from tests.dashboard.people import say, to_menu

ENGLISH = re.compile(
    r"\b(primary|backup|supervisor \+|next working morning|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b"
)


def _visible(html: str) -> str:
    """The page's text, without tags and attributes (the rule ids on hover are not text)."""
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_spanish_interface_has_no_english_words(
    client: TestClient, admin: str, runtime: Runtime
) -> None:
    to_menu(runtime.conversations, "lang-1")
    say(runtime.conversations, "lang-1", "5")  # menu 5: talk to a psychologist
    timers.tick(runtime.escalation)
    sign_in(client, admin)
    for path in ("/dashboard", "/dashboard/cases/1", "/dashboard/roster", "/dashboard/reports"):
        page = client.get(path)
        assert page.status_code == 200
        found = ENGLISH.findall(_visible(page.text))
        assert not found, (path, found)
