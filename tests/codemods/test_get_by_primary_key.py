"""get-by-primary-key beyond its examples: repository layouts, the prefilter, parentheses an
`await` needs, suppression and the fix tier."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import UNSAFE
from optimize.codemods.get_by_primary_key import GetByPrimaryKey
from optimize.transform import TransformResult, run_codemod

TASK_MODEL = """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str]
"""
PLAIN_TASK = """
    from dataclasses import dataclass

    @dataclass
    class Task:
        id: int
        title: str
"""


def run(path: str, source: str, files: dict[str, str], requirements: str = "sqlalchemy>=2.0\n") -> TransformResult:
    source = textwrap.dedent(source).lstrip("\n")
    everything = {path: source.encode(), **{p: textwrap.dedent(s).encode() for p, s in files.items()}}
    index = RepoIndex.build(everything, {"requirements.txt": requirements.encode()})
    return run_codemod(GetByPrimaryKey, cst.parse_module(source), path, index=index)


@pytest.mark.parametrize(
    "path, models_path, import_line",
    [
        ("src/app/routers/tasks.py", "src/app/models.py", "from ..models import Task"),
        ("src/app/routers/tasks.py", "src/app/models.py", "from app.models import Task"),
        ("backend/app/api/routes/tasks.py", "backend/app/models/task.py", "from ...models.task import Task"),
        ("backend/app/api/routes/tasks.py", "backend/app/models/task.py", "from app.models.task import Task"),
    ],
)
def test_layouts_and_relative_imports(path: str, models_path: str, import_line: str) -> None:
    """The model behind the import is found in `src/` and `backend/app` layouts, while a
    plain class of the same name elsewhere in the repository does not confuse it."""
    code = f"""
        from sqlalchemy.orm import Session
        {import_line}

        def read_task(task_id: int, db: Session):
            return db.query(Task).filter(Task.id == task_id).first()
    """
    files = {models_path: TASK_MODEL, "scripts/task.py": PLAIN_TASK}
    result = run(path, code, files)
    assert "return db.get(Task, task_id)" in result.tree.code
    assert len(result.changes) == 1 and not result.refusals


def test_the_plain_class_in_another_layout_is_left_alone() -> None:
    code = """
        from sqlalchemy import select
        from ..domain.task import Task

        async def read_task(task_id, db):
            return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()
    """
    files = {"src/app/models.py": TASK_MODEL, "src/app/domain/task.py": PLAIN_TASK}
    result = run("src/app/routers/tasks.py", code, files)
    assert result.tree.code == textwrap.dedent(code).lstrip("\n")
    assert not result.changes
    [refusal] = result.refusals
    assert "domain.task.Task, not shown to be a mapped model class of the repository" in refusal.reason
    assert "(the model Task is in src/app/models.py)" in refusal.reason


@pytest.mark.parametrize(
    "source",
    [
        b"user = db.query(User).get(user_id)",
        b"user = db.query(User).filter(User.id == user_id).one_or_none()",
        b"hero = session.exec(select(Hero).where(Hero.id == hero_id)).one_or_none()",
        b"task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()",
    ],
)
def test_the_prefilter_lets_every_form_through(source: bytes) -> None:
    assert GetByPrimaryKey.wants(source)


def test_an_await_followed_by_a_trailer_keeps_its_parentheses() -> None:
    code = """
        from sqlalchemy import select
        from app.models import Task

        async def title(db, task_id):
            return (await db.scalars(select(Task).where(Task.id == task_id))).first().title

        async def heading(db, task_id):
            return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none().title.upper()
    """
    result = run("app/tasks.py", code, {"app/models.py": TASK_MODEL})
    assert "return (await db.get(Task, task_id)).title\n" in result.tree.code
    assert "return (await db.get(Task, task_id)).title.upper()\n" in result.tree.code
    compile(result.tree.code, "tasks.py", "exec")


def test_suppression_on_either_statement_of_the_result_pair() -> None:
    code = """
        from sqlalchemy import select
        from app.models import Task

        async def a(db, task_id):
            result = await db.execute(select(Task).where(Task.id == task_id))  # optimize: ignore[get-by-primary-key]
            return result.scalar_one_or_none()

        async def b(db, task_id):
            return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()  # optimize: ignore
    """
    result = run("app/tasks.py", code, {"app/models.py": TASK_MODEL})
    assert result.tree.code == textwrap.dedent(code).lstrip("\n")
    assert [r.reason for r in result.refusals] == ["suppressed by `# optimize: ignore`"] * 2


def test_changes_are_in_the_unsafe_tier() -> None:
    code = """
        from app.models import Task

        def read(db, task_id):
            return db.query(Task).get(task_id)
    """
    result = run("app/tasks.py", code, {"app/models.py": TASK_MODEL})
    assert [c.tier for c in result.changes] == [UNSAFE]


def test_a_lookup_inside_another_lookups_key_is_rewritten_with_it_in_one_pass() -> None:
    code = """
        from sqlalchemy import select
        from app.models import Task

        async def parent_of(db, task_id):
            result = await db.execute(select(Task).where(Task.id == (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none().parent_id))
            return result.scalar_one_or_none()

        async def chained(db, task_id):
            return (await db.execute(select(Task).where(Task.id == (await db.scalar(select(Task).where(Task.id == task_id))).parent_id))).scalar_one_or_none()
    """
    model = TASK_MODEL + "    parent_id: Mapped[int | None]\n"
    result = run("app/tasks.py", code, {"app/models.py": model})
    assert "return await db.get(Task, (await db.get(Task, task_id)).parent_id)" in result.tree.code
    assert result.tree.code.count("db.get(") == 4 and "execute" not in result.tree.code
    again = run("app/tasks.py", result.tree.code, {"app/models.py": model})
    assert again.tree.code == result.tree.code and not again.changes


def test_query_get_passes_a_composite_key_on_as_it_is() -> None:
    """`Query.get(key)` and `Session.get(M, key)` read the key alike, so no order needs
    proving, even where a mixin's key column makes the order unprovable for a select."""
    models = """
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class TenantMixin:
            tenant_id: Mapped[int] = mapped_column(primary_key=True)

        class Document(TenantMixin, Base):
            __tablename__ = "documents"
            id: Mapped[int] = mapped_column(primary_key=True)
    """
    code = """
        from app.models import Document

        def read(db, key):
            return db.query(Document).get(key)

        def read_filtered(db, tenant_id, doc_id):
            return db.query(Document).filter(Document.tenant_id == tenant_id, Document.id == doc_id).first()
    """
    result = run("app/documents.py", code, {"app/models.py": models})
    assert "return db.get(Document, key)" in result.tree.code
    assert "db.query(Document).filter(" in result.tree.code
    inherited = (
        "composite primary key: part of Document's composite primary key is inherited, "
        "so its order is the mapper's, not the class's"
    )
    assert [r.reason for r in result.refusals] == [inherited]


@pytest.mark.parametrize(
    "deletion",
    [
        "db.query(Task).filter(Task.title == 'old').delete()",
        "db.execute(delete(Task).where(Task.title == 'old'))",
        "db.delete(other)",
        "purge()",  # a local function that uses the session
    ],
)
def test_a_delete_through_the_session_before_the_lookup_stops_it(deletion: str) -> None:
    source = f"""
        from sqlalchemy import delete, select
        from app.models import Task

        def replace(db, other, task_id):
            def purge():
                db.delete(other)

            {deletion}
            return db.execute(select(Task).where(Task.id == task_id)).scalar_one_or_none()
    """
    result = run("app/routers/tasks.py", source, {"app/models.py": TASK_MODEL})
    assert not result.changes
    assert any("get can return an object deleted in the session" in r.reason for r in result.refusals)


def test_a_delete_on_another_object_or_after_the_lookup_does_not() -> None:
    source = """
        from sqlalchemy import select
        from app.models import Task

        def replace(db, cache, task_id):
            cache.delete(task_id)
            task = db.execute(select(Task).where(Task.id == task_id)).scalar_one_or_none()
            db.delete(task)
            return task
    """
    result = run("app/routers/tasks.py", source, {"app/models.py": TASK_MODEL})
    assert [c.line for c in result.changes] == [6]
