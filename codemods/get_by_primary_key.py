"""## What it does
Rewrites a select of one row by its primary key,
`(await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()` (also
through a `result` variable, `scalars().first()`, `db.scalar(...)`, `filter_by(id=...)` and
the synchronous forms), to `await db.get(Task, task_id)`.

## Why is this bad?
A select always goes to the database. `Session.get` first looks in the session's identity
map and returns an object the session already holds without a round trip; otherwise it
issues the same single-row SELECT.

## Example
```python
result = await db.execute(select(Task).where(Task.id == task_id))
task = result.scalar_one_or_none()
```

## Use instead
```python
task = await db.get(Task, task_id)
```

## Fix safety
Unsafe: an object already in the session is returned as it is, so a row that another
transaction changed or deleted since it was loaded stays visible (a select would have
refreshed or missed it). Only when the compared column is the model's sole primary key (read
from the model), the statement has no other filter, option, join, ordering, lock or
execution option, the result object is not used for anything else, and the call is
`scalar_one_or_none()`/`scalars().first()`/`scalar()` (never `scalar_one()`, which raises
where `get` returns `None`).
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from optimize.codemods.base import UNSAFE, Codemod, Keep, Rewrite
from optimize.codemods.orm_flow import execute_call, name_of, read_select, unwrap_await

MAYBE_ONE = {"scalar_one_or_none"}


class GetByPrimaryKey(Codemod):
    ID = "get-by-primary-key"
    TITLE = "fetch rows by primary key with Session.get, which uses the identity map"
    SAFETY = UNSAFE
    CONDITIONS = "sole primary key, one equality, no other filter/options/lock; not scalar_one()"
    DESCRIPTION = "Replace select-by-primary-key with Session.get."
    TRIGGERS = (b"select(",)
    ALSO = (b"scalar", b".first(")
    NEEDS_MODEL = True  # every case starts from a model class named in the function
    EFFECT = "no round trip when the session already holds the row"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._drop: set[int] = set()
        self._replace_value: dict[int, cst.BaseExpression] = {}

    # `(await db.execute(select(M).where(M.id == x))).scalar_one_or_none()` anywhere
    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        fetch = _fetch_method(original)
        if fetch is None:
            return updated
        source = original.func.value
        if fetch == "first":
            source = source.func.value
        source_inner = unwrap_await(source)
        executed = execute_call(source_inner)
        if executed is None and fetch == "scalar" and original.args:
            executed = (original.func.value, original.args[0].value)
            awaited = False
        else:
            awaited = isinstance(source, cst.Await)
        if executed is None:
            return updated
        replacement = self._get_call(original, executed, awaited)
        return updated if replacement is None else replacement

    def _get_call(self, anchor: cst.CSTNode, executed, awaited: bool) -> cst.BaseExpression | None:
        session, statement = executed
        key = self._key(statement)
        if key is None:
            return None
        if not self.allowed(anchor):
            return None
        model, value = key
        self.record(anchor, f"select of {model} by its primary key -> get({model}, ...): the identity map answers without a round trip when it can")
        call = cst.Call(
            func=cst.Attribute(session, cst.Name("get")),
            args=[
                cst.Arg(cst.Name(model), comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(value),
            ],
        )
        return cst.Await(call) if awaited else call

    def _key(self, statement: cst.BaseExpression) -> tuple[str, cst.BaseExpression] | None:
        """(model, key value) when ``statement`` selects one model by its sole primary key only."""
        info = read_select(self, statement)
        if info is None or info.options or info.other:
            return None
        model = self.index.model(info.model)
        if model is None or len(model.primary_key) != 1:
            return None
        pk = model.primary_key[0]
        if info.filter_by and not info.where and len(info.filter_by) == 1:
            arg = info.filter_by[0]
            if arg.keyword is not None and arg.keyword.value == pk:
                return info.model, arg.value
            return None
        if len(info.where) != 1 or info.filter_by:
            return None
        comparison = info.where[0]
        if not (isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1):
            return None
        if not isinstance(comparison.comparisons[0].operator, cst.Equal):
            return None
        left, right = comparison.left, comparison.comparisons[0].comparator
        for column, value in ((left, right), (right, left)):
            if name_of(column) == f"{info.model}.{pk}" and not self._is_column(value):
                return info.model, value
        return None

    def _is_column(self, expr: cst.BaseExpression) -> bool:
        """`Other.id` is a column comparison (a join condition), not a value."""
        for attribute in m.findall(expr, m.Attribute(value=m.Name())) + ([expr] if isinstance(expr, cst.Attribute) else []):
            root = attribute.value
            if isinstance(root, cst.Name) and self.index.model(root.value) is not None:
                return True
        return False

    # `result = await db.execute(...)` + `x = result.scalar_one_or_none()`
    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        statements = list(node.body)
        for first, second in zip(statements, statements[1:]):
            pair = _result_pair(first, second)
            if pair is None:
                continue
            result_name, executed_expr, fetch_call = pair
            function_body = self._function_of(node)
            if function_body is None or len(m.findall(function_body, m.Name(result_name))) != 2:
                continue
            executed = execute_call(executed_expr)
            awaited = isinstance(executed_expr, cst.Await)
            replacement = self._get_call(second, executed, awaited)
            if replacement is not None:
                self._drop.add(id(first))
                self._replace_value[id(second)] = replacement

    def _function_of(self, node: cst.CSTNode) -> cst.CSTNode | None:
        from libcst.metadata import ParentNodeProvider

        while node is not None and not isinstance(node, cst.FunctionDef):
            node = self.get_metadata(ParentNodeProvider, node, None)
        return node

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._drop for s in original.body):
            return updated
        body, carried = [], []
        for orig, upd in zip(original.body, updated.body):
            if id(orig) in self._drop:
                carried.extend(upd.leading_lines)
                continue
            if id(orig) in self._replace_value:
                assign = upd.body[0]
                upd = upd.with_changes(body=[assign.with_changes(value=self._replace_value[id(orig)])])
            if carried:
                upd = upd.with_changes(leading_lines=[*carried, *upd.leading_lines])
                carried = []
            body.append(upd)
        return updated.with_changes(body=body)


def _fetch_method(call: cst.Call) -> str | None:
    """"scalar_one_or_none" / "first" (of `scalars()`) / "scalar" for a fetch call."""
    if not isinstance(call.func, cst.Attribute):
        return None
    method = call.func.attr.value
    if method in MAYBE_ONE and not call.args:
        return method
    if method == "first" and not call.args:
        inner = call.func.value
        if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value == "scalars" and not inner.args:
            return "first"
    if method == "scalar" and len(call.args) == 1 and not isinstance(unwrap_await(call.func.value), cst.Call):
        return "scalar"
    return None


def _result_pair(first, second):
    """(result name, awaited execute expression, fetch call) for the two-statement form."""
    if not (isinstance(first, cst.SimpleStatementLine) and isinstance(second, cst.SimpleStatementLine)):
        return None
    if len(first.body) != 1 or len(second.body) != 1:
        return None
    a, b = first.body[0], second.body[0]
    if not (isinstance(a, cst.Assign) and len(a.targets) == 1 and isinstance(a.targets[0].target, cst.Name)):
        return None
    if not (isinstance(b, cst.Assign) and len(b.targets) == 1 and isinstance(b.value, cst.Call)):
        return None
    name = a.targets[0].target.value
    fetch = _fetch_method(b.value)
    if fetch not in {"scalar_one_or_none", "first"}:
        return None
    source = b.value.func.value if fetch == "scalar_one_or_none" else b.value.func.value.func.value
    if not (isinstance(source, cst.Name) and source.value == name):
        return None
    if execute_call(a.value) is None:
        return None
    return name, a.value, b.value


MODELS = {
    "app/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            slug: Mapped[str]

        class Membership(Base):
            __tablename__ = "memberships"
            user_id: Mapped[int] = mapped_column(primary_key=True)
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    """,
}

EXAMPLES = [
    Rewrite(
        name="result variable and scalar_one_or_none",
        files=MODELS,
        before="""
            from sqlalchemy import select
            from app.models import Project

            async def read_project(project_id, db):
                result = await db.execute(select(Project).where(Project.id == project_id))
                project = result.scalar_one_or_none()
                if project is None:
                    raise LookupError(project_id)
                return project
        """,
        after="""
            from sqlalchemy import select
            from app.models import Project

            async def read_project(project_id, db):
                project = await db.get(Project, project_id)
                if project is None:
                    raise LookupError(project_id)
                return project
        """,
    ),
    Rewrite(
        name="chained, scalars().first(), scalar(), filter_by, sync",
        files=MODELS,
        before="""
            import sqlalchemy as sa
            from app.models import Project

            async def a(db, pid):
                return (await db.execute(sa.select(Project).where(pid == Project.id))).scalar_one_or_none()

            async def b(db, pid):
                return (await db.execute(sa.select(Project).filter_by(id=pid))).scalars().first()

            async def c(db, pid):
                return await db.scalar(sa.select(Project).where(Project.id == pid))

            def d(session, pid):
                return session.execute(sa.select(Project).where(Project.id == pid)).scalar_one_or_none()
        """,
        after="""
            import sqlalchemy as sa
            from app.models import Project

            async def a(db, pid):
                return await db.get(Project, pid)

            async def b(db, pid):
                return await db.get(Project, pid)

            async def c(db, pid):
                return await db.get(Project, pid)

            def d(session, pid):
                return session.get(Project, pid)
        """,
    ),
    Keep(
        name="scalar_one() raises where get returns None",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                return (await db.execute(select(Project).where(Project.id == pid))).scalar_one()
        """,
    ),
    Keep(
        name="options, locks, other filters, non-key columns, composite keys",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from app.models import Membership, Project

            async def f(db, pid, slug, uid):
                a = (await db.execute(select(Project).where(Project.id == pid).options(selectinload(Project.x)))).scalar_one_or_none()
                b = (await db.execute(select(Project).where(Project.id == pid).with_for_update())).scalar_one_or_none()
                c = (await db.execute(select(Project).where(Project.id == pid, Project.slug == slug))).scalar_one_or_none()
                d = (await db.execute(select(Project).where(Project.slug == slug))).scalar_one_or_none()
                e = (await db.execute(select(Membership).where(Membership.user_id == uid))).scalar_one_or_none()
                g = (await db.execute(select(Project).where(Project.id == Membership.project_id))).scalar_one_or_none()
                return a, b, c, d, e, g
        """,
    ),
    Keep(
        name="result object used again",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                result = await db.execute(select(Project).where(Project.id == pid))
                project = result.scalar_one_or_none()
                log(result)
                return project
        """,
    ),
    Keep(
        name="unknown model",
        code="""
            from sqlalchemy import select

            async def f(db, pid):
                return (await db.execute(select(Thing).where(Thing.id == pid))).scalar_one_or_none()
        """,
    ),
]
GetByPrimaryKey.EXAMPLES = EXAMPLES
