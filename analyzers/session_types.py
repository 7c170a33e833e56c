"""The classes that are sessions and connections, by qualified name: one list for the
LibCST readers (`sessions`) and the `ast` facts (`blocking`)."""

from __future__ import annotations

SESSION_TYPES = frozenset({
    "sqlalchemy.orm.Session",
    "sqlalchemy.orm.session.Session",
    "sqlalchemy.orm.scoped_session",
    "sqlalchemy.orm.scoping.scoped_session",
    "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession",
    "sqlalchemy.ext.asyncio.async_scoped_session",
    "sqlmodel.Session",
    "sqlmodel.orm.session.Session",
    "sqlmodel.ext.asyncio.session.AsyncSession",
})
CONNECTION_TYPES = frozenset({
    "sqlalchemy.Connection",
    "sqlalchemy.engine.Connection",
    "sqlalchemy.engine.base.Connection",
    "sqlalchemy.ext.asyncio.AsyncConnection",
    "sqlalchemy.ext.asyncio.engine.AsyncConnection",
    "sqlalchemy.Engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.engine.base.Engine",
    "sqlalchemy.ext.asyncio.AsyncEngine",
    "sqlalchemy.ext.asyncio.engine.AsyncEngine",
})


def is_sync(qualname: str) -> bool:
    """A sync session, connection or engine (not `sqlalchemy.ext.asyncio`'s)."""
    return qualname in SESSION_TYPES | CONNECTION_TYPES and ".asyncio" not in qualname and "Async" not in qualname
