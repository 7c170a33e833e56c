"""Line numbers of a file that earlier codemods already rewrote, given as lines of the file
the run started from: what `scan` shows and what a user opens.

A codemod reads the output of the codemods before it, so its positions count the lines they
added or removed. `origin_line` maps them back through a line diff: a line that was in the
original is that line; a line an earlier codemod wrote is the original line where it was
written (the first line of the replaced lines, or the line the insertion precedes).
`origin_position` does the same for a reported item's span: its columns are kept only
where the line is the original's, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from optimize.linediff import opcodes

Located = TypeVar("Located")  # a Change, Refusal or Finding


def origin_line(original: bytes, current: bytes) -> Callable[[int], int]:
    """A map from 1-based lines of ``current`` to lines of ``original`` (0 stays 0)."""
    return _origin(original, current)[0]


def origin_position(original: bytes, current: bytes) -> Callable[[Located], Located]:
    """A map of a `Change`, `Refusal` or `Finding` reported on ``current`` to the lines of
    ``original``; a column on a line that differs from the original's becomes 0 (unknown)."""
    to_origin, unchanged = _origin(original, current)
    if original == current:
        return lambda item: item

    def moved(item: Located) -> Located:
        line, end = item.line, item.end_line  # type: ignore[attr-defined]
        return replace(
            item,  # type: ignore[type-var]
            line=to_origin(line),
            end_line=to_origin(end),
            column=item.column if unchanged(line) else 0,  # type: ignore[attr-defined]
            end_column=item.end_column if unchanged(end) else 0,  # type: ignore[attr-defined]
        )

    return moved


def _origin(original: bytes, current: bytes) -> tuple[Callable[[int], int], Callable[[int], bool]]:
    if original == current:
        return (lambda line: line), (lambda line: True)
    before = original.splitlines()
    after = current.splitlines()
    # (start in current, end in current, start in original, equal?) for each diff block.
    blocks = [
        (j1, j2, i1, tag == "equal")
        for tag, i1, _i2, j1, j2 in opcodes(before, after)
    ]

    def to_origin(line: int) -> int:
        if line <= 0:
            return line
        index = line - 1
        for start, end, origin, equal in blocks:
            if start <= index < end:
                return origin + (index - start if equal else 0) + 1
        return min(line, len(before)) or line

    def unchanged(line: int) -> bool:
        return line > 0 and any(start <= line - 1 < end and equal for start, end, _, equal in blocks)

    return to_origin, unchanged
