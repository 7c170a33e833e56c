"""The example app's own tests pass before and after `optimize apply`, with the same
responses and exactly the expected drop in SQL statements per request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixture_app import FIXTURE, copy_fixture, run_fixture_suite
from tests.gitrepo import git, make_repo, run_cli


@pytest.fixture(scope="module")
def before_and_after(tmp_path_factory) -> tuple[dict, dict, Path]:
    root = tmp_path_factory.mktemp("taskboard")
    app = copy_fixture(root / "app")
    make_repo(app, {})
    before = run_fixture_suite(app, root / "before.json")
    result = run_cli("apply", str(app), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert git(app, "status", "--porcelain") == ""
    after = run_fixture_suite(app, root / "after.json")
    return before, after, app


def test_suite_passes_unmodified(tmp_path: Path) -> None:
    app = copy_fixture(tmp_path / "app")
    log = run_fixture_suite(app, tmp_path / "log.json")
    assert log, "the suite recorded no request"


def test_responses_are_equal_after_apply(before_and_after) -> None:
    before, after, _ = before_and_after
    assert before.keys() == after.keys()
    for key in before:
        assert (before[key]["status"], before[key]["body"]) == (after[key]["status"], after[key]["body"]), key


def test_statement_counts_drop_by_exactly_the_removed_queries(before_and_after) -> None:
    before, after, _ = before_and_after
    from optimize.codemods.registry import by_id

    expected = json.loads((FIXTURE / "expected_effects.json").read_text())
    registered = set(by_id())
    for key in before:
        by = expected.get(key, {}).get("by", {})
        removed = sum(n for codemod, n in by.items() if codemod in registered)
        assert after[key]["statements"] == before[key]["statements"] - removed, (
            key, before[key]["statements"], after[key]["statements"]
        )


def test_every_planted_rewrite_landed_as_its_own_commit(before_and_after) -> None:
    _, _, app = before_and_after
    expected = json.loads((FIXTURE / "expected_effects.json").read_text())
    from optimize.codemods.registry import by_id

    landed = set(git(app, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split())
    wanted = set(expected["_codemods"]["by"])
    assert wanted & set(by_id()) <= landed
