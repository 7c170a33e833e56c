"""## What it does
Raises `max_overflow` to a target (default 20) where it is a literal below the target:
`create_engine(..., max_overflow=5)` / `create_async_engine(...)` keyword arguments, and
settings fields such as `max_overflow: int = 5`, `DB_MAX_OVERFLOW: int = 5` or
`max_overflow: int = Field(default=5)` in pydantic settings, dataclasses and plain classes.
An engine argument that reads a setting (`max_overflow=settings.database.max_overflow`) is
followed to the field that defines it, which is rewritten in its own file.

## Why is this bad?
`max_overflow` is how many connections a pool may open beyond `pool_size` under a burst.
With a small value, concurrent requests beyond `pool_size + max_overflow` wait for a
connection (and fail after `pool_timeout`, 30 s by default) even though the database could
serve them: latency spikes and timeouts under load, with an idle database.

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
Unsafe: more connections per process can exceed the database's `max_connections` when many
workers run. Each change's rationale states the resulting `pool_size + max_overflow` per
process so a reviewer can multiply by the number of workers. A value is never lowered;
non-literal values are reported, not changed. SQLAlchemy raises `TypeError` when
`max_overflow` reaches a pool that has no overflow (`NullPool`, `StaticPool`,
`SingletonThreadPool`, `AssertionPool`, or a sqlite URL literal): such engines are never
changed. An engine without `max_overflow` keeps SQLAlchemy's default (10) and is reported.
"""

from __future__ import annotations

import re

import libcst as cst

from optimize.codemods.base import UNSAFE, Codemod, Keep, Rewrite
from optimize.codemods.engines import (
    ENGINE_FACTORIES,
    NO_OVERFLOW_POOLS,
    engine_skip_reason,
    keyword,
)

_FIELD = re.compile(r"^(?:[a-z0-9]+_)*max_overflow$", re.IGNORECASE)
_FIELD_FACTORIES = {"pydantic.Field", "pydantic.fields.Field", "dataclasses.field", "sqlmodel.Field"}
DEFAULT_POOL_SIZE = 5


def _int_literal(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value.replace("_", ""), 0)
    return None


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


class PoolOverflow(Codemod):
    ID = "pool-overflow"
    TITLE = "raise max_overflow so bursts do not queue for a connection"
    SAFETY = UNSAFE
    CONDITIONS = "literal below the target; engine keeps an overflowing pool (not Null/Static/SingletonThread, not sqlite)"
    DESCRIPTION = "Raise max_overflow to a target on engines and settings fields."
    TRIGGERS = (b"max_overflow", b"MAX_OVERFLOW", b"Max_Overflow")
    OPTIONS = {"target": 20}
    EFFECT = "bursts of up to pool_size + target concurrent requests no longer queue for a connection"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.target = int(self.options["target"])
        self._class_stack: list[cst.ClassDef] = []

    # --- engine calls ------------------------------------------------------------------

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not self.refers_to(original.func, ENGINE_FACTORIES):
            return updated
        arg = keyword(updated, "max_overflow")
        if arg is None:
            return updated
        if not self.allowed(original):
            return updated
        skip = engine_skip_reason(original, self, pools=NO_OVERFLOW_POOLS)
        if skip:
            self.refuse(original, f"skipped: {skip}")
            return updated
        value = _int_literal(arg.value)
        if value is None:
            self._follow_setting(original, arg.value)
            return updated
        if value >= self.target:
            return updated
        pool = keyword(updated, "pool_size")
        pool_size = _int_literal(pool.value) if pool is not None else DEFAULT_POOL_SIZE
        self.record(original, self._rationale(value, pool_size))
        new_arg = arg.with_changes(value=cst.Integer(str(self.target)))
        return updated.with_changes(args=[new_arg if a is arg else a for a in updated.args])

    def _follow_setting(self, call: cst.Call, value: cst.BaseExpression) -> None:
        """A non-literal: say which field will be rewritten, or why none can be."""
        chain = _dotted(value)
        if chain is None:
            self.refuse(call, "skipped: max_overflow is computed, not a literal or a settings field")
            return
        name = chain.rsplit(".", 1)[-1]
        fields = [f for f in self.index.settings_fields if f.name == name]
        if len(fields) == 1 and isinstance(fields[0].value, int):
            return  # the field itself is rewritten where it is defined
        where = "no" if not fields else "more than one"
        self.refuse(call, f"skipped: max_overflow={chain}: {where} field named {name!r} with a literal value in the repository")

    # --- settings fields -----------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._class_stack.append(node)

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        self._class_stack.pop()
        return updated

    def leave_AnnAssign(self, original: cst.AnnAssign, updated: cst.AnnAssign) -> cst.AnnAssign:
        if not self._in_class_body(original) or not isinstance(original.target, cst.Name):
            return updated
        if original.value is None:
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

    def _in_class_body(self, node: cst.CSTNode) -> bool:
        if not self._class_stack:
            return False
        statement = self.enclosing_statement(node)
        parent = self.get_metadata_parent(statement)
        return parent is not None and self.get_metadata_parent(parent) is self._class_stack[-1]

    def _at_module_level(self, node: cst.CSTNode) -> bool:
        statement = self.enclosing_statement(node)
        return isinstance(self.get_metadata_parent(statement), cst.Module)

    def get_metadata_parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        from libcst.metadata import ParentNodeProvider

        return self.get_metadata(ParentNodeProvider, node, None)

    def _raised(self, node: cst.CSTNode, name: str, value: cst.BaseExpression) -> cst.BaseExpression | None:
        if not _FIELD.match(name):
            return None
        literal, replace = self._field_default(value)
        if literal is None:
            if self.allowed(node):
                self.refuse(node, f"skipped: {name} is not a literal integer")
            return None
        if literal >= self.target or not self.allowed(node):
            return None
        pool_size = self._sibling_pool_size(name)
        self.record(node, f"{name} {literal} -> {self.target}: " + self._rationale(literal, pool_size).split(": ", 1)[1])
        return replace(cst.Integer(str(self.target)))

    def _field_default(self, value: cst.BaseExpression):
        literal = _int_literal(value)
        if literal is not None:
            return literal, lambda new: new
        if isinstance(value, cst.Call) and self.refers_to(value.func, _FIELD_FACTORIES):
            default = keyword(value, "default")
            if default is None:
                positional = [a for a in value.args if a.keyword is None and not a.star]
                default = positional[0] if positional else None
            if default is not None:
                literal = _int_literal(default.value)
                if literal is not None:
                    def replace(new, call=value, arg=default):
                        return call.with_changes(
                            args=[arg.with_changes(value=new) if a is arg else a for a in call.args]
                        )
                    return literal, replace
        return None, None

    def _sibling_pool_size(self, name: str) -> int | None:
        """`pool_size` declared next to the field (same prefix), for the rationale."""
        prefix = name[: -len("max_overflow")]
        wanted = (prefix + "pool_size").lower()
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
                    literal, _ = self._field_default(value)
                    return literal
        return None

    def _rationale(self, old: int, pool_size: int | None) -> str:
        if pool_size is None:
            total = f"pool_size + {self.target} connections per process"
        else:
            total = f"up to {pool_size} + {self.target} = {pool_size + self.target} connections per process"
        return (
            f"max_overflow {old} -> {self.target}: {total}; "
            "check the database's max_connections against the number of workers"
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
        name="pydantic settings field",
        before="""
            from pydantic_settings import BaseSettings

            class DatabaseSettings(BaseSettings):
                pool_size: int = 10
                max_overflow: int = 5
        """,
        after="""
            from pydantic_settings import BaseSettings

            class DatabaseSettings(BaseSettings):
                pool_size: int = 10
                max_overflow: int = 20
        """,
    ),
    Rewrite(
        name="upper-case field with a prefix, Field(default=...)",
        before="""
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DB_POOL_SIZE: int = 5
                DB_MAX_OVERFLOW: int = Field(default=2, description="burst connections")
        """,
        after="""
            from pydantic import Field
            from pydantic_settings import BaseSettings

            class Settings(BaseSettings):
                DB_POOL_SIZE: int = 5
                DB_MAX_OVERFLOW: int = Field(default=20, description="burst connections")
        """,
    ),
    Rewrite(
        name="dataclass field and module constant",
        before="""
            from dataclasses import dataclass

            DB_MAX_OVERFLOW = 0

            @dataclass
            class PoolConfig:
                max_overflow: int = 10
        """,
        after="""
            from dataclasses import dataclass

            DB_MAX_OVERFLOW = 20

            @dataclass
            class PoolConfig:
                max_overflow: int = 20
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
    Keep(
        name="never lowered",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, max_overflow=50)

            class Settings:
                max_overflow: int = 30
        """,
    ),
    Keep(
        name="NullPool has no overflow",
        code="""
            from sqlalchemy import create_engine
            from sqlalchemy.pool import NullPool
            engine = create_engine(url, poolclass=NullPool, max_overflow=5)
        """,
        reason="NullPool",
    ),
    Keep(
        name="sqlite URL",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine("sqlite:///app.db", max_overflow=5)
        """,
        reason="sqlite",
    ),
    Keep(
        name="field from the environment is not a literal",
        code="""
            import os

            class Settings:
                max_overflow: int = int(os.environ.get("MAX_OVERFLOW", "5"))
        """,
        reason="not a literal",
    ),
    Keep(
        name="engine argument from a setting that is not in the repository",
        code="""
            from sqlalchemy import create_engine
            engine = create_engine(url, max_overflow=config.pool.max_overflow)
        """,
        reason="no field named 'max_overflow'",
    ),
    Keep(
        name="engine argument from a setting: the field is rewritten in its own module",
        code="""
            from sqlalchemy import create_engine
            from app.config import settings
            engine = create_engine(settings.database.url, max_overflow=settings.database.max_overflow)
        """,
        files={
            "app/config.py": """
                from pydantic_settings import BaseSettings

                class DatabaseSettings(BaseSettings):
                    max_overflow: int = 5
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
]
PoolOverflow.EXAMPLES = EXAMPLES
