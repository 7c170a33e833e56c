"""## What it does
Finds columns that queries filter, order or join on, and foreign-key columns, with no
index: none in the model (`primary_key`, `index=True`, `unique=True`, an `Index(...)` or
`UniqueConstraint(...)` leading with the column, in `__table_args__` or beside the class)
nor in the repository's Alembic migrations (`op.create_index`, `create_unique_constraint`,
an indexed column or an `Index` in `op.create_table`, `op.execute("CREATE INDEX ...")`
read with sqlglot). `__table_args__` may be a `@declared_attr` function. Each finding says where the column
is used; the more places, the more it matters, and the earlier `scan` lists it (the
JSON's `weight`).

## Why is this bad?
A filter on an unindexed column reads the whole table on every request; an `ORDER BY` on
one sorts it whole. PostgreSQL does not index foreign keys by itself, so joins through them
and the checks a `DELETE` of the parent runs read the child table in full.

## Example
```python
class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str]

db.scalars(select(Task).where(Task.status == "open"))
```

## Use instead
```python
    status: Mapped[str] = mapped_column(index=True)
```
with its migration; on PostgreSQL, without locking writes:
```python
with op.get_context().autocommit_block():
    op.create_index("ix_tasks_status", "tasks", ["status"], postgresql_concurrently=True)
```
Only an index that starts with the column serves it: a column second in a composite index
is reported. Left alone: boolean columns and NULL tests (`M.deleted_at.is_(None)`): two
values, so an index on the column alone rarely helps and a partial index on the rows queried
does; tests beside an equality on an indexed column or a foreign key of the same table in
the same function (`M.project_id == p` then `M.status == s`: that index narrows the rows, or
would once the foreign key, reported itself, has one; a composite index may still pay);
queries in module-level functions nothing in the repository calls; columns declared
`index=False`, columns used only
inside an expression no index on the column serves (`cast(M.a, ...)`, `M.a + M.b == x`,
`M.a > M.b`, `func.f(M.a)`), uses in tests, scripts and migrations, and the copies of models
that migrations carry. Foreign keys are not reported on MySQL, whose InnoDB indexes them itself.
"""

from __future__ import annotations

from collections import defaultdict

from optimize.analyzers.checks.base import Clean, IndexCheck, Report
from optimize.analyzers.models import ModelInfo, table_names
from optimize.analyzers.roles import file_role


class MissingIndex(IndexCheck):
    ID = "missing-index"
    TITLE = "a column filtered, ordered or joined on, or a foreign key, with no index"

    def check(self) -> None:
        uses: dict[tuple[str, str, str], list[str]] = defaultdict(list)  # (path, model, column) -> where
        models: dict[tuple[str, str], ModelInfo] = {}
        for facts in self.index.facts.values():
            if file_role(facts.path) is not None:
                continue  # a test, a script or a migration says little about the application's queries
            resolved = []
            functions = {f.line: f for f in facts.functions.values()}
            for use in facts.queries.column_uses:
                if self.index.is_unreached(functions.get(use.scope)):
                    continue
                model = self.index.model_for(use.cls, facts.path)
                if model is None or use.column not in model.columns or file_role(model.path) == "migration":
                    continue
                joined = bool(use.versus) and self.index.may_be_column(use.versus, facts.path)
                resolved.append((model, use, joined))
            # An equality on an indexed column of the same table, in the same function,
            # already narrows the rows the other tests there read; one on a foreign key
            # would with its index, which is reported as the one to add.
            # A join condition (`N.id == M.n_id`) narrows the same way.
            narrowed = {
                (model.path, model.name, use.scope)
                for model, use, _ in resolved
                if use.equality
                and (self.index.is_indexed(model, use.column) or model.columns[use.column].foreign_key)
            }
            for model, use, joined in resolved:
                if joined or use.null_test:
                    continue  # `M.a > M.b`, a join condition: no index on one column serves it
                if (model.path, model.name, use.scope) in narrowed and not model.columns[use.column].foreign_key:
                    continue  # a foreign key's uses always count: they weigh its own finding
                models[(model.path, model.name)] = model
                where = f"{use.how} at {facts.path}:{use.line}"
                if where not in uses[(model.path, model.name, use.column)]:
                    uses[(model.path, model.name, use.column)].append(where)
        for model in self.index.application_models():
            for column in model.columns.values():
                if column.foreign_key and self.index.sql_dialect != "mysql":
                    models[(model.path, model.name)] = model
                    uses.setdefault((model.path, model.name, column.name), [])
        for (path, name, column), where in sorted(uses.items()):
            model = models[(path, name)]
            info = model.columns[column]
            if self.index.is_indexed(model, column) or info.no_index or (info.boolean and not info.foreign_key):
                continue  # `index=False` is a choice; a boolean alone has two values
            self._report(model, column, where)

    def _report(self, model: ModelInfo, column: str, where: list[str]) -> None:
        own = self.index.facts.get(model.path)
        declared = own.classes.get(model.name) if own is not None else None
        line = declared.columns[column].line if declared is not None and column in declared.columns else model.line
        table = table_names(model)[0]
        foreign = model.columns[column].foreign_key
        if where:
            shown = ", ".join(where[:3]) + (f" and {len(where) - 3} more" if len(where) > 3 else "")
            used = f"used in {len(where)} place{'s' * (len(where) != 1)} ({shown})"
        else:
            used = "a foreign key to " + str(foreign)
        self.report(
            model.path,
            line,
            f"{model.name}.{column} has no index but is {used}",
            f"`mapped_column(..., index=True)` and, on PostgreSQL, "
            f'`op.create_index("ix_{table}_{column}", "{table}", ["{column}"], postgresql_concurrently=True)` '
            "in an autocommit block",
            weight=len(where),
        )


MODELS = """
    from sqlalchemy import ForeignKey, Index
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Project(Base):
        __tablename__ = "projects"
        id: Mapped[int] = mapped_column(primary_key=True)
        slug: Mapped[str] = mapped_column(unique=True)

    class Task(Base):
        __tablename__ = "tasks"
        __table_args__ = (Index("ix_tasks_owner_created", "owner_id", "created_at"),)
        id: Mapped[int] = mapped_column(primary_key=True)
        project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
        owner_id: Mapped[int]
        created_at: Mapped[int]
        status: Mapped[str]
        title: Mapped[str]
        priority: Mapped[int]
        done: Mapped[bool] = mapped_column(default=False)
"""

MissingIndex.EXAMPLES = [
    Clean(
        name="narrowed by an indexed equality in the same function, or a NULL test",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from .models import Project, Task

            router = APIRouter()

            @router.get("/project_tasks")
            def project_tasks(db, project, status):
                statement = select(Task).where(Task.project_id == project)
                if status is not None:
                    statement = statement.where(Task.status == status)
                return db.scalars(statement.order_by(Task.title)).all()

            @router.get("/untitled")
            def untitled(db):
                return db.scalars(select(Task).where(Task.title.is_(None))).all()

            @router.get("/in_slugged_projects")
            def in_slugged_projects(db, slug):
                # joined on the indexed Task.project_id: the join narrows the title test
                return db.scalars(select(Task).join(Project, Project.id == Task.project_id).where(Task.title == slug)).all()
        """,
    ),
    Clean(
        name="a query in a function nothing calls, a test against another column or an aggregate's FILTER",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            from fastapi import APIRouter
            from sqlalchemy import func, select
            from .models import Project, Task

            router = APIRouter()

            def never_called(db):
                return db.scalars(select(Task).where(Task.title == "x")).all()

            @router.get("/stats")
            def stats(db):
                late = db.scalar(select(func.count(Task.id).filter(Task.status == "late")))
                slugs = db.scalars(select(Task).join(Project, Project.id == Task.owner_id).where(Task.created_at == Task.priority)).all()
                return late, slugs
        """,
    ),
    Clean(
        name="indexes declared by a declared_attr __table_args__ or by raw SQL in a migration",
        files={
            "app/__init__.py": "",
            "app/models.py": """
                import sqlalchemy as sa
                from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

                class Base(DeclarativeBase):
                    pass

                class Run(Base):
                    __tablename__ = "runs"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    started: Mapped[int]
                    name: Mapped[str]

                    @declared_attr.directive
                    @classmethod
                    def __table_args__(cls):
                        return (sa.Index("ix_runs_started", cls.started.desc()).ddl_if(dialect="postgresql"),)
            """,
            "alembic/versions/0003_name.py": """
                from alembic import op

                def upgrade():
                    op.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_runs_name ON runs (name)")
            """,
        },
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from .models import Run

            router = APIRouter()

            @router.get("/latest")
            def latest(db, name):
                return db.scalars(select(Run).where(Run.name == name).order_by(Run.started.desc())).all()
        """,
    ),
    Report(
        name="a filtered column, counted across modules",
        files={
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "app/other.py": """
                from sqlalchemy import select
                from .models import Task

                def open_tasks(db):
                    return db.scalars(select(Task).where(Task.status == "open")).all()
            """,
        },
        code="""
            from fastapi import APIRouter
            from app.models import Task
            from app.other import open_tasks

            router = APIRouter()

            @router.get("/tasks/stale")
            def stale(db):
                return db.query(Task).filter_by(status="stale").order_by(Task.created_at).all()

            @router.get("/tasks/open")
            def open_(db):
                return open_tasks(db)
        """,
        message="Task.status has no index but is used in 2 places",
    ),
    Report(
        name="a foreign key with no index",
        code="""
            from sqlalchemy import ForeignKey, select
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Comment(Base):
                __tablename__ = "comments"
                id: Mapped[int] = mapped_column(primary_key=True)
                task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))

            def recent(db, since):
                return db.scalars(select(Comment).order_by(Comment.id)).all()
        """,
        message="Comment.task_id has no index but is a foreign key to tasks.id",
    ),
    Report(
        name="beside an indexed equality only under or_",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            from fastapi import APIRouter
            from sqlalchemy import or_, select
            from .models import Task

            router = APIRouter()

            @router.get("/tasks/mine")
            def mine_or_urgent(db, project):
                return db.scalars(select(Task).where(or_(Task.project_id == project, Task.title == "urgent"))).all()
        """,
        message="Task.title has no index but is used in 1 place",
    ),
    Report(
        name="second in a composite index",
        files={"app/__init__.py": "", "app/models.py": MODELS},
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from .models import Task

            router = APIRouter()

            @router.get("/tasks/recent")
            def recent(db, since):
                return db.scalars(select(Task).where(Task.created_at > since)).all()
        """,
        message="Task.created_at has no index",
    ),
    Clean(
        name="indexed in the model, leading a composite index, primary key, unique, or by a migration",
        files={
            "app/__init__.py": "",
            "app/models.py": MODELS,
            "alembic/versions/0002_priority.py": """
                import sqlalchemy as sa
                from alembic import op

                def upgrade():
                    op.create_index("ix_tasks_priority", "tasks", ["priority"])
                    op.create_table("tags", sa.Column("id", sa.Integer, primary_key=True))
            """,
        },
        code="""
            from fastapi import APIRouter
            from sqlalchemy import select
            from .models import Project, Task

            router = APIRouter()

            @router.get("/f")
            def f(db, owner, project, slug):
                a = db.scalars(select(Task).where(Task.owner_id == owner, Task.project_id == project)).all()
                b = db.scalars(select(Task).where(Task.id > 10, Task.done.is_(False)).order_by(Task.priority)).all()
                c = db.scalars(select(Project).filter_by(slug=slug)).first()
                return a, b, c
        """,
    ),
    Clean(
        name="expressions no index on the column serves, index=False, scripts and a migration's model copy",
        files={
            "app/__init__.py": "",
            "app/models.py": MODELS.replace("priority: Mapped[int]", "priority: Mapped[int] = mapped_column(index=False)"),
            "scripts/backfill.py": """
                from app.models import Task

                def backfill(db):
                    return db.query(Task).filter(Task.status == None).all()
            """,
            "alembic/versions/0004_copy.py": """
                from sqlalchemy import select
                from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

                class Base(DeclarativeBase):
                    pass

                class Note(Base):
                    __tablename__ = "notes"
                    id: Mapped[int] = mapped_column(primary_key=True)
                    text: Mapped[str]

                def upgrade():
                    op.get_bind().execute(select(Note).where(Note.text == ""))
            """,
        },
        code="""
            from fastapi import APIRouter
            from sqlalchemy import cast, func, select, String
            from .models import Task

            router = APIRouter()

            @router.get("/f")
            def f(db, x):
                a = db.scalars(select(Task).where(cast(Task.title, String) == x, Task.owner_id + Task.priority > 3)).all()
                b = db.scalars(select(Task).where(Task.created_at > Task.priority, func.lower(Task.status) == x)).all()
                c = db.scalars(select(Task).where(Task.id == x).order_by(Task.priority.desc())).all()
                return a, b, c
        """,
    ),
]
