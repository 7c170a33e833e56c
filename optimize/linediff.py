"""The line diff every part of the tool reads (reports, hunks, positions, splicing).

`difflib.SequenceMatcher` costs in proportion to the lines it is given, and a rewrite
changes a few lines of a long module: the common first and last lines are matched up
front and only the lines between them are given to it. The result is a diff of the same
two lists (equal blocks, then what differs), though where a line repeats it may pair a
different copy of it than the matcher would over the whole lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import TypeVar

Line = TypeVar("Line", str, bytes)


def opcodes(old: Sequence[Line], new: Sequence[Line]) -> list[tuple[str, int, int, int, int]]:
    """`SequenceMatcher(None, old, new, autojunk=False).get_opcodes()`, with the common
    first and last lines matched first (see the module's docstring)."""
    head = 0
    while head < len(old) and head < len(new) and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < len(old) - head and tail < len(new) - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    middle = SequenceMatcher(None, old[head:len(old) - tail], new[head:len(new) - tail], autojunk=False)
    found = [("equal", 0, head, 0, head)] if head else []
    found.extend(
        (tag, i1 + head, i2 + head, j1 + head, j2 + head)
        for tag, i1, i2, j1, j2 in middle.get_opcodes()
        if i1 != i2 or j1 != j2
    )
    if tail:
        found.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return found
