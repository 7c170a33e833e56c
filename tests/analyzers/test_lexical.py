"""The scan that keeps files LibCST's parser would crash on away from it: brackets in
code and in replacement fields count, brackets in strings and comments do not."""

from __future__ import annotations

import pytest

from optimize.analyzers.lexical import MAX_NESTING, scan


def _depth(text: str) -> int:
    """The deepest nesting in ``text``: the smallest limit it does not exceed."""
    return next(limit for limit in range(64) if scan(text, limit).too_deep_line is None)


@pytest.mark.parametrize(
    "text, depth",
    [
        ("x = call([1, {2: (3,)}])\n", 4),
        ("x = '((((' + \"[[[\"  # ((((\n", 0),
        ("x = '''\n((((\n''' + r'\\'  # ) \n(y)\n", 1),
        ('x = f"{{(((}}"\n', 0),
        ('x = f"{a}"\n', 1),
        ('x = f"{a[(1)]:>{w}}"\n', 3),
        ('x = f"{", ".join(f"{(n)}" for n in names)}"\n', 4),
        ("x = t'{a!r:>{w}}'\n", 2),
        ('x = f"\\N{EM DASH}{a}"\n', 1),
        ('x = rf"\\{a}"\n', 1),
        ("x = 'never closed\ny = [1]\n", 1),
        ("x = 'continued \\\r\n((' + (y)\n", 1),
    ],
    ids=[
        "brackets", "strings and comments", "triple-quoted and raw", "escaped braces", "field",
        "spec fields", "nested same quotes", "t-string", "named escape", "raw f-string",
        "unterminated string", "continued string in CRLF",
    ],
)
def test_depth_counts_code_and_fields_only(text: str, depth: int) -> None:
    assert _depth(text) == depth


def test_the_line_where_nesting_first_goes_too_deep() -> None:
    text = "a = 1\nb = " + "(" * MAX_NESTING + ")" * MAX_NESTING + "\nc = [\n" + "[" * MAX_NESTING + "]]\n"
    assert scan(text).too_deep_line == 4


@pytest.mark.parametrize(
    "text, line",
    [
        ("a = 1\nb = 'open\nc = 'closed'\n", 2),
        ("a = 1\n\nb = '''open\nc = 2\n", 3),
        ('a = f"{x:>10}\nb = 1\n', 1),
        ("a = 'fine'\nb = \"fine\"\n", None),
    ],
    ids=["single-quoted", "triple-quoted at the end", "f-string", "none"],
)
def test_where_an_unterminated_string_starts(text: str, line: int | None) -> None:
    assert scan(text).open_string_line == line
