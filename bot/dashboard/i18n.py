"""The dashboard's UI strings, from ``config/messages/dashboard.<lang>.yaml``.

Both languages must have the same keys and the same ``{placeholders}``; a broken file
fails at start-up naming the file and the key.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.content.yamlio import load_yaml
from bot.instruments.schema import LANGUAGES


class CatalogError(ValueError):
    pass


def _flatten(data: Any, prefix: str, out: dict[str, str], path: Path) -> None:
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: {prefix or '(top level)'}: expected a mapping")
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            _flatten(value, name, out, path)
        elif isinstance(value, str | int | float):
            out[name] = str(value)
        else:
            raise CatalogError(f"{path.name}: {name}: expected text")


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@dataclass(frozen=True)
class Strings:
    language: str
    texts: dict[str, str]

    def __call__(self, key: str, **values: object) -> str:
        template = self.texts[key]
        return template.format(**values) if values else template

    def get(self, key: str, default: str) -> str:
        return self.texts.get(key, default)


def load_strings(config_dir: Path) -> dict[str, Strings]:
    catalogs: dict[str, Strings] = {}
    for lang in LANGUAGES:
        path = config_dir / "messages" / f"dashboard.{lang}.yaml"
        if not path.is_file():
            raise CatalogError(f"{path}: missing (the dashboard needs a file per language)")
        texts: dict[str, str] = {}
        _flatten(load_yaml(path), "", texts, path)
        catalogs[lang] = Strings(lang, texts)
    reference = catalogs[LANGUAGES[0]]
    for lang, strings in catalogs.items():
        diff = sorted(set(strings.texts) ^ set(reference.texts))
        if diff:
            raise CatalogError(
                f"dashboard.{lang}.yaml: keys differ from {reference.language}: {diff}"
            )
        for key, template in strings.texts.items():
            if _placeholders(template) != _placeholders(reference.texts[key]):
                raise CatalogError(f"dashboard.{lang}.yaml: {key}: placeholders differ")
    return catalogs


@lru_cache(maxsize=4)
def strings_for(config_dir: Path) -> dict[str, Strings]:
    return load_strings(config_dir)


def pick_language(cookie: str | None, accept_language: str | None, default: str) -> str:
    """The cookie's choice, else the browser's first supported language, else ``default``."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else LANGUAGES[0]
