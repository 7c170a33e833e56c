"""The facts gates of the ORM codemods: a file they rule out is one the codemod would have
read for nothing (no change, no refusal), and every file the codemod has something to say
about gets through.

`tests/codemods/test_examples.py` checks each codemod's gate on its own examples; here the
gates are also checked on every other codemod's examples and on the example app, and the
cases the gates were narrowed for are pinned one by one.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.checks.n_plus_one import NPlusOne
from optimize.analyzers.per_row import per_row_lines
from optimize.codemods.base import Codemod
from optimize.codemods.eager_load import EagerLoad
from optimize.codemods.get_by_primary_key import GetByPrimaryKey
from optimize.codemods.in_memory_requery import InMemoryRequery
from optimize.codemods.redundant_lazy_load import RedundantLazyLoad
from optimize.transform import run_codemod
from tests.analyzers.test_bound_reads import DROPPED as BOUND_READS_DROPPED
from tests.examples import EXAMPLE_PATH, all_cases, dedent, index_for

GATED = [RedundantLazyLoad, GetByPrimaryKey, InMemoryRequery, EagerLoad]
FIXTURE_APP = Path(__file__).resolve().parents[1] / "fixtures" / "taskboard"

MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
        assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        assignee: Mapped[User] = relationship(lazy="selectin", foreign_keys=[assignee_id])
        reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
"""


def _outcome(codemod: type[Codemod], path: str, source: str, index: RepoIndex, options=None) -> int:
    result = run_codemod(codemod, cst.parse_module(source), path, index=index, options=options or {})
    return len(result.changes) + len(result.refusals)


def _index(path: str, source: str) -> RepoIndex:
    files = {"app/models.py": dedent(MODELS).encode(), path: source.encode()}
    return RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0.4\n"})


CROSS = [(codemod, case) for codemod in GATED for case in all_cases()]


@pytest.mark.parametrize("codemod, case", CROSS, ids=[f"{c.ID}@{case.id}" for c, case in CROSS])
def test_a_gate_passes_every_example_its_codemod_has_something_to_say_about(codemod, case) -> None:
    example = case.example
    source = dedent(getattr(example, "before", None) or example.code)
    index = index_for(example, source)
    options = example.options if case.codemod is codemod else None
    if _outcome(codemod, EXAMPLE_PATH, source, index, options):
        assert codemod.applies_to(EXAMPLE_PATH, source.encode(), index, options)


def test_the_gates_pass_every_file_of_the_example_app_their_codemod_reports_on() -> None:
    files = {
        p.relative_to(FIXTURE_APP).as_posix(): p.read_bytes()
        for p in sorted(FIXTURE_APP.rglob("*.py"))
        if "__pycache__" not in p.parts
    }
    index = RepoIndex.build(files)
    reported = set()
    for codemod in GATED:
        for path, source in files.items():
            if _outcome(codemod, path, source.decode(), index):
                reported.add((codemod.ID, path))
                assert codemod.applies_to(path, source, index), f"{codemod.ID} would miss {path}"
    assert ("redundant-lazy-load", "taskboard/routers/tasks.py") in reported


# --- redundant-lazy-load: only a statement that reads a relationship name ---------------------


@pytest.mark.parametrize(
    "statement, gated_in",
    [
        ("_ = task.assignee", True),
        ("task.assignee", True),
        ("owner = task.assignee", True),  # reported when the relationship is loaded: "the value is used"
        ("_ = task.title", False),  # a column, not a relationship
        ("print(task.assignee)", False),  # an argument: no trigger statement
        ("task.assignee.name = 'x'", False),
        ("owner: User = task.assignee", False),  # not a pattern of the codemod
    ],
)
def test_redundant_lazy_load_reads_only_files_with_a_trigger_statement(statement: str, gated_in: bool) -> None:
    source = dedent(f"""
        from sqlalchemy import select
        from app.models import Task

        async def show(db, task_id):
            task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()
            {statement}
            return task
    """)
    index = _index("app/routes.py", source)
    assert RedundantLazyLoad.applies_to("app/routes.py", source.encode(), index) is gated_in
    if not gated_in:  # what the gate saves: a parse that finds nothing
        assert _outcome(RedundantLazyLoad, "app/routes.py", source, index) == 0


def test_a_trigger_statement_in_a_method_or_nested_function_is_seen() -> None:
    source = dedent("""
        from app.models import Task

        class Service:
            def show(self, db, task: Task):
                def inner():
                    db.refresh(task)
                    _ = task.assignee
                return inner
    """)
    index = _index("app/service.py", source)
    assert index.facts["app/service.py"].statement_reads == {"assignee": frozenset({5})}  # `inner`'s line
    assert RedundantLazyLoad.applies_to("app/service.py", source.encode(), index)
    # The reduced module keeps the method holding `inner` whole (`optimize.spans`).
    assert RedundantLazyLoad.candidate_lines("app/service.py", index) == frozenset({5})


def test_a_trigger_statement_outside_any_function_is_not_a_candidate() -> None:
    # The codemod reads functions only: a module-level `x = obj.rel` is nothing to it.
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task
        from app.db import session

        task = session.scalars(select(Task)).first()
        owner = task.assignee
    """)
    index = _index("app/service.py", source)
    assert index.facts["app/service.py"].statement_reads == {"assignee": frozenset({0})}
    assert not RedundantLazyLoad.applies_to("app/service.py", source.encode(), index)


# --- get-by-primary-key: a one-row fetch in a function that filters by a key ------------------


def test_a_key_filter_and_a_one_row_fetch_in_different_functions_are_not_read() -> None:
    source = dedent("""
        from sqlalchemy import select, update
        from app.models import Task

        async def rename(db, task_id, title):
            await db.execute(update(Task).where(Task.id == task_id).values(title=title))

        async def first_title(db):
            return (await db.execute(select(Task.title))).scalar()
    """)
    index = _index("app/tasks.py", source)
    assert not GetByPrimaryKey.applies_to("app/tasks.py", source.encode(), index)
    assert _outcome(GetByPrimaryKey, "app/tasks.py", source, index) == 0


def test_a_filter_on_a_column_outside_the_key_is_not_read() -> None:
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task

        async def by_title(db, title):
            return (await db.execute(select(Task).where(Task.title == title))).scalar_one_or_none()
    """)
    index = _index("app/tasks.py", source)
    assert not GetByPrimaryKey.applies_to("app/tasks.py", source.encode(), index)
    assert _outcome(GetByPrimaryKey, "app/tasks.py", source, index) == 0


@pytest.mark.parametrize(
    "body",
    [
        "return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()",
        "return await db.scalar(select(Task).where(Task.id == task_id))",
        "result = await db.execute(select(Task).filter_by(id=task_id))\n    return result.scalars().first()",
    ],
)
def test_every_one_row_form_in_the_filtering_function_is_read(body: str) -> None:
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task

        async def read(db, task_id):
            BODY
    """).replace("BODY", body)
    index = _index("app/tasks.py", source)
    assert GetByPrimaryKey.applies_to("app/tasks.py", source.encode(), index)
    assert _outcome(GetByPrimaryKey, "app/tasks.py", source, index) == 1


def test_a_legacy_query_bound_to_a_name_then_got_by_key_is_read() -> None:
    source = dedent("""
        from app.models import Task

        def read(db, task_id):
            tasks = db.query(Task)
            return tasks.get(task_id)
    """)
    index = _index("app/tasks.py", source)
    assert index.facts["app/tasks.py"].query_gets == frozenset({3})  # `read`'s line
    assert GetByPrimaryKey.applies_to("app/tasks.py", source.encode(), index)


@pytest.mark.parametrize(
    "imports, entity",
    [
        ("", "db.Task"),  # an attribute of an untyped object spelled like the model
        ("from app.plain import Record as Task", "Task"),  # an alias spelled like the model
    ],
)
def test_a_class_only_spelled_like_a_model_is_read_to_say_why_it_is_left_alone(imports: str, entity: str) -> None:
    source = dedent("""
        from sqlalchemy import select
        IMPORTS

        async def read(db, task_id):
            return (await db.execute(select(ENTITY).where(ENTITY.id == task_id))).scalar_one_or_none()
    """).replace("IMPORTS", imports).replace("ENTITY", entity)
    files = {
        "app/models.py": dedent(MODELS).encode(),
        "app/plain.py": textwrap.dedent("class Record:\n    id = 0\n").encode(),
        "app/tasks.py": source.encode(),
    }
    index = RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0\n"})
    assert GetByPrimaryKey.applies_to("app/tasks.py", source.encode(), index)
    result = run_codemod(GetByPrimaryKey, cst.parse_module(source), "app/tasks.py", index=index)
    [refusal] = result.refusals
    assert "not shown to be a mapped model class of the repository" in refusal.reason


@pytest.mark.parametrize(
    "imports, fetch",
    [
        ("from sqlalchemy import select", "task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()"),
        ("", "task = db.query(Task).filter(Task.id == task_id).one()"),  # the legacy API: no `select` at all
    ],
)
def test_a_bare_trigger_after_a_query_that_loads_it_is_read_and_removed(imports: str, fetch: str) -> None:
    """Neither form needs a refresh, an `options(...)` or `_ = ` to be found."""
    source = dedent(f"""
        {imports}
        from app.models import Task

        async def show(db, task_id):
            {fetch}
            task.assignee
            return task
    """)
    index = _index("app/routes.py", source)
    assert RedundantLazyLoad.applies_to("app/routes.py", source.encode(), index)
    result = run_codemod(RedundantLazyLoad, cst.parse_module(source), "app/routes.py", index=index)
    assert len(result.changes) == 1 and "task.assignee\n" not in result.tree.code


# --- in-memory-requery: a key copied from an object, and a fetch of one object --------------


def test_a_copied_key_without_a_fetch_of_one_object_is_not_read() -> None:
    source = dedent("""
        from app.models import Task

        def assign(db, task: Task, user):
            task.assignee_id = user.id
            db.add(task)
            return {"assignee": user.id}
    """)
    index = _index("app/tasks.py", source)
    assert not InMemoryRequery.applies_to("app/tasks.py", source.encode(), index)
    assert _outcome(InMemoryRequery, "app/tasks.py", source, index) == 0


def test_a_copied_key_then_a_session_get_by_it_is_read_and_rewritten() -> None:
    source = dedent("""
        from app.models import Task, User

        def assign(db, task: Task, user: User):
            task.assignee_id = user.id
            db.flush()
            owner = db.get(User, task.assignee_id)
            return owner
    """)
    index = _index("app/tasks.py", source)
    assert InMemoryRequery.applies_to("app/tasks.py", source.encode(), index)
    result = run_codemod(InMemoryRequery, cst.parse_module(source), "app/tasks.py", index=index)
    assert len(result.changes) + len(result.refusals) == 1


# --- eager-load and n-plus-one: loops over the rows of a query the file runs -----------------


def test_a_loop_over_rows_from_no_query_is_not_read() -> None:
    source = dedent("""
        def names(client):
            for task in client.read_tasks():
                print(task.reporter)
    """)
    index = _index("app/cli.py", source)
    assert not EagerLoad.applies_to("app/cli.py", source.encode(), index)
    assert not NPlusOne.applies_to("app/cli.py", source.encode(), index)
    assert _outcome(EagerLoad, "app/cli.py", source, index) == 0
    result = run_codemod(NPlusOne, cst.parse_module(source), "app/cli.py", index=index)
    assert not result.findings


def test_a_loop_over_a_querys_rows_reading_a_lazy_relationship_is_read_and_reported() -> None:
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task

        def names(db):
            for task in db.scalars(select(Task)):
                print(task.reporter)
    """)
    index = _index("app/report.py", source)
    assert EagerLoad.applies_to("app/report.py", source.encode(), index)
    assert NPlusOne.applies_to("app/report.py", source.encode(), index)
    result = run_codemod(NPlusOne, cst.parse_module(source), "app/report.py", index=index)
    assert len(result.findings) == 1 and "Task.reporter" in result.findings[0].message


def test_a_loop_over_a_helpers_rows_is_not_read_where_another_function_queries() -> None:
    """The file runs a query, but the loop's function fetches nothing: its rows come from a
    service in another module, which no per-row reader follows."""
    service = dedent("""
        from sqlalchemy import select
        from app.models import Task

        def list_tasks(db) -> list[Task]:
            return list(db.scalars(select(Task)))
    """)
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task
        from app.services.tasks import list_tasks

        def count(db):
            return len(db.scalars(select(Task)).all())

        def names(db):
            for task in list_tasks(db):
                print(task.reporter)
    """)
    files = {"app/models.py": dedent(MODELS).encode(), "app/services/tasks.py": service.encode(), "app/report.py": source.encode()}
    index = RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0.4\n"})
    assert per_row_lines(index, "app/report.py") == frozenset()
    assert not EagerLoad.applies_to("app/report.py", source.encode(), index)
    assert not NPlusOne.applies_to("app/report.py", source.encode(), index)
    assert _outcome(EagerLoad, "app/report.py", source, index) == 0
    assert not run_codemod(NPlusOne, cst.parse_module(source), "app/report.py", index=index).findings


@pytest.mark.parametrize(
    "imports, loop",
    [
        ("from app.models import Task", "for task in db.query(Task).all():"),  # the legacy Query API
        ("from sqlmodel import select\nfrom .models import Task", "for task in db.exec(select(Task)):"),  # SQLModel, relative
    ],
    ids=["legacy query", "sqlmodel exec, relative import"],
)
def test_a_loop_over_rows_its_own_function_fetches_is_read_and_reported(imports: str, loop: str) -> None:
    source = f"{imports}\n\n\ndef names(db):\n    {loop}\n        print(task.reporter)\n"
    index = _index("app/report.py", source)
    assert per_row_lines(index, "app/report.py") == frozenset({4 + imports.count("\n")})
    assert NPlusOne.applies_to("app/report.py", source.encode(), index)
    result = run_codemod(NPlusOne, cst.parse_module(source), "app/report.py", index=index)
    assert len(result.findings) == 1 and "Task.reporter" in result.findings[0].message


def test_the_functions_read_for_rows_are_the_loops_and_every_route_nested_ones_too() -> None:
    source = dedent("""
        from fastapi import APIRouter
        from sqlalchemy import select
        from app.models import Task

        for task in []:
            print(task.reporter)

        def create_app(db):
            router = APIRouter()

            @router.get("/tasks")
            def tasks():
                return db.scalars(select(Task)).all()

            @router.get("/tasks/{id}")
            async def task(id: int):
                return db.scalars(select(Task).where(Task.id == id)).all()

            @router.get("/tasks/{id}/again")
            def again(id: int):
                return db.get(Task, id)
            return router
    """)
    index = _index("app/factory.py", source)
    facts = index.facts["app/factory.py"]
    assert facts.sync_routes == frozenset({12, 20}) and facts.async_routes == frozenset({16})  # the `def` lines
    # The module-level loop is no function's: only the routes are read, the async one too,
    # of those that fetch a query result (`get` fetches none: its route has no rows to judge).
    assert per_row_lines(index, "app/factory.py") == frozenset({12, 16})
    assert EagerLoad.applies_to("app/factory.py", source.encode(), index)
    assert EagerLoad.candidate_lines("app/factory.py", index) == NPlusOne.candidate_lines("app/factory.py", index)


def test_the_facts_name_the_fetch_and_source_methods_the_value_reader_knows() -> None:
    """The facts (no LibCST) keep their own copies of `analyzers.values`' method names:
    one that drifted would rule out files the codemods read cases in."""
    from optimize.analyzers import facts, values

    one_row = {m for (_, m), held in values._STEPS.items() if isinstance(held, values.Holds)}
    one_row -= {"get", "all"}  # `get` takes the key (`query_gets`); `all` gives many
    assert facts._ONE_ROW_METHODS == one_row
    assert {"execute", "scalars", "exec"} <= facts._SOURCE_METHODS and "query" in facts._SOURCE_METHODS
    # A fetch is read from those and from `session.scalar(stmt)` (`values.read_fetch`).
    assert facts.FETCH_METHODS == facts._SOURCE_METHODS | {"scalar"}


# --- redundant-lazy-load: a bound read where the function may load the object --------------


# The facts drop these (`tests/analyzers/test_bound_reads.py`); the codemod agrees.
@pytest.mark.parametrize("body", list(BOUND_READS_DROPPED.values()), ids=list(BOUND_READS_DROPPED))
def test_a_bound_read_no_load_can_reach_is_not_read_and_the_codemod_has_nothing_to_say(body: str) -> None:
    source = "from sqlalchemy import select\nfrom app.models import Task\n\n" + dedent(body)
    index = _index("app/service.py", source)
    assert not RedundantLazyLoad.applies_to("app/service.py", source.encode(), index)
    assert _outcome(RedundantLazyLoad, "app/service.py", source, index) == 0


def test_a_bound_read_after_a_query_that_loads_it_is_read_and_reported() -> None:
    source = dedent("""
        from sqlalchemy import select
        from app.models import Task

        async def f(db, task_id):
            task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()
            owner = task.assignee
    """)
    index = _index("app/service.py", source)
    assert RedundantLazyLoad.applies_to("app/service.py", source.encode(), index)
    refusals = run_codemod(RedundantLazyLoad, cst.parse_module(source), "app/service.py", index=index).refusals
    assert [r.line for r in refusals] == [6] and "the value is used" in refusals[0].reason


# --- in-memory-requery: a fetch in a function that assigns an attribute ---------------------


def test_the_functions_read_for_a_requery_are_those_that_fetch_and_assign_an_attribute() -> None:
    source = dedent("""
        from app.models import Task, User

        async def copies(db, task: Task, user: User):  # 3
            task.assignee_id = user.id
            if task.assignee_id:
                found = await db.get(User, task.assignee_id)

        async def fetches_only(db, task: Task):  # 8
            if task.assignee_id:
                found = await db.get(User, task.assignee_id)

        async def assigns_in_a_nested_function(db, task: Task, user: User):  # 12
            def later():
                task.assignee_id = user.id
            if task.assignee_id:
                found = await db.get(User, task.assignee_id)

        async def assigns_something_else(db, task: Task):  # 18
            task.assignee_id = 5
            if task.assignee_id:
                found = await db.get(User, task.assignee_id)
    """)
    index = _index("app/service.py", source)
    assert InMemoryRequery.candidate_lines("app/service.py", index) == frozenset({3, 12, 18})
    # Each function read has something said about it; the one left out has nothing.
    done = run_codemod(InMemoryRequery, cst.parse_module(source), "app/service.py", index=index)
    said = {line for line in (3, 8, 12, 18) for r in [*done.changes, *done.refusals] if line < r.line < line + 5}
    assert said == {3, 12, 18}


RENAMING_PACKAGE = {
    "app/__init__.py": "",
    "app/models/__init__.py": "from .task import Task as TaskModel\n\n__all__ = ['TaskModel']\n",
    "app/models/task.py": """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
    """,
    "app/api/__init__.py": "",
    "app/services/__init__.py": "",
}


@pytest.mark.parametrize(
    "path, source",
    [
        # the re-exported name, absolute import, legacy Query API
        ("app/api/tasks.py", """
            from sqlalchemy.orm import Session

            from app.models import TaskModel

            def read_task(db: Session, task_id: int) -> TaskModel | None:
                return db.query(TaskModel).filter(TaskModel.id == task_id).first()
        """),
        # renamed once more on the way, relative import, 2.0 select
        ("app/services/legacy.py", """
            from sqlalchemy import select
            from sqlalchemy.orm import Session

            from ..models import TaskModel as LegacyTask

            def find(db: Session, task_id: int):
                return db.scalars(select(LegacyTask).where(LegacyTask.id == task_id)).one_or_none()
        """),
    ],
)
def test_a_model_renamed_by_a_re_export_passes_the_model_name_gate_and_is_rewritten(path: str, source: str) -> None:
    files = {p: dedent(text).encode() for p, text in RENAMING_PACKAGE.items()}
    files[path] = dedent(source).encode()
    index = RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0.4\n"})
    assert GetByPrimaryKey.applies_to(path, files[path], index)
    result = run_codemod(GetByPrimaryKey, cst.parse_module(files[path].decode()), path, index=index, options={})
    assert [c.codemod for c in result.changes] == ["get-by-primary-key"]
    model = "TaskModel" if "TaskModel |" in source else "LegacyTask"
    assert f"db.get({model}, task_id)" in result.tree.code


def test_the_names_a_model_is_reached_by_are_its_own_and_the_import_aliases_of_them() -> None:
    files = {p: dedent(text).encode() for p, text in RENAMING_PACKAGE.items()}
    files["app/api/deps.py"] = b"from app.models import TaskModel as T\nfrom app.other import Task as Unrelated\n"
    files["app/other.py"] = b"class Job:\n    pass\n"
    index = RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0.4\n"})
    # `Unrelated` binds a `Task` too: a name the gate may pass more files for, never fewer.
    assert index.model_reference_names() == {"Task", "TaskModel", "T", "Unrelated"}
    assert index.may_name_model(b"x = db.get(T, 1)\n")
    assert not index.may_name_model(b"x = db.get(TaskModels, 1)\nJob()\n")


LEGACY_HELPER = """
    from sqlalchemy.orm import Session

    from .models import Task

    def base_query(db: Session):
        return db.query(Task).filter(Task.deleted_at.is_(None))

    def get_task(db: Session, task_id: int) -> Task | None:
        return base_query(db).filter(Task.id == task_id).first()
"""
SQLMODEL_HELPER = """
    from sqlmodel import Session, select

    from .models import Task

    def visible():
        return select(Task).where(Task.deleted_at.is_(None))

    def get_task(session: Session, task_id: int) -> Task | None:
        return session.exec(visible().where(Task.id == task_id)).first()
"""


@pytest.mark.parametrize("source", [LEGACY_HELPER, SQLMODEL_HELPER], ids=["legacy Query API", "SQLModel exec"])
def test_a_one_row_fetch_of_a_query_a_helper_in_the_module_builds_is_not_read(source: str) -> None:
    source = dedent(source)
    index = _index("app/service.py", source)
    assert GetByPrimaryKey.wants(source.encode())
    assert not GetByPrimaryKey.applies_to("app/service.py", source.encode(), index)
    assert _outcome(GetByPrimaryKey, "app/service.py", source, index) == 0


def test_a_one_row_fetch_of_a_statement_a_helper_builds_is_not_read() -> None:
    source = dedent("""
        from sqlalchemy import Select, select
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.models import Task

        class TaskRepository:
            def __init__(self, session: AsyncSession) -> None:
                self.session = session

            def base_statement(self) -> Select[tuple[Task]]:
                return select(Task).where(Task.deleted_at.is_(None))

            async def get_by_id(self, task_id: int) -> Task | None:
                statement = self.base_statement().where(Task.id == task_id)
                result = await self.session.execute(statement)
                return result.scalar_one_or_none()
    """)
    index = _index("app/repository.py", source)
    assert GetByPrimaryKey.wants(source.encode())
    assert not GetByPrimaryKey.applies_to("app/repository.py", source.encode(), index)
    assert _outcome(GetByPrimaryKey, "app/repository.py", source, index) == 0


@pytest.mark.parametrize(
    "imports, select",
    [
        ("from sqlalchemy import select as sel", "sel(Task)"),
        ("import sqlalchemy as sa", "sa.select(Task)"),
        ("from sqlmodel import select", "select(Task)"),
    ],
)
def test_a_one_row_fetch_of_a_select_however_imported_is_read_and_rewritten(imports: str, select: str) -> None:
    source = dedent(f"""
        {imports}
        from sqlalchemy.ext.asyncio import AsyncSession

        from app.models import Task

        async def get_task(db: AsyncSession, task_id: int) -> Task | None:
            result = await db.execute({select}.where(Task.id == task_id))
            return result.scalar_one_or_none()
    """)
    index = _index("app/service.py", source)
    assert GetByPrimaryKey.applies_to("app/service.py", source.encode(), index)
    result = run_codemod(GetByPrimaryKey, cst.parse_module(source), "app/service.py", index=index, options={})
    assert "await db.get(Task, task_id)" in result.tree.code


@pytest.mark.parametrize("codemod", [GetByPrimaryKey, InMemoryRequery])
def test_the_byte_triggers_pass_a_select_imported_under_another_name(codemod) -> None:
    source = b"from sqlalchemy import select as sel\n\nasync def f(session, x):\n    return (await session.scalars(sel(M).where(M.id == x))).first()\n"
    assert codemod.wants(source)
