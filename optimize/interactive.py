"""`apply --interactive`: each proposed change, hunk by hunk, accepted or skipped.

Codemods are planned one at a time on the files as the accepted changes left them, so a
skipped change is never carried in by a later codemod. Within a file, changes are the
differing blocks (hunks) between the file before and after the codemod; a file built from a
subset of hunks must still compile, or that codemod leaves the file alone (reported).
Answers come from standard input: a accept, s skip, A accept the rest of this codemod,
S skip the rest of this codemod, q quit (what was accepted so far is committed, as with
`git add -p`). End of input counts as q.
"""

from __future__ import annotations

import sys
from typing import Callable, TextIO

from rich.console import Console

from optimize.analyzers.syntax import rewrite_compile_error
from optimize.engine import FileEdit, Outcome, plan, select_codemods
from optimize.linediff import opcodes
from optimize.review import file_patch


class Quit(Exception):
    pass


def _hunks(before: bytes, after: bytes):
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    ops = opcodes(old, new)
    return old, new, ops


def _build(old, new, ops, accepted: set[int]) -> bytes:
    out = []
    for index, (tag, i1, i2, j1, j2) in enumerate(ops):
        out.extend(new[j1:j2] if tag != "equal" and index in accepted else old[i1:i2])
    return b"".join(out)


def review(
    target, selection, console: Console, answers: TextIO | None = None, committed=None
) -> tuple[list[Outcome], list[str]]:
    """Ask about every change; return the accepted outcomes (one per codemod) and notes.
    ``committed``: the recorded commit the files are read from (for a run that commits)."""
    answers = answers if answers is not None else sys.stdin  # read at call time: tests swap it
    codemods = select_codemods(target.config, selection.only, selection.exclude, selection.unsafe_fixes)
    overrides: dict[str, bytes] = {}
    kept: list[Outcome] = []
    notes: list[str] = []
    ask: Callable[[str], str] = lambda prompt: _ask(console, answers, prompt)
    try:
        for codemod in codemods:
            result = plan(
                target.root, [codemod], target.config, tracked_only=True,
                unsafe_allowed=selection.unsafe_fixes or bool(selection.only), overrides=overrides,
                committed=committed,
            )
            outcome = result.outcomes[0]
            if not outcome.edits:
                continue
            mode = None  # "A" accept all, "S" skip all
            accepted_outcome = Outcome(codemod, refusals=list(outcome.refusals))
            try:
                for edit in outcome.edits:
                    if edit.before is None:  # a new file (helper module): goes with any accepted use
                        continue
                    old, new, ops = _hunks(edit.before, edit.after)
                    accepted: set[int] = set()
                    for index, (tag, i1, i2, j1, j2) in enumerate(ops):
                        if tag == "equal":
                            continue
                        if mode is None:
                            why = [c for c in outcome.changes if c.path == edit.path and i1 < c.line <= max(i2, i1 + 1) + 2]
                            piece = FileEdit(edit.path, b"".join(old[i1:i2]), b"".join(new[j1:j2]))
                            console.print(f"{codemod.ID} {edit.path}:{i1 + 1}", markup=False, style="bold")
                            for change in why:
                                console.print(f"  {change.rationale}", markup=False)
                            console.print(file_patch(piece, target.prefix).decode("utf-8", "replace"), markup=False, highlight=False)
                            answer = ask("accept this change? [a,s,A,S,q] ")
                            if answer == "q":
                                raise Quit
                            if answer in {"A", "S"}:
                                mode = answer
                            if answer == "a":
                                accepted.add(index)
                                continue
                        if mode == "A":
                            accepted.add(index)
                    if not accepted:
                        continue
                    data = _build(old, new, ops, accepted)
                    if rewrite_compile_error(data, edit.path, edit.before) is not None:
                        notes.append(f"{codemod.ID}: {edit.path} left alone: the accepted part alone would not compile")
                        continue
                    accepted_outcome.edits.append(FileEdit(edit.path, edit.before, data))
                    lines = {i + 1 for index in accepted for i in range(ops[index][1], max(ops[index][2], ops[index][1] + 1))}
                    accepted_outcome.changes.extend(
                        c for c in outcome.changes if c.path == edit.path and (c.line in lines or not lines)
                    )
            finally:
                if accepted_outcome.edits:
                    accepted_outcome.edits.extend(e for e in outcome.edits if e.before is None)
                    for edit in accepted_outcome.edits:
                        overrides[edit.path] = edit.after
                    kept.append(accepted_outcome)
    except Quit:
        notes.append("quit: the changes accepted so far are committed")
    return kept, notes


def _ask(console: Console, answers: TextIO, prompt: str) -> str:
    while True:
        console.print(prompt, end="", markup=False, highlight=False)  # "[a,s,...]" is not markup
        line = answers.readline()
        if not line:
            return "q"
        answer = line.strip()
        if answer in {"a", "s", "A", "S", "q"}:
            return answer
        console.print("answer a (accept), s (skip), A (accept all of this codemod), S (skip all), q (quit)")
