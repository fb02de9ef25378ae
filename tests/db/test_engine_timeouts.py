"""The engine's timeouts: PostgreSQL's connect and statement timeouts, SQLite's busy timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from bot.db.engine import Timeouts, make_engine
from tests.conftest import POSTGRES_URL


@pytest.mark.postgres
def test_postgresql_gets_the_statement_timeout_beside_the_url_options(
    pg_schema_url: str,
) -> None:
    engine = make_engine(pg_schema_url, timeouts=Timeouts(statement=1.5))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1500ms"
            # The URL's own options (the test schema's search_path) are kept.
            assert connection.execute(text("SHOW search_path")).scalar() != '"$user", public'
            with pytest.raises(OperationalError, match="statement timeout"):
                connection.execute(text("SELECT pg_sleep(3)"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_migrations_run_without_a_statement_timeout() -> None:
    engine = make_engine(POSTGRES_URL, timeouts=Timeouts(statement=None))
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "0"
    finally:
        engine.dispose()


def test_sqlite_waits_for_the_lock_as_long_as_the_statement_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}", timeouts=Timeouts(statement=2.5))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2500
    finally:
        engine.dispose()
