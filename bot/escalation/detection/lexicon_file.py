"""A crisis lexicon file, ``config/crisis/<language>.yaml``: its schema and its reading.

Categories with their priorities, negation cues, word groups, the patterns (phrases and raw
regexes that signal a crisis) and the idioms (phrases that contain a crisis phrase but are
idiomatic). Every phrase is checked against the notation of
:mod:`bot.escalation.detection.lexicon_phrases` when the file is read; compiling happens in
:mod:`bot.escalation.detection.lexicon`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.escalation.detection.lexicon_phrases import check_regex, phrase_atoms
from bot.escalation.detection.normalize import normalize
from bot.instruments.schema import Priority

#: Languages with a lexicon file, ``<language>.yaml``; other files there are not lexicons.
LEXICON_LANGUAGES = ("es", "en")


class LexiconError(ValueError):
    """A crisis lexicon file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CategorySpec(_Strict):
    """A detection category and the priority its cases get unless a pattern overrides it."""

    priority: Priority
    description: str = Field(min_length=1)


class NegationSpec(_Strict):
    """Negation cues that cancel a match when they come just before it in the same clause.

    Walking back from the match, ``fillers`` may sit between the cue and the match ("no
    *me voy a* matar"); any other word, or punctuation, ends the search. ``pseudo`` are
    cue-led phrases that do not negate ("no sé si ...").
    """

    cues: list[str] = Field(min_length=1)
    fillers: list[str] = Field(default_factory=list)
    pseudo: list[str] = Field(default_factory=list)
    max_lookback: int = Field(default=6, ge=1, le=12)

    @model_validator(mode="after")
    def _normalisable(self) -> NegationSpec:
        for value in [*self.cues, *self.pseudo]:
            if not normalize(value):
                raise ValueError(f"negation phrase {value!r} normalises to nothing")
        for value in self.fillers:
            if len(normalize(value).split()) != 1:
                raise ValueError(f"filler {value!r} must normalise to exactly one word")
        return self


class _PhraseSet(_Strict):
    id: str = Field(pattern=r"^(es|en)\.[a-z0-9_.]+$")
    phrases: list[str] = Field(default_factory=list)
    regexes: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> _PhraseSet:
        if not self.phrases and not self.regexes:
            raise ValueError(f"{self.id}: needs at least one phrase or regex")
        for raw in self.regexes:
            check_regex(raw)
        return self


class PatternSpec(_PhraseSet):
    """Phrases that signal a crisis, with the category (and so priority) of the signal."""

    category: str = Field(min_length=1)
    priority: Priority | None = None


class IdiomSpec(_PhraseSet):
    """Phrases that contain a crisis phrase but are idiomatic ("me muero de risa")."""


class LexiconFile(_Strict):
    """One ``config/crisis/<language>.yaml`` file."""

    version: Literal[1]
    language: Literal["es", "en"]  # LEXICON_LANGUAGES
    status: str = Field(min_length=1)
    categories: dict[str, CategorySpec] = Field(min_length=1)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    negation: NegationSpec
    patterns: list[PatternSpec] = Field(min_length=1)
    idioms: list[IdiomSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> LexiconFile:
        ids = [item.id for item in [*self.patterns, *self.idioms]]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate ids: {duplicates}")
        for item in [*self.patterns, *self.idioms]:
            if not item.id.startswith(f"{self.language}."):
                raise ValueError(f"{item.id}: ids must start with '{self.language}.'")
            for phrase in item.phrases:
                try:
                    phrase_atoms(phrase, self.groups)
                except ValueError as exc:
                    raise ValueError(f"{item.id}: {exc}") from exc
        for pattern in self.patterns:
            if pattern.category not in self.categories:
                raise ValueError(f"{pattern.id}: unknown category {pattern.category!r}")
        return self

    def priority_of(self, pattern: PatternSpec) -> Priority:
        return pattern.priority or self.categories[pattern.category].priority


def read_lexicon_file(path: Path) -> LexiconFile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = LexiconFile.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise LexiconError(f"{path}: {exc}") from exc
    if spec.language != path.stem:
        raise LexiconError(f"{path}: language {spec.language!r} does not match the file name")
    return spec


def check_categories_agree(specs: Sequence[LexiconFile]) -> None:
    seen: dict[str, Priority] = {}
    for spec in specs:
        for name, category in spec.categories.items():
            if seen.setdefault(name, category.priority) != category.priority:
                raise LexiconError(f"category {name!r} has different priorities across files")
