"""Which names of a function are sessions and where they come from
(`optimize.analyzers.sessions`), on a small repository with relative imports."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.sessions import sessions_of
from tests.analyzers.test_values import ModuleReader

DB = """
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("postgresql+asyncpg://db/app")
    SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

    async def get_db():
        async with SessionLocal() as session:
            yield session
"""
AUTH = """
    async def get_current_user(token: str):
        return {"token": token}
"""
FILES = {"app/core/db.py": DB, "app/core/auth.py": AUTH}


def sessions(source: str, path: str = "app/routers/tasks.py"):
    reader = ModuleReader(path, source, FILES)
    function = m.findall(reader.wrapper.module, m.FunctionDef())[0]
    assert isinstance(function, cst.FunctionDef)
    return sessions_of(reader, reader.index, function, path)


def test_injected_sessions_are_tied_to_their_factory_through_relative_imports() -> None:
    found = sessions(
        """
        from typing import Annotated
        from fastapi import Depends
        from sqlalchemy.ext.asyncio import AsyncSession
        from ..core.auth import get_current_user
        from ..core.db import get_db

        async def handler(
            db: AsyncSession = Depends(get_db),
            other: Annotated[AsyncSession, Depends(get_db)] = None,
            user=Depends(get_current_user),
            mystery=Depends(lambda: None),
        ):
            pass
        """
    )
    assert found.names == {"db": "app.core.db.get_db", "other": "app.core.db.get_db"}
    assert "user" not in found.names  # a dependency the index ties to no session factory
    assert set(found.may_be_sessions) == {"db", "other", "user", "mystery"}


def test_sessions_opened_in_the_body_and_connections() -> None:
    found = sessions(
        """
        from sqlalchemy.orm import Session
        from ..core.db import SessionLocal, engine

        async def job(self):
            async with SessionLocal() as s:
                pass
            with Session(engine) as plain:
                pass
            local = SessionLocal()
            async with engine.begin() as conn:
                pass
            await self.session.commit()
            alias = s
        """
    )
    assert found.names["s"] == "app.core.db.SessionLocal"
    assert found.names["local"] == "app.core.db.SessionLocal"
    assert found.names["plain"] is None
    assert found.names["self.session"] is None
    assert found.names["alias"] == "app.core.db.SessionLocal"
    assert found.connections == {"conn"}
    assert found.managed == {"s", "plain", "conn"}  # closed when their block ends
    assert "conn" not in found.names


def test_a_name_that_only_calls_common_methods_is_no_session() -> None:
    found = sessions(
        """
        def f(payload, items):
            payload.get("x")
            items.add(1)
        """
    )
    assert found.names == {}
