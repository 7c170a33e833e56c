"""One test per example carried by a codemod (Fixit-style VALID/INVALID, generated)."""

from __future__ import annotations

import pytest
from libcst.codemod import CodemodContext, CodemodTest

from optimize.codemods.base import Keep, Rewrite
from optimize.codemods.registry import REGISTRY
from tests.examples import EXAMPLE_PATH, Case, all_cases, dedent, index_for, run_example

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_example(case: Case) -> None:
    example = case.example
    if isinstance(example, Rewrite):
        before, after = dedent(example.before), dedent(example.after)
        # LibCST's own harness: the codemod turns `before` into exactly `after`.
        test = CodemodTest()
        test.TRANSFORM = case.codemod
        test.assertCodemod(
            before,
            after,
            context_override=CodemodContext(
                filename=EXAMPLE_PATH, full_module_name="app.example", full_package_name="app"
            ),
            index=index_for(example, before),
            options=example.options,
        )
        result = run_example(case.codemod, example, before)
        assert result.changes, "a rewrite must record a Change with its rationale"
        # Idempotent: the output is left alone by a second pass.
        again = run_example(case.codemod, example, after)
        assert again.tree.code == after, "second pass changed the output"
        assert not again.changes
        compile(result.tree.code, "example.py", "exec")
    else:
        assert isinstance(example, Keep)
        code = dedent(example.code)
        result = run_example(case.codemod, example, code)
        assert result.tree.code == code, "a Keep example was rewritten"
        assert not result.changes
        if example.reason is not None:
            reasons = [r.reason for r in result.refusals]
            assert any(example.reason in r for r in reasons), (
                f"expected a refusal mentioning {example.reason!r}, got {reasons}"
            )


REPORTED = [c for c in CASES if isinstance(c.example, Rewrite) or c.example.reason is not None]


@pytest.mark.parametrize("case", REPORTED, ids=[c.id for c in REPORTED])
def test_the_engine_parses_the_example_for_its_codemod(case: Case) -> None:
    # The prefilters (bytes, model names, the file's facts) must not hide a case the
    # codemod rewrites or reports: the engine would never show it the file.
    example = case.example
    source = dedent(example.before if isinstance(example, Rewrite) else example.code)
    assert case.codemod.applies_to(EXAMPLE_PATH, source.encode(), index_for(example, source), example.options)


@pytest.mark.parametrize("codemod", REGISTRY, ids=[c.ID for c in REGISTRY])
def test_codemod_is_complete(codemod) -> None:
    """Every codemod carries what the CLI, docs and tests read."""
    assert codemod.ID and codemod.TITLE and codemod.CONDITIONS and codemod.TRIGGERS
    assert codemod.SAFETY in {"safe", "unsafe"}
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert heading in (codemod.__doc__ or "") or heading in (
            __import__(codemod.__module__, fromlist=["x"]).__doc__ or ""
        ), f"{codemod.ID}: docstring lacks {heading!r}"
    assert any(isinstance(e, Rewrite) for e in codemod.EXAMPLES)
    assert any(isinstance(e, Keep) for e in codemod.EXAMPLES)
