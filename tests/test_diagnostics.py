"""A change's fix is given as replacements of the file as committed, even when an earlier
codemod edited the file first; a hunk that overlaps the earlier edit has no fix."""

from __future__ import annotations

import pytest

from optimize.reports import diagnostics
from optimize.reports.diagnostics import (
    CHANGE, FINDING, REFUSAL, SKIP, Diagnostic, Replacement, apply_replacements, committed_replacements,
)
from optimize.results import FileEdit

COMMITTED = b"a\nb\nc\nd\ne\n"


def test_a_hunk_away_from_the_earlier_edit_is_mapped_to_the_committed_lines() -> None:
    earlier = COMMITTED.replace(b"a\n", b"a\na2\n")  # an import added by the first codemod
    edit = FileEdit("m.py", earlier, earlier.replace(b"d\n", b"D\n"))
    found = committed_replacements(COMMITTED, edit)
    assert found == (Replacement(4, 5, "D\n"),)
    assert apply_replacements(COMMITTED.decode(), found) == "a\nb\nc\nD\ne\n"


def test_a_hunk_that_overlaps_or_borders_the_earlier_edit_has_no_fix() -> None:
    earlier = COMMITTED.replace(b"b\n", b"B\n")
    assert committed_replacements(COMMITTED, FileEdit("m.py", earlier, earlier.replace(b"B\n", b"BB\n"))) is None
    assert committed_replacements(COMMITTED, FileEdit("m.py", earlier, earlier.replace(b"c\n", b"C\n"))) is None


def test_an_edit_of_the_committed_file_and_a_new_file_apply_as_they_are() -> None:
    edit = FileEdit("m.py", COMMITTED, COMMITTED.replace(b"e\n", b"e\nf\n"))
    assert apply_replacements(COMMITTED.decode(), committed_replacements(COMMITTED, edit)) == "a\nb\nc\nd\ne\nf\n"
    created = FileEdit("new.py", None, b"x = 1\n")
    assert apply_replacements("", committed_replacements(None, created)) == "x = 1\n"


@pytest.mark.parametrize(
    ("kind", "code", "url"),
    [
        (FINDING, "n-plus-one", "https://docs.example/checks/n-plus-one.md"),
        (CHANGE, "pool-pre-ping", "https://docs.example/codemods/pool-pre-ping.md"),
        (REFUSAL, "eager-load", "https://docs.example/codemods/eager-load.md"),
        (SKIP, "", ""),
    ],
)
def test_a_diagnostic_links_its_rule_when_the_package_says_where_the_docs_are(
    monkeypatch: pytest.MonkeyPatch, kind: str, code: str, url: str
) -> None:
    monkeypatch.setattr(diagnostics, "_docs_base", lambda: "https://docs.example")
    assert Diagnostic(kind, code, "m.py", 1, 1, 1, 2, "message").url == url
    monkeypatch.setattr(diagnostics, "_docs_base", lambda: "")
    assert Diagnostic(kind, code, "m.py", 1, 1, 1, 2, "message").url == ""
