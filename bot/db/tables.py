"""The Core ``Table`` behind a SQLModel table model, typed.

SQLModel's metaclass sets ``__table__`` on every ``table=True`` class, but its type stubs do
not declare it; this is the one place that reads it.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """``model.__table__``: the table of a ``table=True`` model, for Core statements."""
    table: Table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel, undeclared
    return table
