"""`docs/codemods/` and `docs/checks/` are generated from the code
(`python -m optimize.rule_docs`), and every test a codemod's page cites exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimize.codemods.registry import REGISTRY
from optimize.rule_docs import cited_tests, explain, pages

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_the_pages_match_the_code() -> None:
    expected = pages()
    on_disk = {
        p.relative_to(DOCS).as_posix(): p.read_text(encoding="utf-8")
        for kind in ("checks", "codemods")
        for p in (DOCS / kind).glob("*.md")
    }
    assert on_disk == expected, "docs/codemods/ or docs/checks/ is stale: run `python -m optimize.rule_docs`"


@pytest.mark.parametrize("codemod", REGISTRY, ids=[c.ID for c in REGISTRY])
def test_every_cited_test_exists(codemod) -> None:
    for path, name in cited_tests(codemod):
        assert (ROOT / path).is_file(), f"{codemod.ID} cites {path}, which does not exist"
        if name:
            assert f"def {name}(" in (ROOT / path).read_text(), f"{codemod.ID} cites {path}::{name}"


def test_explain_prints_a_page_and_knows_its_ids() -> None:
    assert explain("pool-pre-ping").startswith("# pool-pre-ping\n")
    assert "## Why is this bad?" in explain("n-plus-one")
    assert explain("no-such-rule") is None
