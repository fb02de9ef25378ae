"""Alembic environment. The URL comes from the caller (``bot.db.migrate``), not alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from bot.db import registry  # noqa: F401  (registers every table)
from bot.db.engine import Timeouts, make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    # No statement limit: a migration may rewrite a large table.
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url, timeouts=Timeouts(statement=None))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
