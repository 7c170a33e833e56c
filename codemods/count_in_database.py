"""## What it does
Fixes the [`count-via-len`](../checks/count-via-len.md) finding: `len(db.scalars(stmt).all())`
(or `db.execute(stmt)`, awaited or not, through `.unique()`) becomes
`db.scalar(select(func.count()).select_from(stmt.subquery()))`, and
`len(db.query(M)....all())` becomes `db.query(M)....count()`. `func` and `select` are
imported from `sqlalchemy`.

## Why is this bad?
Every row is sent and turned into an object only to be counted; `SELECT count(*)` returns
one number.

## Example
```python
open_count = len(db.scalars(select(Task).where(Task.done.is_(False))).all())
```

## Use instead
```python
open_count = db.scalar(select(func.count()).select_from(select(Task).where(Task.done.is_(False)).subquery()))
```

## Fix safety
The statement is counted as a subquery, so its criteria, joins, `DISTINCT`, `ORDER BY` and
`LIMIT` all still apply: the count is the number of rows `.all()` returned. Left alone,
with the reason: loader options (a joined eager load of a collection makes `.all()` return
each entity once where the subquery counts joined rows), `with_for_update`,
`execution_options`, parameters passed beside the statement, SQLModel's `exec`, and a module
whose `select` or `func` is not SQLAlchemy's. A list that is kept (`rows = ....all()`, then
`len(rows)`) is not touched: nothing is fetched twice.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from optimize.analyzers.values import read_source
from optimize.codemods.base import Codemod, Keep, Rewrite

_SELECTS = {"sqlalchemy.select", "sqlalchemy.sql.expression.select", "sqlalchemy.future.select"}
_FUNCS = {"sqlalchemy.func", "sqlalchemy.sql.func", "sqlalchemy.sql.functions.func"}
_UNSAFE_METHODS = {"options", "with_for_update", "execution_options"}


class CountInDatabase(Codemod):
    ID = "count-in-database"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_count_in_database_sqlalchemy.py (the counts equal the lengths on real SQLAlchemy)",
    )
    TITLE = "count rows in the database instead of fetching them to len()"
    CONDITIONS = "len() of a query's .all(); no loader options or with_for_update; select/func are SQLAlchemy's"
    DESCRIPTION = "Rewrite len(query.all()) to a SELECT count(*) of the same statement."
    TRIGGERS = (b"len(",)
    ALSO = (b".all()",)
    EFFECT = "one number instead of every row"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        facts = index.facts.get(path)
        return cls.applies(source, index) and facts is not None and any(
            s.kind == "len-all" for s in facts.queries.orm
        )

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        if not (isinstance(original.func, cst.Name) and original.func.value == "len" and len(original.args) == 1):
            return updated
        inner = original.args[0].value
        if not (
            isinstance(inner, cst.Call)
            and isinstance(inner.func, cst.Attribute)
            and inner.func.attr.value == "all"
            and not inner.args
            and "builtins.len" in self.qualified_names(original.func)
        ):
            return updated
        source = read_source(self, self.index, _source_expression(inner.func.value))
        if source is None:
            return updated
        statement = source.statement
        risky = sorted(set(statement.methods) & _UNSAFE_METHODS)
        if risky:
            self.refuse(original, f"skipped: the statement has .{risky[0]}(...): a count of its subquery may differ from len(.all())")
            return updated
        if source.method == "query":
            if not self.record(original, "len(query....all()) -> query....count(): the database counts the same rows"):
                return updated
            return cst.Call(func=cst.Attribute(value=statement.node, attr=cst.Name("count")))
        if source.method != "scalars" and source.method != "execute":
            self.refuse(original, f"skipped: {source.method}(...) results are not rewritten (SQLModel's exec has no scalar)")
            return updated
        if not self._binds_sqlalchemy("select", _SELECTS) or not self._binds_sqlalchemy("func", _FUNCS):
            self.refuse(original, "skipped: `select` or `func` in this module is not SQLAlchemy's")
            return updated
        if source.extra_args:
            self.refuse(original, "skipped: parameters passed beside the statement")
            return updated
        if not self.record(original, f"len({source.method}(...).all()) -> scalar(select(func.count()).select_from(....subquery())): the database counts the same rows"):
            return updated
        AddImportsVisitor.add_needed_import(self.context, "sqlalchemy", "func")
        AddImportsVisitor.add_needed_import(self.context, "sqlalchemy", "select")
        counted = cst.parse_expression("select(func.count())")
        counted = cst.Call(
            func=cst.Attribute(value=counted, attr=cst.Name("select_from")),
            args=[cst.Arg(cst.Call(func=cst.Attribute(value=statement.node, attr=cst.Name("subquery"))))],
        )
        call = cst.Call(func=cst.Attribute(value=source.session, attr=cst.Name("scalar")), args=[cst.Arg(counted)])
        return cst.Await(call) if source.awaited else call

    def _binds_sqlalchemy(self, name: str, wanted: set[str]) -> bool:
        """Whether ``name`` is unbound here (it will be imported) or bound to SQLAlchemy's."""
        bound = self.index.resolve_name(self.path, name)
        return bound is None or bound in wanted


def _source_expression(expr: cst.BaseExpression) -> cst.BaseExpression:
    """What `.all()` was called on, past `.unique()` and `.scalars()`: `db.execute(stmt)`,
    `await db.scalars(stmt)`, `db.query(M)....`."""
    while (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in {"unique", "scalars"}
        and not expr.args
    ):
        expr = expr.func.value
    return expr


CountInDatabase.EXAMPLES = [
    Rewrite(
        name="scalars, awaited, with criteria and order",
        before="""
            from sqlalchemy import select

            async def open_count(db, project_id):
                return len((await db.scalars(select(Task).where(Task.project_id == project_id).order_by(Task.id))).all())
        """,
        after="""
            from sqlalchemy import func, select

            async def open_count(db, project_id):
                return await db.scalar(select(func.count()).select_from(select(Task).where(Task.project_id == project_id).order_by(Task.id).subquery()))
        """,
    ),
    Rewrite(
        name="the legacy Query API",
        before="""
            def open_count(db):
                return len(db.query(Task).filter(Task.done.is_(False)).all())
        """,
        after="""
            def open_count(db):
                return db.query(Task).filter(Task.done.is_(False)).count()
        """,
    ),
    Keep(
        name="loader options",
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import joinedload

            def n(db):
                return len(db.scalars(select(Task).options(joinedload(Task.tags))).unique().all())
        """,
        reason="the statement has .options(...)",
    ),
    Keep(
        name="select is SQLModel's, and a list that is used",
        code="""
            from sqlmodel import select

            def n(db):
                rows = db.scalars(select(Task)).all()
                return len(db.scalars(select(Task)).all()), rows, len(rows)
        """,
        reason="is not SQLAlchemy's",
    ),
]
