"""The phrase notation of the crisis lexicon and the regular expressions it compiles to.

A phrase is words separated by spaces, with nested ``{a|b|}`` alternatives (an empty one makes
the part optional), ``{@name}`` groups of the file, ``...`` / ``...N`` gaps of up to N words
and ``word*`` stems. Each word is normalised with the same function that normalises messages
(``normalize``). A phrase becomes trie *atoms*: the characters of its first word-unit, then
the rest of the phrase as one sub-pattern; the atoms of many phrases become one regular
expression (a character trie, so the engine dispatches on the first letter) that runs over
``padded(norm)``.

Raw ``regexes`` cannot be normalised like phrases; they must be written in canonical form and
``check_regex`` rejects those that visibly are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from bot.escalation.detection.normalize import canonical_word, normalize

MAX_VARIANTS_PER_PHRASE = 4096  # per word-unit of a phrase, after {…} expansion
DEFAULT_GAP_WORDS = 3  # "..." ; "...N" allows 1 <= N <= 9


_NAMED_GROUP_RE = re.compile(r"\{@([a-z_]+)\}")
_GAP_TOKEN_RE = re.compile(r"\.\.\.([1-9])?")
_GAP = "\x00"
_STEM = "\x01"
_SUFFIX = "\x02"
_END = ""
# Compiled regexes run over " " + normalised text: a leading space marks each word start,
# which lets the regex engine skip ahead to candidate positions quickly.
_WORD_START = " "
_WORD_END = r"(?![a-z0-9])"


def _split_top(text: str, phrase: str) -> tuple[list[str], list[str]]:
    """Literals and ``{...}`` group bodies of ``text`` at nesting level zero, alternating."""
    literals, bodies, depth, mark = [], [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                literals.append(text[mark:index])
                mark = index + 1
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced braces in {phrase!r}")
            if depth == 0:
                bodies.append(text[mark:index])
                mark = index + 1
        elif char == "|" and depth == 0:
            raise ValueError(f"stray '|' outside braces in {phrase!r}")
    if depth:
        raise ValueError(f"unbalanced braces in {phrase!r}")
    literals.append(text[mark:])
    return literals, bodies


def _alternatives(body: str) -> list[str]:
    """Split a group body at its top-level '|'."""
    pieces, depth, mark = [], 0, 0
    for index, char in enumerate(body):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "|" and depth == 0:
            pieces.append(body[mark:index])
            mark = index + 1
    return [*pieces, body[mark:]]


def _expand(text: str, phrase: str, groups: Mapping[str, Sequence[str]], depth: int) -> list[str]:
    if depth > 8:
        raise ValueError(f"groups nested too deeply (a cycle?) in {phrase!r}")

    def named(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in groups:
            raise ValueError(f"unknown group {{@{name}}} in {phrase!r}")
        return "{" + "|".join(groups[name]) + "}"

    literals, bodies = _split_top(_NAMED_GROUP_RE.sub(named, text), phrase)
    variants = [literals[0]]
    for body, literal in zip(bodies, literals[1:], strict=True):
        options = [
            option
            for alternative in _alternatives(body)
            for option in _expand(alternative, phrase, groups, depth + 1)
        ]
        if len(variants) * len(options) > MAX_VARIANTS_PER_PHRASE:
            raise ValueError(f"{phrase!r} expands to more than {MAX_VARIANTS_PER_PHRASE} variants")
        variants = [head + option + literal for head in variants for option in options]
    return variants


def expand_phrase(phrase: str, groups: Mapping[str, Sequence[str]]) -> list[str]:
    """Every spelling a phrase stands for: nested ``{a|b|}`` alternatives, ``{@name}`` groups."""
    return _expand(phrase, phrase, groups, 0)


def _variant_atoms(variant: str) -> tuple[str, ...]:
    """A phrase variant as trie atoms: characters, gaps (``...``/``...N``) and stems (``w*``)."""
    tokens = variant.split()
    if not tokens or _GAP_TOKEN_RE.fullmatch(tokens[0]) or _GAP_TOKEN_RE.fullmatch(tokens[-1]):
        raise ValueError(f"{variant!r}: empty, or starts or ends with a gap")
    atoms: list[str] = []
    for token in tokens:
        gap = _GAP_TOKEN_RE.fullmatch(token)
        if gap:
            if atoms[-1].startswith(_GAP):
                raise ValueError(f"{variant!r}: two gaps in a row")
            atoms += [" ", _GAP + (gap.group(1) or str(DEFAULT_GAP_WORDS))]
            continue
        stem = token.endswith("*")
        word = normalize(token[:-1] if stem else token)
        if not word:
            raise ValueError(f"{variant!r}: {token!r} normalises to nothing")
        if stem and (" " in word or word[-1] in "ckq"):
            raise ValueError(f"{variant!r}: stem {token!r} must be one word not ending in c/k/q")
        if atoms and not atoms[-1].startswith(_GAP):
            atoms.append(" ")
        atoms += list(word)
        if stem:
            atoms.append(_STEM)
    return tuple(atoms)


def _top_units(phrase: str) -> list[str]:
    """``phrase`` split at whitespace outside braces: each unit is whole words."""
    units: list[str] = []
    current: list[str] = []
    depth = 0
    for char in phrase:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char.isspace() and depth == 0:
            units.append("".join(current))
            current = []
        else:
            current.append(char)
    units.append("".join(current))
    return [unit for unit in units if unit]


@dataclass(frozen=True, slots=True)
class _Unit:
    atoms: frozenset[tuple[str, ...]]  # empty for a gap
    optional: bool = False
    gap: int = 0


def _parse_unit(unit: str, phrase: str, groups: Mapping[str, Sequence[str]]) -> _Unit:
    gap = _GAP_TOKEN_RE.fullmatch(unit)
    if gap:
        return _Unit(frozenset(), gap=int(gap.group(1) or DEFAULT_GAP_WORDS))
    variants = _expand(unit, phrase, groups, 0)
    atoms = frozenset(_variant_atoms(v) for v in variants if v.strip())
    if not atoms:
        raise ValueError(f"{phrase!r}: {unit!r} can only be empty")
    return _Unit(atoms, optional=any(not v.strip() for v in variants))


def _suffix_regex(rest: Sequence[_Unit]) -> str:
    """Regex for the units after the first, each preceded by its separating space."""
    out, after_gap = [], False
    for unit in rest:
        if unit.gap:
            out.append(" " + _atom_regex(_GAP + str(unit.gap)))
            after_gap = True
            continue
        body = "(?:" + _node_regex(_trie(unit.atoms), "") + ")"
        separator = "" if after_gap else " "
        out.append(f"(?:{separator}{body})?" if unit.optional else separator + body)
        after_gap = False
    return "".join(out)


def _phrase_units_atoms(units: Sequence[_Unit], phrase: str) -> set[tuple[str, ...]]:
    head, rest = units[0], units[1:]
    if head.gap or (rest and rest[-1].gap):
        raise ValueError(f"{phrase!r}: starts or ends with a gap")
    for before, after in zip(units, rest, strict=False):
        if before.gap and (after.gap or after.optional):
            raise ValueError(f"{phrase!r}: a gap must be followed by a required word")
    found: set[tuple[str, ...]] = set()
    if head.optional:
        if not rest:
            raise ValueError(f"{phrase!r}: can be empty")
        found |= _phrase_units_atoms(rest, phrase)
    suffix = _suffix_regex(rest)
    tail = (_SUFFIX + suffix,) if suffix else ()
    found |= {atoms + tail for atoms in head.atoms}
    return found


def phrase_atoms(phrase: str, groups: Mapping[str, Sequence[str]]) -> set[tuple[str, ...]]:
    """Trie atoms for ``phrase``: its first unit expanded, the rest as one regex atom.

    Units (whole words between top-level spaces) are normalised independently, which is
    exact because normalisation works token by token. Raises ValueError if malformed.
    """
    units = [_parse_unit(unit, phrase, groups) for unit in _top_units(phrase)]
    if not units:
        raise ValueError("empty phrase")
    return _phrase_units_atoms(units, phrase)


# Letters in a raw regex, outside escapes, classes and group syntax, must be canonical.
_REGEX_SYNTAX = re.compile(r"\\.|\[(?:\\.|[^\]])*\]|\(\?(?:P?<[a-z_]+>|<[=!]|[:=!])|\{\d*,?\d*\}")


def check_regex(raw: str) -> None:
    """Reject a raw regex that does not compile or whose literals are not canonical."""
    try:
        compiled = re.compile(raw)
    except re.error as exc:
        raise ValueError(f"regex {raw!r} does not compile: {exc}") from exc
    if compiled.groupindex:
        raise ValueError(f"regex {raw!r}: named groups are not allowed")
    if re.search(r"[^\x20-\x7e]|[A-Z]", _REGEX_SYNTAX.sub("", raw)):
        raise ValueError(f"regex {raw!r}: literals must be lowercase ASCII")
    for run in re.findall(r"[a-z]+", _REGEX_SYNTAX.sub(" ", raw)):
        if run != canonical_word("x" + run)[1:] and run != canonical_word(run):
            raise ValueError(
                f"regex {raw!r}: literal {run!r} is not in normalised form "
                f"(expected {canonical_word(run)!r}); see normalize()"
            )


# --------------------------------------------------------------------------- regexes


def _atom_regex(atom: str) -> str:
    if atom.startswith(_GAP):
        return f"(?:[a-z0-9]+ ){{0,{int(atom[1:])}}}"
    if atom.startswith(_SUFFIX):
        return atom[1:]
    if atom == _STEM:
        return "[a-z0-9]*"
    return re.escape(atom)


#: A trie of atoms: each atom leads to the atoms that may follow it (``_END`` ends a variant).
_Trie: TypeAlias = dict[str, "_Trie"]


def _trie(variants: Iterable[tuple[str, ...]]) -> _Trie:
    root: _Trie = {}
    for atoms in variants:
        node = root
        for atom in atoms:
            node = node.setdefault(atom, {})
        node[_END] = {}
    return root


def _node_regex(node: _Trie, end: str) -> str:
    alternatives = [
        _atom_regex(atom) + _node_regex(child, end)
        for atom, child in sorted(node.items())
        if atom != _END
    ]
    if _END in node:
        alternatives.append(end)
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


def trie_regex(variants: Iterable[tuple[str, ...]], raw_regexes: Iterable[str] = ()) -> str:
    """One regex matching any variant (prefix-shared) or raw regex, as whole words.

    It runs over ``padded(norm)``; a match starting at offset ``i`` covers the words of
    ``norm`` from offset ``i`` (the leading space is the word boundary).
    """
    root = _trie(variants)
    alternatives = [_node_regex(root, _WORD_END)] if root else []
    alternatives += [f"(?:{raw}){_WORD_END}" for raw in raw_regexes]
    if not alternatives:
        return r"(?!x)x"
    return _WORD_START + "(?:" + "|".join(alternatives) + ")"


def padded(norm: str) -> str:
    """The string compiled lexicon regexes run over; offset ``i + 1`` is ``norm[i]``."""
    return " " + norm
