"""The Alembic migrations build exactly the tables the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from bot.db import registry  # noqa: F401
from bot.db.engine import make_engine
from bot.db.migrate import downgrade, is_current, upgrade


def test_upgrade_matches_the_models_and_downgrade_empties(database_url: str) -> None:
    assert not is_current(database_url)
    upgrade(database_url)
    assert is_current(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, SQLModel.metadata) == []
        downgrade(database_url, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert (mode, keys) == ("wal", 1)
    finally:
        engine.dispose()
