"""Showing a plan before it lands: unified diffs (plain, for `git apply`) and rich views."""

from __future__ import annotations

import difflib
from typing import Iterable

from rich.console import Console, Group
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from optimize.engine import FileEdit, Outcome, Plan
from optimize.messages import location

_NO_EOL = b"\n\\ No newline at end of file\n"


def file_patch(edit: FileEdit, prefix: str = "") -> bytes:
    """A git-style unified diff of one edit, byte-exact (CRLF, encodings, no final EOL)."""
    path = (prefix + edit.path).encode()
    before = edit.before or b""
    old = before.splitlines(keepends=True)
    new = edit.after.splitlines(keepends=True)
    header = [b"diff --git a/" + path + b" b/" + path + b"\n"]
    if edit.before is None:
        header.append(b"new file mode 100644\n")
    fromfile = b"/dev/null" if edit.before is None else b"a/" + path
    out = bytearray(b"".join(header))
    for line in difflib.diff_bytes(
        difflib.unified_diff, old, new, fromfile, b"b/" + path, lineterm=b"\n", n=3
    ):
        if line.startswith((b"---", b"+++")):
            out += line.rstrip(b"\r\n") + b"\n"
        elif line.endswith(b"\n"):
            out += line
        else:
            out += line + _NO_EOL
    return bytes(out)


def plan_patch(outcomes: Iterable[Outcome], prefix: str = "") -> bytes:
    """One patch for all outcomes, as the files end up after the last codemod."""
    first: dict[str, bytes | None] = {}
    last: dict[str, bytes] = {}
    for outcome in outcomes:
        for edit in outcome.edits:
            first.setdefault(edit.path, edit.before)
            last[edit.path] = edit.after
    return b"".join(
        file_patch(FileEdit(path, first[path], last[path]), prefix) for path in sorted(last)
    )


def show_plan(console: Console, plan: Plan, prefix: str = "") -> None:
    """Per-codemod panels: rationale for each change and the syntax-highlighted diff."""
    for outcome in plan.changed:
        codemod = outcome.codemod
        reasons = Text()
        for change in outcome.changes:
            reasons.append(f"{location(prefix + change.path, change.line)}", style="bold")
            reasons.append(f" [{change.tier}] {change.rationale}\n")
        patch = b"".join(file_patch(e, prefix) for e in outcome.edits).decode("utf-8", "replace")
        console.print(
            Panel(
                Group(reasons, Syntax(patch, "diff", theme="ansi_dark", word_wrap=True)),
                title=f"{codemod.ID} ({codemod.SAFETY})",
                subtitle=codemod.TITLE,
                title_align="left",
            )
        )
