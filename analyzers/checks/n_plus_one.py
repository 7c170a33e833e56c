"""## What it does
Finds loops that run one query per row: a `for` loop or a comprehension over the objects
a query returned whose body reads a relationship the query did not load (the
relationship's strategy is the default lazy `select` and no loader option of the query
covers it), or runs another query with each element (`db.get(User, task.owner_id)`,
`select(...).where(... == task.x)`).

## Why is this bad?
Each lazy read is its own round trip: a page of 50 tasks that shows each task's project
runs 51 queries where 2 would do, and the time grows with the page size. In async code the
lazy read raises instead, so it is reported there only through `awaitable_attrs`.

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
import libcst.matchers as m

from optimize.analyzers.checks.base import Check, Clean, Report
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.holds import FunctionValues, Held
from optimize.analyzers.models import RelationshipInfo
from optimize.analyzers.values import read_fetch

def lazy_per_row(relationship: RelationshipInfo) -> bool:
    """Whether reading the relationship on each row runs a query per row: its strategy is
    the default lazy `select` (not written, `"select"`, `True`). Every other strategy loads
    with the parent query (`selectin`, `joined`, ...) or runs none on access (`raise`,
    `noload`, `dynamic`, `write_only`); one that is not a literal (None) is not known."""
    return relationship.lazy == "select"


class NPlusOne(Check):
    ID = "n-plus-one"
    TITLE = "a query per row: a lazy relationship or another query read in a loop over query results"
    TRIGGERS = (b"for ",)
    NEEDS_MODEL = True

    @classmethod
    def applies_to(cls, path: str, source: bytes, index) -> bool:
        facts = index.facts.get(path)
        if facts is None or not cls.applies(source, index):
            return False
        shapes = facts.queries
        return shapes.loop_queries or bool(shapes.loop_reads & index.relationship_names())

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        loops = m.findall(node.body, m.For() | m.CompFor())
        if not loops:
            return
        flow = FunctionFlow.of(node)
        values = FunctionValues(self, self.index, flow, self.path)
        asynchronous = node.asynchronous is not None
        for loop in loops:
            if self._nested_in_another_function(loop, node):
                continue
            try:
                step = flow.step_of(loop if isinstance(loop, cst.For) else self.enclosing_statement(loop))
            except KeyError:
                continue
            self._loop(loop, step, values, asynchronous)

    def _nested_in_another_function(self, node: cst.CSTNode, function: cst.FunctionDef) -> bool:
        parent = self.get_metadata_parent(node)
        while parent is not None and parent is not function:
            if isinstance(parent, (cst.FunctionDef, cst.Lambda)):
                return True
            parent = self.get_metadata_parent(parent)
        return False

    def get_metadata_parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        from libcst.metadata import ParentNodeProvider

        return self.get_metadata(ParentNodeProvider, node, None)

    def _loop(self, loop: cst.For | cst.CompFor, step: Step, values: FunctionValues, asynchronous: bool) -> None:
        if not isinstance(loop.target, cst.Name):
            return
        held = values.element_of(step, loop.iter)
        if held is None or held.fetch is None:
            return  # not the rows of a query this function ran
        name = loop.target.value
        body = loop.body if isinstance(loop, cst.For) else self._comprehension_body(loop)
        if body is None:
            return
        self._lazy_reads(loop, held, name, body, asynchronous)
        self._queries_per_row(loop, held, name, body, step, values)

    def _comprehension_body(self, loop: cst.CompFor) -> cst.CSTNode | None:
        parent = self.get_metadata_parent(loop)
        while parent is not None and not isinstance(parent, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
            parent = self.get_metadata_parent(parent)
        if parent is None:
            return None
        if isinstance(parent, cst.DictComp):
            return cst.Tuple([cst.Element(parent.key), cst.Element(parent.value)])
        return parent.elt

    def _lazy_reads(self, loop, held: Held, name: str, body: cst.CSTNode, asynchronous: bool) -> None:
        statement = held.fetch.source.statement
        if statement.unread_options:
            return
        model = held.model
        for attribute in m.findall(body, m.Attribute(value=m.Name(name))):
            relationship_name = attribute.attr.value
            if asynchronous:
                continue  # a lazy read raises in async code; `awaitable_attrs` below
            self._lazy(loop, held, relationship_name, statement.loads)
        if asynchronous:
            pattern = m.Attribute(value=m.Attribute(value=m.Name(name), attr=m.Name("awaitable_attrs")))
            for attribute in m.findall(body, pattern):
                self._lazy(loop, held, attribute.attr.value, statement.loads)

    def _lazy(self, loop, held: Held, relationship_name: str, loads: frozenset[str]) -> None:
        relationship = held.model.relationships.get(relationship_name)
        if relationship is None or relationship_name in loads or not lazy_per_row(relationship):
            return
        model = held.model.name
        self.report(
            loop,
            f"the loop over {model} rows from {held.fetch.written} reads {model}.{relationship_name} "
            "on each row: one query per row",
            f"load it with the rows: `.options(selectinload({model}.{relationship_name}))`",
        )

    def _queries_per_row(self, loop, held: Held, name: str, body: cst.CSTNode, step: Step, values: FunctionValues) -> None:
        for call in m.findall(body, m.Call()):
            if not m.findall(call, m.Name(name)):
                continue
            fetch = read_fetch(self, self.index, call)
            getter = (
                isinstance(call.func, cst.Attribute)
                and call.func.attr.value in {"get", "get_one"}
                and len(call.args) >= 2
                and values.of(step, call) is not None
            )
            if fetch is None and not getter:
                continue
            what = fetch.written if fetch is not None else f"{call.func.attr.value}(...)"
            self.report(
                loop,
                f"the loop over {held.model.name} rows from {held.fetch.written} runs {what} with each row: "
                "one query per row",
                "fetch them all in one query before the loop (`where(X.id.in_(ids))`) or join them into the first",
            )
            return


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
            name: Mapped[str]

        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
            owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            owner: Mapped[User] = relationship()
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
        message="reads Task.owner on each row: one query per row",
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
