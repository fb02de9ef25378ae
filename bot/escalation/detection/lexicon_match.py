"""The curated crisis lexicon run over a message: which certain phrase it holds, if any.

``detect(text, lexicon)`` normalises the first ``MAX_SCAN_CHARS`` characters once, runs one
precompiled regex per language over them (every language, whatever the conversation's
language, because people switch), and for each candidate position checks which patterns
match there, most urgent first. A candidate is dropped when an idiom covers it ("me quiero
morir de la vergüenza") or a negation cue comes just before it in the same clause ("nunca
pensaría en suicidarme"). The most urgent surviving match wins; ties go to the earliest.

No I/O and no regex compilation happen here: ``load_lexicon`` does all of that at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.escalation.detection.lexicon import (
    CompiledLanguage,
    CompiledNegation,
    CompiledPattern,
    Lexicon,
)
from bot.escalation.detection.lexicon_phrases import padded
from bot.escalation.detection.normalize import iter_tokens, normalize, normalize_token
from bot.instruments.schema import Priority

__all__ = ["MAX_SCAN_CHARS", "Detection", "detect"]

MAX_SCAN_CHARS = 4000
_TOP_RANK = max(priority.rank for priority in Priority)


@dataclass(frozen=True, slots=True)
class Detection:
    """A crisis signal found in a message.

    ``matched`` is the span of the original message as the person typed it, and ``span``
    its (start, end) character offsets in that message.
    """

    category: str
    priority: Priority
    pattern_id: str
    matched: str
    language: str
    span: tuple[int, int]


@dataclass(frozen=True, slots=True)
class _Words:
    """The normalised words of a message, each tied back to the original text."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    clause_start: tuple[bool, ...]  # punctuation (or an emoji) precedes this word


def _analyse(text: str) -> _Words:
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    clause_start: list[bool] = []
    previous_end: int | None = None
    for token in iter_tokens(text):
        normalised = normalize_token(token.group())
        if not normalised:
            continue
        start, end = token.span()
        boundary = previous_end is not None and bool(text[previous_end:start].strip())
        for index, word in enumerate(normalised.split(" ")):
            words.append(word)
            spans.append((start, end))
            clause_start.append(boundary and index == 0)
        previous_end = end
    return _Words(tuple(words), tuple(spans), tuple(clause_start))


@dataclass(slots=True)
class _Message:
    """One message being scanned; word analysis and idiom spans are computed on demand.

    Offsets are into ``norm``; regexes run over ``subject`` (``norm`` with a leading space),
    where a match starting at ``i`` covers ``norm`` from ``i`` to ``end - 1``.
    """

    text: str
    norm: str
    lexicon: Lexicon
    subject: str = field(init=False)
    _words: _Words | None = field(default=None, init=False)
    _idioms: list[tuple[int, int]] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.subject = padded(self.norm)

    @property
    def words(self) -> _Words:
        if self._words is None:
            self._words = _analyse(self.text)
        return self._words

    def word_index(self, offset: int) -> int:
        return self.norm.count(" ", 0, offset)

    def in_idiom(self, start: int, end: int) -> bool:
        if self._idioms is None:
            self._idioms = _all_matches(self.lexicon.idioms, self.subject)
        return any(i_start <= start and end <= i_end for i_start, i_end in self._idioms)

    def original(self, start: int, end: int) -> tuple[int, int]:
        spans = self.words.spans
        first, last = self.word_index(start), self.word_index(max(start, end - 1))
        return spans[first][0], spans[last][1]


def _all_matches(regex: re.Pattern[str], subject: str) -> list[tuple[int, int]]:
    """(start, end) in ``norm`` coordinates of every match, overlapping ones included."""
    found = []
    match = regex.search(subject)
    while match:
        found.append((match.start(), match.end() - 1))
        match = regex.search(subject, match.start() + 1)
    return found


def _is_pseudo(words: tuple[str, ...], start: int, negation: CompiledNegation) -> bool:
    return any(words[start : start + len(p)] == p for p in negation.pseudo)


def _cue_ending_at(words: _Words, index: int, negation: CompiledNegation) -> int | None:
    """Start index of a negation cue whose last word is ``index``, if any."""
    for size in range(min(negation.max_cue_words, index + 1), 0, -1):
        start = index - size + 1
        if tuple(words.words[start : index + 1]) in negation.cues and not any(
            words.clause_start[start + 1 : index + 1]
        ):
            return start
    return None


def _negated(message: _Message, start: int, negation: CompiledNegation) -> bool:
    words = message.words
    index = message.word_index(start) - 1
    for _ in range(negation.max_lookback):
        if index < 0 or words.clause_start[index + 1]:
            return False
        cue_start = _cue_ending_at(words, index, negation)
        if cue_start is not None:
            return not _is_pseudo(words.words, cue_start, negation)
        if words.words[index] not in negation.fillers:
            return False
        index -= 1
    return False


def _matches_at(
    message: _Message, language: CompiledLanguage, start: int
) -> list[tuple[CompiledPattern, int]]:
    """Patterns matching at ``start`` and not inside an idiom, most urgent first."""
    found = []
    for pattern in language.patterns:
        match = pattern.regex.match(message.subject, start)
        if match is not None and not message.in_idiom(start, match.end() - 1):
            found.append((pattern, match.end() - 1))
    return found


_Hit = tuple[CompiledPattern, int, int]


def _scan(message: _Message, language: CompiledLanguage, best: _Hit | None) -> _Hit | None:
    """The most urgent valid hit of one language, or ``best`` if none is more urgent.

    Negation applies to every pattern starting at a position and to whatever starts inside
    the negated match ("nunca he intentado *suicidarme*").
    """
    negated_until = -1
    match = language.search.search(message.subject)
    while match:
        start = match.start()
        hits = _matches_at(message, language, start) if start >= negated_until else []
        if hits and _negated(message, start, language.negation):
            negated_until = max(end for _, end in hits)
        elif hits and (best is None or hits[0][0].rank > best[0].rank):
            best = (hits[0][0], start, hits[0][1])
            if best[0].rank == _TOP_RANK:
                return best
        match = language.search.search(message.subject, start + 1)
    return best


def detect(text: str, lexicon: Lexicon) -> Detection | None:
    """The most urgent crisis signal in ``text`` (first ``MAX_SCAN_CHARS`` chars), or None."""
    scanned = text[:MAX_SCAN_CHARS]
    norm = normalize(scanned)
    if not norm:
        return None
    message = _Message(scanned, norm, lexicon)
    best: _Hit | None = None
    for language in lexicon.languages:
        best = _scan(message, language, best)
        if best and best[0].rank == _TOP_RANK:
            break
    if best is None:
        return None
    pattern, start, end = best
    original_start, original_end = message.original(start, end)
    return Detection(
        category=pattern.category,
        priority=pattern.priority,
        pattern_id=pattern.id,
        matched=scanned[original_start:original_end],
        language=pattern.language,
        span=(original_start, original_end),
    )
