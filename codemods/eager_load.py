"""## What it does
Fixes the provable cases of the [`n-plus-one`](../checks/n-plus-one.md) check: a loop (or a
comprehension) over the rows of a query that reads a lazy relationship on each row. The
query gains `.options(selectinload(M.rel))`, chained for `row.a.b`
(`selectinload(M.a).selectinload(A.b)`), and `selectinload` is imported from
`sqlalchemy.orm`. Both the check and the codemod ask `optimize.analyzers.per_row` which
loops run a query per row.

## Why is this bad?
Each lazy read is a round trip: 50 rows, 51 queries. With `selectinload` the loop runs 2
queries (the rows, then `WHERE id IN (...)` for the relationship), whatever the page size.

## Example
```python
tasks = db.scalars(select(Task).where(Task.project_id == project_id)).all()
return [{"title": t.title, "owner": t.owner.name} for t in tasks]
```

## Use instead
```python
tasks = db.scalars(
    select(Task).where(Task.project_id == project_id).options(selectinload(Task.owner))
).all()
```

## Fix safety
Rewritten only when
- the rows come from a query written in the same function: a `select(...)` handed to
  `execute`/`scalars`/`exec` (SQLModel included) or a legacy `session.query(...)` chain,
  directly or through a name (`tasks = ...; for t in tasks`), as `optimize.analyzers.holds`
  reads it;
- every loader option the query already has is read (`options(*loaders)` is not), and none
  loads the relationship;
- the relationship's strategy is the default lazy `select` (never `selectin`/`joined`
  already, `dynamic`, `raise`, `noload`, `write_only`, or a strategy that is not a literal);
- the loop does not assign attributes of its rows: loaded up front, a relationship would not
  follow a change of its foreign key made in the loop ("skipped: the loop assigns
  attributes of its rows").

In an `async def` a lazy read raises instead of querying, so only
`await row.awaitable_attrs.rel` counts there. The rows, their order and every value read are
the same (checked on real SQLAlchemy, together with the statement counts: 1 + N before, 2
after). A further level (`row.a.b`) is loaded only when the module binds `A`'s name.

One case costs a query instead of saving them: a many-to-one whose targets the session
already holds (another relationship of the rows loaded the same users eagerly) is found in
the identity map without a query, and the added `selectinload` runs one. In the example app,
`Task.reporter` is `lazy="selectin"`: tasks whose reporters are their assignees would load
those users with the rows, and `project_assignments` would run one statement more after the
rewrite (its test data has no reporters; `tests/test_reports.py` says why). The results are
the same either way.
"""

from __future__ import annotations

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.per_row import LazyPath, PerRowLoop, may_run_per_row, per_row_lines, per_row_loops, per_row_responses
from optimize.analyzers.routes import is_route_decorator
from optimize.codemods.base import Codemod, Keep, Rewrite


class EagerLoad(Codemod):
    ID = "eager-load"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_eager_load_sqlalchemy.py (statements counted on real SQLAlchemy)",
    )
    TITLE = "load the relationships a loop reads on each row with the rows (selectinload)"
    CONDITIONS = "the rows' query is in the function, its options are read, the relationship is lazy='select', the loop does not write the rows"
    DESCRIPTION = "Add selectinload options for lazy relationships read in a loop over a query's rows."
    TRIGGERS = (b"for ", b"return ")
    NEEDS_MODEL = True
    EFFECT = "one query per relationship instead of one per row"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        return cls.applies(source, index) and may_run_per_row(index, path)

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """Those functions: a loop, its rows and their query are read in one function."""
        return per_row_lines(index, path)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._options: dict[int, list[str]] = {}  # id(statement node) -> loader options to add

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = lambda n: self.get_metadata(ParentNodeProvider, n, None)  # noqa: E731
        for loop in per_row_loops(self, self.index, node, self.path, parent):
            if loop.lazy:
                self._plan(node, loop, parent)
        for response in per_row_responses(self, self.index, node, self.path, parent, is_route_decorator):
            self._plan(node, response, parent)

    def _plan(self, function: cst.FunctionDef, loop: PerRowLoop, parent) -> None:
        statement = loop.rows.fetch.source.statement
        node = statement.node
        if node is None or not _inside(node, function, parent):
            return self.refuse(loop.loop, "skipped: the rows come from a query outside this function")
        if loop.writes_rows:
            return self.refuse(
                loop.loop,
                "skipped: the loop assigns attributes of its rows; loaded up front, a relationship "
                "would not follow a change made in the loop",
            )
        entity = _entity_written(node)
        if entity is None:
            return self.refuse(loop.loop, "skipped: the query's entity is not written as a name")
        wanted = self._options.setdefault(id(node), [])
        for path in _longest(loop.lazy):
            option = self._loader(entity, path)
            if option in wanted:
                continue
            if self.record(loop.loop, f"{path.written} read on each row: loaded with the rows by .options({option})"):
                wanted.append(option)
        if wanted:
            AddImportsVisitor.add_needed_import(self.context, "sqlalchemy.orm", "selectinload")

    def _loader(self, entity: str, path: LazyPath) -> str:
        (_, first), *rest = path.steps
        option = f"selectinload({entity}.{first})"
        for model, name in rest:
            if not self._binds(model.name):
                break
            option += f".selectinload({model.name}.{name})"
        return option

    def _binds(self, name: str) -> bool:
        return self.index.resolve_name(self.path, name) is not None

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        options = self._options.get(id(original))
        if not options:
            return updated
        args = [cst.Arg(cst.parse_expression(o)) for o in options]
        args = [
            a.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))) if i < len(args) - 1 else a
            for i, a in enumerate(args)
        ]
        return cst.Call(func=cst.Attribute(value=updated, attr=cst.Name("options")), args=args)


def _inside(node: cst.CSTNode, function: cst.FunctionDef, parent) -> bool:
    current = parent(node)
    while current is not None:
        if current is function:
            return True
        current = parent(current)
    return False


def _entity_written(statement: cst.BaseExpression) -> str | None:
    """`Task` or `models.Task` as the statement's innermost call names it: `select(Task)`,
    `db.query(models.Task)`."""
    node = statement
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value not in {"query"}:
        node = node.func.value
    if not isinstance(node, cst.Call) or not node.args:
        return None
    entity = node.args[0].value
    return cst.Module([]).code_for_node(entity) if isinstance(entity, (cst.Name, cst.Attribute)) else None


def _longest(paths: list[LazyPath]) -> list[LazyPath]:
    """Drop a path another one extends: `Task.project` when `Task.project -> Project.owner` is read."""
    return [p for p in paths if not any(len(q.steps) > len(p.steps) and q.steps[: len(p.steps)] == p.steps for q in paths)]


MODELS = {
    "app/__init__.py": "",
    "app/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            owner: Mapped[User] = relationship()

        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
            assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            assignee: Mapped[User] = relationship()
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
            project: Mapped[Project] = relationship()
            tags: Mapped[list["Tag"]] = relationship(lazy="raise")

        class Tag(Base):
            __tablename__ = "tags"
            id: Mapped[int] = mapped_column(primary_key=True)
            task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    """,
}

EagerLoad.EXAMPLES = [
    Rewrite(
        name="a comprehension over a select reads a lazy relationship",
        files=MODELS,
        before="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from .models import Task

            def list_tasks(db: Session, project_id: int):
                tasks = db.scalars(select(Task).where(Task.project_id == project_id)).all()
                return [{"title": t.title, "assignee": t.assignee.name} for t in tasks]
        """,
        after="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload, Session

            from .models import Task

            def list_tasks(db: Session, project_id: int):
                tasks = db.scalars(select(Task).where(Task.project_id == project_id).options(selectinload(Task.assignee))).all()
                return [{"title": t.title, "assignee": t.assignee.name} for t in tasks]
        """,
    ),
    Rewrite(
        name="the legacy Query API, two relationships and a chain through a bound model",
        files=MODELS,
        before="""
            from app.models import Project, Task

            def report(db):
                lines = []
                for task in db.query(Task).filter(Task.title != "").all():
                    lines.append(f"{task.title}: {task.assignee.name} / {task.project.owner.name}")
                return lines
        """,
        after="""
            from app.models import Project, Task
            from sqlalchemy.orm import selectinload

            def report(db):
                lines = []
                for task in db.query(Task).filter(Task.title != "").options(selectinload(Task.assignee), selectinload(Task.project).selectinload(Project.owner)).all():
                    lines.append(f"{task.title}: {task.assignee.name} / {task.project.owner.name}")
                return lines
        """,
    ),
    Rewrite(
        name="a route returns the rows for a response model that serialises the relationship",
        files={
            **MODELS,
            "app/schemas.py": """
                from pydantic import BaseModel

                class UserOut(BaseModel):
                    name: str

                class TaskOut(BaseModel):
                    title: str
                    assignee: UserOut
            """,
        },
        before="""
            from fastapi import APIRouter
            from sqlalchemy import select

            from .models import Task
            from .schemas import TaskOut

            router = APIRouter()

            @router.get("/tasks")
            def list_tasks(db) -> list[TaskOut]:
                tasks = db.scalars(select(Task).order_by(Task.id)).all()
                return tasks
        """,
        after="""
            from fastapi import APIRouter
            from sqlalchemy import select

            from .models import Task
            from .schemas import TaskOut
            from sqlalchemy.orm import selectinload

            router = APIRouter()

            @router.get("/tasks")
            def list_tasks(db) -> list[TaskOut]:
                tasks = db.scalars(select(Task).order_by(Task.id).options(selectinload(Task.assignee))).all()
                return tasks
        """,
    ),
    Keep(
        name="the loop changes its rows",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Task

            def reassign(db, user_id):
                for task in db.scalars(select(Task)).all():
                    task.assignee_id = user_id
                    print(task.assignee.name)
        """,
        reason="the loop assigns attributes of its rows",
    ),
    Keep(
        name="already loaded, raise strategy, options not read, rows from elsewhere",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import joinedload, selectinload
            from app.models import Task

            def a(db):
                return [t.assignee.name for t in db.scalars(select(Task).options(selectinload(Task.assignee))).all()]

            def b(db):
                return [len(t.tags) for t in db.scalars(select(Task)).all()]

            def c(db, loaders):
                return [t.assignee.name for t in db.scalars(select(Task).options(*loaders)).all()]

            def d(tasks: list[Task]):
                return [t.assignee.name for t in tasks]

            async def e(db):
                return [t.assignee.name for t in (await db.scalars(select(Task))).all()]
        """,
    ),
    Keep(
        name="suppressed",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Task

            def a(db):
                tasks = db.scalars(select(Task)).all()
                return [t.assignee.name for t in tasks]  # optimize: ignore[eager-load]
        """,
        reason="optimize: ignore",
    ),
]
