"""## What it does
Replaces a query for an object the function already holds. When a function sets
`project.derived_status_id = todo_status.id` and later, under `if project.derived_status_id:`,
selects `TaskStatus` by that id, the query returns `todo_status` itself (the session's
identity map guarantees the same object): the codemod writes `task_status = todo_status`
and drops the query.

## Why is this bad?
Each such query is a database round trip (the seed measured 50-100 ms) to fetch an object
that is already in memory, in the same session.

## Example
```python
project.derived_status_id = todo_status.id
...
if project.derived_status_id:
    result = await db.execute(
        select(TaskStatus).where(TaskStatus.id == project.derived_status_id)
    )
    task_status = result.scalar_one_or_none()
```

## Use instead
```python
project.derived_status_id = todo_status.id
...
if project.derived_status_id:
    task_status = todo_status
```

## Fix safety
Safe where proven. The codemod checks, in the function: the only assignment to the foreign
key is `X.fk = obj.<primary key>` (not in a nested function) and it can run before the
query; `obj` is an instance of the queried model (constructed, annotated, fetched with `get`
or selected); `obj` and `X` are bound once; the assignment runs before the query on every
path (control-flow dominance), or `X` is created in the function without the foreign key;
the query is guarded by the foreign key's truthiness (so the `None` cases agree). Then it
asks the function's control-flow graph (`optimize.analyzers.flow`) what can run between
the assignment and the query, going round loops and through `except`/`finally` blocks and
`with` exits, and refuses when any of it (`optimize.analyzers.effects`) commits on a
session that may expire on commit (after which reading `obj.name` in async code raises
`MissingGreenlet`), leaves a `session.begin()` block, expires, rolls back, closes, deletes
or expunges, hands the session to another function or a local function that uses it, or
rebinds `obj` or `X`. The statement has no other filter, option or lock; the query's result
object is not used for anything else.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.metadata import ParentNodeProvider

from optimize.analyzers.effects import SessionEffects
from optimize.analyzers.flow import FunctionFlow
from optimize.codemods.base import Codemod, Keep, Rewrite
from optimize.codemods.orm_flow import (
    SELECT_FUNCTIONS,
    execute_call,
    name_of,
    read_select,
    session_names,
    unwrap_await,
)

ONE_ROW = {"scalar_one_or_none", "scalar_one"}


@dataclass
class Query:
    statement: cst.SimpleStatementLine  # `target = ...` (the one that stays, rewritten)
    target: str
    session: str
    model: str
    key: cst.BaseExpression  # `X.fk`
    column: str  # the model's column compared with it
    result_statement: cst.SimpleStatementLine | None = None  # `result = await db.execute(...)`
    result_name: str | None = None
    select_call: cst.Call | None = None


class InMemoryRequery(Codemod):
    ID = "in-memory-requery"
    TITLE = "use the object already in memory instead of querying it again"
    CONDITIONS = "X.fk = obj.id is the only assignment; query guarded by X.fk; no expiring commit in between"
    DESCRIPTION = "Replace a re-query of an in-memory object by the object."
    TRIGGERS = (b"select(", b".get(")
    ALSO = (b"ession",)  # a Session / AsyncSession / session in sight
    NEEDS_MODEL = True  # every case starts from a model class named in the function
    EFFECT = "one SELECT fewer per call of the rewritten function"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._replace: dict[int, str] = {}  # id(statement) -> name of the in-memory object
        self._drop: set[int] = set()

    # --- analysis -------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        nested = {
            id(b) for f in m.findall(node.body, m.FunctionDef()) for b in m.findall(f, m.IndentedBlock())
        }
        queries = []
        for block in [b for b in m.findall(node.body, m.IndentedBlock()) if id(b) not in nested] + [node.body]:
            statements = list(block.body)
            queries += [q for i in range(len(statements)) if (q := self._query(statements, i)) is not None]
        if not queries:
            return
        flow = FunctionFlow.of(node)
        effects = SessionEffects(flow, session_names(self, node), self.index)
        for query in queries:
            self._prove(node, query, flow, effects)

    def _query(self, statements, i: int) -> Query | None:
        statement = statements[i]
        assign = _single_assign(statement)
        if assign is None:
            return None
        target, value = assign
        value = unwrap_await(value)
        # await db.get(M, X.fk)
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and value.func.attr.value == "get":
            args = [a for a in value.args if a.keyword is None]
            if len(value.args) == 2 and len(args) == 2 and isinstance(args[1].value, cst.Attribute):
                model = name_of(args[0].value)
                if model and self.index.model(model.rsplit(".", 1)[-1]):
                    short = model.rsplit(".", 1)[-1]
                    pk = self.index.model(short).primary_key
                    if len(pk) == 1:
                        return Query(statement, target, name_of(value.func.value) or "?", short, args[1].value, pk[0])
            return None
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)):
            return None
        method = value.func.attr.value
        source = value.func.value
        # await db.scalar(select(...))
        if method == "scalar" and value.args and not isinstance(unwrap_await(source), cst.Call):
            return self._from_select(statement, target, name_of(source) or "?", value.args[0].value)
        if method == "first" and isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and source.func.attr.value == "scalars":
            source = source.func.value
        elif method not in ONE_ROW:
            return None
        source = unwrap_await(source)
        executed = execute_call(source)
        if executed is not None:  # (await db.execute(select(...))).scalar_one_or_none()
            return self._from_select(statement, target, name_of(executed[0]) or "?", executed[1])
        if isinstance(source, cst.Name) and i > 0:  # result = await db.execute(...); x = result.one()
            previous = _single_assign(statements[i - 1])
            if previous and previous[0] == source.value:
                executed = execute_call(unwrap_await(previous[1]))
                if executed is not None:
                    query = self._from_select(statement, target, name_of(executed[0]) or "?", executed[1])
                    if query is not None:
                        query.result_statement = statements[i - 1]
                        query.result_name = source.value
                    return query
        return None

    def _from_select(self, statement, target, session, expr) -> Query | None:
        info = read_select(self, expr)
        if info is None or info.options or info.other or info.filter_by or len(info.where) != 1:
            return None
        model = self.index.model(info.model)
        if model is None or len(model.primary_key) != 1:
            return None
        comparison = info.where[0]
        if not (isinstance(comparison, cst.Comparison) and len(comparison.comparisons) == 1):
            return None
        if not isinstance(comparison.comparisons[0].operator, cst.Equal):
            return None
        left, right = comparison.left, comparison.comparisons[0].comparator
        for column_side, key_side in ((left, right), (right, left)):
            column = name_of(column_side)
            if column == f"{info.model}.{model.primary_key[0]}" and isinstance(key_side, cst.Attribute):
                select_call = _select_call(expr)
                return Query(statement, target, session, info.model, key_side, model.primary_key[0], select_call=select_call)
        return None

    def _prove(self, function: cst.FunctionDef, query: Query, flow: FunctionFlow, effects: SessionEffects) -> None:
        key = name_of(query.key)
        holder = name_of(query.key.value)
        if key is None or holder is None or "." in holder:
            return
        fk_assignments = [
            a for a in m.findall(function.body, m.Assign())
            if any(name_of(t.target) == key for t in a.targets)
        ]
        if not fk_assignments:
            return  # nothing in memory to use: get-by-primary-key may apply instead
        where = query.statement
        if not self.allowed(where):
            return
        if len(fk_assignments) != 1:
            return self.refuse(where, f"skipped: {key} is assigned more than once in the function")
        assignment = fk_assignments[0]
        value = assignment.value
        if not (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.attr.value == query.column):
            return self.refuse(where, f"skipped: {key} is not assigned `<obj>.{query.column}`")
        obj = value.value.value
        # The query runs from its first statement (`result = await db.execute(...)`).
        begins = query.result_statement or query.statement
        try:
            flow.step_of(assignment)
        except KeyError:  # in a nested function, which may run at any time
            return self.refuse(where, f"skipped: {key} is assigned in a nested function")
        if not flow.reaches(assignment, begins):
            return self.refuse(where, f"skipped: {key} is not assigned on any path before the query")
        for name in (obj, holder):
            if len(effects.bindings(name)) > 1:
                return self.refuse(where, f"skipped: {name} is bound more than once in the function")
        if self._model_of(function, obj) != query.model:
            return self.refuse(where, f"skipped: cannot show that {obj} is a {query.model}")
        if not (flow.dominates(assignment, begins) or self._fresh_holder(function, holder, query.key.attr.value)):
            return self.refuse(
                where,
                f"skipped: {key} = {obj}.{query.column} does not always run before the query, "
                f"and {holder} is not created in this function (its {query.key.attr.value} may hold another row)",
            )
        if not self._guarded(where, key):
            return self.refuse(where, f"skipped: the query is not guarded by `if {key}:`, so the None cases may differ")
        # What can run between the assignment and the query, round loops included: the
        # rewrite hands out `obj` as it is then, the query would have reloaded it.
        between = flow.between(assignment, begins)
        rebound = effects.rebinding(between, {obj, holder})
        if rebound is not None:
            return self.refuse(where, f"skipped: {rebound[0]} is rebound between the assignment and the query")
        effect = effects.expiring(between) or effects.detaching(between)
        if effect is not None:
            return self.refuse(where, f"skipped: {effects.why(effect)}")
        if query.result_name and _reference_count(function, query.result_name) != 2:
            return self.refuse(where, f"skipped: the result object `{query.result_name}` is used elsewhere")
        self._replace[id(query.statement)] = obj
        if query.result_statement is not None:
            self._drop.add(id(query.result_statement))
        if query.select_call is not None and isinstance(query.select_call.func, cst.Name):
            local = query.select_call.func.value
            for qualified in self.qualified_names(query.select_call.func) & SELECT_FUNCTIONS:
                module, _, obj_name = qualified.rpartition(".")
                RemoveImportsVisitor.remove_unused_import(
                    self.context, module, obj_name, None if local == obj_name else local
                )
        self.record(
            where,
            f"{query.target} = {obj}: {key} was set to {obj}.{query.column} in this function and the "
            f"session's identity map returns that same {query.model} object",
        )

    def _model_of(self, function: cst.FunctionDef, obj: str) -> str | None:
        for param in function.params.params:
            if param.name.value == obj and param.annotation is not None:
                return (name_of(param.annotation.annotation) or "").rsplit(".", 1)[-1] or None
        for assign in m.findall(function.body, m.Assign(targets=[m.AssignTarget(target=m.Name(obj))])):
            value = unwrap_await(assign.value)
            if isinstance(value, cst.Call):
                callee = (name_of(value.func) or "").rsplit(".", 1)[-1]
                if self.index.model(callee):
                    return callee
                if callee == "get" and value.args:
                    return (name_of(value.args[0].value) or "").rsplit(".", 1)[-1] or None
        for ann in m.findall(function.body, m.AnnAssign(target=m.Name(obj))):
            return (name_of(ann.annotation.annotation) or "").rsplit(".", 1)[-1] or None
        return None

    def _fresh_holder(self, function: cst.FunctionDef, holder: str, fk: str) -> bool:
        """`holder = Model(...)` in this function without the foreign key: until the
        assignment runs, the foreign key is None, which the `if X.fk:` guard excludes."""
        for assign in m.findall(function.body, m.Assign(targets=[m.AssignTarget(target=m.Name(holder))])):
            value = assign.value
            if isinstance(value, cst.Call) and self.index.model((name_of(value.func) or "").rsplit(".", 1)[-1]):
                return not any(a.keyword is not None and a.keyword.value == fk for a in value.args) and not any(
                    a.star for a in value.args
                )
        return False

    def _guarded(self, statement, key: str) -> bool:
        node = statement
        while True:
            parent = self.get_metadata(ParentNodeProvider, node, None)
            if parent is None or isinstance(parent, (cst.FunctionDef, cst.Module)):
                return False
            if isinstance(parent, cst.If) and node is parent.body:
                test = parent.test
                if name_of(test) == key:
                    return True
                if (
                    isinstance(test, cst.Comparison)
                    and len(test.comparisons) == 1
                    and isinstance(test.comparisons[0].operator, cst.IsNot)
                    and name_of(test.left) == key
                    and m.matches(test.comparisons[0].comparator, m.Name("None"))
                ):
                    return True
            node = parent

    # --- the rewrite --------------------------------------------------------------------------

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._replace or id(s) in self._drop for s in original.body):
            return updated
        body = []
        carried: list[cst.EmptyLine] = []
        for orig, upd in zip(original.body, updated.body):
            if id(orig) in self._drop:
                carried.extend(upd.leading_lines)
                continue
            if id(orig) in self._replace:
                assign = upd.body[0]
                upd = upd.with_changes(body=[assign.with_changes(value=cst.Name(self._replace[id(orig)]))])
            if carried:
                upd = upd.with_changes(leading_lines=[*carried, *upd.leading_lines])
                carried = []
            body.append(upd)
        return updated.with_changes(body=body)


def _single_assign(statement) -> tuple[str, cst.BaseExpression] | None:
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
        return small.target.value, small.value
    return None


def _select_call(expr: cst.BaseExpression) -> cst.Call | None:
    """The `select(...)` call at the root of a statement's method chain."""
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value != "select":
        node = node.func.value
    return node if isinstance(node, cst.Call) else None


def _reference_count(function: cst.FunctionDef, name: str) -> int:
    return len(m.findall(function.body, m.Name(name)))


MODELS = {
    "app/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class TaskStatus(Base):
            __tablename__ = "task_statuses"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            derived_status_id: Mapped[int | None] = mapped_column(ForeignKey("task_statuses.id"))
    """,
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def get_db():
            async with SessionLocal() as session:
                yield session
    """,
}
EXPIRING = {
    **MODELS,
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine)

        async def get_db():
            async with SessionLocal() as session:
                yield session
    """,
}

SQLMODEL = {
    "backend/app/models.py": """
        from sqlmodel import Field, SQLModel

        class TaskStatus(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str

        class Project(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str = ""
            derived_status_id: int | None = Field(default=None, foreign_key="taskstatus.id")
    """,
    "backend/app/db.py": """
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import Session, create_engine

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(engine, class_=Session, expire_on_commit=False)

        def get_session():
            with SessionLocal() as session:
                yield session
    """,
}
# The loop below (and its `while` and `finally` twins) runs with real SQLAlchemy in
# tests/sqlalchemy_pins/test_requery_in_a_loop.py: as written it works; with the re-query
# replaced by `status`, the second iteration raises MissingGreenlet.
LOOP_WITH_COMMIT = """
    from fastapi import Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from .db import get_db
    from .models import Project, TaskStatus

    async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
        status = await db.get(TaskStatus, status_id)
        template = Project()
        template.derived_status_id = status.id
        imported = []
        for name in names:
            if template.derived_status_id:
                current = await db.get(TaskStatus, template.derived_status_id)
                imported.append(current.name)
            db.add(Project(name=name, derived_status_id=template.derived_status_id))
            await db.commit()
        return imported
"""

EXAMPLES = [
    Rewrite(
        name="seed: derived status re-queried after being set from an in-memory object",
        files=MODELS,
        before="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession = Depends(get_db)):
                project = Project(name=name)
                db.add(project)
                todo_status = TaskStatus(name="Todo")
                db.add(todo_status)
                await db.flush()
                if todo_status:
                    project.derived_status_id = todo_status.id
                await db.commit()

                # Get the derived status name for the response
                derived_status_name = None
                if project.derived_status_id:
                    result = await db.execute(
                        select(TaskStatus).where(TaskStatus.id == project.derived_status_id)
                    )
                    task_status = result.scalar_one_or_none()
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession = Depends(get_db)):
                project = Project(name=name)
                db.add(project)
                todo_status = TaskStatus(name="Todo")
                db.add(todo_status)
                await db.flush()
                if todo_status:
                    project.derived_status_id = todo_status.id
                await db.commit()

                # Get the derived status name for the response
                derived_status_name = None
                if project.derived_status_id:
                    task_status = todo_status
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name
        """,
    ),
    Rewrite(
        name="chained forms and get, sync session",
        files=MODELS,
        before="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            def assign(session, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id is not None:
                    again = session.get(TaskStatus, project.derived_status_id)
                    same = session.scalar(select(TaskStatus).where(project.derived_status_id == TaskStatus.id))
                    one = (session.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))).scalar_one()
                    return again, same, one
        """,
        after="""
            from app.models import Project, TaskStatus

            def assign(session, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id is not None:
                    again = status
                    same = status
                    one = status
                    return again, same, one
        """,
    ),
    Keep(
        name="commit on a session that expires on commit",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create(db=Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Backlog")
                project.derived_status_id = status.id
                await db.commit()
                if project.derived_status_id:
                    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    found = result.scalar_one_or_none()
                    return found
        """,
        reason="expires on commit",
    ),
    Keep(
        name="not guarded by the foreign key",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                return result.scalar_one_or_none()
        """,
    ),
    Keep(
        name="assignment only on one branch, holder loaded from the database",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def add_status(db, project_id, name, make_current):
                project = await db.get(Project, project_id)
                new_status = TaskStatus(name=name)
                db.add(new_status)
                await db.flush()
                if make_current:
                    project.derived_status_id = new_status.id
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="does not always run before the query",
    ),
    Keep(
        name="foreign key assigned twice",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, a: TaskStatus, b: TaskStatus, flag):
                project.derived_status_id = a.id
                if flag:
                    project.derived_status_id = b.id
                if project.derived_status_id:
                    found = await db.scalar(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    return found
        """,
        reason="assigned more than once",
    ),
    Keep(
        name="object rebound",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus, other):
                project.derived_status_id = status.id
                status = other
                if project.derived_status_id:
                    found = await db.get(TaskStatus, project.derived_status_id)
                    return found
        """,
        reason="bound more than once",
    ),
    Keep(
        name="deleted in between",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                await db.delete(status)
                if project.derived_status_id:
                    found = await db.get(TaskStatus, project.derived_status_id)
                    return found
        """,
        reason="delete",
    ),
    Keep(
        name="other filters or options",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id:
                    found = await db.scalar(
                        select(TaskStatus).where(TaskStatus.id == project.derived_status_id).with_for_update()
                    )
                    return found
        """,
    ),
    Keep(
        name="result object used again",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id:
                    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    found = result.scalar_one_or_none()
                    log(result)
                    return found
        """,
        reason="used elsewhere",
    ),
    Keep(
        name="not an instance of the queried model",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, other: Project):
                project.derived_status_id = other.id
                if project.derived_status_id:
                    return await db.get(TaskStatus, project.derived_status_id)
        """,
    ),
    Keep(
        name="re-query inside a for loop whose body ends with a commit that expires",
        files=EXPIRING,
        code=LOOP_WITH_COMMIT,
        reason="db.commit() in between expires it (the session factory expires on commit)",
    ),
    Keep(
        name="re-query inside a while loop whose body ends with a commit that expires",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def drain(queue: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                while queue:
                    name = queue.pop()
                    if template.derived_status_id:
                        result = await db.execute(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))
                        current = result.scalar_one_or_none()
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.commit()
                return imported
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="the commit is in a finally block that runs before the next iteration",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    try:
                        if template.derived_status_id:
                            current = await db.scalar(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))
                            imported.append(current.name)
                        db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    finally:
                        await db.commit()
                return imported
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="the commit is in an except handler that can run between",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy.exc import IntegrityError
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def rename_all(project_id: int, status: TaskStatus, names: list[str], db: AsyncSession = Depends(get_db)):
                project = await db.get(Project, project_id)
                project.derived_status_id = status.id
                try:
                    await db.flush()
                except IntegrityError:
                    await db.commit()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="leaving a begin() block commits",
        files=EXPIRING,
        code="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import Project, TaskStatus

            async def attach(db: AsyncSession, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                async with db.begin():
                    db.add(project)
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="the db.begin() block (it commits on exit) in between expires it",
    ),
    Keep(
        name="the session is handed to a service in another module, even one that does not expire",
        files={
            **MODELS,
            "app/services/statuses.py": """
                from app.models import TaskStatus

                async def retire_status(db, status_id):
                    await db.delete(await db.get(TaskStatus, status_id))
                    await db.flush()
            """,
        },
        code="""
            from .models import Project, TaskStatus
            from .services.statuses import retire_status

            async def move(db, project: Project, status: TaskStatus, old_id: int):
                project.derived_status_id = status.id
                await db.refresh(project)
                await retire_status(db, old_id)
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current
        """,
        reason="the session is passed to retire_status() in between",
    ),
    Keep(
        name="a local function that commits, called in between",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def create(db: AsyncSession = Depends(get_db)):
                async def save():
                    await db.commit()

                project = Project()
                status = TaskStatus(name="Backlog")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await save()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="save() uses the session in between",
    ),
    Keep(
        name="the assignment comes later in the loop body than the query",
        files=MODELS,
        code="""
            from .models import Project, TaskStatus

            async def relink(db, project: Project, status: TaskStatus, rounds: int):
                seen = []
                for _ in range(rounds):
                    if project.derived_status_id:
                        current = await db.get(TaskStatus, project.derived_status_id)
                        seen.append(current.name)
                    project.derived_status_id = status.id
                return seen
        """,
        reason="does not always run before the query",
    ),
    Rewrite(
        name="loop that only flushes: the commit after it cannot run between",
        files=EXPIRING,
        before="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    if template.derived_status_id:
                        current = await db.get(TaskStatus, template.derived_status_id)
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.flush()
                await db.commit()
                return imported
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    if template.derived_status_id:
                        current = status
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.flush()
                await db.commit()
                return imported
        """,
    ),
    Rewrite(
        name="commit in the loop on an expire_on_commit=False factory",
        files=MODELS,
        before=LOOP_WITH_COMMIT,
        after=LOOP_WITH_COMMIT.replace(
            "current = await db.get(TaskStatus, template.derived_status_id)", "current = status"
        ),
    ),
    Rewrite(
        name="SQLModel in a backend/app layout, sync session committing in the loop",
        files=SQLMODEL,
        before="""
            from fastapi import Depends
            from sqlmodel import Session

            from app.db import get_session
            from app.models import Project, TaskStatus

            def import_projects(names: list[str], status_id: int, session: Session = Depends(get_session)) -> list[str]:
                status = session.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported: list[str] = []
                for name in names:
                    session.add(Project(name=name, derived_status_id=template.derived_status_id))
                    session.commit()
                    if template.derived_status_id:
                        current = session.get(TaskStatus, template.derived_status_id)
                        imported.append(current.name)
                return imported
        """,
        after="""
            from fastapi import Depends
            from sqlmodel import Session

            from app.db import get_session
            from app.models import Project, TaskStatus

            def import_projects(names: list[str], status_id: int, session: Session = Depends(get_session)) -> list[str]:
                status = session.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported: list[str] = []
                for name in names:
                    session.add(Project(name=name, derived_status_id=template.derived_status_id))
                    session.commit()
                    if template.derived_status_id:
                        current = status
                        imported.append(current.name)
                return imported
        """,
    ),
    Keep(
        name="the foreign key is set in a nested function that may not run",
        files=MODELS,
        code="""
            from .models import Project, TaskStatus

            async def relink(db, project: Project, status: TaskStatus, confirmed: bool):
                def link():
                    project.derived_status_id = status.id

                if confirmed:
                    link()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="assigned in a nested function",
    ),
    Rewrite(
        name="a dependency that is no session handed to a helper in between",
        files={
            **MODELS,
            "app/auth.py": """
                async def get_current_user(token: str):
                    return {"token": token}
            """,
        },
        before="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .auth import get_current_user
            from .db import get_db
            from .models import Project, TaskStatus

            async def create(user=Depends(get_current_user), db: AsyncSession = Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Todo")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await audit(user, "project created")
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .auth import get_current_user
            from .db import get_db
            from .models import Project, TaskStatus

            async def create(user=Depends(get_current_user), db: AsyncSession = Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Todo")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await audit(user, "project created")
                if project.derived_status_id:
                    current = status
                    return current.name
        """,
    ),
]
InMemoryRequery.EXAMPLES = EXAMPLES
