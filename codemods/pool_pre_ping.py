"""## What it does
Sets `pool_pre_ping=True` on every `create_engine` / `create_async_engine` call: a
`pool_pre_ping=False` is flipped, a missing argument is added in the call's own style.

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
A `pool_pre_ping` whose value is not a literal is reported, not changed.
"""

from __future__ import annotations

import libcst as cst

from optimize.codemods.base import Codemod, Keep, Rewrite
from optimize.codemods.engines import (
    ENGINE_FACTORIES,
    add_keyword,
    engine_skip_reason,
    keyword,
)


class PoolPrePing(Codemod):
    ID = "pool-pre-ping"
    TITLE = "enable pool_pre_ping on database engines"
    CONDITIONS = "engine keeps a pool (not NullPool/StaticPool, not a sqlite URL)"
    DESCRIPTION = "Set pool_pre_ping=True on create_engine/create_async_engine calls."
    TRIGGERS = (b"create_engine", b"create_async_engine")

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.refers_to(original.func, ENGINE_FACTORIES):
            return updated
        if not self.allowed(original):
            return updated
        skip = engine_skip_reason(original, self)
        if skip:
            self.refuse(original, f"skipped: {skip}")
            return updated
        arg = keyword(updated, "pool_pre_ping")
        if arg is None:
            self.record(original, "added pool_pre_ping=True: stale pooled connections are replaced on checkout")
            return add_keyword(updated, "pool_pre_ping", cst.Name("True"))
        if isinstance(arg.value, cst.Name) and arg.value.value == "True":
            return updated
        if isinstance(arg.value, cst.Name) and arg.value.value == "False":
            self.record(original, "pool_pre_ping=False flipped to True: stale pooled connections are replaced on checkout")
            new_arg = arg.with_changes(value=cst.Name("True"), comma=_fix_comment(arg.comma))
            return updated.with_changes(
                args=[new_arg if a is arg else a for a in updated.args]
            )
        self.refuse(original, "skipped: pool_pre_ping is set to a value that is not a literal")
        return updated


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
