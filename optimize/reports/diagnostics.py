"""A plan's findings, changes and refusals as one list of located diagnostics.

Every output format but the tables reads this list (`optimize.reports.formats`), so they
agree on what was found and where: the path as the user's working directory spells it,
1-based lines and columns of the file as committed (0: not known), and for a change its
codemod's edit of that file as line replacements, which apply to the committed file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from optimize.linediff import opcodes
from optimize.results import SAFE, FileEdit, Plan

FINDING, CHANGE, REFUSAL, SKIP = "finding", "change", "refusal", "skip"
_ORDER = {FINDING: 0, CHANGE: 1, REFUSAL: 2, SKIP: 3}


@dataclass(frozen=True)
class Replacement:
    """Lines ``start`` .. ``end`` - 1 (1-based) of the file replaced by ``content``: an
    insertion before line ``start`` when ``end == start``; ``start`` may be one past the
    last line (an addition at the end)."""

    start: int
    end: int
    content: str


@dataclass(frozen=True)
class Fix:
    applicability: str  # safe | unsafe, as the change's tier
    path: str
    replacements: tuple[Replacement, ...]


@dataclass(frozen=True)
class Diagnostic:
    kind: str  # finding | change | refusal | skip (a file not read, line 0)
    code: str  # the check or codemod id; "" for a skip
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    note: str = ""  # a finding's suggested fix
    tier: str = ""  # a change's: safe | unsafe
    fix: Fix | None = None  # a change's: its codemod's whole edit of the file

    @property
    def url(self) -> str:
        """The rule's documentation, when the installed package says where it is. Read when
        a format prints it: the package's metadata takes 50 ms to load (a sixth of a warm
        scan), and the default formats print no URL."""
        if self.kind == SKIP:
            return ""
        return docs_url("checks" if self.kind == FINDING else "codemods", self.code)


def diagnostics(plan: Plan, prefix: str = "") -> list[Diagnostic]:
    """Findings, then changes, then refusals, then skipped files, each kind in path and
    line order."""
    items: list[Diagnostic] = [
        Diagnostic(
            FINDING, f.check, prefix + f.path, f.line, f.column, f.end_line, f.end_column, f.message,
            note=f.fix,
        )
        for f in plan.findings
    ]
    committed: dict[str, bytes | None] = {}  # each file before the first codemod that edits it
    for outcome in plan.outcomes:
        edits = {e.path: e for e in outcome.edits}
        for edit in outcome.edits:
            committed.setdefault(edit.path, edit.before)
        fixes: dict[str, Fix | None] = {}
        for c in outcome.changes:
            if c.path not in fixes and c.path in edits:
                found = committed_replacements(committed[c.path], edits[c.path])
                fixes[c.path] = None if found is None else Fix(c.tier or SAFE, prefix + c.path, found)
            items.append(
                Diagnostic(
                    CHANGE, c.codemod, prefix + c.path, c.line, c.column, c.end_line, c.end_column, c.rationale,
                    tier=c.tier or SAFE, fix=fixes.get(c.path),
                )
            )
        items.extend(
            Diagnostic(
                REFUSAL, r.codemod, prefix + r.path, r.line, r.column, r.end_line, r.end_column, r.reason,
            )
            for r in outcome.refusals
        )
    items.extend(Diagnostic(SKIP, "", prefix + s.path, 0, 0, 0, 0, s.reason) for s in plan.skips)
    return sorted(items, key=lambda d: (_ORDER[d.kind], d.path, d.line, d.column, d.code))


def _lines(data: bytes | None) -> list[str]:
    return (data or b"").decode("utf-8", "replace").splitlines(keepends=True)


def replacements(edit: FileEdit) -> tuple[Replacement, ...]:
    """``edit`` as replacements of the lines of the file before it (its line diff)."""
    before, after = _lines(edit.before), _lines(edit.after)
    return tuple(
        Replacement(i1 + 1, i2 + 1, "".join(after[j1:j2]))
        for tag, i1, i2, j1, j2 in opcodes(before, after)
        if tag != "equal"
    )


def committed_replacements(committed: bytes | None, edit: FileEdit) -> tuple[Replacement, ...] | None:
    """``edit``'s replacements as lines of the ``committed`` file, which earlier codemods
    may have changed before this one read it; None when one of its hunks overlaps or
    borders their edits (it applies only on top of theirs)."""
    own = replacements(edit)
    if committed == edit.before:
        return own
    # Equal runs between the committed file and what this codemod read: (start there,
    # end there, start in the committed file).
    same = [
        (j1, j2, i1)
        for tag, i1, _i2, j1, j2 in opcodes(_lines(committed), _lines(edit.before))
        if tag == "equal"
    ]
    read = len(_lines(edit.before))
    moved = []
    for r in own:
        start, end = r.start - 1, r.end - 1  # 0-based, end exclusive, in what it read
        # The hunk and a line each side (if any) must be unchanged lines of the committed file.
        low, high = max(start - 1, 0), min(end + 1, read)
        home = next((b for b in same if b[0] <= low and high <= b[1]), None)
        if home is None:
            return None
        shift = home[2] - home[0]
        moved.append(Replacement(r.start + shift, r.end + shift, r.content))
    return tuple(moved)


def apply_replacements(text: str, found: tuple[Replacement, ...]) -> str:
    """``text`` with ``found`` applied: what a tool that reads the fixes gets."""
    lines = text.splitlines(keepends=True)
    for r in sorted(found, key=lambda r: r.start, reverse=True):
        lines[r.start - 1 : r.end - 1] = [r.content]
    return "".join(lines)


@lru_cache(maxsize=None)
def _docs_base() -> str:
    """The `Documentation` URL of the installed package's metadata, if it has one."""
    try:
        from importlib.metadata import metadata

        for entry in metadata("optimize").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in {"documentation", "docs"}:
                return url.strip().rstrip("/")
    except Exception:  # noqa: BLE001 - not installed as a distribution: no URL
        pass
    return ""


def docs_url(kind: str, code: str) -> str:
    """Where a rule's page is (`docs/codemods/<id>.md`, `docs/checks/<id>.md`), or ""."""
    base = _docs_base()
    return f"{base}/{kind}/{code}.md" if base else ""
