from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.escalation.support import Clock, Desk, make_settings, write_roster


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    return write_roster(tmp_path / "oncall.yaml")


@pytest.fixture
def desk(db: Engine, database_url: str, roster_file: Path, clock: Clock) -> Iterator[Desk]:
    desk = Desk.build(make_settings(database_url, roster_file), db, clock)
    yield desk
