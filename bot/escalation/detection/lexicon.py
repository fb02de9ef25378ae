"""The crisis lexicon compiled: every ``config/crisis/<language>.yaml`` read
(:mod:`~bot.escalation.detection.lexicon_file`) and its phrases compiled
(:mod:`~bot.escalation.detection.lexicon_phrases`).

Everything expensive happens here, once, at load: phrases are expanded, normalised with the
same function that normalises messages (``normalize``) and compiled into one regular
expression per language (a character trie over the first word-unit of every phrase, so the
engine dispatches on the first letter, with the rest of each phrase as a sub-pattern), plus
one per pattern to tell which matched, and one for all idioms.
``bot.escalation.detection.lexicon_match`` only runs those.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.escalation.detection.lexicon_file import (
    LEXICON_LANGUAGES,
    IdiomSpec,
    LexiconError,
    LexiconFile,
    NegationSpec,
    PatternSpec,
    check_categories_agree,
    read_lexicon_file,
)
from bot.escalation.detection.lexicon_phrases import phrase_atoms, trie_regex
from bot.escalation.detection.normalize import normalize
from bot.instruments.schema import Priority


@dataclass(frozen=True, slots=True)
class CompiledPattern:
    id: str
    category: str
    priority: Priority
    language: str
    regex: re.Pattern[str]

    @property
    def rank(self) -> int:
        return self.priority.rank


@dataclass(frozen=True, slots=True)
class CompiledNegation:
    cues: frozenset[tuple[str, ...]]
    fillers: frozenset[str]
    pseudo: tuple[tuple[str, ...], ...]
    max_lookback: int
    max_cue_words: int


@dataclass(frozen=True, slots=True)
class CompiledLanguage:
    language: str
    search: re.Pattern[str]
    patterns: tuple[CompiledPattern, ...]  # most urgent first
    negation: CompiledNegation


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Every language's compiled patterns, plus the idioms (checked for all languages)."""

    languages: tuple[CompiledLanguage, ...]
    idioms: re.Pattern[str]
    sources: tuple[Path, ...]


def _phrase_set_atoms(
    item: PatternSpec | IdiomSpec, groups: Mapping[str, Sequence[str]]
) -> set[tuple[str, ...]]:
    atoms: set[tuple[str, ...]] = set()
    for phrase in item.phrases:
        atoms |= phrase_atoms(phrase, groups)
    return atoms


def _compile_negation(spec: NegationSpec) -> CompiledNegation:
    cues = frozenset(tuple(normalize(cue).split()) for cue in spec.cues)
    return CompiledNegation(
        cues=cues,
        fillers=frozenset(normalize(filler) for filler in spec.fillers),
        pseudo=tuple(tuple(normalize(p).split()) for p in spec.pseudo),
        max_lookback=spec.max_lookback,
        max_cue_words=max(len(cue) for cue in cues),
    )


def _compile_language(spec: LexiconFile) -> CompiledLanguage:
    patterns = []
    every_variant: set[tuple[str, ...]] = set()
    every_raw: list[str] = []
    for pattern in spec.patterns:
        variants = _phrase_set_atoms(pattern, spec.groups)
        every_variant |= variants
        every_raw += pattern.regexes
        patterns.append(
            CompiledPattern(
                id=pattern.id,
                category=pattern.category,
                priority=spec.priority_of(pattern),
                language=spec.language,
                regex=re.compile(trie_regex(variants, pattern.regexes)),
            )
        )
    patterns.sort(key=lambda p: -p.rank)
    return CompiledLanguage(
        language=spec.language,
        search=re.compile(trie_regex(every_variant, every_raw)),
        patterns=tuple(patterns),
        negation=_compile_negation(spec.negation),
    )


def load_lexicon(directory: Path) -> Lexicon:
    """Read, validate and compile every ``<language>.yaml`` in ``directory``."""
    paths = sorted(p for p in Path(directory).glob("*.yaml") if p.stem in LEXICON_LANGUAGES)
    if not paths:
        raise LexiconError(f"{directory}: no crisis lexicon files (*.yaml)")
    specs = [read_lexicon_file(path) for path in paths]
    check_categories_agree(specs)
    idiom_variants: set[tuple[str, ...]] = set()
    idiom_raw: list[str] = []
    for spec in specs:
        for idiom in spec.idioms:
            idiom_variants |= _phrase_set_atoms(idiom, spec.groups)
            idiom_raw += idiom.regexes
    return Lexicon(
        languages=tuple(_compile_language(spec) for spec in specs),
        idioms=re.compile(trie_regex(idiom_variants, idiom_raw)),
        sources=tuple(paths),
    )
