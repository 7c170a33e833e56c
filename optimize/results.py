"""What a run produces, as plain data: the changes, refusals, findings and skips of a plan.

These types import nothing heavy, so that a scan read back from the cache
(`optimize.cache`) is shown without importing LibCST, black or GitPython: a warm scan
costs less than importing them would.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAFE = "safe"
UNSAFE = "unsafe"


@dataclass(frozen=True)
class Change:
    """One rewritten location and why it is correct."""

    codemod: str
    path: str
    line: int
    rationale: str
    tier: str = SAFE
    # 1-based, of the file as committed; 0 when not known (a line an earlier codemod changed).
    column: int = 0
    end_line: int = 0
    end_column: int = 0


@dataclass(frozen=True)
class Refusal:
    """One location a codemod recognised but left alone, and why."""

    codemod: str
    path: str
    line: int
    reason: str
    column: int = 0
    end_line: int = 0
    end_column: int = 0


@dataclass(frozen=True)
class Finding:
    """One place with a performance problem, and what to do about it."""

    check: str
    path: str
    line: int
    message: str
    fix: str  # the suggested fix, one line
    weight: int = 0  # how much it matters beside others of its check (missing-index: places used)
    column: int = 0
    end_line: int = 0
    end_column: int = 0


@dataclass(frozen=True)
class Skip:
    """A file the run did not read or rewrite, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class FileEdit:
    path: str
    before: bytes | None  # None for a file the codemod creates
    after: bytes


@dataclass(frozen=True)
class CodemodInfo:
    """What reports read of a codemod class (`optimize.codemods.base.Codemod`), kept in
    a cached plan in the class's place."""

    ID: str
    TITLE: str
    SAFETY: str
    CONDITIONS: str
    DESCRIPTION: str
    EFFECT: str

    @classmethod
    def of(cls, codemod: Any) -> "CodemodInfo":
        return cls(
            codemod.ID, codemod.TITLE, codemod.SAFETY, codemod.CONDITIONS, codemod.DESCRIPTION,
            getattr(codemod, "EFFECT", "") or "",
        )


@dataclass
class Outcome:
    codemod: Any  # the codemod class; a `CodemodInfo` in a plan read back from the cache
    edits: list[FileEdit] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


@dataclass
class Plan:
    root: Path
    outcomes: list[Outcome]
    skips: list[Skip]
    files_scanned: int = 0
    files_parsed: int = 0
    files_reused: int = 0  # planned by an earlier scan whose answers still hold (`optimize.cache`)
    parsed_by: dict[str, int] = field(default_factory=dict)  # codemod or check id -> files whose tree it read
    findings: list[Finding] = field(default_factory=list)  # the checks', in path and line order
    from_cache: bool = False  # read back from the cache (`optimize.cache`), not planned
    # Changes a run without `--unsafe-fixes` found but may not make (ruff's "hidden fixes").
    hidden_unsafe: int = 0

    def restricted(self, paths: tuple[str, ...]) -> "Plan":
        """What the plan says about ``paths`` alone (files, or directories ending in `/`):
        the whole tree was planned, as questions about one file may need all of it."""

        def kept(path: str) -> bool:
            return any(path == p or (p.endswith("/") and path.startswith(p)) for p in paths)

        outcomes = [
            Outcome(
                o.codemod,
                [e for e in o.edits if kept(e.path)],
                [c for c in o.changes if kept(c.path)],
                [r for r in o.refusals if kept(r.path)],
            )
            for o in self.outcomes
        ]
        return dataclasses.replace(
            self,
            outcomes=outcomes,
            skips=[s for s in self.skips if kept(s.path)],
            findings=[f for f in self.findings if kept(f.path)],
        )

    @property
    def changed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.edits]

    @property
    def refusals(self) -> list[Refusal]:
        return [r for o in self.outcomes for r in o.refusals]
