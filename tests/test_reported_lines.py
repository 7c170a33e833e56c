"""Positions are reported in the lines of the file the run started from, even for a codemod
that reads a file an earlier codemod already rewrote (`optimize.lines`)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from optimize import engine
from optimize.codemods.registry import by_id
from optimize.config import Config
from optimize.lines import origin_line
from tests.codemods.test_get_by_primary_key import TASK_MODEL

SOURCE = textwrap.dedent(
    """\
    import asyncio

    from sqlalchemy import create_engine

    engine = create_engine(
        "postgresql://app@db/app",
        echo=False,
    )


    async def job():
        asyncio.create_task(work())
    """
)


def test_a_later_codemod_reports_the_line_on_disk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(SOURCE)
    codemods = [by_id()["pool-pre-ping"], by_id()["dangling-task"]]
    result = engine.plan(tmp_path, codemods, Config(), unsafe_allowed=True, jobs=1)
    lines = {o.codemod.ID: [c.line for c in o.changes] for o in result.outcomes}
    # pool-pre-ping adds a line to the engine call above the task; dangling-task still
    # reports the line the `create_task` is on in the file as committed.
    assert SOURCE.splitlines()[11].strip() == "asyncio.create_task(work())"
    assert lines == {"pool-pre-ping": [5], "dangling-task": [12]}
    # Columns too: on a line no earlier codemod changed, they point into the file on disk.
    (task,) = next(o.changes for o in result.outcomes if o.codemod.ID == "dangling-task")
    assert SOURCE.splitlines()[task.line - 1][task.column - 1 :].startswith("asyncio.create_task(")


def test_a_column_on_a_line_an_earlier_codemod_changed_is_unknown(tmp_path: Path) -> None:
    source = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n"
    (tmp_path / "app.py").write_text(source)
    codemods = [by_id()["pool-pre-ping"], by_id()["pool-overflow"]]
    result = engine.plan(tmp_path, codemods, Config(), unsafe_allowed=True, jobs=1)
    first = next(o.changes for o in result.outcomes if o.codemod.ID == "pool-pre-ping")[0]
    assert (first.line, first.column) == (3, 10)  # `create_engine(` on disk
    later = [r for o in result.outcomes if o.codemod.ID == "pool-overflow" for r in [*o.changes, *o.refusals]]
    assert later and all(item.line == 3 and item.column == 0 for item in later)


def test_lines_written_by_an_earlier_codemod_map_to_where_they_were_written() -> None:
    to_origin = origin_line(b"a\nb\nc\nd\n", b"x\na\nb\nC\nC2\nd\n")
    assert [to_origin(line) for line in range(0, 7)] == [0, 1, 1, 2, 3, 3, 4]


def test_unsafe_codemods_leave_test_files_alone_unless_configured(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """\
        from sqlalchemy import select
        from app.models import Task

        def test_read(db):
            assert db.execute(select(Task).where(Task.id == 1)).scalar_one_or_none() is None
        """
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text(textwrap.dedent(TASK_MODEL))
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_tasks.py").write_text(source)
    (tmp_path / "requirements.txt").write_text("sqlalchemy>=2.0\n")
    codemods = [by_id()["get-by-primary-key"]]
    default = engine.plan(tmp_path, codemods, Config(), unsafe_allowed=True, jobs=1)
    assert not default.changed
    included = engine.plan(tmp_path, codemods, Config(unsafe_in_tests=True), unsafe_allowed=True, jobs=1)
    assert [e.path for o in included.changed for e in o.edits] == ["tests/test_tasks.py"]
