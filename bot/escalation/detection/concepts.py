"""Word classes ("concepts") from ``config/crisis/concepts.yaml``, and tagging a message with them.

A concept is a set of words and phrases (normalised like messages). ``ConceptTagger.tag``
returns every occurrence in a normalised message as (concept, first word, last word), the
longest phrase first where two start at the same word. The detector's features are built
on these tags (see ``features``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.escalation.detection.normalize import normalize

CONCEPTS_FILE = "concepts.yaml"


class ConceptError(ValueError):
    """The concepts file is missing, unreadable or invalid."""


class ConceptsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    concepts: dict[str, list[str]] = Field(min_length=1)

    @field_validator("concepts")
    @classmethod
    def _valid(cls, concepts: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, phrases in concepts.items():
            if not name.isidentifier() or not name.islower():
                raise ValueError(f"concept name {name!r} must be a lowercase identifier")
            if not phrases:
                raise ValueError(f"concept {name!r} lists no words")
            for phrase in phrases:
                if not normalize(phrase.rstrip("*")):
                    raise ValueError(f"{name}: {phrase!r} normalises to nothing")
                if phrase.endswith("*") and " " in phrase.strip():
                    raise ValueError(f"{name}: a stem ({phrase!r}) must be one word")
        return concepts


@dataclass(frozen=True, slots=True)
class Tag:
    concept: str
    first: int  # index of the first word in the normalised message
    last: int  # index of the last word


@dataclass(frozen=True, slots=True)
class ConceptTagger:
    """Phrases by their first word, longest first; stems checked by prefix."""

    names: tuple[str, ...]
    phrases: dict[str, tuple[tuple[tuple[str, ...], str], ...]]
    stems: tuple[tuple[str, str], ...]  # (prefix, concept)

    def tag(self, words: tuple[str, ...]) -> list[Tag]:
        tags: list[Tag] = []
        for index, word in enumerate(words):
            for phrase, concept in self.phrases.get(word, ()):
                size = len(phrase)
                if words[index : index + size] == phrase:
                    tags.append(Tag(concept, index, index + size - 1))
            for prefix, concept in self.stems:
                if word.startswith(prefix):
                    tags.append(Tag(concept, index, index))
        return tags


def compile_concepts(spec: ConceptsFile) -> ConceptTagger:
    by_first: dict[str, set[tuple[tuple[str, ...], str]]] = {}
    stems: set[tuple[str, str]] = set()
    for concept, entries in spec.concepts.items():
        for entry in entries:
            if entry.endswith("*"):
                stems.add((normalize(entry[:-1]), concept))
                continue
            words = tuple(normalize(entry).split())
            by_first.setdefault(words[0], set()).add((words, concept))
    phrases = {
        first: tuple(sorted(found, key=lambda item: (-len(item[0]), item)))
        for first, found in by_first.items()
    }
    return ConceptTagger(tuple(spec.concepts), phrases, tuple(sorted(stems)))


def load_concepts(directory: Path) -> ConceptTagger:
    path = Path(directory) / CONCEPTS_FILE
    try:
        spec = ConceptsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConceptError(f"{path}: {exc}") from exc
    return compile_concepts(spec)
