"""Every codemod treats a relative import of the repository's own module as the absolute
import it stands for: each example, rewritten with relative imports (`from .models import
Task` in `app/example.py`, `from .db import Base` in `app/models.py`), gives the same
output, the same changes and the same refusals as the original."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest
from libcst.codemod import CodemodContext

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import Codemod, Keep, Rewrite
from tests.examples import Case, all_cases, dedent, run_example
from tests.relative_variants import relative_code, relative_variant


def _variants(kind: type) -> list[tuple[Case, Case]]:
    pairs = []
    for case in all_cases():
        if not isinstance(case.example, kind):
            continue
        variant = relative_variant(case.example)
        if variant is not None:
            pairs.append((case, Case(case.codemod, variant)))
    return pairs


REWRITES = _variants(Rewrite)
KEEPS = _variants(Keep)


def test_the_variants_cover_the_orm_codemods() -> None:
    """The generator finds imports to make relative in the examples that depend on them."""
    ids = {case.codemod.ID for case, _ in REWRITES}
    assert {"redundant-lazy-load", "in-memory-requery", "get-by-primary-key"} <= ids
    assert any(case.codemod.ID == "redundant-lazy-load" for case, _ in KEEPS)


@pytest.mark.parametrize("pair", REWRITES, ids=[c.id for c, _ in REWRITES])
def test_relative_imports_are_rewritten_as_the_absolute_ones(pair: tuple[Case, Case]) -> None:
    original, variant = pair
    assert isinstance(variant.example, Rewrite)
    before, after = dedent(variant.example.before), dedent(variant.example.after)
    expected = run_example(original.codemod, original.example, dedent(original.example.before))
    result = run_example(variant.codemod, variant.example, before)
    # Byte for byte the original's output with the same imports made relative, and the
    # example's `after` as LibCST's harness compares it (blank lines without indentation).
    assert result.tree.code == relative_code(original.example, expected.tree.code)
    assert dedent(result.tree.code) == after
    assert result.changes
    assert [(c.line, c.rationale) for c in result.changes] == [
        (c.line, c.rationale) for c in expected.changes
    ]
    assert [r.reason for r in result.refusals] == [r.reason for r in expected.refusals]


@pytest.mark.parametrize("pair", KEEPS, ids=[c.id for c, _ in KEEPS])
def test_relative_imports_keep_with_the_same_reason(pair: tuple[Case, Case]) -> None:
    """Left alone as the original is; when the original says why, the variant says so too."""
    _, variant = pair
    assert isinstance(variant.example, Keep)
    code = dedent(variant.example.code)
    result = run_example(variant.codemod, variant.example, code)
    assert result.tree.code == code
    assert not result.changes
    if variant.example.reason is not None:
        reasons = [r.reason for r in result.refusals]
        assert any(variant.example.reason in r for r in reasons), reasons


class _RecordNames(Codemod):
    """Records what `qualified_names` answers for every name and attribute read."""

    ID = "record-names"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: dict[str, set[str]] = {}

    def visit_Expr(self, node: cst.Expr) -> None:
        self.seen[cst.Module([]).code_for_node(node.value)] = self.qualified_names(node.value)


def _names_in(path: str, source: str, index: RepoIndex) -> dict[str, set[str]]:
    codemod = _RecordNames(CodemodContext(filename=path), index=index)
    codemod.transform_module(cst.parse_module(textwrap.dedent(source)))
    return codemod.seen


def test_qualified_names_of_relative_imports_are_absolute() -> None:
    index = RepoIndex.build(
        {p: b"" for p in ("src/app/__init__.py", "src/app/api/__init__.py", "src/app/models.py", "src/app/api/deps.py")}
    )
    seen = _names_in(
        "src/app/api/routes.py",
        """
        from typing import TYPE_CHECKING
        from ..models import Task
        from . import deps
        from .deps import get_db as dependency
        import sqlalchemy as sa

        if TYPE_CHECKING:
            from ..schemas import TaskOut

        Task
        deps.get_db
        dependency
        TaskOut
        sa.select
        """,
        index,
    )
    assert seen == {
        "Task": {"app.models.Task"},
        "deps.get_db": {"app.api.deps.get_db"},
        "dependency": {"app.api.deps.get_db"},
        "TaskOut": {"app.schemas.TaskOut"},
        "sa.select": {"sqlalchemy.select"},
    }


def test_qualified_names_without_a_repository_index() -> None:
    """The module's own path is enough: `app/example.py` imports `.models` as `app.models`."""
    seen = _names_in("app/example.py", "from .models import Task\nTask\n", RepoIndex.empty())
    assert seen == {"Task": {"app.models.Task"}}
