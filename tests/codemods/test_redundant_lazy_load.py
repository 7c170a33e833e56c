"""What the generated example tests cannot express for redundant-lazy-load."""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.index import RepoIndex
from optimize.codemods.redundant_lazy_load import MODELS, RedundantLazyLoad
from optimize.transform import run_codemod
from tests.examples import dedent

SOURCE = dedent(
    """
    from app.models import Task

    async def create_task(db, task: Task):
        await db.refresh(task, attribute_names=["assignee"])
        _ = task.assignee
    """
)


def _run(requirements: str | None, unsafe_allowed: bool):
    files = {"app/models.py": dedent(MODELS).encode(), "app/x.py": SOURCE.encode()}
    project = {"requirements.txt": requirements.encode()} if requirements else {}
    index = RepoIndex.build(files, project)
    return run_codemod(
        RedundantLazyLoad, cst.parse_module(SOURCE), "app/x.py", index=index, unsafe_allowed=unsafe_allowed
    )


def test_without_a_version_guarantee_the_change_is_unsafe_tier() -> None:
    result = _run(None, unsafe_allowed=True)
    assert [c.tier for c in result.changes] == ["unsafe"]
    refused = _run(None, unsafe_allowed=False)
    assert refused.tree.code == SOURCE and not refused.changes
    assert "2.0.4" in refused.refusals[0].reason and "--unsafe-fixes" in refused.refusals[0].reason


def test_an_old_minimum_version_is_unsafe_and_a_new_one_safe() -> None:
    assert [c.tier for c in _run("sqlalchemy>=1.4\n", True).changes] == ["unsafe"]
    assert [c.tier for c in _run("sqlalchemy>=2.0.4\n", False).changes] == ["safe"]


def _refusals(source: str, files: dict[str, str] | None = None):
    source = dedent(source)
    index = RepoIndex.build(
        {"app/models.py": dedent(MODELS).encode(), "app/x.py": source.encode()}
        | {p: dedent(t).encode() for p, t in (files or {}).items()},
        {"requirements.txt": b"sqlalchemy>=2.0.30\n"},
    )
    result = run_codemod(RedundantLazyLoad, cst.parse_module(source), "app/x.py", index=index)
    return result


def test_columns_and_objects_of_unknown_model_are_left_alone_without_a_refusal() -> None:
    for source in (
        """
        from app.models import Task

        def f(session, task: Task):
            session.refresh(task, attribute_names=["assignee_id"])
            _ = task.assignee_id
        """,
        """
        def f(session, task):
            session.refresh(task, attribute_names=["assignee"])
            _ = task.assignee
        """,
        """
        from app.models import Task

        def f(session, task: Task):
            session.commit()
            _ = task.id
        """,
    ):
        result = _refusals(source)
        assert result.tree.code == dedent(source)
        assert not result.changes and not result.refusals


def test_a_non_model_class_with_the_same_attribute_names() -> None:
    result = _refusals(
        """
        from app.cache import Task

        def f(cache, task: Task):
            cache.refresh(task, ["assignee"])
            _ = task.assignee
        """,
        files={"app/cache.py": "class Task:\n    assignee = None\n"},
    )
    assert not result.changes and not result.refusals


def test_a_comment_that_also_describes_a_kept_trigger_stays() -> None:
    source = """
        from app.models import Task

        def f(session, task: Task):
            session.refresh(task)
            # Trigger lazy loads
            _ = task.reporter
            _ = task.assignee
        """
    result = _refusals(source)
    assert result.tree.code == dedent(
        """
        from app.models import Task

        def f(session, task: Task):
            session.refresh(task)
            # Trigger lazy loads
            _ = task.assignee
        """
    )
    assert [r.reason for r in result.refusals] == [
        "skipped: relationship Task.assignee uses lazy='select' and is not named in the refresh"
    ]


def test_the_example_app() -> None:
    """create_task loses both triggers; the report keeps its load (plain refresh, lazy='select')."""
    from tests.fixture_app import FIXTURE

    files = {p.relative_to(FIXTURE).as_posix(): p.read_bytes() for p in FIXTURE.rglob("*.py")}
    index = RepoIndex.build(files, {"requirements.txt": (FIXTURE / "requirements.txt").read_bytes()})
    tasks = files["taskboard/routers/tasks.py"].decode()
    result = run_codemod(RedundantLazyLoad, cst.parse_module(tasks), "taskboard/routers/tasks.py", index=index)
    assert "_ = task." not in result.tree.code and "# Load relationships" not in result.tree.code
    assert [c.tier for c in result.changes] == ["safe", "safe"]
    report = files["taskboard/reports.py"].decode()
    kept = run_codemod(RedundantLazyLoad, cst.parse_module(report), "taskboard/reports.py", index=index)
    assert kept.tree.code == report
    assert ["not named in the refresh" in r.reason for r in kept.refusals] == [True]
