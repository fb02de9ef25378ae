"""Text normalisation for crisis detection: what every message goes through first.

Normalised text is lowercase ASCII words separated by single spaces. To absorb the spelling
people actually use in a chat, each word is canonicalised:

* case and accents: ``"MORÍR"`` -> ``"morir"``;
* repeated letters collapsed to one (``"morirrrme"``, ``"kill"`` -> ``"morirme"``, ``"kil"``);
* phonetic spelling common in Peru: a leading ``h`` dropped, ``z`` -> ``s``, ``v`` -> ``b``,
  ``c`` before e/i -> ``s``, ``k`` before e/i and a bare ``q`` -> ``qu`` (``"kiero"``,
  ``"qiero"`` -> ``"quiero"``);
* WhatsApp shorthand expanded (``q``, ``xq``, ``k``, ``ps``, ``pe``, ``tmb``, ``nd``, ``toy``;
  English ``im``, ``dont``, ``rn``, ``kms``…), and a few digits used as letters (``"m0rir"``);
* emoji that carry meaning become words (``emojiknife``, ``emojicry``…); laughter
  (``jajaja``, ``jsjs``, ``xd``, ``lol``) becomes ``jaja``; every other symbol, punctuation
  and run of spaces is a separator.

Spanish and English are normalised by the same function: people mix them in one message.
Phrases in ``config/crisis/`` are written in ordinary spelling and pass through the same
function, so the two always agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["canonical_word", "iter_tokens", "normalize", "normalize_token"]

# A token is a run of letters/digits (with combining accents and inner apostrophes), or one
# of the emoji that carry meaning here; every other character is a separator.
_EMOJI_WORDS: dict[str, str] = {
    "\U0001f52a": "emojiknife",  # 🔪
    "\U0001fa78": "emojiblood",  # 🩸
    "\U0001f48a": "emojipill",  # 💊
    "\U0001faa2": "emojirope",  # 🪢
    "\u26b0": "emojicoffin",  # ⚰
    "\U0001faa6": "emojigrave",  # 🪦
    "\U0001f52b": "emojigun",  # 🔫
    "\U0001f480": "emojiskull",  # 💀
    "\u2620": "emojiskull",  # ☠
    "\U0001f62d": "emojicry",  # 😭
    "\U0001f622": "emojicry",  # 😢
    "\U0001f97a": "emojicry",  # 🥺
    "\U0001f614": "emojisad",  # 😔
    "\U0001f61e": "emojisad",  # 😞
    "\U0001f625": "emojisad",  # 😥
    "\U0001f494": "emojibroken",  # 💔
    "\U0001f940": "emojiwilted",  # 🥀
    "\U0001f44b": "emojiwave",  # 👋
    "\U0001f64f": "emojipray",  # 🙏
    "\U0001f602": "emojilaugh",  # 😂
    "\U0001f923": "emojilaugh",  # 🤣
    "\U0001f606": "emojilaugh",  # 😆
    "\U0001f605": "emojilaugh",  # 😅
    "\u2764": "emojiheart",  # ❤
    "\U0001f5a4": "emojiheart",  # 🖤
    "\U0001f319": "emojinight",  # 🌙
    "\U0001f309": "emojibridge",  # 🌉
    "\U0001f3e2": "emojibuilding",  # 🏢
    "\U0001f6e4": "emojirail",  # 🛤
    "\U0001f682": "emojitrain",  # 🚂
    "\U0001f687": "emojitrain",  # 🚇
}
_TOKEN_RE = re.compile(
    r"(?:[^\W_]|[\u0300-\u036f'\u2019])+|[" + "".join(_EMOJI_WORDS) + "]",
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_RUNS = re.compile(r"([a-z])\1+")
_BARE_Q = re.compile(r"q(?!u)")
_LEET = str.maketrans("4310567", "aeiosgt")
_HAS_LETTER_AND_DIGIT = re.compile(r"(?=.*[a-z])(?=.*[0-9])")
_LAUGHTER = re.compile(
    r"(?:j[aeiou]){2,}j?|(?:[aeiou]?j){3,}|(?:js){2,}j?|x+d+|(?:ha){2,}h?|lol|lmao|lmf?ao"
)

# Chat shorthand, keyed by the accent-stripped, run-collapsed token.
_SHORTHAND: dict[str, str] = {
    # Spanish
    "q": "que",
    "k": "que",
    "ke": "que",
    "qe": "que",
    "xq": "porque",
    "xk": "porque",
    "pq": "porque",
    "porq": "porque",
    "x": "por",
    "d": "de",
    "m": "me",
    "t": "te",
    "tb": "tambien",
    "tmb": "tambien",
    "tbn": "tambien",
    "ps": "pues",
    "pe": "pues",
    "pa": "para",
    "toy": "estoy",
    "tas": "estas",
    "ta": "esta",
    "bn": "bien",
    "nd": "nada",
    "nse": "no se",
    "ns": "no se",
    "nc": "no se",
    "xfa": "por favor",
    "porfa": "por favor",
    "kmo": "como",
    "cmo": "como",
    "tqm": "te quiero mucho",
    "ntp": "no te preocupes",
    "salu2": "saludos",
    "tons": "entonces",
    "ntons": "entonces",
    "aora": "ahora",
    "mrd": "mierda",
    # English
    "u": "you",
    "ur": "your",
    "r": "are",
    "im": "i am",
    "ima": "i am going to",
    "gona": "going to",
    "wana": "want to",
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "canot": "can not",
    "wont": "will not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "werent": "were not",
    "aint": "am not",
    "ive": "i have",
    "id": "i would",
    "youre": "you are",
    "theyre": "they are",
    "shes": "she is",
    "hes": "he is",
    "thats": "that is",
    "whats": "what is",
    "rn": "right now",
    "tn": "tonight",
    "tonite": "tonight",
    "idk": "i do not know",
    "idc": "i do not care",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "ppl": "people",
    "pls": "please",
    "plz": "please",
}


_ZV = str.maketrans("zv", "sb")


def _collapse_runs(word: str) -> str:
    return _RUNS.sub(r"\1", word) if _RUNS.search(word) else word


def _canonical_collapsed(word: str) -> str:
    """``canonical_word`` of a word that has no repeated letters (the hot path).

    Plain string operations where they suffice: this runs for every new token.
    """
    if len(word) > 1 and word[0] == "h":
        word = word[1:]
    before = word
    if "z" in word or "v" in word:
        word = word.translate(_ZV)
    if "c" in word:
        word = word.replace("ce", "se").replace("ci", "si")
    if "k" in word:
        word = word.replace("ke", "que").replace("ki", "qui")
    if "q" in word and word.count("q") != word.count("qu"):
        word = _BARE_Q.sub("qu", word)
    return word if word is before else _collapse_runs(word)


def canonical_word(word: str) -> str:
    """Spelling-tolerant form of one lowercase ASCII word."""
    return _canonical_collapsed(_collapse_runs(word))


_SHORTHAND_CANONICAL: dict[str, str] = {
    key: " ".join(canonical_word(word) for word in value.split())
    for key, value in _SHORTHAND.items()
}


def _ascii_word(raw: str) -> str:
    """Lowercase ASCII letters and digits of a token (accents stripped, rest dropped)."""
    if raw.isascii():
        lowered = raw.lower()
        return lowered if lowered.isalpha() else _NON_WORD.sub("", lowered)
    folded = unicodedata.normalize("NFKD", raw.casefold())
    return _NON_WORD.sub("", folded.encode("ascii", "ignore").decode("ascii"))


@functools.lru_cache(maxsize=65536)
def normalize_token(raw: str) -> str:
    """The normalised form of one token: zero, one or several space-separated words."""
    emoji = _EMOJI_WORDS.get(raw)
    if emoji is not None:
        return canonical_word(emoji)
    word = _ascii_word(raw)
    if not word:
        return ""
    if not word.isalpha() and _HAS_LETTER_AND_DIGIT.match(word):
        word = word.translate(_LEET)
    if _LAUGHTER.fullmatch(word):
        return "jaja"
    collapsed = _collapse_runs(word)
    shorthand = _SHORTHAND_CANONICAL.get(collapsed)
    return shorthand if shorthand is not None else _canonical_collapsed(collapsed)


def iter_tokens(text: str) -> Iterable[re.Match[str]]:
    """Tokens of ``text`` in order; ``normalize_token`` of each may be empty."""
    return _TOKEN_RE.finditer(text)


@functools.lru_cache(maxsize=65536)
def _normalize_chunk(chunk: str) -> str:
    if chunk.isascii() and chunk.isalnum():  # one token: skip the tokeniser
        return normalize_token(chunk)
    parts = [normalize_token(match.group()) for match in _TOKEN_RE.finditer(chunk)]
    return " ".join(part for part in parts if part)


def normalize(text: str) -> str:
    """Lowercase ASCII words separated by single spaces; see the module docstring.

    Tokens never contain whitespace, so the text is split on whitespace (fast, in C) and
    each chunk's normalisation is cached: chat vocabulary repeats a lot.
    """
    parts = [_normalize_chunk(chunk) for chunk in text.split()]
    return " ".join(part for part in parts if part)
