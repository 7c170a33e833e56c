"""`docs/checks/` is generated from the checks' code (`python -m optimize.check_docs`)."""

from __future__ import annotations

from pathlib import Path

from optimize.check_docs import pages

DOCS = Path(__file__).resolve().parent.parent / "docs" / "checks"


def test_check_pages_match_the_code() -> None:
    expected = pages()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in DOCS.glob("*.md")}
    assert on_disk == expected, "docs/checks/ is stale: run `python -m optimize.check_docs`"
