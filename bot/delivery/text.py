"""Cutting long texts into parts a platform accepts, at line breaks where possible.

Lengths are counted in UTF-16 code units (an emoji counts two), which is never more lenient
than the platforms' own counting (Telegram: 4,096 characters, Twilio: 1,600).
"""

from __future__ import annotations

import re

_TOKENS = re.compile(r"\S+\s*|\s+")


def units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int) -> list[str]:
    """``text`` in parts of at most ``limit`` units: whole lines packed together, a line
    longer than ``limit`` cut between words, a word longer than ``limit`` cut anywhere.
    Whitespace at the cuts is dropped; no part is empty (unless ``text`` is)."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    if units(text) <= limit:
        return [text]
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in _lines(text, limit):
        extra = units(line) + (1 if current else 0)
        if current and size + extra > limit:
            parts.append("\n".join(current))
            current, size = [], 0
            extra = units(line)
        current.append(line)
        size += extra
    if current:
        parts.append("\n".join(current))
    cleaned = [part.strip() for part in parts]
    return [part for part in cleaned if part] or [text.strip()[:limit]]


def _lines(text: str, limit: int) -> list[str]:
    """The lines of ``text``, each cut to at most ``limit`` units."""
    lines: list[str] = []
    for line in text.split("\n"):
        if units(line) <= limit:
            lines.append(line)
        else:
            lines.extend(_cut_line(line, limit))
    return lines


def _cut_line(line: str, limit: int) -> list[str]:
    chunks: list[str] = []
    current = ""
    for token in _TOKENS.findall(line):
        if units(current + token) <= limit:
            current += token
            continue
        if current:
            chunks.append(current.rstrip())
            current = ""
        word = token.rstrip()
        while units(word) > limit:
            head = _prefix(word, limit)
            chunks.append(head)
            word = word[len(head) :]
        current = word + token[len(token.rstrip()) :] if word else ""
        if units(current) > limit:
            current = word
    if current.strip():
        chunks.append(current.rstrip())
    return chunks


def _prefix(word: str, limit: int) -> str:
    """The longest prefix of ``word`` within ``limit`` units (never splits a code point)."""
    size = 0
    for index, char in enumerate(word):
        size += units(char)
        if size > limit:
            return word[:index]
    return word
