"""Prepared replies: ``config/messages/replies.<lang>.yaml`` (same keys in every language).

The case page lists them by title in the reader's language; picking one fills the message
box with its text in the person's language, to be edited before sending. A broken file
fails when the dashboard is built (like its strings), naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.content.yamlio import load_yaml
from bot.dashboard.i18n import CatalogError
from bot.instruments.schema import LANGUAGES

MAX_REPLY = 1000


@dataclass(frozen=True)
class Reply:
    key: str
    title: str
    text: str


def _load(path: Path) -> dict[str, tuple[str, str]]:
    if not path.is_file():
        raise CatalogError(f"{path}: missing (prepared replies need a file per language)")
    data = load_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: expected a mapping of replies")
    found: dict[str, tuple[str, str]] = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"title", "text"}:
            raise CatalogError(f"{path.name}: {key}: needs exactly `title` and `text`")
        title, text = entry["title"], entry["text"]
        if not (
            isinstance(title, str) and title.strip() and isinstance(text, str) and text.strip()
        ):
            raise CatalogError(f"{path.name}: {key}: `title` and `text` must be text")
        if len(text) > MAX_REPLY:
            raise CatalogError(f"{path.name}: {key}: text: longer than {MAX_REPLY} characters")
        found[str(key)] = (title.strip(), text.strip())
    return found


def load_replies(config_dir: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """Per language: key → (title, text), in file order."""
    by_lang = {lang: _load(config_dir / "messages" / f"replies.{lang}.yaml") for lang in LANGUAGES}
    reference = list(by_lang[LANGUAGES[0]])
    for lang, replies in by_lang.items():
        if sorted(replies) != sorted(reference):
            diff = sorted(set(replies) ^ set(reference))
            raise CatalogError(f"replies.{lang}.yaml: keys differ from {LANGUAGES[0]}: {diff}")
    return by_lang


@lru_cache(maxsize=4)
def replies_for(config_dir: Path) -> dict[str, dict[str, tuple[str, str]]]:
    return load_replies(config_dir)


def prepared(config_dir: Path, reader: str, person: str) -> list[Reply]:
    """Titles in the reader's language, texts in the person's."""
    catalogs = replies_for(config_dir)
    titles = catalogs.get(reader) or catalogs[LANGUAGES[0]]
    texts = catalogs.get(person) or catalogs[LANGUAGES[0]]
    return [Reply(key, titles[key][0], texts[key][1]) for key in titles]
