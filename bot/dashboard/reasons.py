"""Why a case exists, in words in the reader's language.

Each signal of a case becomes a sentence: the questionnaire item and the answer given
(«Pensamientos de que estaría mejor muerto(a)…» — Casi todos los días), the quoted message,
or the request to talk to someone. The rule id stays available (the pages show it on
hover). A signal of a shape nobody foresaw falls back to its stored reason, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.content import Content
from bot.dashboard.web import Page
from bot.escalation.models import Case

MAX_QUOTE = 240
MAX_ITEMS = 3


@dataclass(frozen=True)
class Reason:
    text: str
    rule: str
    priority: str = ""
    at: datetime | None = None


def _signals(case: Case) -> list[dict[str, Any]]:
    snapshot = case.snapshot if isinstance(case.snapshot, dict) else {}
    found = snapshot.get("signals")
    return [s for s in found if isinstance(s, dict)] if isinstance(found, list) else []


def _quote(case: Case) -> str | None:
    snapshot = case.snapshot if isinstance(case.snapshot, dict) else {}
    value = snapshot.get("quote")
    return value if isinstance(value, str) and value else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1] + "…"


def _instrument_words(content: Content, page: Page, entry: dict[str, Any]) -> str | None:
    rule = str(entry.get("rule") or "")
    instrument_id = entry.get("instrument") or rule.split(".", 1)[0]
    instrument = content.instruments.get(str(instrument_id))
    if instrument is None:
        return None
    lang = page.lang
    name = instrument.short_name.get(lang)
    kept_answers, kept_items = entry.get("answers"), entry.get("items")
    answers: dict[str, Any] = kept_answers if isinstance(kept_answers, dict) else {}
    items: list[Any] = kept_items if isinstance(kept_items, list) else []
    by_id = {item.id: item for item in instrument.items}
    said: list[str] = []
    for item_id in items[:MAX_ITEMS]:
        item = by_id.get(str(item_id))
        if item is None:
            continue
        code = answers.get(item.id)
        option = next((o for o in instrument.options_for(item) if o.code == code), None)
        answer = option.label.get(lang) if option else (str(code) if code else "—")
        said.append(page.t("reasons.item", question=_short(item.text.get(lang)), answer=answer))
    total = entry.get("total")
    if said:
        return f"{name}: " + "; ".join(said)
    flag = str(entry.get("flag") or "")
    if not flag:
        return page.t("reasons.answers_gone", name=name)
    words = page.label("flag", flag)
    if isinstance(total, int) and not isinstance(total, bool):
        return page.t("reasons.total", name=name, what=words, total=total)
    return f"{name}: {words}"


def words(content: Content, page: Page, entry: dict[str, Any], quote: str | None) -> str:
    """One signal (an entry of the case's snapshot) in words."""
    source, rule = entry.get("source"), str(entry.get("rule") or "")
    t = page.t
    if source == "request":
        return t("reasons.request")
    if rule == "text.acuity_yes":
        return t("reasons.acuity_yes")
    if source == "free_text":
        matched = entry.get("matched")
        said = quote or (matched if isinstance(matched, str) and matched else None)
        return t("reasons.message", quote=_short(said)) if said else t("reasons.message_gone")
    if source == "instrument":
        found = _instrument_words(content, page, entry)
        if found:
            return found
    stored = entry.get("reason")
    return str(stored) if stored else rule or t("common.unknown")


def of_case(content: Content, page: Page, case: Case) -> Reason:
    """The reason the case has its priority: its latest signal of that priority."""
    signals = _signals(case)
    if not signals:
        return Reason(case.reason or page.t("common.unknown"), case.reason or "")
    matching = [s for s in signals if s.get("priority") == case.priority] or signals
    latest = matching[-1]
    quote = _quote(case) if latest is _newest_message(signals) else None
    return _reason(content, page, latest, quote)


def _newest_message(signals: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest signal raised by a message (the snapshot's quote is that message)."""
    found = [
        s for s in signals if s.get("source") == "free_text" and s.get("rule") != "text.acuity_yes"
    ]
    return found[-1] if found else None


def all_of_case(content: Content, page: Page, case: Case) -> list[Reason]:
    """Every signal of the case, newest first (the quote goes with the newest message)."""
    quote = _quote(case)
    found: list[Reason] = []
    seen_quote = False
    for entry in reversed(_signals(case)):
        own_quote = None
        message = entry.get("source") == "free_text" and entry.get("rule") != "text.acuity_yes"
        if message and not seen_quote:
            own_quote, seen_quote = quote, True
        found.append(_reason(content, page, entry, own_quote))
    return found


def _reason(content: Content, page: Page, entry: dict[str, Any], quote: str | None) -> Reason:
    at = entry.get("at")
    when = None
    if isinstance(at, str):
        try:
            when = datetime.fromisoformat(at)
        except ValueError:
            when = None
    rule = str(entry.get("rule") or "")
    stored = entry.get("reason")
    hover = f"{rule} · {stored}" if isinstance(stored, str) and stored and rule else rule
    return Reason(words(content, page, entry, quote), hover, str(entry.get("priority") or ""), when)
