"""## What it does
Raises `max_overflow` to the target (default 20) where it is a literal below the target:
- engine keyword arguments: `create_engine(..., max_overflow=5)`,
  `create_async_engine(..., max_overflow=5)` (resolved through imports and aliases,
  SQLModel's `from sqlmodel import create_engine` included, as for `pool-pre-ping`);
- settings fields: `max_overflow: int = 5`, `DB_MAX_OVERFLOW: int = 5`,
  `db_max_overflow = 5`, `max_overflow: int = Field(default=5)` in pydantic settings,
  dataclasses and plain classes, and module-level constants such as `DB_MAX_OVERFLOW = 5`.

An engine call without `max_overflow` (SQLAlchemy's default is 10) gets
`max_overflow=<target>` in the call's own layout when its URL is a non-sqlite literal, in the
call or in a name bound to it once, at the top of the call's own scope, before it
(`SQLALCHEMY_DATABASE_URL = "postgresql://..."` then `create_engine(SQLALCHEMY_DATABASE_URL)`);
with a URL known only at run time it is reported instead (an in-memory sqlite URL, common in
test settings, rejects `max_overflow` with `TypeError`; a module-level name that a function
reads may be patched before it runs, so it counts as known only then). An engine argument that reads a setting
(`max_overflow=settings.database.max_overflow`) is followed through the repository index
(`analyzers/settings_lookup.py`): `settings` is an import or module-level name bound to
`Settings()` or to `get_settings()` (a function that builds exactly one settings class),
`Settings.database` is annotated `DatabaseSettings`, and `DatabaseSettings.max_overflow`
is the field. The engine module is left as it is and the field is rewritten in its own
file. Values are never lowered.

Options splatted from a literal dict are read as `pool-pre-ping` reads them (bound once at
the top of the module or function, before the call, only ever read; see its page): a dict
without `max_overflow` gets `max_overflow=<target>` added next to `**opts` when the URL is a
non-sqlite literal; a dict value that reads a settings field is followed to the field, which
is rewritten in its own file; a literal below the target in the dict is reported
("max_overflow=5 in the dict engine_options (line 2) is below 20; raise it there"), not
edited; a computed one is reported with its expression.

## Why is this bad?
`max_overflow` is how many connections a pool may open beyond `pool_size` during a burst.
Requests beyond `pool_size + max_overflow` wait for a connection, then fail after
`pool_timeout` (30 s by default), while the database is idle.

## Example
```python
class DatabaseSettings(BaseSettings):
    pool_size: int = 10
    max_overflow: int = 5
```

## Use instead
```python
class DatabaseSettings(BaseSettings):
    pool_size: int = 10
    max_overflow: int = 20
```

## Fix safety
Unsafe: more connections per process can exceed the database's `max_connections` when
several workers or replicas run. Each change's rationale (in the commit body) states the
resulting `pool_size + max_overflow` per process, e.g. "max_overflow 5 -> 20: up to 10 + 20
= 30 connections per process; check the database's max_connections against workers x 30".
`pool_size` is read from the call (a literal, or a settings field the index resolves), from
the field next to a settings field, or SQLAlchemy's default of 5. A settings field is a
default: a deployment that sets the value through the environment keeps its own value.

## Preconditions
- The value is an integer literal below the target (directly, or as `Field(default=...)` /
  `Field(...)`), or absent from an engine call.
- For engine calls: the call resolves to SQLAlchemy's `create_engine`/`create_async_engine`,
  and the engine has an overflowing pool: not `poolclass=NullPool`, `StaticPool`,
  `SingletonThreadPool` or `AssertionPool` (SQLAlchemy raises `TypeError` for
  `max_overflow` there, as it does for an in-memory sqlite URL: pinned in
  `tests/codemods/test_pool_overflow.py`), not a `sqlite` URL literal (a file sqlite URL
  accepts the argument but has no server connections to overflow), no `**` options it
  cannot read (a parameter, an attribute, a dict that is changed or bound more than once).
- For fields: the name is `max_overflow`, optionally with a prefix (`DB_MAX_OVERFLOW`,
  `db_max_overflow`), in a class body or at module level.
- A field is raised even if a pool-less engine reads it: such an engine already raises
  `TypeError` at creation whatever the value, so the rewrite cannot break a working one.
- The limit does not look chosen: not `max_overflow=0` (no overflow connection at all: a
  single connection, or a pooler in front), not under or beside a comment about connection
  limits (`pgbouncer`, `max_connections`, "too many connections", "do not raise", "keep it
  low"), and not an engine in a script, a migration (`migrations/`, `alembic/`) or a test
  (`tests/`, `test_*.py`, `conftest.py`), whose pool serves that one job.

## What it refuses
```python
engine = create_engine(url, max_overflow=config.pool.max_overflow)
```
`skipped: max_overflow=config.pool.max_overflow: cannot resolve the setting (config is not a
module-level name or import)`. Also refused, with the reason: pool-less engines (the pool
named, with SQLAlchemy's `TypeError`), sqlite URL literals, `**` options it cannot read (the
reason says why), a literal below the target in a splatted dict, a setting chain that
resolves to a computed field (`int(os.environ["X"])`), computed fields themselves, and
`# optimize: ignore[pool-overflow]`. Left alone silently: values at or above the target.

## Options
```toml
[tool.optimize.pool-overflow]
target = 20   # the value to raise to: 11 to 10000 (10 or less would lower SQLAlchemy's default)
```
"""

from __future__ import annotations

import re

import libcst as cst
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.engine_options import OPTIONS_METADATA, EngineOptions, Option, code, read_options
from optimize.analyzers.engines import ENGINE_FACTORIES, NO_OVERFLOW_POOLS, engine_skip_reason, keyword, url_literal
from optimize.analyzers.roles import file_role
from optimize.analyzers.settings_lookup import resolve_setting
from optimize.codemods.base import UNSAFE, Codemod, Keep, Rewrite, dotted_chain
from optimize.codemods.engines import add_keyword
from optimize.codemods.options import int_between

# `max_overflow`, `DB_MAX_OVERFLOW`, `db_max_overflow`, but not `max_overflowing_items`.
_FIELD = re.compile(r"^(?:[a-z0-9]+_)*max_overflow$", re.IGNORECASE)
_FIELD_FACTORIES = {"pydantic.Field", "pydantic.fields.Field", "dataclasses.field", "sqlmodel.Field"}
DEFAULT_POOL_SIZE = 5  # SQLAlchemy's QueuePool default
DEFAULT_MAX_OVERFLOW = 10


# A comment that says the limit is deliberate.
_LIMIT_COMMENT = re.compile(
    r"pgbouncer|pgpool|max_connections|connection limit|too many connections|exhaust"
    r"|do not (raise|increase)|don'?t (raise|increase)|keep (it )?(low|small)",
    re.IGNORECASE,
)


def _not_serving(path: str) -> str | None:
    """'a script', 'a migration', 'a test' when ``path`` is one."""
    role = file_role(path)
    return None if role is None else f"a {role}"


def _int_literal(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return None


class PoolOverflow(Codemod):
    ID = "pool-overflow"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_pool_overflow.py",
        "tests/codemods/test_engine_claims.py",
        "tests/codemods/test_engine_options.py",
    )
    TITLE = "raise max_overflow so bursts do not queue for a connection"
    SAFETY = UNSAFE
    CONDITIONS = "literal below the target, never lowered; engine keeps an overflowing pool (not Null/Static/SingletonThreadPool, not sqlite)"
    DESCRIPTION = "Raise max_overflow to a target on engines and settings fields."
    TRIGGERS = (b"max_overflow", b"MAX_OVERFLOW", b"create_engine", b"create_async_engine")
    OPTIONS = {"target": 20}
    # An engine without max_overflow gets `max_overflow=<target>`: a target at or below
    # SQLAlchemy's default would lower it. Above the upper bound no database serves the
    # connections, so the value is a slip rather than a setting.
    OPTION_CHECKS = {
        "target": int_between(
            DEFAULT_MAX_OVERFLOW + 1, 10_000, f" (above SQLAlchemy's default of {DEFAULT_MAX_OVERFLOW})"
        ),
    }
    EFFECT = "bursts of up to pool_size + target concurrent requests no longer queue for a connection"
    METADATA_DEPENDENCIES = (*Codemod.METADATA_DEPENDENCIES, *OPTIONS_METADATA)

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """An engine call, or a `max_overflow` field or module setting, in the facts."""
        facts = index.facts.get(path)
        return cls.applies(source, index) and (
            facts is None or facts.engine_calls > 0 or any(_FIELD.match(n) for n in facts.assigned_names)
        )

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """The engine calls, when the file has no `max_overflow` setting (a setting's edit
        is in its class or module, which the whole module shows)."""
        facts = index.facts.get(path)
        if facts is None or any(_FIELD.match(n) for n in facts.assigned_names):
            return None
        return frozenset(facts.engine_call_lines)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = int(self.options["target"])
        self._class_stack: list[cst.ClassDef] = []

    # --- engine calls ------------------------------------------------------------------

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.refers_to(original.func, ENGINE_FACTORIES):
            return updated
        place = _not_serving(self.path)
        if place is not None:
            self.refuse(original, f"skipped: an engine in {place}: its pool is sized for that one job")
            return updated
        options = read_options(original, self)
        skip = engine_skip_reason(original, self, pools=NO_OVERFLOW_POOLS, options=options)
        if skip:
            if "poolclass=" in skip:
                skip += " (SQLAlchemy raises TypeError on max_overflow there)"
            self.refuse(original, f"skipped: {skip}")
            return updated
        pool_size = self._engine_pool_size(options)
        option = options.get("max_overflow")
        if option is None:
            if url_literal(original, options, self) is None:
                # A URL known only at run time may be an in-memory sqlite one (test suites
                # often use it), whose pool rejects max_overflow with TypeError.
                self.refuse(
                    original,
                    f"skipped: max_overflow is not set (SQLAlchemy default {DEFAULT_MAX_OVERFLOW}) and the URL "
                    "is not a literal: adding it would raise TypeError if the URL is ever in-memory sqlite",
                )
                return updated
            # A keyword next to `**opts` raises "got multiple values" only when the dict
            # has it too, and `read_options` proved it does not.
            lacking = "".join(f"; {name} does not set it" for name in options.splatted)
            if not self.record(
                original,
                f"added max_overflow={self.target} (SQLAlchemy default {DEFAULT_MAX_OVERFLOW}{lacking}): "
                + self._budget(pool_size),
            ):
                return updated
            return add_keyword(updated, "max_overflow", cst.Integer(str(self.target)))
        value = _int_literal(option.value)
        if value is None:
            self._follow_setting(original, option)
            return updated
        if value >= self.target:
            return updated
        chosen = self._chosen_on_purpose(option.value, value)
        if chosen is not None:
            self.refuse(original, f"skipped: max_overflow={value}{option.where()} {chosen}")
            return updated
        if not option.in_call:
            self.refuse(
                original,
                f"skipped: max_overflow={value}{option.where()} is below {self.target}; raise it there",
            )
            return updated
        if not self.record(original, f"max_overflow {value} -> {self.target}: " + self._budget(pool_size)):
            return updated
        arg = keyword(updated, "max_overflow")
        assert arg is not None  # the keyword `read_options` found
        new_arg = arg.with_changes(value=cst.Integer(str(self.target)))
        return updated.with_changes(args=[new_arg if a is arg else a for a in updated.args])

    def _engine_pool_size(self, options: EngineOptions) -> int | None:
        """The engine's pool_size: a literal, a settings field with a literal, or the default."""
        pool = options.get("pool_size")
        if pool is None:
            return DEFAULT_POOL_SIZE
        literal = _int_literal(pool.value)
        if literal is not None:
            return literal
        chain = dotted_chain(pool.value)
        found = resolve_setting(self.index, self.path, chain, self.module.code).field if chain and "." in chain else None
        return found.value if found is not None and isinstance(found.value, int) else None

    def _follow_setting(self, call: cst.Call, option: Option) -> None:
        """A non-literal value: the field it reads is rewritten where it is defined, so
        nothing is said when that field is found; otherwise the reason is reported."""
        chain = dotted_chain(option.value)
        where = option.where()
        if chain is None:
            self.refuse(
                call,
                f"skipped: max_overflow={code(option.value)}{where} is computed, not a literal or a settings field",
            )
            return
        if "." not in chain:
            if not _FIELD.match(chain):
                self.refuse(call, f"skipped: max_overflow={chain}{where} is not a literal")
            return  # a `*_MAX_OVERFLOW` constant is rewritten where it is assigned
        found = resolve_setting(self.index, self.path, chain, self.module.code)
        if found.field is None:
            self.refuse(call, f"skipped: max_overflow={chain}{where}: cannot resolve the setting ({found.reason})")
        elif not found.field.has_literal:
            self.refuse(
                call,
                f"skipped: max_overflow={chain}{where} reads {found.field.cls}.{found.field.name}, "
                "which is not a literal",
            )

    # --- settings fields -----------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_stack.append(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self._class_stack.pop()
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        if original.value is None or not isinstance(original.target, cst.Name):
            return updated
        if not (self._in_class_body(original) or self._at_module_level(original)):
            return updated
        new_value = self._raised(original, original.target.value, original.value)
        return updated if new_value is None else updated.with_changes(value=new_value)

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        if len(original.targets) != 1 or not isinstance(original.targets[0].target, cst.Name):
            return updated
        if not (self._in_class_body(original) or self._at_module_level(original)):
            return updated
        new_value = self._raised(original, original.targets[0].target.value, original.value)
        return updated if new_value is None else updated.with_changes(value=new_value)

    def _parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.get_metadata(ParentNodeProvider, node, None)

    def _in_class_body(self, node: cst.CSTNode) -> bool:
        if not self._class_stack:
            return False
        parent = self._parent(self.enclosing_statement(node))
        return parent is not None and self._parent(parent) is self._class_stack[-1]

    def _at_module_level(self, node: cst.CSTNode) -> bool:
        return isinstance(self._parent(self.enclosing_statement(node)), cst.Module)

    def _raised(self, node: cst.CSTNode, name: str, value: cst.BaseExpression) -> cst.BaseExpression | None:
        if not _FIELD.match(name):
            return None
        owner = f"{self._class_stack[-1].name.value}.{name}" if self._in_class_body(node) else name
        literal, replace = self._field_default(value)
        if literal is None:
            self.refuse(node, f"skipped: {owner} is not a literal integer")
            return None
        if literal >= self.target:
            return None
        chosen = self._chosen_on_purpose(node, literal)
        if chosen is not None:
            self.refuse(node, f"skipped: {owner}={literal} {chosen}")
            return None
        # An engine that must not get overflow (NullPool, sqlite memory) and reads this
        # field already fails at creation with any value: raising it breaks nothing there.
        if not self.record(node, f"{owner} {literal} -> {self.target}: " + self._budget(self._sibling_pool_size(name))):
            return None
        return replace(cst.Integer(str(self.target)))

    def _field_default(self, value: cst.BaseExpression):
        """(literal, rebuild) for `5` and `Field(default=5)` / `Field(5)`; (None, None) else."""
        literal = _int_literal(value)
        if literal is not None:
            return literal, lambda new: new
        if isinstance(value, cst.Call) and self.refers_to(value.func, _FIELD_FACTORIES):
            default = keyword(value, "default")
            if default is None:
                positional = [a for a in value.args if a.keyword is None and not a.star]
                default = positional[0] if positional else None
            literal = None if default is None else _int_literal(default.value)
            if literal is not None:
                def replace(new, call=value, arg=default):
                    return call.with_changes(
                        args=[arg.with_changes(value=new) if a is arg else a for a in call.args]
                    )
                return literal, replace
        return None, None

    def _sibling_pool_size(self, name: str) -> int | None:
        """`pool_size` declared next to the field (same prefix), for the rationale."""
        wanted = (name[: -len("max_overflow")] + "pool_size").lower()
        scope = self._class_stack[-1].body.body if self._class_stack else self.module.body
        for statement in scope:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                target = value = None
                if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    target, value = small.target.value, small.value
                elif isinstance(small, cst.Assign) and isinstance(small.targets[0].target, cst.Name):
                    target, value = small.targets[0].target.value, small.value
                if target and target.lower() == wanted and value is not None:
                    return self._field_default(value)[0]
        return DEFAULT_POOL_SIZE if self._class_stack else None

    def _chosen_on_purpose(self, node: cst.CSTNode | None, value: int) -> str | None:
        """Why a low limit looks deliberate: 0 (no overflow at all), or a comment on the
        lines just above or beside ``node`` about connection limits."""
        if value == 0:
            return "allows no overflow connection at all, which is a choice (a single connection, pgbouncer)"
        if node is None:
            return None
        line = self.line_of(node)
        lines = self._source_lines or []
        for number in range(max(1, line - 3), min(len(lines), line) + 1):
            text = lines[number - 1]
            comment = text[text.index("#"):] if "#" in text else ""
            if _LIMIT_COMMENT.search(comment):
                return f"sits under a comment about connection limits ({comment.strip()[:80]}): not ours to raise"
        return None

    def _budget(self, pool_size: int | None) -> str:
        if pool_size is None:
            return (
                f"up to pool_size + {self.target} connections per process; "
                f"check the database's max_connections against workers x (pool_size + {self.target})"
            )
        total = pool_size + self.target
        return (
            f"up to {pool_size} + {self.target} = {total} connections per process; "
            f"check the database's max_connections against workers x {total}"
        )


EXAMPLES = [
    Rewrite(
        name="engine keyword literal",
        before="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=5)
        """,
        after="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine(DATABASE_URL, pool_size=10, max_overflow=20)
        """,
    ),
    Rewrite(
        name="missing argument added in the call's layout",
        before="""
            import sqlalchemy as sa
            engine = sa.create_engine(
                "postgresql://db/app",
                pool_size=10,
            )
        """,
        after="""
            import sqlalchemy as sa
            engine = sa.create_engine(
                "postgresql://db/app",
                pool_size=10,
                max_overflow=20,
            )
        """,
    ),
    Rewrite(
        name="missing argument, the URL in a name bound just before",
        before="""
            from sqlalchemy import create_engine

            SQLALCHEMY_DATABASE_URL = "postgresql://app@db/app"
            engine = create_engine(SQLALCHEMY_DATABASE_URL, pool_size=10)
        """,
        after="""
            from sqlalchemy import create_engine

            SQLALCHEMY_DATABASE_URL = "postgresql://app@db/app"
            engine = create_engine(SQLALCHEMY_DATABASE_URL, pool_size=10, max_overflow=20)
        """,
    ),
    Keep(
        name="missing argument, the URL known only at run time",
        code="""
            import os
            from sqlalchemy import create_engine
            engine = create_engine(os.environ["DATABASE_URL"], pool_size=10)
        """,
        reason="the URL is not a literal",
    ),
    Keep(
        name="missing argument, the URL a module-level name a function reads (it may be patched first)",
        code="""
            from sqlalchemy import create_engine

            DATABASE_URL = "postgresql://app@db/app"

            def make_engine():
                return create_engine(DATABASE_URL, pool_size=10)
        """,
        reason="the URL is not a literal",
    ),
    Keep(
        name="missing argument, the URL in a name bound twice",
        code="""
            import os
            from sqlalchemy import create_engine

            DATABASE_URL = "postgresql://app@db/app"
            if os.environ.get("TESTING"):
                DATABASE_URL = "sqlite://"
            engine = create_engine(DATABASE_URL, pool_size=10)
        """,
        reason="the URL is not a literal",
    ),
    Keep(
        name="a sqlite URL in a name bound just before",
        code="""
            from sqlmodel import create_engine

            sqlite_file_name = "database.db"
            sqlite_url = f"sqlite:///{sqlite_file_name}"
            engine = create_engine(sqlite_url, echo=True)
        """,
        reason="sqlite URL: the engine keeps no server connection",
    ),
    Rewrite(
        name="seed: the settings field an engine reads, rewritten in its own module",
        before="""
            from pydantic import BaseModel
            from pydantic_settings import BaseSettings

            class DatabaseSettings(BaseModel):
                pool_size: int = 10
                max_overflow: int = 5

            class Settings(BaseSettings):
                database: DatabaseSettings = DatabaseSettings()

            settings = Settings()
        """,
        after="""
            from pydantic import BaseModel
            from pydantic_settings import BaseSettings

            class DatabaseSettings(BaseModel):
                pool_size: int = 10
                max_overflow: int = 20

            class Settings(BaseSettings):
                database: DatabaseSettings = DatabaseSettings()

            settings = Settings()
        """,
        files={
            "app/database.py": """
                from sqlalchemy.ext.asyncio import create_async_engine
                from app.example import settings

                engine = create_async_engine(
                    settings.database.url,
                    pool_size=settings.database.pool_size,
                    max_overflow=settings.database.max_overflow,
                )
            """,
        },
    ),
    Rewrite(
        name="upper-case field with a prefix, Field(default=...) and Field(...)",
        before="""
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DB_POOL_SIZE: int = 5
                DB_MAX_OVERFLOW: int = Field(default=2, description="burst connections")
                REPLICA_MAX_OVERFLOW: int = Field(5)
        """,
        after="""
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DB_POOL_SIZE: int = 5
                DB_MAX_OVERFLOW: int = Field(default=20, description="burst connections")
                REPLICA_MAX_OVERFLOW: int = Field(20)
        """,
    ),
    Rewrite(
        name="dataclass field, plain class attribute and module constant",
        before="""
            from dataclasses import dataclass

            DB_MAX_OVERFLOW = 2

            @dataclass
            class PoolConfig:
                max_overflow: int = 10

            class Config:
                db_max_overflow = 5
        """,
        after="""
            from dataclasses import dataclass

            DB_MAX_OVERFLOW = 20

            @dataclass
            class PoolConfig:
                max_overflow: int = 20

            class Config:
                db_max_overflow = 20
        """,
    ),
    Rewrite(
        name="target option",
        options={"target": 40},
        before="""
            import sqlalchemy as sa
            engine = sa.create_engine("postgresql://db/app", max_overflow=20)
        """,
        after="""
            import sqlalchemy as sa
            engine = sa.create_engine("postgresql://db/app", max_overflow=40)
        """,
    ),
    Rewrite(
        name="SQLModel's create_engine",
        before="""
            from sqlmodel import SQLModel, create_engine
            engine = create_engine("postgresql+psycopg://app@db/app", max_overflow=2)
        """,
        after="""
            from sqlmodel import SQLModel, create_engine
            engine = create_engine("postgresql+psycopg://app@db/app", max_overflow=20)
        """,
    ),
    Rewrite(
        name="options from a module-level dict that does not set it",
        before="""
            from sqlmodel import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "pool_pre_ping": True}

            engine = create_engine("postgresql+psycopg://app@db/app", **ENGINE_OPTIONS)
        """,
        after="""
            from sqlmodel import create_engine

            ENGINE_OPTIONS = {"pool_size": 10, "pool_pre_ping": True}

            engine = create_engine("postgresql+psycopg://app@db/app", **ENGINE_OPTIONS, max_overflow=20)
        """,
    ),
    Rewrite(
        name="options from dict(...) in the factory function",
        before="""
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

            def build_engine() -> AsyncEngine:
                options = dict(pool_size=8, pool_recycle=1800)
                return create_async_engine("postgresql+asyncpg://app@db/app", **options)
        """,
        after="""
            from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

            def build_engine() -> AsyncEngine:
                options = dict(pool_size=8, pool_recycle=1800)
                return create_async_engine("postgresql+asyncpg://app@db/app", **options, max_overflow=20)
        """,
    ),
    Keep(
        name="the dict sets it to a literal below the target",
        code="""
            from sqlalchemy import create_engine
            engine_options = {"pool_size": 10, "max_overflow": 5}
            engine = create_engine("postgresql://app@db/app", **engine_options)
        """,
        reason="max_overflow=5 in the dict engine_options (line 2) is below 20",
    ),
    Keep(
        name="the dict sets it from a computed value",
        code="""
            import os
            from sqlalchemy import create_engine
            engine_options = {"max_overflow": int(os.environ["DB_MAX_OVERFLOW"])}
            engine = create_engine("postgresql://app@db/app", **engine_options)
        """,
        reason="max_overflow=int(os.environ[\"DB_MAX_OVERFLOW\"]) in the dict engine_options (line 3) is computed",
    ),
    Keep(
        name="the dict is changed before the engine is made",
        code="""
            from sqlalchemy import create_engine
            engine_options = {"pool_size": 10}
            engine_options |= settings.EXTRA_ENGINE_OPTIONS
            engine = create_engine("postgresql://app@db/app", **engine_options)
        """,
        reason="engine_options is bound more than once",
    ),
    Keep(
        name="max_overflow=0 is a choice: one connection, no overflow",
        code="""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql://app@db/app", pool_size=1, max_overflow=0)
        """,
        reason="allows no overflow connection at all",
    ),
    Keep(
        name="a limit under a comment about pgbouncer",
        code="""
            from sqlalchemy import create_engine

            engine = create_engine(
                "postgresql://app@db/app",
                pool_size=5,
                # pgbouncer gives this service 10 client connections: do not raise
                max_overflow=5,
            )
        """,
        reason="sits under a comment about connection limits",
    ),
    Keep(
        name="never lowered",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, max_overflow=30)

            class Settings:
                max_overflow: int = 50
        """,
    ),
    Keep(
        name="NullPool has no overflow",
        code="""
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool
            engine = create_engine(url, poolclass=NullPool)
        """,
        reason="NullPool",
    ),
    Keep(
        name="sqlite URL",
        code="""
            from sqlalchemy.ext.asyncio import create_async_engine
            engine = create_async_engine("sqlite+aiosqlite:///app.db", max_overflow=5)
        """,
        reason="sqlite",
    ),
    Keep(
        name="field from the environment is not a literal",
        code="""
            import os

            class Settings:
                max_overflow: int = int(os.environ["MAX_OVERFLOW"])
        """,
        reason="not a literal",
    ),
    Keep(
        name="engine argument from a setting the index cannot resolve",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, max_overflow=config.pool.max_overflow)
        """,
        reason="cannot resolve the setting",
    ),
    Keep(
        name="engine argument from a setting: the field is rewritten in its own module",
        code="""
            from sqlalchemy import create_engine
            from app.config import get_settings

            engine = create_engine(
                get_settings().database.url, max_overflow=get_settings().database.max_overflow
            )
        """,
        files={
            "app/config.py": """
                from functools import lru_cache
                from pydantic_settings import BaseSettings

                class DatabaseSettings(BaseSettings):
                    max_overflow: int = 5

                class Settings(BaseSettings):
                    database: DatabaseSettings = DatabaseSettings()

                @lru_cache
                def get_settings() -> Settings:
                    return Settings()
            """,
        },
    ),
    Keep(
        name="unrelated names",
        code="""
            class Queue:
                overflow: int = 5
                max_overflowing_items = 3
        """,
    ),
    Keep(
        name="suppressed",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, max_overflow=5)  # optimize: ignore[pool-overflow]
        """,
        reason="suppressed",
    ),
]
PoolOverflow.EXAMPLES = EXAMPLES
