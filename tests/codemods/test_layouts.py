"""Every codemod gives the same answer whatever directory the example's package sits in:
each example that spans modules, moved from `app/` to `backend/app/` (absolute imports, as
a backend run from `backend/` spells them) or to `src/app/` and written with relative
imports, is rewritten, refused and reported as the original at `app/`; only the paths in
the messages differ (and, under `src/`, the imports the output spells relatively)."""

from __future__ import annotations

import libcst as cst
import pytest

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import Keep, Rewrite
from optimize.transform import TransformResult, run_codemod
from tests.examples import EXAMPLE_PATH, Case, all_cases, dedent, run_example
from tests.relative_variants import relative_code, relative_variant

Example = Rewrite | Keep


def _source(example: Example) -> str:
    return dedent(example.before if isinstance(example, Rewrite) else example.code)


def _run_under(prefix: str, case: Case, example: Example) -> TransformResult:
    source = _source(example)
    files = {prefix + EXAMPLE_PATH: source.encode()}
    files.update({prefix + p: dedent(s).encode() for p, s in example.files.items()})
    project = {"requirements.txt": example.requirements.encode()} if example.requirements else {}
    index = RepoIndex.build(files, project)
    tree = cst.parse_module(source)
    return run_codemod(case.codemod, tree, prefix + EXAMPLE_PATH, index=index, options=example.options)


def _outcome(result: TransformResult, prefix: str = "", code: str | None = None) -> tuple:
    def unmoved(text: str) -> str:
        return text.replace(prefix + "app/", "app/") if prefix else text

    return (
        result.tree.code if code is None else code,
        [(c.line, unmoved(c.rationale), c.tier) for c in result.changes],
        [(r.line, unmoved(r.reason)) for r in result.refusals],
        {unmoved(p): t for p, t in result.created_files.items()},
    )


def _moved() -> list[tuple[str, Case, Example]]:
    """(root directory, original case, the example as placed there)."""
    found = []
    for case in all_cases():
        if not case.example.files:
            continue  # a single module: nothing to resolve across files
        if any(not p.endswith(".py") for p in case.example.files):
            continue  # a build file declares packages from the repository root
        if isinstance(case.example, Rewrite) or case.example.reason is not None:
            found.append(("backend/", case, case.example))
        variant = relative_variant(case.example)
        if variant is not None:
            found.append(("src/", case, variant))
    return found


MOVED = _moved()


@pytest.mark.parametrize("moved", MOVED, ids=[f"{prefix}{case.id}" for prefix, case, _ in MOVED])
def test_the_example_moved_under_another_root_gives_the_same_outcome(moved: tuple[str, Case, Example]) -> None:
    prefix, case, placed = moved
    expected = run_example(case.codemod, case.example, _source(case.example))
    code = expected.tree.code if placed is case.example else relative_code(case.example, expected.tree.code)
    assert _outcome(_run_under(prefix, case, placed), prefix) == _outcome(expected, code=code)
