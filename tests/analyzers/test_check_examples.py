"""One test per example of every check (`EXAMPLES` next to its code)."""

from __future__ import annotations

import sys

import pytest

from optimize.analyzers.checks.base import Check, Clean, Finding, IndexCheck, Report
from optimize.analyzers.checks.registry import CHECKS
from tests.examples import EXAMPLE_PATH, dedent, index_for
from optimize.transform import run_codemod

import libcst as cst

CASES = [(c, e) for c in CHECKS for e in c.EXAMPLES]


def findings_of(check, example) -> list[Finding]:
    source = dedent(example.code)
    index = index_for(example, source)
    if issubclass(check, IndexCheck):
        sources = {EXAMPLE_PATH: source.encode()} | {p: dedent(s).encode() for p, s in example.files.items()}
        return check(index, sources, example.options).run()  # may report in the example's other files
    done = run_codemod(check, cst.parse_module(source), EXAMPLE_PATH, index=index, options=example.options)
    assert done.tree.code == source, "a check never edits"
    return done.findings


@pytest.mark.parametrize(
    ("check", "example"), CASES, ids=[f"{c.ID}:{type(e).__name__.lower()}:{e.name}" for c, e in CASES]
)
def test_example(check, example) -> None:
    found = findings_of(check, example)
    if isinstance(example, Report):
        assert any(example.message in f.message and example.fix in f.fix for f in found), found
        assert all(f.check == check.ID and f.fix for f in found)
    else:
        assert isinstance(example, Clean)
        assert found == []


REPORTS = [(c, e) for c, e in CASES if isinstance(e, Report) and not issubclass(c, IndexCheck)]


@pytest.mark.parametrize(("check", "example"), REPORTS, ids=[f"{c.ID}:{e.name}" for c, e in REPORTS])
def test_the_engine_parses_the_example_for_its_check(check, example) -> None:
    source = dedent(example.code)
    assert check.applies_to(EXAMPLE_PATH, source.encode(), index_for(example, source))


def test_every_check_has_both_kinds_of_example() -> None:
    for check in CHECKS:
        kinds = {type(e) for e in check.EXAMPLES}
        assert kinds == {Report, Clean}, check.ID
        doc = sys.modules[check.__module__].__doc__ or ""
        assert all(h in doc for h in ("## What it does", "## Why is this bad?", "## Example", "## Use instead")), check.ID
