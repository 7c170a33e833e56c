"""What the generated example tests cannot express for redundant-lazy-load."""

from __future__ import annotations

import libcst as cst

from optimize.analyzers.index import RepoIndex
from optimize.codemods.redundant_lazy_load import MODELS, RedundantLazyLoad
from optimize.transform import run_codemod
from tests.examples import dedent

SOURCE = dedent(
    """
    async def create_task(db, task):
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
