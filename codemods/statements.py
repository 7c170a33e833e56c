"""Edits of a block's statements that several codemods make: dropping statements while the
comments above them stay with the code."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import libcst as cst

# Told the comment block above a run of dropped statements and the statement after the run
# (None at the block's end): whether those comments only described what was dropped.
CommentsGo = Callable[[Sequence[cst.EmptyLine], cst.BaseStatement | None], bool]


def without_statements(
    original: cst.IndentedBlock,
    updated: cst.IndentedBlock,
    dropped: Collection[int],
    comments_go: CommentsGo | None = None,
) -> cst.IndentedBlock:
    """``updated`` without the statements whose twin in ``original`` has its id in
    ``dropped``. The comments and blank lines above a dropped statement move down to the
    next statement kept (to the block's end when none is), except those above a run of
    dropped statements that ``comments_go`` says described only them. A block left empty
    holds `pass`."""
    originals, updates = list(original.body), list(updated.body)
    body: list[cst.BaseStatement] = []
    carried: list[cst.EmptyLine] = []
    for index, (orig, upd) in enumerate(zip(originals, updates)):
        if id(orig) not in dropped:
            if carried:
                upd = upd.with_changes(leading_lines=[*carried, *upd.leading_lines])
                carried = []
            body.append(upd)
            continue
        starts_run = index == 0 or id(originals[index - 1]) not in dropped
        if starts_run and comments_go is not None:
            end = index
            while end < len(originals) and id(originals[end]) in dropped:
                end += 1
            following = originals[end] if end < len(originals) else None
            if comments_go(upd.leading_lines, following):
                continue
        carried.extend(upd.leading_lines)
    if not body:
        body = [cst.SimpleStatementLine([cst.Pass()], leading_lines=carried)]
        carried = []
    return updated.with_changes(body=body, footer=[*carried, *updated.footer])
