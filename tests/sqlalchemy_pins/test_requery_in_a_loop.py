"""Real SQLAlchemy and aiosqlite: why `in-memory-requery` must not replace a re-query inside
a loop whose body commits on a session that expires on commit.

The programs are the codemod's own examples, run as written. Each `Keep` below runs fine;
the same program with the re-query replaced by the object in memory (the rewrite a check of
only the lines written between the assignment and the query allows, since the commit comes
after the query in the loop body) raises `MissingGreenlet` on the loop's second iteration:
the commit at the end of the first one expired the object, and reading its name would need
IO outside the greenlet. The loops the codemod still rewrites (no commit inside, or
`expire_on_commit=False`) give the same answers before and after.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import textwrap
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from optimize.codemods.base import Keep, Rewrite
from optimize.codemods.in_memory_requery import EXAMPLES


class Base(DeclarativeBase):
    pass


class TaskStatus(Base):
    __tablename__ = "task_statuses"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]

    @classmethod
    def create_default_statuses(cls) -> list["TaskStatus"]:
        return [cls(name=name) for name in ("Todo", "In Progress", "Done")]


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(default="")
    derived_status_id: Mapped[int | None] = mapped_column(ForeignKey("task_statuses.id"))


# The MissingGreenlet under test leaves aiosqlite's cursor coroutine unawaited; Python
# reports it when the coroutine is collected, which may be during a later test.
pytestmark = [
    pytest.mark.filterwarnings("ignore:coroutine 'Connection.cursor' was never awaited:RuntimeWarning"),
    pytest.mark.filterwarnings(
        "ignore:Exception ignored in. <coroutine object Connection.cursor:pytest.PytestUnraisableExceptionWarning"
    ),
]

NAMES = ["alpha", "beta", "gamma"]
# Keep example -> the re-query lines that a line-order check would replace by `current = status`.
LINE_ORDER_REWRITES = {
    "re-query inside a for loop whose body ends with a commit that expires": (
        "current = await db.get(TaskStatus, template.derived_status_id)",
    ),
    "re-query inside a while loop whose body ends with a commit that expires": (
        "result = await db.execute(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))",
        "current = result.scalar_one_or_none()",
    ),
    "the commit is in a finally block that runs before the next iteration": (
        "current = await db.scalar(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))",
    ),
}


def example(name: str) -> Keep | Rewrite:
    return next(e for e in EXAMPLES if e.name == name)


def as_rewritten(code: str, requery: tuple[str, ...]) -> str:
    """``code`` with its re-query replaced by `current = status`, as the codemod did."""
    lines = textwrap.dedent(code).splitlines()
    first = next(i for i, line in enumerate(lines) if line.strip() == requery[0])
    indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
    assert [line.strip() for line in lines[first : first + len(requery)]] == list(requery)
    return "\n".join([*lines[:first], f"{indent}current = status", *lines[first + len(requery) :]])


def endpoint(code: str) -> Callable[..., Awaitable[list[str]]]:
    """The example's function, defined against this module's real models (its imports
    are the example repository's; FastAPI's `Depends` default is not needed to call it)."""
    body = "\n".join(
        line for line in textwrap.dedent(code).splitlines() if not line.startswith(("from ", "import "))
    )
    namespace: dict[str, object] = {
        "Depends": lambda dependency: None,
        "get_db": None,
        "AsyncSession": AsyncSession,
        "Project": Project,
        "TaskStatus": TaskStatus,
        "select": select,
    }
    exec(compile(body, "<example>", "exec"), namespace)  # noqa: S102 - the codemod's own example
    [function] = [v for v in namespace.values() if inspect.iscoroutinefunction(v)]
    return function


MISSING_GREENLET = "MissingGreenlet"


def run(tmp_path, code: str, expire_on_commit: bool) -> tuple[list[str] | str, int]:
    """(what the endpoint returned, or `MISSING_GREENLET`; how many projects it committed)."""

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/loop.db")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.drop_all)
            await conn.run_sync(Base.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=expire_on_commit)
        async with factory() as session:
            session.add(TaskStatus(id=1, name="Todo"))
            await session.commit()
        try:
            async with factory() as db:
                try:
                    outcome: list[str] | str = await endpoint(code)(list(NAMES), 1, db=db)
                except StatementError as exc:
                    if not isinstance(exc.orig, MissingGreenlet):
                        raise
                    outcome = MISSING_GREENLET
                except MissingGreenlet:
                    outcome = MISSING_GREENLET
            async with factory() as session:
                committed = await session.scalar(select(func.count()).select_from(Project))
            return outcome, committed
        finally:
            await engine.dispose()

    result = asyncio.run(scenario())
    gc.collect()  # report aiosqlite's abandoned cursor coroutine here, where it is expected
    return result


@pytest.mark.parametrize("name", sorted(LINE_ORDER_REWRITES))
def test_the_loop_as_written_runs_and_the_rewrite_fails_on_the_second_iteration(tmp_path, name) -> None:
    keep = example(name)
    assert isinstance(keep, Keep)
    outcome, committed = run(tmp_path, keep.code, expire_on_commit=True)
    assert outcome == ["Todo"] * len(NAMES) and committed == len(NAMES)

    outcome, committed = run(tmp_path, as_rewritten(keep.code, LINE_ORDER_REWRITES[name]), expire_on_commit=True)
    assert outcome == MISSING_GREENLET
    assert committed == 1  # the first iteration went through; the second one raised


@pytest.mark.parametrize(
    "name, expire_on_commit",
    [
        ("loop that only flushes: the commit after it cannot run between", True),
        ("commit in the loop on an expire_on_commit=False factory", False),
    ],
)
def test_the_loops_still_rewritten_behave_the_same(tmp_path, name, expire_on_commit) -> None:
    rewrite = example(name)
    assert isinstance(rewrite, Rewrite)
    before = run(tmp_path, rewrite.before, expire_on_commit)
    after = run(tmp_path, rewrite.after, expire_on_commit)
    assert before == after == (["Todo"] * len(NAMES), len(NAMES))


def test_without_the_commit_expiring_the_rewrite_is_harmless(tmp_path) -> None:
    """The failure comes from the expiring commit, not from the loop itself."""
    name = "re-query inside a for loop whose body ends with a commit that expires"
    rewritten = as_rewritten(example(name).code, LINE_ORDER_REWRITES[name])
    assert run(tmp_path, rewritten, expire_on_commit=False) == (["Todo"] * len(NAMES), len(NAMES))
