"""The functions that make SQLAlchemy engines, as their qualified names: what the facts
(`ast`) and the codemods (LibCST) both take for an engine call."""

from __future__ import annotations

ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.create_engine",
        "sqlalchemy.engine.create_engine",
        "sqlalchemy.engine.create.create_engine",
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
        # SQLModel re-exports SQLAlchemy's `create_engine`
        # (`from sqlalchemy.engine import create_engine as create_engine`); before 0.0.9 it
        # wrapped it, and `create_async_engine`, in `sqlmodel.engine.create`, passing every
        # option through unchanged.
        "sqlmodel.create_engine",
        "sqlmodel.engine.create.create_engine",
        "sqlmodel.engine.create.create_async_engine",
    }
)
