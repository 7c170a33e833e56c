"""Checks of `[tool.optimize.<id>]` option values, declared next to each codemod's
``OPTIONS`` as ``OPTION_CHECKS`` and run once, when the configuration is loaded.

The type of a value is judged by its default first; a check then says what else is wrong
with it (or returns None). A value that is out of range or misspelt is one configuration
error, rather than a number written into the user's code, an option silently ignored, or
the same error once per file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

OptionCheck = Callable[[Any], "str | None"]


def one_of(*choices: str) -> OptionCheck:
    """The value is one of ``choices``: a misspelt one would fall back to the default."""

    def check(value: Any) -> str | None:
        if value in choices:
            return None
        return f"expected one of {', '.join(repr(c) for c in choices)}, not {value!r}"

    return check


def int_between(low: int, high: int, why: str = "") -> OptionCheck:
    """An integer from ``low`` to ``high``; ``why`` explains the bounds in the message."""

    def check(value: Any) -> str | None:
        if low <= value <= high:
            return None
        return f"expected an integer from {low} to {high}{why}, not {value}"

    return check


def non_empty_strings(value: Any) -> str | None:
    """A list of name patterns: an empty one matches nothing and is a slip."""
    if any(not item.strip() for item in value):
        return "expected non-empty patterns, found an empty one"
    return None


def expression_or_empty(value: Any) -> str | None:
    """Python expression text that is written into code as it stands (empty: unset). It
    must parse with LibCST, which inserts it, and compile with Python, which runs it."""
    if value == "":
        return None
    try:
        cst.parse_expression(value)
        compile(value, "<option>", "eval", dont_inherit=True)
    except Exception:  # noqa: BLE001 - LibCST and compile() raise several types
        return f"expected a Python expression, not {value!r}"
    return None
