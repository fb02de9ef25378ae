"""What the detector's model sees in a message: hashed, weighted features.

One function, ``extract``, is used both by training and at run time, so the two always
agree. Feature groups (each group's values are scaled so that a long message does not
outweigh a short one just by having more words):

* ``c:`` character 3- to 5-grams of the normalised text, across word boundaries (robust to
  misspellings, word forms and glued words: "mekieromatar");
* ``w:`` words and ``b:`` word pairs;
* ``k:`` concepts present (``config/crisis/concepts.yaml``) and ``kp:`` pairs of concepts in
  the same message ("intent" with "kill_self", "quantity" with "means", "third_person" with
  "die");
* ``nb:``/``na:`` a negation just before or just after a risk concept ("no quiero morir",
  "matarme? nunca");
* ``lex:`` the category of a curated lexicon phrase found in the message (negation- and
  idiom-aware, ``config/crisis/<language>.yaml``);
* ``qmark``, ``len:`` a question mark, and the length in words.

Features are hashed with CRC-32 into ``2 ** HASH_BITS`` slots (stable across processes and
Python versions, unlike ``hash``).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.escalation.detection.concepts import ConceptTagger, Tag
from bot.escalation.detection.lexicon import Lexicon
from bot.escalation.detection.lexicon_match import MAX_SCAN_CHARS, detect
from bot.escalation.detection.normalize import normalize

#: Changes whenever ``extract`` changes what it produces: a model trained on another
#: version is refused at load.
FEATURE_VERSION = 3
HASH_BITS = 18
HASH_MASK = (1 << HASH_BITS) - 1

#: Concepts a negation next to which changes the meaning.
_NEGATABLE = frozenset({"die", "kill_self", "kill", "not_exist", "self_harm", "alive", "intent"})
_NEGATION_REACH = 3  # words between a negation and the concept it negates
_CHAR_SIZES = (3, 4, 5)
#: Value of each structural feature (concepts, negation, lexicon, question mark, length),
#: beside the length-normalised character and word groups. Chosen on the dev split.
STRUCTURE_WEIGHT = 0.5


@dataclass(frozen=True, slots=True)
class Analysed:
    """A message as the model sees it, and what explains its score."""

    norm: str
    words: tuple[str, ...]
    tags: tuple[Tag, ...]
    lexicon_category: str | None
    lexicon_pattern: str | None
    lexicon_matched: str
    #: The matched lexicon pattern's priority (``config/crisis/<lang>.yaml``), if any.
    lexicon_priority: str | None = None


def analyse(text: str, tagger: ConceptTagger, lexicon: Lexicon) -> Analysed:
    scanned = text[:MAX_SCAN_CHARS]
    norm = normalize(scanned)
    words = tuple(norm.split()) if norm else ()
    hit = detect(scanned, lexicon) if norm else None
    return Analysed(
        norm=norm,
        words=words,
        tags=tuple(tagger.tag(words)),
        lexicon_category=hit.category if hit else None,
        lexicon_pattern=hit.pattern_id if hit else None,
        lexicon_matched=hit.matched if hit else "",
        lexicon_priority=hit.priority.value if hit else None,
    )


#: Messages longer than this many words are also read in overlapping windows of
#: ``WINDOW_WORDS`` (every ``WINDOW_STRIDE`` words): one risky clause in a long story must
#: not be diluted by the rest (the message's score is the highest of its readings).
WINDOW_WORDS = 24
WINDOW_STRIDE = 12


def windows(analysed: Analysed, tagger: ConceptTagger) -> list[Analysed]:
    """The readings of a message: itself, and its windows when it is long."""
    words = analysed.words
    if len(words) <= WINDOW_WORDS:
        return [analysed]
    readings = [analysed]
    for start in range(0, len(words) - WINDOW_WORDS + WINDOW_STRIDE, WINDOW_STRIDE):
        part = words[start : start + WINDOW_WORDS]
        readings.append(
            Analysed(
                norm=" ".join(part),
                words=part,
                tags=tuple(tagger.tag(part)),
                lexicon_category=analysed.lexicon_category,
                lexicon_pattern=analysed.lexicon_pattern,
                lexicon_matched=analysed.lexicon_matched,
                lexicon_priority=analysed.lexicon_priority,
            )
        )
    return readings


def _concept_features(tags: tuple[Tag, ...]) -> set[str]:
    found: set[str] = set()
    concepts = sorted({tag.concept for tag in tags})
    found.update(f"k:{name}" for name in concepts)
    found.update(f"kp:{a}+{b}" for i, a in enumerate(concepts) for b in concepts[i + 1 :] if a != b)
    negations = [tag for tag in tags if tag.concept == "negation"]
    for tag in tags:
        if tag.concept in _NEGATABLE:
            for negation in negations:
                if 1 <= tag.first - negation.last <= _NEGATION_REACH:
                    found.add(f"nb:{tag.concept}")
                if 1 <= negation.first - tag.last <= _NEGATION_REACH:
                    found.add(f"na:{tag.concept}")
    return found


def _length_bucket(count: int) -> str:
    for limit, name in ((1, "1"), (3, "2-3"), (7, "4-7"), (15, "8-15")):
        if count <= limit:
            return name
    return "16+"


def _weighted(names: Iterable[str], out: dict[int, float], scale: float) -> None:
    for name in names:
        slot = zlib.crc32(name.encode()) & HASH_MASK
        out[slot] = out.get(slot, 0.0) + scale


def vector(analysed: Analysed, raw_text: str, *, characters: bool = True) -> dict[int, float]:
    """Hashed slot -> value, for the model. Without ``characters`` (the category head):
    words, word pairs and the structural features only."""
    out: dict[int, float] = {}
    words = analysed.words
    tokens = {f"w:{w}" for w in words} | {f"b:{a} {b}" for a, b in itertools.pairwise(words)}
    if tokens:
        _weighted(tokens, out, 1 / math.sqrt(len(tokens)))
    structure = _concept_features(analysed.tags)
    if analysed.lexicon_category:
        structure |= {"lex", f"lex:{analysed.lexicon_category}"}
    if "?" in raw_text or "¿" in raw_text:
        structure.add("qmark")
    structure.add(f"len:{_length_bucket(len(words))}")
    _weighted(structure, out, STRUCTURE_WEIGHT)
    if characters:
        padded = f" {analysed.norm} "
        chars = {
            padded[i : i + size] for size in _CHAR_SIZES for i in range(len(padded) - size + 1)
        }
        if chars:
            _weighted((f"c:{gram}" for gram in chars), out, 1 / math.sqrt(len(chars)))
    return out
