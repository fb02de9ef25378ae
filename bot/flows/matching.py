"""Understanding what a person typed: numbers, option labels (typo-tolerant), keywords."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from bot.outbox.reply import Choice

_NON_WORD = re.compile(r"[^\w\s/]+", re.UNICODE)
_SPACES = re.compile(r"\s+")
_NUMBER = re.compile(r"^\s*(\d{1,3})\s*[.)\-:]?\s*$")
_COMMAND = re.compile(r"^/([a-z0-9_]{1,32})(?:@\w+)?(?:\s|$)")

#: How close (0–100) a typed label must be to an option's label to count as that option.
LABEL_SIMILARITY = 85.0


@lru_cache(maxsize=8192)  # keywords and labels are normalised on every step: remember them
def normalize(text: str) -> str:
    """Lower-case, without accents, emoji or punctuation, single-spaced."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", stripped)).strip()


def command_of(text: str) -> str | None:
    """``/phq9@MyBot now`` → ``phq9``; None when the text is not a slash command."""
    match = _COMMAND.match(text.strip().casefold())
    return match.group(1) if match else None


def number_of(text: str) -> str | None:
    """``"3"``, ``" 3. "``, ``"3)"`` → ``"3"``; anything else → None."""
    match = _NUMBER.match(text)
    return str(int(match.group(1))) if match else None


def is_free_text(text: str) -> bool:
    """Words someone wrote: at least two that are not numbers, and not a slash command."""
    if command_of(text) is not None or number_of(text) is not None:
        return False
    return sum(not word.isdigit() for word in normalize(text).split()) >= 2


def is_keyword(text: str, words: Iterable[str]) -> bool:
    norm = normalize(text)
    return bool(norm) and any(norm == normalize(word) for word in words)


def match_choice(
    text: str,
    choices: Sequence[Choice],
    aliases: Mapping[str, Sequence[str]] | None = None,
) -> Choice | None:
    """The choice a typed text means: its number, its label (small typos tolerated), or an
    alias (e.g. "sí" for the "yes" option). None when nothing matches unambiguously."""
    number = number_of(text)
    if number is not None:
        found = next((c for c in choices if c.key == number), None)
        if found is not None or not aliases:
            return found
        # An old number kept as an alias (e.g. "0" for No where no option is 0).
        return next((c for c in choices if number in aliases.get(c.payload, ())), None)
    norm = normalize(text)
    if not norm:
        return None
    for choice in choices:
        if norm == normalize(choice.label):
            return choice
    if aliases:
        for choice in choices:
            if any(norm == normalize(alias) for alias in aliases.get(choice.payload, ())):
                return choice
    scored = sorted(
        ((fuzz.ratio(norm, normalize(c.label)), c) for c in choices),
        key=lambda pair: pair[0],
        reverse=True,
    )
    if not scored or scored[0][0] < LABEL_SIMILARITY:
        return None
    if len(scored) > 1 and scored[1][0] >= LABEL_SIMILARITY:
        return None  # two labels fit: ask again rather than guess
    return scored[0][1]
