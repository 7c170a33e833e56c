"""The example app's own tests pass before and after `optimize apply`, with the same
responses and exactly the expected drop in SQL statements per request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from optimize.codemods.registry import by_id
from tests.fixture_app import FIXTURE, copy_fixture, run_fixture_suite
from tests.gitrepo import git, make_repo, run_cli

EXPECTED = json.loads((FIXTURE / "expected_effects.json").read_text())

def test_fixture_suite_passes_unmodified(tmp_path: Path) -> None:
    app = copy_fixture(tmp_path / "app")
    log = run_fixture_suite(app, tmp_path / "log.json")
    assert "POST /projects/{id}/tasks#create" in log
    assert all({"statements", "status", "body"} <= entry.keys() for entry in log.values())
    assert not list(app.rglob("__pycache__")), "the suite must not leave caches in the app"


def test_copy_leaves_caches_behind(tmp_path: Path) -> None:
    app = copy_fixture(tmp_path / "app")
    assert (app / "taskboard" / "routers" / "tasks.py").is_file()
    assert not (app / "__init__.py").exists()
    assert not list(app.rglob("__pycache__")) and not list(app.rglob(".pytest_cache"))


@pytest.fixture(scope="module")
def applied(tmp_path_factory) -> tuple[dict, Path, Path]:
    """(query log before, app repository after `apply --unsafe-fixes`, scratch dir)."""
    root = tmp_path_factory.mktemp("taskboard")
    app = copy_fixture(root / "app")
    make_repo(app, {})
    before = run_fixture_suite(app, root / "before.json")
    result = run_cli("apply", str(app), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    assert git(app, "status", "--porcelain") == ""
    return before, app, root


_AFTER: dict[Path, dict] = {}


def after_log(applied) -> dict:
    _, app, root = applied
    if app not in _AFTER:
        _AFTER[app] = run_fixture_suite(app, root / "after.json")
    return _AFTER[app]


def test_responses_are_equal_after_apply(applied) -> None:
    before, after = applied[0], after_log(applied)
    assert before.keys() == after.keys()
    for key in before:
        assert (before[key]["status"], before[key]["body"]) == (after[key]["status"], after[key]["body"]), key


def test_statement_counts_drop_by_exactly_the_removed_queries(applied) -> None:
    before, after = applied[0], after_log(applied)
    registered = set(by_id())
    for key in before:
        by = EXPECTED.get(key, {}).get("by", {})
        removed = sum(n for codemod, n in by.items() if codemod in registered)
        assert after[key]["statements"] == before[key]["statements"] - removed, (
            key, before[key]["statements"], after[key]["statements"]
        )


def test_expected_effects_add_up() -> None:
    for key, effect in EXPECTED.items():
        if key.startswith("_"):  # `_codemods`, `_findings`
            continue
        assert effect["statements_removed"] == sum(effect["by"].values()), key
        assert set(effect["by"]) <= set(EXPECTED["_codemods"]["by"]), key


def test_every_planted_rewrite_landed_as_its_own_commit(applied) -> None:
    _, app, _ = applied
    landed = set(git(app, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split())
    wanted = set(EXPECTED["_codemods"]["by"])
    assert wanted & set(by_id()) <= landed


def test_scan_reports_exactly_the_planted_findings(tmp_path: Path) -> None:
    # Each planted finding, and none of its twins (eager-loaded relationship, offloaded
    # sync call, indexed column, keyset pagination, NOT EXISTS, bounded DELETE).
    app = copy_fixture(tmp_path / "app")
    make_repo(app, {})
    result = run_cli("scan", str(app), "--format", "json")
    assert result.exit_code == 0, result.output
    found = sorted([f["check"], f["path"], f["line"]] for f in json.loads(result.stdout)["findings"])
    assert found == sorted(EXPECTED["_findings"])
