"""## What it does
Finds loops that run one query per row: a `for` loop or a comprehension over the objects
a query returned whose body reads a relationship the query did not load (the
relationship's strategy is the default lazy `select` and no loader option of the query
covers it), or runs another query with each element (`db.get(User, task.owner_id)`,
`select(...).where(... == task.x)`). Also a route with no loop that returns a query's rows
when its response model (`response_model=list[TaskOut]` or `-> list[TaskOut]`) has a field
named like a lazy relationship of the rows: serialising loads it once per row. A
many-to-one read this way costs up to one query per row: SQLAlchemy looks in the session
first, so rows that share a parent already loaded issue no query for it.

## Why is this bad?
Each lazy read is its own round trip: a page of 50 tasks that shows each task's project
runs 51 queries where 2 would do, and the time grows with the page size. On rows an
`AsyncSession` fetched the lazy read raises instead, so it is reported there only through
`awaitable_attrs`.

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
return [{"title": t.title, "owner": t.owner.name} for t in tasks]
```
Relationships declared `lazy="selectin"` / `"joined"` / `"subquery"` / `"immediate"`, the
non-loading ones (`"raise"`, `"noload"`, `"dynamic"`, `"write_only"`), a query whose loader
options cannot be read, and objects whose query is not known are not reported.
"""

from __future__ import annotations

import libcst as cst
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.checks.base import Check, Clean, Report
from optimize.analyzers.per_row import may_run_per_row, per_row_lines, per_row_loops, per_row_responses
from optimize.analyzers.routes import is_route_decorator


class NPlusOne(Check):
    ID = "n-plus-one"
    TITLE = "a query per row: a lazy relationship or another query read in a loop over query results"
    TRIGGERS = (b"for ", b"return ")
    NEEDS_MODEL = True
    FIXED_BY = "eager-load"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        return cls.applies(source, index) and may_run_per_row(index, path)

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """Those functions: a loop, its rows and their query are read in one function."""
        return per_row_lines(index, path)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        parent = lambda n: self.get_metadata(ParentNodeProvider, n, None)  # noqa: E731
        for loop in per_row_loops(self, self.index, node, self.path, parent):
            model, rows = loop.rows.model.name, loop.rows.fetch.written
            for lazy in loop.lazy:
                self.report(
                    loop.loop,
                    f"the loop over {model} rows from {rows} reads {lazy.written} on each row: {_cost(lazy)}",
                    f"load it with the rows: `.options({_loader(lazy)})`",
                )
            for query in loop.queries[:1]:  # one is enough to say the loop queries per row
                self.report(
                    loop.loop,
                    f"the loop over {model} rows from {rows} runs {query} with each row: one query per row",
                    "fetch them all in one query before the loop (`where(X.id.in_(ids))`) or join them into the first",
                )
        for response in per_row_responses(self, self.index, node, self.path, parent, is_route_decorator):
            model, rows = response.rows.model.name, response.rows.fetch.written
            for lazy in response.lazy:
                self.report(
                    response.loop,
                    f"{node.name.value} returns {model} rows from {rows} and its response model includes "
                    f"{lazy.steps[0][1]}: serialising loads {lazy.written}, {_cost(lazy)}",
                    f"load it with the rows: `.options({_loader(lazy)})`",
                )


def _cost(lazy) -> str:
    """What the lazy loads cost. A many-to-one lazy load looks in the session's identity map
    first, so rows that share a parent already loaded issue no query for it."""
    model, name = lazy.steps[0]
    relationship = model.relationships.get(name)
    if len(lazy.steps) == 1 and relationship is not None and relationship.scalar:
        return f"up to one query per row (none for a row whose {name} is already loaded)"
    return "one query per row"


def _loader(lazy) -> str:
    return ".".join(f"selectinload({m.name}.{r})" for m, r in lazy.steps)


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
            tasks: Mapped[list["Task"]] = relationship(back_populates="owner")

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
            owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            owner: Mapped[User] = relationship(back_populates="tasks")
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
            project: Mapped[Project] = relationship(lazy="selectin")
    """,
}

NPlusOne.EXAMPLES = [
    Report(
        name="a comprehension over a select reads a lazy relationship",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from .models import Task

            def list_tasks(db: Session, project_id: int):
                tasks = db.scalars(select(Task).where(Task.id > project_id)).all()
                return [{"title": t.title, "owner": t.owner.name} for t in tasks]
        """,
        message="reads Task.owner on each row: up to one query per row (none for a row whose owner is already loaded)",
    ),
    Report(
        name="a collection read per row",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from .models import User

            def task_counts(db: Session):
                return {u.name: len(u.tasks) for u in db.scalars(select(User)).all()}
        """,
        message="reads User.tasks on each row: one query per row",
    ),
    Report(
        name="a for loop over the legacy Query API",
        files=MODELS,
        code="""
            from app.models import Task

            def names(db):
                out = []
                for task in db.query(Task).filter(Task.title != "").all():
                    out.append(task.owner.name)
                return out
        """,
        message="reads Task.owner on each row",
    ),
    Report(
        name="a query per row keyed by the element",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from app.models import Task, User

            def owners(db: Session):
                tasks = db.scalars(select(Task)).all()
                return [db.get(User, t.owner_id) for t in tasks]
        """,
        message="runs get(...) with each row: one query per row",
    ),
    Report(
        name="awaitable_attrs in async code",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from app.models import Task

            async def names(db: AsyncSession):
                tasks = (await db.scalars(select(Task))).all()
                return [(await t.awaitable_attrs.owner).name for t in tasks]
        """,
        message="reads Task.owner on each row",
    ),
    Report(
        name="a sync session's rows in an async def lazy-load too",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from app.models import Task

            async def names(db: Session):
                return [t.owner.name for t in db.scalars(select(Task)).all()]
        """,
        message="reads Task.owner on each row",
    ),
    Report(
        name="a route whose response model serialises a lazy relationship of each row",
        files={
            **MODELS,
            "app/schemas.py": """
                from pydantic import BaseModel

                class UserOut(BaseModel):
                    name: str

                class TaskOut(BaseModel):
                    title: str
                    owner: UserOut
            """,
        },
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from .models import Task
            from .schemas import TaskOut

            router = APIRouter()

            @router.get("/tasks", response_model=list[TaskOut])
            def list_tasks(db: Session):
                return db.scalars(select(Task)).all()
        """,
        message="response model includes owner: serialising loads Task.owner, up to one query per row",
    ),
    Clean(
        name="eager-loaded by an option or by the relationship, a column, unknown rows, async lazy read",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import Session, selectinload

            from app.models import Task

            def a(db: Session):
                tasks = db.scalars(select(Task).options(selectinload(Task.owner))).all()
                return [t.owner.name for t in tasks]

            def b(db: Session):
                return [t.project.name + t.title for t in db.scalars(select(Task)).all()]

            def c(tasks: list[Task]):
                return [t.owner.name for t in tasks]

            def d(db: Session, options):
                return [t.owner.name for t in db.scalars(select(Task).options(*options)).all()]

            async def e(db):
                return [t.owner.name for t in (await db.scalars(select(Task))).all()]

            def f(db: Session):
                tasks = db.scalars(select(Task)).all()
                return [t.owner_id for t in tasks]  # optimize: ignore[n-plus-one]
        """,
    ),
    Clean(
        name="a response model without the relationship, a loaded one, an AsyncSession's rows",
        files={
            **MODELS,
            "app/schemas.py": """
                from pydantic import BaseModel

                class UserOut(BaseModel):
                    name: str

                class TaskOut(BaseModel):
                    title: str
                    owner: UserOut

                class TaskTitle(BaseModel):
                    title: str
            """,
        },
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload

            from .models import Task
            from .schemas import TaskOut, TaskTitle

            router = APIRouter()

            @router.get("/titles", response_model=list[TaskTitle])
            def titles(db):
                return db.scalars(select(Task)).all()

            @router.get("/tasks", response_model=list[TaskOut])
            def tasks(db):
                return db.scalars(select(Task).options(selectinload(Task.owner))).all()

            @router.get("/async-tasks", response_model=list[TaskOut])
            async def async_tasks(db):
                return (await db.scalars(select(Task))).all()
        """,
    ),
    Clean(
        name="suppressed",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Task

            def a(db):
                tasks = db.scalars(select(Task)).all()
                return [t.owner.name for t in tasks]  # optimize: ignore[n-plus-one]
        """,
    ),
]
