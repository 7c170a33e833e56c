"""## What it does
Sets `pool_pre_ping=True` on every `create_engine` / `create_async_engine` call
(SQLAlchemy's, and SQLModel's re-export): a `pool_pre_ping=False` is flipped, a missing
argument is added in the call's own style, also next to `**opts` when `opts` is a literal
dict that provably does not set it.

## Why is this bad?
Without pre-ping, a pooled connection that the database (or a proxy, or a restart)
closed is handed to the next request, which fails with "connection closed" or
"server closed the connection unexpectedly". Pre-ping tests the connection on checkout
and transparently replaces a dead one, so the first request after a database restart
succeeds instead of returning a 500.

## Example
```python
engine = create_async_engine(settings.database_url, pool_size=10)
```

## Use instead
```python
engine = create_async_engine(settings.database_url, pool_size=10, pool_pre_ping=True)
```

## Fix safety
Safe. The engine behaves the same except that a dead connection is replaced; the cost
is one lightweight round trip per checkout. Engines with no pool to validate are left
alone and reported: `poolclass=NullPool` or `StaticPool`, and `sqlite` URL literals.
A `pool_pre_ping` whose value is not a literal is reported, not changed, with what it reads.
Options splatted from anything but a literal dict bound once and never changed are
reported: they may already set it, and a second `pool_pre_ping` would raise `TypeError`.
"""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.settings_lookup import resolve_setting
from optimize.codemods.base import Codemod, Keep, Rewrite, dotted_chain
from optimize.analyzers.engine_options import OPTIONS_METADATA, Option, code, read_options
from optimize.analyzers.engines import ENGINE_FACTORIES, engine_skip_reason, keyword
from optimize.codemods.engines import add_keyword

_RATIONALE = "stale pooled connections are replaced on checkout"


class PoolPrePing(Codemod):
    ID = "pool-pre-ping"
    TITLE = "enable pool_pre_ping on database engines"
    CONDITIONS = "engine keeps a pool (not NullPool/StaticPool, not a sqlite URL)"
    DESCRIPTION = "Set pool_pre_ping=True on create_engine/create_async_engine calls."
    TRIGGERS = (b"create_engine", b"create_async_engine")
    METADATA_DEPENDENCIES = (*Codemod.METADATA_DEPENDENCIES, *OPTIONS_METADATA)

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        facts = index.facts.get(path)
        return cls.applies(source, index) and (facts is None or facts.engine_calls > 0)

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """The engine calls: the keyword goes into the call."""
        facts = index.facts.get(path)
        return None if facts is None else frozenset(facts.engine_call_lines)

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.refers_to(original.func, ENGINE_FACTORIES):
            return updated
        explicit = keyword(original, "pool_pre_ping")
        if explicit is not None and _is_name(explicit.value, "True"):
            return updated  # already on; `**kwargs` cannot set it again (that raises TypeError)
        options = read_options(original, self)
        skip = engine_skip_reason(original, self, options=options)
        if skip:
            self.refuse(original, f"skipped: {skip}")
            return updated
        option = options.get("pool_pre_ping")
        if option is None:
            # A keyword next to `**opts` raises "got multiple values" only when the dict
            # has it too, and `read_options` proved it does not.
            lacking = "".join(f"; {name} does not set it" for name in options.splatted)
            if not self.record(original, f"added pool_pre_ping=True: {_RATIONALE}{lacking}"):
                return updated
            return add_keyword(updated, "pool_pre_ping", cst.Name("True"))
        if _is_name(option.value, "True"):
            return updated
        if _is_name(option.value, "False") and option.in_call:
            if not self.record(original, f"pool_pre_ping=False flipped to True: {_RATIONALE}"):
                return updated
            arg = keyword(updated, "pool_pre_ping")
            assert arg is not None  # the keyword `read_options` found
            new_arg = arg.with_changes(value=cst.Name("True"), comma=_fix_comment(arg.comma))
            return updated.with_changes(
                args=[new_arg if a is arg else a for a in updated.args]
            )
        if _is_name(option.value, "False"):
            self.refuse(
                original,
                f"skipped: pool_pre_ping=False{option.where()} disables it; set it to True there",
            )
            return updated
        self.refuse(
            original,
            f"skipped: pool_pre_ping={code(option.value)}{option.where()} is not a literal"
            + self._default_note(option),
        )
        return updated

    def _default_note(self, option: Option) -> str:
        """What a settings field's literal default False means for the engine."""
        chain = dotted_chain(option.value)
        if chain is None or "." not in chain:
            return ""
        field = resolve_setting(self.index, self.path, chain, self.module.code).field
        if field is None or not field.has_literal or field.value is not False:
            return ""
        return (
            f"; it reads {field.cls}.{field.name}, whose default False ({field.path}:{field.line}) "
            "leaves the engine without pre-ping unless the environment sets it"
        )


def _is_name(node: cst.BaseExpression, value: str) -> bool:
    return isinstance(node, cst.Name) and node.value == value


_CONTRADICTING = ("disable", "no pre", "off", "false", "not ", "skip")


def _fix_comment(comma: cst.Comma | cst.MaybeSentinel) -> cst.Comma | cst.MaybeSentinel:
    """Replace a trailing comment that described the old `False` value."""
    if not isinstance(comma, cst.Comma):
        return comma
    after = comma.whitespace_after
    if isinstance(after, cst.ParenthesizedWhitespace):
        comment = after.first_line.comment
        if comment and any(w in comment.value.lower() for w in _CONTRADICTING):
            first = after.first_line.with_changes(
                comment=cst.Comment("# validate connections on checkout")
            )
            return comma.with_changes(whitespace_after=after.with_changes(first_line=first))
    return comma


EXAMPLES = [
    Rewrite(
        name="missing argument, one line",
        before="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(url, pool_size=10)
        """,
        after="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(url, pool_size=10, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="False flipped, contradicting comment replaced",
        before="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(
                settings.database_url,
                pool_size=10,
                pool_pre_ping=False,  # disabled to save a round trip
            )
        """,
        after="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(
                settings.database_url,
                pool_size=10,
                pool_pre_ping=True,  # validate connections on checkout
            )
        """,
    ),
    Rewrite(
        name="one argument per line, trailing comma kept",
        before="""
            import sqlalchemy
            engine = sqlalchemy.create_engine(
                "postgresql://db/app",
                pool_size=5,
            )
        """,
        after="""
            import sqlalchemy
            engine = sqlalchemy.create_engine(
                "postgresql://db/app",
                pool_size=5,
                pool_pre_ping=True,
            )
        """,
    ),
    Rewrite(
        name="aliased import",
        before="""
            from sqlalchemy import create_engine as create_sync_engine
            engine = create_sync_engine(DATABASE_URL)
        """,
        after="""
            from sqlalchemy import create_engine as create_sync_engine
            engine = create_sync_engine(DATABASE_URL, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="SQLModel's create_engine",
        before="""
            from sqlmodel import Session, SQLModel, create_engine

            from .core.config import settings

            engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI), echo=False)
        """,
        after="""
            from sqlmodel import Session, SQLModel, create_engine

            from .core.config import settings

            engine = create_engine(str(settings.SQLALCHEMY_DATABASE_URI), echo=False, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="SQLModel app's async engine",
        before="""
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine(settings.database_url, future=True)
        """,
        after="""
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlmodel.ext.asyncio.session import AsyncSession

            engine = create_async_engine(settings.database_url, future=True, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="SQLModel before 0.0.9: sqlmodel.engine.create",
        before="""
            from sqlmodel.engine.create import create_async_engine
            engine = create_async_engine(DATABASE_URL)
        """,
        after="""
            from sqlmodel.engine.create import create_async_engine
            engine = create_async_engine(DATABASE_URL, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="import sqlalchemy as sa",
        before="""
            import sqlalchemy as sa
            engine = sa.create_engine(settings.DATABASE_URL, pool_size=20)
        """,
        after="""
            import sqlalchemy as sa
            engine = sa.create_engine(settings.DATABASE_URL, pool_size=20, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="options from a module-level dict that does not set it",
        before="""
            from sqlmodel import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "pool_recycle": 1800}

            engine = create_engine(DATABASE_URL, **ENGINE_OPTIONS)
        """,
        after="""
            from sqlmodel import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "pool_recycle": 1800}

            engine = create_engine(DATABASE_URL, **ENGINE_OPTIONS, pool_pre_ping=True)
        """,
    ),
    Rewrite(
        name="options from dict(...) in the factory function",
        before="""
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

            def build_engine(url: str) -> AsyncEngine:
                options = dict(pool_size=5, echo=False)
                if "localhost" in url:
                    print(options["pool_size"])
                return create_async_engine(url, **options)
        """,
        after="""
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

            def build_engine(url: str) -> AsyncEngine:
                options = dict(pool_size=5, echo=False)
                if "localhost" in url:
                    print(options["pool_size"])
                return create_async_engine(url, **options, pool_pre_ping=True)
        """,
    ),
    Keep(
        name="the dict sets it from a setting whose default is False",
        code="""
            from sqlalchemy.ext.asyncio import create_async_engine
            from app.core.config import settings

            engine_options = {"pool_size": settings.POOL_SIZE, "pool_pre_ping": settings.DB_PRE_PING}
            engine = create_async_engine(settings.DATABASE_URL, **engine_options)
        """,
        reason=(
            "pool_pre_ping=settings.DB_PRE_PING in the dict engine_options (line 4) is not a literal; "
            "it reads Settings.DB_PRE_PING, whose default False (app/core/config.py:5) leaves the engine "
            "without pre-ping"
        ),
        files={
            "app/core/config.py": """
                from pydantic_settings import BaseSettings

                class Settings(BaseSettings):
                    DATABASE_URL: str = "postgresql+asyncpg://app@db/app"
                    DB_PRE_PING: bool = False
                    POOL_SIZE: int = 10

                settings = Settings()
            """,
        },
    ),
    Keep(
        name="the dict is changed before the engine is made",
        code="""
            from sqlalchemy import create_engine

            engine_options = {"pool_size": 10}
            if settings.TESTING:
                engine_options["pool_pre_ping"] = False
            engine = create_engine(settings.DATABASE_URL, **engine_options)
        """,
        reason="engine_options is changed or passed on at line 5",
    ),
    Keep(
        name="the dict is updated from elsewhere",
        code="""
            from sqlalchemy import create_engine

            engine_options = dict(pool_size=10)
            engine_options.update(settings.EXTRA_ENGINE_OPTIONS)
            engine = create_engine(settings.DATABASE_URL, **engine_options)
        """,
        reason="engine_options is changed or passed on at line 4",
    ),
    Keep(
        name="options from a parameter",
        code="""
            from sqlalchemy.ext.asyncio import create_async_engine

            def build_engine(url: str, **options):
                return create_async_engine(url, **options)
        """,
        reason="options is a parameter",
    ),
    Keep(
        name="already enabled beside **kwargs: nothing to say",
        code="""
            from sqlalchemy.ext.asyncio import create_async_engine

            def build(url, **kwargs):
                return create_async_engine(url, pool_pre_ping=True, **kwargs)
        """,
        reason=None,
    ),
    Keep(
        name="already enabled",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, pool_pre_ping=True)
        """,
    ),
    Keep(
        name="NullPool keeps no pool",
        code="""
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool
            engine = create_engine(url, poolclass=NullPool)
        """,
        reason="NullPool",
    ),
    Keep(
        name="sqlite URL literal",
        code="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine("sqlite+aiosqlite:///./app.db")
        """,
        reason="sqlite",
    ),
    Keep(
        name="not SQLAlchemy's create_engine",
        code="""
            from mylib import create_engine
            engine = create_engine(url)
        """,
    ),
    Keep(
        name="value not a literal",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, pool_pre_ping=settings.pre_ping)
        """,
        reason="not a literal",
    ),
    Keep(
        name="suppressed",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url)  # optimize: ignore[pool-pre-ping]
        """,
        reason="suppressed",
    ),
]
PoolPrePing.EXAMPLES = EXAMPLES
