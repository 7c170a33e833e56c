"""`optimize.linediff.opcodes`: a diff of the two line lists, whatever they share."""

from __future__ import annotations

import difflib

import pytest

from optimize.linediff import opcodes


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("abcdef", "abXdef"), ("abcdef", "abcdef"), ("abc", "Xabc"), ("abc", "abcX"), ("abc", ""), ("", "ab"),
        ("aaaa", "aaXaa"), ("abcabc", "abcXabc"), ("abcd", "ad"),
    ],
)
def test_the_line_opcodes_rebuild_the_new_lines_from_the_old(old: str, new: str) -> None:
    rebuilt: list[str] = []
    for tag, i1, i2, j1, j2 in opcodes(list(old), list(new)):
        rebuilt.extend(old[i1:i2] if tag == "equal" else new[j1:j2])
        assert tag != "equal" or old[i1:i2] == new[j1:j2]
    assert "".join(rebuilt) == new


@pytest.mark.parametrize(("old", "new"), [("abcdef", "abXdeY"), ("xabcx", "xabx"), ("ab", "ba"), ("abcde", "aXcYe")])
def test_what_shares_no_first_or_last_line_is_the_matchers_own_diff(old: str, new: str) -> None:
    if old[:1] != new[:1] and old[-1:] != new[-1:]:
        assert opcodes(list(old), list(new)) == difflib.SequenceMatcher(None, list(old), list(new), autojunk=False).get_opcodes()
    rebuilt = [x for tag, i1, i2, j1, j2 in opcodes(list(old), list(new)) for x in (old[i1:i2] if tag == "equal" else new[j1:j2])]
    assert "".join(rebuilt) == new
