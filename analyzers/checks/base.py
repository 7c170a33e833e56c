"""What every check is made of: `Check`, `Finding` and the `Report` / `Clean` examples.

A check finds a performance problem and reports it; it never edits (a codemod fixes the
cases that can be proven, see ``FIXED_BY``). Like a codemod it is a LibCST visitor over a
module the engine parsed once, asking the semantic model (`analyzers/`) what names hold,
which are sessions and who calls whom; the engine hands every check and codemod of a file
the same tree and metadata. Its class attributes are read by the engine, `optimize list`,
the generated tests and the generated docs:

- ``ID``, ``TITLE``, ``TRIGGERS`` / ``ALSO`` / ``NEEDS_MODEL`` (prefilters) and
  ``OPTIONS`` as for codemods;
- ``FIXED_BY``: the id of the codemod that rewrites the provable cases, if one does;
- ``EXAMPLES``: `Report` cases (the check must report, with a message containing
  ``message``) and `Clean` cases (it must report nothing), one generated test each.

A check that needs no more than the repository's facts (`IndexCheck`) reads no tree at
all: it runs once per scan over the index the run has built anyway.

The docstring is the check's documentation, in ruff's shape: What it does / Why is this
bad? / Example / Use instead.

`report()` checks `# optimize: ignore[id]` itself, so no check can forget it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Sequence

import libcst as cst

from optimize.analyzers.index import RepoIndex
from optimize.codemods.base import Codemod, suppression_covers
from optimize.results import Finding  # noqa: F401 - what checks report

REPORT = "report"


@dataclass(frozen=True)
class Report:
    """An example the check must report; ``message`` is a substring of the finding's, and
    ``fix`` (when given) of its suggested fix."""

    code: str
    message: str
    name: str = ""
    fix: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    requirements: str | None = None


@dataclass(frozen=True)
class Clean:
    """An example the check must not report."""

    code: str
    name: str = ""
    files: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    requirements: str | None = None


class Check(Codemod):
    """A visitor that reports findings. It is built on the codemod base for what both
    need (qualified names through the module's imports, positions, shared metadata,
    suppression comments) and returns every node unchanged."""

    SAFETY = REPORT
    FIXED_BY: ClassVar[str | None] = None
    EXAMPLES: ClassVar[Sequence[Report | Clean]] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.findings: list[Finding] = []

    def report(self, node: cst.CSTNode, message: str, fix: str) -> None:
        """Report ``node``, unless `# optimize: ignore` (or `ignore[<this id>]`) covers it."""
        if self.suppressed(node):
            return
        line, column, end_line, end_column = self.span_of(node)
        if any((f.line, f.message) == (line, message) for f in self.findings):
            return
        self.findings.append(Finding(self.ID, self.path, line, message, fix, 0, column, end_line, end_column))


class IndexCheck:
    """A check answered from the repository index alone (the `ast` facts of every file):
    `check()` reports with `report(path, line, ...)`."""

    ID: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    SAFETY = REPORT
    FIXED_BY: ClassVar[str | None] = None
    OPTIONS: ClassVar[Mapping[str, Any]] = {}
    OPTION_CHECKS: ClassVar[Mapping[str, Any]] = {}
    EXAMPLES: ClassVar[Sequence[Report | Clean]] = ()

    def __init__(self, index: RepoIndex, sources: Mapping[str, bytes], options: Mapping[str, Any] | None = None) -> None:
        self.index = index
        self.sources = sources
        self.options = {**self.OPTIONS, **(options or {})}
        self.findings: list[Finding] = []
        self._lines: dict[str, list[str]] = {}

    def check(self) -> None:
        raise NotImplementedError

    def run(self) -> list[Finding]:
        self.check()
        return sorted(self.findings, key=lambda f: (f.path, f.line))

    def report(self, path: str, line: int, message: str, fix: str, weight: int = 0) -> None:
        """Report a line, unless `# optimize: ignore` (or `ignore[<this id>]`) is on it."""
        if path not in self._lines:
            self._lines[path] = self.sources.get(path, b"").decode("utf-8", "replace").splitlines()
        lines = self._lines[path]
        if 0 < line <= len(lines) and suppression_covers(lines[line - 1], self.ID):
            return
        finding = Finding(self.ID, path, line, message, fix, weight)
        if finding not in self.findings:
            self.findings.append(finding)
