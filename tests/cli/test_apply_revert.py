"""`apply`, `log`, `revert`, `--dry-run` and `--diff` on real temporary git repositories."""

from __future__ import annotations

import subprocess
import json
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, run_cli, snapshot, write_files

DATABASE = """\
from sqlalchemy.ext.asyncio import create_async_engine

engine = create_async_engine(
    DATABASE_URL,
    pool_size=10,
    pool_pre_ping=False,
)
"""
SYNC = "import sqlalchemy as sa\n\nengine = sa.create_engine(URL)\n"
UNTOUCHED = "def add(a, b):\n    return a + b\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(
        tmp_path / "repo",
        {"app/database.py": DATABASE, "app/sync.py": SYNC, "app/util.py": UNTOUCHED},
    )


def commits(repo: Path) -> list[str]:
    return git(repo, "log", "--format=%H").split()


def test_apply_creates_one_commit_per_codemod_with_trailers(repo: Path) -> None:
    before = commits(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    new = commits(repo)[: len(commits(repo)) - len(before)]
    assert len(new) == 1
    message = git(repo, "log", "-1", "--format=%B")
    assert message.startswith("perf(pool-pre-ping): ")
    trailers = git(repo, "log", "-1", "--format=%(trailers:only,unfold)")
    assert "Optimize-Codemod: pool-pre-ping" in trailers
    assert "Optimize-Version: " in trailers
    assert "app/database.py:3" in message and "app/sync.py:3" in message
    assert "pool_pre_ping=True" in (repo / "app/database.py").read_text()
    assert git(repo, "status", "--porcelain") == ""
    # Files no codemod matched are byte-identical.
    assert (repo / "app/util.py").read_text() == UNTOUCHED


def test_second_apply_changes_nothing(repo: Path) -> None:
    assert run_cli("apply", str(repo)).exit_code == 0
    head = commits(repo)[0]
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0
    assert "No commit created" in result.output
    assert commits(repo)[0] == head


def test_revert_restores_the_original_bytes(repo: Path) -> None:
    original = snapshot(repo)["files"]
    assert run_cli("apply", str(repo)).exit_code == 0
    result = run_cli("revert", str(repo), "pool-pre-ping")
    assert result.exit_code == 0, result.output
    assert snapshot(repo)["files"] == original
    assert git(repo, "status", "--porcelain") == ""
    log = run_cli("log", str(repo))
    assert "reverted by" in log.output
    # Reverting again finds nothing live.
    assert "Nothing to revert" in run_cli("revert", str(repo), "--all").output


def test_plain_git_revert_also_restores(repo: Path) -> None:
    original = snapshot(repo)["files"]
    assert run_cli("apply", str(repo)).exit_code == 0
    git(repo, "revert", "--no-edit", "HEAD")
    assert snapshot(repo)["files"] == original


def test_dry_run_touches_nothing(repo: Path) -> None:
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--dry-run")
    assert result.exit_code == 0
    assert "pool_pre_ping=True" in result.output
    assert snapshot(repo) == before


def test_dry_run_counts_in_words_that_agree_with_the_numbers(tmp_path: Path) -> None:
    one = make_repo(tmp_path / "one", {"app/sync.py": SYNC})
    assert "; 1 change in 1 file by 1 codemod; " in " ".join(run_cli("apply", str(one), "--dry-run").output.split())
    two = make_repo(tmp_path / "two", {"app/sync.py": SYNC, "app/other.py": SYNC.replace("engine =", "replica =")})
    assert "; 2 changes in 2 files by 1 codemod; " in " ".join(run_cli("apply", str(two), "--dry-run").output.split())


def test_diff_is_a_patch_git_apply_accepts(repo: Path, tmp_path: Path) -> None:
    before = snapshot(repo)
    result = run_cli("apply", str(repo), "--diff")
    assert result.exit_code == 1  # as `ruff check --diff`: there is a patch to apply
    assert run_cli("apply", str(repo), "--diff", "--exit-zero").exit_code == 0
    assert snapshot(repo) == before
    patch = tmp_path / "p.diff"
    patch.write_bytes(result.stdout_bytes)
    check = subprocess.run(["git", "apply", "--check", str(patch)], cwd=repo, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    subprocess.run(["git", "apply", str(patch)], cwd=repo, check=True)
    assert "pool_pre_ping=True" in (repo / "app/database.py").read_text()


def test_dirty_tree_is_refused_with_the_files(repo: Path) -> None:
    (repo / "app/util.py").write_text(UNTOUCHED + "# wip\n")
    before = snapshot(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2
    assert "uncommitted changes" in result.stderr and "app/util.py" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(repo) == before


def test_untracked_files_are_left_alone(repo: Path) -> None:
    write_files(repo, {"scratch.py": "from sqlalchemy import create_engine\ne = create_engine(u)\n"})
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0
    assert (repo / "scratch.py").read_text().endswith("create_engine(u)\n")
    assert git(repo, "status", "--porcelain") == "?? scratch.py\n"


def test_outside_a_repository_apply_is_refused_and_dry_run_works(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    write_files(plain, {"db.py": SYNC})
    result = run_cli("apply", str(plain))
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr and "--dry-run" in result.stderr
    assert "Traceback" not in result.output
    dry = run_cli("apply", str(plain), "--dry-run")
    assert dry.exit_code == 0 and "pool_pre_ping=True" in dry.output
    assert (plain / "db.py").read_text() == SYNC


def test_failure_midway_leaves_the_repository_as_before(repo: Path, monkeypatch) -> None:
    from optimize import git as gitops

    before = snapshot(repo)

    def boom(spec):
        raise RuntimeError("injected")

    real = gitops.build_commits
    monkeypatch.setattr(gitops, "build_commits", lambda *a, **k: real(*a, **{**k, "before_each": boom}))
    result = run_cli("apply", str(repo))
    assert result.exit_code == 2
    assert "injected" in result.stderr
    assert snapshot(repo) == before


@pytest.mark.parametrize(
    "content",
    [
        b"\xef\xbb\xbffrom sqlalchemy import create_engine\r\nengine = create_engine(url)\r\n",
        b"# -*- coding: latin-1 -*-\nfrom sqlalchemy import create_engine\n# caf\xe9\nengine = create_engine(url)\n",
        b"from sqlalchemy import create_engine\r\nengine = create_engine(\r\n    url,\r\n)",
    ],
    ids=["bom-crlf", "latin-1", "crlf-no-final-newline"],
)
def test_encodings_and_line_endings_round_trip(tmp_path: Path, content: bytes) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": content})
    git(repo, "config", "core.autocrlf", "false")
    assert run_cli("apply", str(repo)).exit_code == 0
    after = (repo / "db.py").read_bytes()
    assert after.replace(b", pool_pre_ping=True", b"").replace(b"    pool_pre_ping=True,\r\n", b"") == content
    assert run_cli("revert", str(repo), "--all").exit_code == 0
    assert (repo / "db.py").read_bytes() == content


def test_nothing_to_change(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"a.py": UNTOUCHED})
    head = commits(repo)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0
    assert "Nothing to change" in result.output and "No commit created" in result.output
    assert commits(repo) == head


def test_list_and_unknown_ids() -> None:
    listing = run_cli("list")
    assert listing.exit_code == 0 and "pool-pre-ping" in listing.output
    bad = run_cli("scan", ".", "--only", "no-such-codemod")
    assert bad.exit_code == 2 and "unknown codemod or check id" in bad.stderr


def test_scan_json_and_fail_on(repo: Path) -> None:
    import json

    result = run_cli("scan", str(repo), "--format", "json", "--fail-on", "changes")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    pre_ping = [c for c in data["changes"] if c["codemod"] == "pool-pre-ping"]
    assert {c["path"] for c in pre_ping} == {"app/database.py", "app/sync.py"}
    assert all(c["tier"] == "safe" for c in pre_ping)
    assert run_cli("scan", str(repo), "--only", "pool-pre-ping", "--fail-on", "refusals").exit_code == 0
    assert run_cli("scan", str(repo), "--fail-on", "refusals").exit_code == 1  # pool-overflow refuses


def test_apply_on_a_subdirectory_uses_repository_paths(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "r", {"backend/app/db.py": SYNC, "other/db.py": SYNC})
    result = run_cli("apply", str(repo / "backend"))
    assert result.exit_code == 0, result.output
    assert "pool_pre_ping=True" in (repo / "backend/app/db.py").read_text()
    assert (repo / "other/db.py").read_text() == SYNC
    assert "backend/app/db.py:3" in git(repo, "log", "-1", "--format=%B")
    diff = run_cli("apply", str(repo / "other"), "--diff")
    assert b"a/other/db.py" in diff.stdout_bytes


def test_black_repositories_stay_black_clean(tmp_path: Path) -> None:
    import black

    clean = 'from sqlalchemy import create_engine\n\nengine = create_engine(\n    "postgresql://db/app", pool_size=10, max_overflow=5, echo=False, future=True\n)\n'
    assert black.format_str(clean, mode=black.Mode(line_length=88)) == clean
    messy = "from sqlalchemy import create_engine\nother=create_engine( URL )\n"
    repo = make_repo(
        tmp_path / "r",
        {"pyproject.toml": "[tool.black]\nline-length = 88\n", "clean.py": clean, "messy.py": messy},
    )
    assert run_cli("apply", str(repo)).exit_code == 0
    after = (repo / "clean.py").read_text()
    assert "pool_pre_ping=True" in after
    assert black.format_str(after, mode=black.Mode(line_length=88)) == after  # reformatted by black
    # A file that was not black-clean is not reformatted: only the rewrite changes it.
    assert (repo / "messy.py").read_text() == "from sqlalchemy import create_engine\nother=create_engine( URL, pool_pre_ping=True )\n"


def test_scan_summarises_what_it_left_alone_in_test_files(tmp_path: Path) -> None:
    engine_line = "engine = create_engine(url, pool_pre_ping=settings.PING)\n"
    files = {"app/db.py": "from sqlalchemy import create_engine\n" + engine_line}
    for n in range(3):
        files[f"tests/test_db_{n}.py"] = "from sqlalchemy import create_engine\n" + engine_line
    repo = make_repo(tmp_path / "r", files)
    result = run_cli("scan", str(repo), "--only", "pool-pre-ping")
    assert "app/db.py:2" in result.stdout
    assert "3 in test files" in result.stdout and "tests/test_db_1.py" not in result.stdout
    listed = run_cli("scan", str(repo), "--only", "pool-pre-ping", "--format", "json")
    assert len(json.loads(listed.stdout)["refusals"]) == 4  # the JSON lists every one


def test_apply_without_unsafe_fixes_says_how_many_more_changes_they_would_make(tmp_path: Path) -> None:
    # pool-overflow is unsafe: `apply` lands pool-pre-ping alone and counts what it left.
    # Without a scan of the same tree there is nothing to count from: no hint, no cost.
    bare = make_repo(tmp_path / "bare", {"app/db.py": "from sqlalchemy import create_engine\n\nengine = create_engine(\"postgresql://db/app\", max_overflow=2)\n"})
    assert "more change" not in run_cli("apply", str(bare), "--dry-run").stdout
    source = "from sqlalchemy import create_engine\n\nengine = create_engine(\"postgresql://db/app\", max_overflow=2)\n"
    repo = make_repo(tmp_path / "r", {"app/db.py": source})
    # The unsafe codemods' changes are counted from the last scan of the same tree.
    assert run_cli("scan", str(repo)).exit_code == 0
    dry = run_cli("apply", str(repo), "--dry-run")
    assert "1 more change can be made with the `--unsafe-fixes` option" in " ".join(dry.stdout.split())
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert "1 more change can be made with the `--unsafe-fixes` option" in " ".join(result.stdout.split())
    assert "max_overflow=2" in (repo / "app/db.py").read_text()
    assert [c.split(" ", 1)[1] for c in git(repo, "log", "--format=%h %s").splitlines()][0].startswith("perf(pool-pre-ping)")
