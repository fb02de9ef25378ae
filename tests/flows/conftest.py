from __future__ import annotations

from pathlib import Path

import pytest

from bot.content import Content, load_content

CONFIG = Path(__file__).resolve().parents[2] / "config"


@pytest.fixture(scope="session")
def content() -> Content:
    """The real config/ (read-only, so one load serves every test)."""
    return load_content(CONFIG)
