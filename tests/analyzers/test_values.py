"""What an expression holds (`optimize.analyzers.values`), on small multi-module repositories:
the model behind a statement resolved through its import, the criteria and chain methods,
what each result call holds, SQL constructs versus values, sessions versus connections."""

from __future__ import annotations

import textwrap

import libcst as cst
import libcst.matchers as m
import pytest
from libcst.codemod import CodemodContext
from libcst.metadata import MetadataWrapper, QualifiedNameProvider

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.values import (
    Form,
    Holds,
    Yields,
    holds_sql,
    read_fetch,
    read_source,
    read_statement,
)
from optimize.analyzers.sessions import Receiver, receiver_kind
from optimize.transform import module_name

MODELS = """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        project_id: Mapped[int]

    class Project(Base):
        __tablename__ = "projects"
        id: Mapped[int] = mapped_column(primary_key=True)
"""
SCHEMAS = """
    from pydantic import BaseModel

    class Task(BaseModel):
        id: int
        title: str
"""
HERO = """
    from sqlmodel import Field, SQLModel

    class Hero(SQLModel, table=True):
        id: int | None = Field(default=None, primary_key=True)
        name: str
"""


class ModuleReader:
    """A `NameReader` over one module of a repository, as a codemod is one."""

    def __init__(self, path: str, source: str, files: dict[str, str]) -> None:
        source = textwrap.dedent(source)
        self.wrapper = MetadataWrapper(cst.parse_module(source))
        self._names = self.wrapper.resolve(QualifiedNameProvider)
        module, package = module_name(path)
        self.context = CodemodContext(
            filename=path, full_module_name=module, full_package_name=package, wrapper=self.wrapper
        )
        everything = {path: source, **{p: textwrap.dedent(s) for p, s in files.items()}}
        self.index = RepoIndex.build({p: s.encode() for p, s in everything.items()})

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        found = self._names.get(node)
        if found is None:
            return set()
        if callable(found):  # LibCST computes a node's names on first use
            found = found()
        return {q.name for q in found}

    def function(self, name: str) -> cst.FunctionDef:
        found = m.findall(self.wrapper.module, m.FunctionDef(name=m.Name(name)))
        assert len(found) == 1, name
        return found[0]

    def returned(self, name: str) -> cst.BaseExpression:
        """What function ``name`` returns (its last `return`), with any await taken off."""
        returns = m.findall(self.function(name), m.Return())
        value = returns[-1].value
        return value.expression if isinstance(value, cst.Await) else value


def reader(source: str, files: dict[str, str], path: str = "app/routers/tasks.py") -> ModuleReader:
    return ModuleReader(path, source, files)


# --- the model behind a statement ----------------------------------------------------------


def test_the_model_is_the_one_the_import_names_not_a_class_sharing_its_name() -> None:
    files = {"app/models.py": MODELS, "app/schemas.py": SCHEMAS}
    plain = reader(
        """
        from sqlalchemy import select
        from app.schemas import Task

        def f(x):
            return select(Task).where(Task.id == x)
        """,
        files,
    )
    statement = read_statement(plain, plain.index, plain.returned("f"))
    assert statement is not None and statement.form is Form.SELECT
    assert statement.entity.names == {"app.schemas.Task"}
    assert statement.entity.model is None

    mapped = reader(
        """
        from sqlalchemy import select
        from app.models import Task

        def f(x):
            return select(Task).where(Task.id == x)
        """,
        files,
    )
    statement = read_statement(mapped, mapped.index, mapped.returned("f"))
    assert statement is not None and statement.entity.model is not None
    assert statement.entity.model.path == "app/models.py"
    assert statement.entity.model.primary_key == ("id",)


@pytest.mark.parametrize(
    "path, models_path, import_line",
    [
        ("app/routers/tasks.py", "app/models.py", "from ..models import Task"),
        ("app/example.py", "app/models/task.py", "from .models.task import Task"),
        ("app/example.py", "app/models/task.py", "from .models import task as task_models"),
        ("src/app/routers/tasks.py", "src/app/models.py", "from app.models import Task"),
        ("backend/app/api/routes.py", "backend/app/models.py", "from ..models import Task"),
    ],
)
def test_relative_imports_and_layouts_resolve_to_the_model(path, models_path, import_line) -> None:
    entity = "task_models.Task" if "task_models" in import_line else "Task"
    files = {models_path: MODELS, "app/schemas.py": SCHEMAS}
    code = f"""
        from sqlalchemy import select
        {import_line}

        def f(x):
            return select({entity}).where({entity}.id == x)
        """
    r = reader(code, files, path)
    statement = read_statement(r, r.index, r.returned("f"))
    assert statement is not None and statement.entity.model is not None
    assert statement.entity.model.path == models_path
    assert [e.column for e in statement.equalities] == ["id"]


def test_a_class_of_the_module_itself_and_a_star_import_resolve() -> None:
    own = reader(
        """
        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Note(Base):
            __tablename__ = "notes"
            id: Mapped[int] = mapped_column(primary_key=True)

        def f(x):
            return select(Note).where(Note.id == x)
        """,
        {},
        "app/notes.py",
    )
    statement = read_statement(own, own.index, own.returned("f"))
    assert statement is not None and statement.entity.model is not None
    assert statement.entity.model.name == "Note"

    star = reader(
        """
        from sqlalchemy import select
        from ..models import *

        def f(x):
            return select(Task).where(Task.id == x)
        """,
        {"app/models.py": MODELS, "app/schemas.py": SCHEMAS},
    )
    statement = read_statement(star, star.index, star.returned("f"))
    assert statement is not None and statement.entity.model is not None
    assert statement.entity.model.path == "app/models.py"


def test_an_undefined_or_local_name_is_no_model() -> None:
    r = reader(
        """
        from sqlalchemy import select

        def f(x):
            return select(Task).where(Task.id == x)

        def g(x, Task):
            return select(Task).where(Task.id == x)
        """,
        {"app/models.py": MODELS},
    )
    for name in ("f", "g"):
        statement = read_statement(r, r.index, r.returned(name))
        assert statement is not None and statement.entity.model is None


# --- criteria and chain methods ------------------------------------------------------------


def test_criteria_split_into_key_equalities_and_everything_else() -> None:
    r = reader(
        """
        import sqlalchemy as sa
        from sqlalchemy import and_, or_, select
        from sqlalchemy.orm import selectinload
        from app.models import Project, Task

        def f(a, b, c):
            return (
                select(Task)
                .where(and_(Task.id == a, b == Task.project_id))
                .filter((Task.title == c) & (Task.id > 0))
                .where(Task.project_id == Project.id, or_(Task.id == a, Task.id == b))
                .filter_by(title=c)
                .options(selectinload(Task.project))
                .order_by(Task.id)
            )

        def g(a):
            return sa.select(Task).where(Task.id.in_(a))
        """,
        {"app/models.py": MODELS},
    )
    statement = read_statement(r, r.index, r.returned("f"))
    assert statement is not None
    assert [(e.column, cst.Module([]).code_for_node(e.value)) for e in statement.equalities] == [
        ("id", "a"), ("project_id", "b"), ("title", "c"), ("project_id", "Project.id"), ("title", "c"),
    ]
    others = [cst.Module([]).code_for_node(o) for o in statement.other_criteria]
    assert others == ["(Task.id > 0)", "or_(Task.id == a, Task.id == b)"]
    assert statement.methods == ("options", "order_by")
    statement = read_statement(r, r.index, r.returned("g"))
    assert statement is not None and not statement.equalities
    assert len(statement.other_criteria) == 1


def test_legacy_query_chain_and_its_session() -> None:
    r = reader(
        """
        from app.models import Task

        class Repository:
            def f(self, x):
                return self.db.query(Task).filter(Task.id == x).with_for_update()
        """,
        {"app/models.py": MODELS},
    )
    statement = read_statement(r, r.index, r.returned("f"))
    assert statement is not None and statement.form is Form.QUERY
    assert cst.Module([]).code_for_node(statement.session) == "self.db"
    assert statement.methods == ("with_for_update",)
    assert statement.entity.model is not None


def test_only_a_single_entity_is_a_statement_over_a_model() -> None:
    r = reader(
        """
        from sqlalchemy import select
        from app.models import Project, Task

        def f():
            return select(Task.id)

        def g():
            return select(Task, Project)

        def h():
            return select([Task])
        """,
        {"app/models.py": MODELS},
    )
    column = read_statement(r, r.index, r.returned("f"))
    assert column is not None and column.entity.model is None
    assert read_statement(r, r.index, r.returned("g")) is None
    assert read_statement(r, r.index, r.returned("h")) is None


# --- what a fetch holds ----------------------------------------------------------------------

FETCHES = """
    import sqlalchemy as sa
    from sqlmodel import select as sm_select
    from app.models import Task
    from app.heroes import Hero

    async def execute_one_or_none(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).scalar_one_or_none()

    async def execute_scalar(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).scalar()

    async def execute_one(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).scalar_one()

    async def execute_first_row(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).first()

    async def execute_one_row(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).one()

    async def execute_rows(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).all()

    async def unique_scalars_first(db, x):
        return (await db.execute(sa.select(Task).where(Task.id == x))).unique().scalars().first()

    async def scalars_all(db, x):
        return (await db.execute(sa.select(Task))).scalars().all()

    def scalars_one(db, x):
        return db.scalars(sa.select(Task).where(Task.id == x)).one()

    def scalars_one_or_none(db, x):
        return db.scalars(sa.select(Task).where(Task.id == x)).one_or_none()

    async def scalar_call(db, x):
        return await db.scalar(sa.select(Task).where(Task.id == x))

    def query_first(db, x):
        return db.query(Task).filter(Task.id == x).first()

    def query_one(db, x):
        return db.query(Task).filter_by(id=x).one()

    def query_all(db, x):
        return db.query(Task).all()

    def query_get(db, x):
        return db.query(Task).get(x)

    def sqlmodel_exec_first(session, x):
        return session.exec(sm_select(Hero).where(Hero.id == x)).first()

    def sqlalchemy_select_exec_first(session, x):
        return session.exec(sa.select(Hero).where(Hero.id == x)).first()
"""
EXPECTED_HOLDS = {
    "execute_one_or_none": (Holds.OBJECT_OR_NONE, "execute", ("scalar_one_or_none",)),
    "execute_scalar": (Holds.OBJECT_OR_NONE, "execute", ("scalar",)),
    "execute_one": (Holds.OBJECT, "execute", ("scalar_one",)),
    "execute_first_row": (Holds.ROW_OR_NONE, "execute", ("first",)),
    "execute_one_row": (Holds.ROW, "execute", ("one",)),
    "execute_rows": (Holds.ROWS, "execute", ("all",)),
    "unique_scalars_first": (Holds.OBJECT_OR_NONE, "execute", ("unique", "scalars", "first")),
    "scalars_all": (Holds.OBJECTS, "execute", ("scalars", "all")),
    "scalars_one": (Holds.OBJECT, "scalars", ("one",)),
    "scalars_one_or_none": (Holds.OBJECT_OR_NONE, "scalars", ("one_or_none",)),
    "scalar_call": (Holds.OBJECT_OR_NONE, "scalar", ()),
    "query_first": (Holds.OBJECT_OR_NONE, "query", ("first",)),
    "query_one": (Holds.OBJECT, "query", ("one",)),
    "query_all": (Holds.OBJECTS, "query", ("all",)),
    "query_get": (Holds.OBJECT_OR_NONE, "query", ("get",)),
    "sqlmodel_exec_first": (Holds.OBJECT_OR_NONE, "exec", ("first",)),
    "sqlalchemy_select_exec_first": (Holds.ROW_OR_NONE, "exec", ("first",)),
}


@pytest.fixture(scope="module")
def fetches() -> ModuleReader:
    return reader(FETCHES, {"app/models.py": MODELS, "app/heroes.py": HERO})


@pytest.mark.parametrize("function", sorted(EXPECTED_HOLDS))
def test_what_each_result_call_holds(fetches: ModuleReader, function: str) -> None:
    fetch = read_fetch(fetches, fetches.index, fetches.returned(function))
    assert fetch is not None
    assert (fetch.holds, fetch.source.method, fetch.steps) == EXPECTED_HOLDS[function]
    assert fetch.source.statement.entity.model is not None
    assert fetch.source.awaited == ("await db.execute" in cst.Module([]).code_for_node(fetches.function(function)))
    assert (fetch.key is not None) == (function == "query_get")


def test_what_is_not_a_fetch() -> None:
    r = reader(
        """
        from sqlalchemy import select
        from app.models import Task

        async def partial(db, x):
            return (await db.execute(select(Task).where(Task.id == x))).scalars()

        def count(db, x):
            return db.query(Task).filter(Task.id == x).count()

        async def past_the_fetch(db, x):
            return (await db.execute(select(Task).where(Task.id == x))).scalar_one_or_none().to_dict()

        def arguments(db, x):
            return db.execute(select(Task).where(Task.id == x)).scalars(0).first()

        def not_a_statement(db, stmt):
            return db.execute(stmt).scalar_one_or_none()
        """,
        {"app/models.py": MODELS},
    )
    for name in ("partial", "count", "past_the_fetch", "arguments", "not_a_statement"):
        assert read_fetch(r, r.index, r.returned(name)) is None, name


def test_a_fetch_from_a_name_bound_to_a_source() -> None:
    r = reader(
        """
        from sqlalchemy import select
        from app.models import Task

        async def f(db, x):
            result = await db.execute(select(Task).where(Task.id == x), {"p": 1})
            return result.scalar_one_or_none()
        """,
        {"app/models.py": MODELS},
    )
    function = r.function("f")
    assign = m.findall(function, m.Assign())[0]
    source = read_source(r, r.index, assign.value)
    assert source is not None and source.yields is Yields.RESULT and source.awaited
    assert len(source.extra_args) == 1
    assert read_fetch(r, r.index, r.returned("f")) is None  # `result` alone says nothing
    fetch = read_fetch(r, r.index, r.returned("f"), {"result": source}.get)
    assert fetch is not None and fetch.source is source and fetch.holds is Holds.OBJECT_OR_NONE


# --- a Python value or an SQL construct ----------------------------------------------------

VALUES = """
    from uuid import UUID
    from sqlalchemy import bindparam, func, select
    from sqlalchemy.orm import aliased
    from app.config import settings
    from app.models import Project, Task

    LIMIT = 10
    ACTIVE = Task.title == "x"

    async def values(db, task_id: int, payload, ids, project):
        owner = await db.get(Project, payload.project_id)
        first = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()
        for each in ids:
            pass
        return [
            task_id, payload.task_id, payload["id"], int(task_id), UUID(task_id), owner.id,
            first.project_id, each, settings.admin_id, LIMIT, 5, "x", -task_id, task_id + 1,
            project.derived_status_id if project else None,
        ]

    def constructs(db):
        other = aliased(Task)
        sub = select(Task.id).subquery()
        best = select(func.max(Task.id)).scalar_subquery()
        return [
            Project.id, other.id, sub.c.id, best, bindparam("id"), func.max(Task.id),
            Task.id.label("x"), ACTIVE, lambda: 1, (1, 2),
        ]
"""


@pytest.fixture(scope="module")
def values() -> ModuleReader:
    return reader(VALUES, {"app/models.py": MODELS, "app/config.py": "settings = object()\n"})


def _elements(r: ModuleReader, name: str) -> list[cst.BaseExpression]:
    returned = r.returned(name)
    assert isinstance(returned, cst.List)
    return [e.value for e in returned.elements]


def test_python_values_hold_no_sql(values: ModuleReader) -> None:
    scope = values.function("values")
    for element in _elements(values, "values"):
        assert not holds_sql(values, values.index, element, scope), cst.Module([]).code_for_node(element)


def test_sql_constructs_and_unread_expressions_hold_sql(values: ModuleReader) -> None:
    scope = values.function("constructs")
    for element in _elements(values, "constructs"):
        assert holds_sql(values, values.index, element, scope), cst.Module([]).code_for_node(element)


# --- a session or a connection ---------------------------------------------------------------


def test_sessions_and_connections_are_told_apart() -> None:
    r = reader(
        """
        from typing import Annotated
        from fastapi import Depends
        from sqlalchemy import Connection
        from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
        from sqlalchemy.orm import Session

        async def typed(db: AsyncSession):
            return db

        def annotated(db: Annotated[Session, Depends(get_db)]):
            return db

        async def with_connection(engine):
            async with engine.connect() as conn:
                return conn

        def begun(engine):
            with engine.begin() as conn:
                return conn

        async def typed_connection(conn: AsyncConnection):
            return conn

        def opened(engine):
            conn = engine.connect()
            return conn

        def constructed(engine):
            with Session(engine) as session:
                return session

        def untyped(db):
            return db
        """,
        {},
    )
    expected = {
        "typed": Receiver.SESSION,
        "annotated": Receiver.SESSION,
        "with_connection": Receiver.CONNECTION,
        "begun": Receiver.CONNECTION,
        "typed_connection": Receiver.CONNECTION,
        "opened": Receiver.CONNECTION,
        "constructed": Receiver.SESSION,
        "untyped": Receiver.UNKNOWN,
    }
    for name, kind in expected.items():
        assert receiver_kind(r, r.returned(name), r.function(name)) is kind, name
