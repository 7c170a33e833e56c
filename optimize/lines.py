"""Line numbers of a file that earlier codemods already rewrote, given as lines of the file
the run started from: what `scan` shows and what a user opens.

A codemod reads the output of the codemods before it, so its positions count the lines they
added or removed. `origin_line` maps them back through a line diff: a line that was in the
original is that line; a line an earlier codemod wrote is the original line where it was
written (the first line of the replaced lines, or the line the insertion precedes).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable


def origin_line(original: bytes, current: bytes) -> Callable[[int], int]:
    """A map from 1-based lines of ``current`` to lines of ``original`` (0 stays 0)."""
    if original == current:
        return lambda line: line
    before = original.splitlines()
    after = current.splitlines()
    # (start in current, end in current, start in original, equal?) for each diff block.
    blocks = [
        (j1, j2, i1, tag == "equal")
        for tag, i1, _i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes()
    ]

    def to_origin(line: int) -> int:
        if line <= 0:
            return line
        index = line - 1
        for start, end, origin, equal in blocks:
            if start <= index < end:
                return origin + (index - start if equal else 0) + 1
        return min(line, len(before)) or line

    return to_origin
