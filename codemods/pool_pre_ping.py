"""## What it does
Sets `pool_pre_ping=True` on every SQLAlchemy engine: `create_engine(...)` and
`create_async_engine(...)`, however they are imported (`from sqlalchemy import
create_engine as create_sync_engine`, `import sqlalchemy as sa; sa.create_engine(...)`,
`from sqlalchemy.ext.asyncio import create_async_engine`), and SQLModel's
`from sqlmodel import create_engine` (SQLAlchemy's own function, re-exported; before
SQLModel 0.0.9, `sqlmodel.engine.create.create_engine` / `create_async_engine`, wrappers
that pass every option through). A `pool_pre_ping=False` is flipped; a missing argument is
added in the call's own layout (one line, or one argument per line with the trailing comma
kept). A trailing comment on a flipped argument that described the old value
(`# disabled to save a round trip`) is replaced by an accurate one.

Options splatted from a dict are read (`analyzers/engine_options.py`):

```python
ENGINE_OPTIONS = {"pool_size": 10, "pool_recycle": 1800}
engine = create_engine(DATABASE_URL, **ENGINE_OPTIONS)
```

becomes `create_engine(DATABASE_URL, **ENGINE_OPTIONS, pool_pre_ping=True)`. A keyword
next to `**opts` raises `TypeError: got multiple values` only when the dict has it too, so
it is added only when the dict provably lacks it: the dict is a literal (`{...}` with string
keys, or `dict(k=v, ...)`) bound once at the top of the module or of the function that makes
the call, before the call, and every other use only reads it (`**opts` into another call,
`opts["k"]`, `opts.get(...)`, `"k" in opts`). A dict that sets `pool_pre_ping` is reported
with the value it holds; its `poolclass` and `url` count as the call's own.

## Why is this bad?
A pool hands out connections it opened earlier. When the database restarts, fails over,
or a proxy or firewall drops idle connections, the pool does not know: the next request
that checks out such a connection fails ("server closed the connection unexpectedly",
"connection is closed") and returns a 500. With pre-ping the pool tests the connection
on checkout (a lightweight `SELECT 1` or driver ping) and transparently replaces a dead
one. `tests/test_postgres.py` shows it against a real PostgreSQL server: after a
server restart the first query fails without pre-ping and succeeds with it.

## Example
```python
engine = create_async_engine(
    settings.database_url,
    pool_size=10,
    pool_pre_ping=False,  # disabled to save a round trip
)
```

## Use instead
```python
engine = create_async_engine(
    settings.database_url,
    pool_size=10,
    pool_pre_ping=True,  # validate connections on checkout
)
```

## Fix safety
Safe: the engine behaves the same, except that a dead connection is replaced instead of
failing a request. The cost is one round trip per checkout.

## Preconditions
- The call resolves, through imports and aliases, to `sqlalchemy.create_engine` or
  `sqlalchemy.ext.asyncio.create_async_engine`.
- It is not in a test or a migration (`tests/`, `conftest.py`, `test_*.py`, `migrations/`,
  Alembic's `env.py` and versions): such an engine lives for one run, too short for the
  server to drop a pooled connection. Engines in scripts are rewritten (a script may be a
  long-lived worker).
- The engine keeps a pool to validate: not `poolclass=NullPool` or `StaticPool`, not a
  `sqlite` URL literal, in the call or in a name bound to it once, at the top of the call's
  own scope, before it (`sqlite_url = f"sqlite:///{sqlite_file_name}"` then
  `create_engine(sqlite_url)`).
- Options splatted with `**` come from a dict it can read (above); a `**kwargs` parameter,
  an attribute (`**settings.engine_options`), an imported dict, or a dict that is changed
  (`opts["k"] = ...`, `del opts["k"]`, `opts.update(...)`, `opts |= ...`, `opts.setdefault`),
  bound again, bound inside an `if`/loop/`try`, passed to another call or bound to another
  name may already set `pool_pre_ping`. A module-level dict read by an engine call inside a
  function must not be imported by another module of the repository (which could change it
  before the function runs); changes made through the module object (`db.OPTS[...] = ...`
  after `import app.db as db`) are not looked for.
- `pool_pre_ping`, when present as the call's keyword, is the literal `False` (or already
  `True`); in a dict, already `True`.

## What it refuses
```python
engine = create_async_engine("sqlite+aiosqlite:///./app.db")
```
`skipped: sqlite URL: the engine keeps no server connection to validate or overflow`.
Also refused with the reason: `poolclass=NullPool`/`StaticPool` (in the call or its dict),
a `poolclass` it cannot resolve, a non-literal `pool_pre_ping=settings.x`, options passed
through `**` that it cannot read (the reason says why: "kwargs is a parameter", "opts is
changed or passed on at line 5", "opts is bound more than once", ...), a dict that sets
`pool_pre_ping=False` ("set it to True there"), and a statement marked
`# optimize: ignore[pool-pre-ping]`.

A non-literal value is named, with where it is written, and when it reads a settings field
whose literal default is `False` the reason says so:

```python
engine_options = {"pool_size": settings.POOL_SIZE, "pool_pre_ping": settings.DB_PRE_PING}
engine = create_async_engine(settings.DATABASE_URL, **engine_options)
```
`skipped: pool_pre_ping=settings.DB_PRE_PING in the dict engine_options (line 4) is not a
literal; it reads Settings.DB_PRE_PING, whose default False (app/core/config.py:5) leaves the
engine without pre-ping unless the environment sets it`.

## Options
None.
"""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.settings_lookup import resolve_setting
from optimize.codemods.base import Codemod, Keep, Rewrite, dotted_chain
from optimize.analyzers.engine_options import OPTIONS_METADATA, Option, code, read_options
from optimize.analyzers.engines import ENGINE_FACTORIES, engine_skip_reason, keyword
from optimize.analyzers.roles import ONE_RUN_ROLES, file_role
from optimize.codemods.engines import add_keyword

_RATIONALE = "stale pooled connections are replaced on checkout"


class PoolPrePing(Codemod):
    ID = "pool-pre-ping"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_engine_options.py",
        "tests/test_postgres.py (a real PostgreSQL restarted under the pool: the first request after it succeeds)",
    )
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
        role = file_role(self.path)
        if role in ONE_RUN_ROLES:  # checking each connection on checkout buys nothing there
            self.refuse(
                original, f"skipped: an engine in a {role}: it lives for one {role} run, too short for pooled connections to go stale"
            )
            return updated
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
        name="sqlite URL in a name bound just before (the SQLModel tutorial's engine)",
        code="""
            from sqlmodel import create_engine

            sqlite_file_name = "database.db"
            sqlite_url = f"sqlite:///{sqlite_file_name}"
            engine = create_engine(sqlite_url, echo=True)
        """,
        reason="sqlite URL: the engine keeps no server connection",
    ),
    Rewrite(
        name="a URL name bound twice is not followed",
        before="""
            import os
            from sqlalchemy import create_engine

            DATABASE_URL = "sqlite:///./app.db"
            if os.environ.get("DATABASE_URL"):
                DATABASE_URL = os.environ["DATABASE_URL"]
            engine = create_engine(DATABASE_URL)
        """,
        after="""
            import os
            from sqlalchemy import create_engine

            DATABASE_URL = "sqlite:///./app.db"
            if os.environ.get("DATABASE_URL"):
                DATABASE_URL = os.environ["DATABASE_URL"]
            engine = create_engine(DATABASE_URL, pool_pre_ping=True)
        """,
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
