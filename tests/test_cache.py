"""The cache in `.git/optimize-cache/` (`optimize.cache`): a warm scan says exactly what a
cold one says, also after a file another one depends on changed; a corrupt or foreign
cache file is ignored; `--no-cache` keeps nothing; the working tree never changes; and
`apply` commits the same with a warm cache as without."""

from __future__ import annotations

import json
from pathlib import Path

from optimize.cache import Cache, git_dir
from tests.cli.test_findings import MODELS, ROUTES
from tests.gitrepo import git, make_repo, run_cli, snapshot

FILES = {"app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": ROUTES}


def _scan(repo: Path, *extra: str) -> dict:
    """The scan's JSON, without the count of files this run parsed (0 when read back)."""
    result = run_cli("scan", str(repo), "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    for varying in ("files_parsed", "files_reused", "files_parsed_by"):
        found.pop(varying)
    return found


def _cache_dir(repo: Path) -> Path:
    return repo / ".git" / "optimize-cache"


def test_a_warm_scan_says_what_a_cold_one_says_and_touches_no_tracked_or_untracked_file(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    before = snapshot(repo)
    cold = _scan(repo)
    assert any(p.name.startswith("facts-") for p in _cache_dir(repo).iterdir())
    warm = _scan(repo)
    assert warm == cold and cold["findings"]
    again = run_cli("scan", str(repo), "--format", "json")
    assert json.loads(again.stdout)["files_parsed"] == 0  # read back, nothing parsed
    assert snapshot(repo) == before  # git status clean: the cache lives in .git/


def test_editing_a_file_others_depend_on_gives_the_cold_result(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    first = _scan(repo)
    assert any(f["check"] == "n-plus-one" for f in first["findings"])
    # The route's loop reads Task.owner: once the models load it with the rows, the
    # routes file (unchanged) has no n-plus-one finding any more.
    (repo / "app/models.py").write_text(MODELS.replace("relationship()", 'relationship(lazy="selectin")'))
    warm = _scan(repo)
    cold = _scan(repo, "--no-cache")
    assert warm == cold
    assert not any(f["check"] == "n-plus-one" for f in warm["findings"])
    (repo / "app/models.py").write_text(MODELS)  # and back: the first answer again
    assert _scan(repo) == first


def test_an_edit_rewrites_only_the_facts_files_that_hold_its_old_and_new_keys(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    _scan(repo)

    def facts_files() -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in _cache_dir(repo).glob("facts-*.pickle")}

    before = facts_files()
    assert len(before) == 16
    (repo / "app/models.py").write_text(MODELS + "\n# edited\n")
    assert _scan(repo) == _scan(repo, "--no-cache")
    after = facts_files()
    assert 1 <= sum(before[name] != after[name] for name in before) <= 2


def test_corrupt_truncated_or_foreign_cache_files_are_ignored(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    cold = _scan(repo, "--no-cache")
    _scan(repo)
    for path in _cache_dir(repo).iterdir():
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # truncated mid-pickle
    assert _scan(repo) == cold
    for path in _cache_dir(repo).iterdir():
        path.write_bytes(b"optimize-cache 1\nsomeone-else\n" + b"\x80\x05garbage")
    assert _scan(repo) == cold
    for path in _cache_dir(repo).iterdir():
        path.write_bytes(b"\x00" * 64)
    assert _scan(repo) == cold


def test_no_cache_reads_and_writes_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    _scan(repo, "--no-cache")
    assert not _cache_dir(repo).exists()


def test_a_worktree_shares_its_repository_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    git(repo, "worktree", "add", "-q", str(tmp_path / "wt"))
    assert git_dir(tmp_path / "wt" / "app") == (repo / ".git").resolve()
    assert Cache.open(tmp_path / "wt").directory == (repo / ".git" / "optimize-cache").resolve()
    assert Cache.open(Path("/")).directory is None  # no git repository: no cache


def test_apply_commits_the_same_with_a_warm_cache(tmp_path: Path) -> None:
    trees = []
    for name, warm in (("cold", False), ("warm", True)):
        repo = make_repo(tmp_path / name, FILES)
        if warm:
            _scan(repo)
            _scan(repo)
        result = run_cli("apply", str(repo), "--unsafe-fixes", *([] if warm else ["--no-cache"]))
        assert result.exit_code == 0, result.output
        log = git(repo, "log", "--format=%s", "main")
        trees.append((log, git(repo, "rev-parse", "main^{tree}")))
    assert trees[0] == trees[1] and trees[0][0].count("\n") > 1


HEAVY = ('libcst', 'black', 'git', 'pydantic')


def _scan_in_process_of_its_own(repo: Path, fmt: str = "json", heavy: tuple[str, ...] = HEAVY) -> tuple[str, str]:
    """(output, the ``heavy`` modules the run imported) of `python -m optimize scan repo`."""
    import subprocess
    import sys

    code = (
        "import runpy, sys\n"
        "try:\n    runpy.run_module('optimize', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "scan", str(repo), "--format", fmt],
        capture_output=True, text=True, cwd=repo.parent, timeout=300,
    )
    if fmt != "json":
        return done.stdout, done.stderr.strip().splitlines()[-1]
    found = json.loads(done.stdout)
    for varying in ("files_parsed", "files_reused", "files_parsed_by"):
        found.pop(varying)
    return json.dumps(found, sort_keys=True), done.stderr.strip().splitlines()[-1]


def test_a_warm_scan_imports_neither_libcst_black_gitpython_nor_pydantic(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    cold, cold_modules = _scan_in_process_of_its_own(repo)
    assert cold_modules == "['git', 'libcst']"  # planning needs them; black only a run that formats
    warm, warm_modules = _scan_in_process_of_its_own(repo)
    assert warm == cold and warm_modules == "[]"  # pydantic: typer 0.29's coercion imports it


def test_a_warm_scan_in_the_default_format_reads_no_package_metadata(tmp_path: Path) -> None:
    # `importlib.metadata` takes 50 ms to load, a sixth of a warm scan: read only for a
    # format that prints the rules' documentation URLs (json, sarif, full).
    repo = make_repo(tmp_path / "app", FILES)
    cold, _ = _scan_in_process_of_its_own(repo, "concise", ("importlib.metadata",))
    warm, modules = _scan_in_process_of_its_own(repo, "concise", ("importlib.metadata",))
    # The same diagnostics; the summary line counts the files parsed this time.
    assert warm.splitlines()[:-1] == cold.splitlines()[:-1] and "n-plus-one" in warm and modules == "[]"


def test_a_changed_configuration_or_selection_is_planned_again(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "app", FILES)
    assert any(f["check"] == "n-plus-one" for f in _scan(repo)["findings"])
    only = _scan(repo, "--only", "missing-index")
    assert only == _scan(repo, "--only", "missing-index", "--no-cache")
    assert {f["check"] for f in only["findings"]} <= {"missing-index"}
    (repo / "pyproject.toml").write_text('[tool.optimize]\ndisable = ["n-plus-one"]\n')
    disabled = _scan(repo)
    assert disabled == _scan(repo, "--no-cache")
    assert not any(f["check"] == "n-plus-one" for f in disabled["findings"])
    # A configuration that is not valid any more is reported, never answered from the cache.
    (repo / "pyproject.toml").write_text('[tool.optimize]\ndisable = ["no-such-check"]\n')
    result = run_cli("scan", str(repo), "--format", "json")
    assert result.exit_code != 0 and "no-such-check" in result.output


def test_after_an_edit_only_files_whose_answers_changed_are_planned_again(tmp_path: Path) -> None:
    db = "from sqlalchemy import create_engine\n\nengine = create_engine('postgresql://db/app')\n"
    jobs = "import asyncio\n\n\nasync def ping(job):\n    asyncio.create_task(job())\n"
    util = "def slug(text):\n    return text.lower()\n"
    repo = make_repo(tmp_path / "app", {**FILES, "app/db.py": db, "app/util.py": util})
    run_cli("scan", str(repo))
    # An edit that changes no answer another file's plan asked for: the routes (n-plus-one)
    # and the engine (pool-pre-ping) are both read back, not planned.
    (repo / "app/util.py").write_text(util + "\n\ndef title(text):\n    return text.title()\n")
    result = run_cli("scan", str(repo), "--format", "json")
    found = json.loads(result.stdout)
    assert found["files_parsed"] == 0 and found["files_reused"] == 2
    assert _scan(repo) == _scan(repo, "--no-cache")
    # Loading the relationship with the rows changes the answer the routes asked for:
    # they are planned again, the engine is not.
    (repo / "app/models.py").write_text(MODELS.replace("relationship()", 'relationship(lazy="selectin")'))
    found = json.loads(run_cli("scan", str(repo), "--format", "json").stdout)
    assert found["files_parsed"] == 1 and found["files_reused"] == 1
    assert not any(f["check"] == "n-plus-one" for f in found["findings"])
    for varying in ("files_parsed", "files_reused", "files_parsed_by"):
        found.pop(varying)
    assert found == _scan(repo, "--no-cache")
    # A plan that adds a helper module depends on which files exist beside it: never reused.
    (repo / "app/jobs.py").write_text(jobs)
    run_cli("scan", str(repo))
    (repo / "app/util.py").write_text(util)
    found = json.loads(run_cli("scan", str(repo), "--format", "json").stdout)
    assert found["files_parsed"] == 1 and found["files_reused"] == 2


def test_a_value_that_cannot_be_pickled_writes_nothing_and_leaves_the_collector_on(tmp_path: Path) -> None:
    import gc

    cache = Cache(tmp_path / "cache")
    assert gc.isenabled()
    cache.save_results({"a.py": lambda: None})  # a lambda does not pickle
    assert gc.isenabled()
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())
    cache.save_results({"a.py": 1})
    assert cache.load_results() == {"a.py": 1}


def test_the_cache_is_keyed_on_black_s_version_as_its_metadata_gives_it() -> None:
    from importlib.metadata import version

    from optimize.cache import black_version

    assert black_version() == version("black")


def test_black_s_version_is_read_from_its_one_dist_info_directory(tmp_path: Path, monkeypatch) -> None:
    import importlib
    import sys

    from optimize import cache

    (tmp_path / "black").mkdir()
    (tmp_path / "black" / "__init__.py").write_text("")
    (tmp_path / "black-1.2.3.dist-info").mkdir()
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    monkeypatch.delitem(sys.modules, "black", raising=False)
    importlib.invalidate_caches()
    assert cache.black_version() == "1.2.3"
    # Two of them (one left behind by an upgrade): the metadata decides, not a guess.
    (tmp_path / "black-1.0.0.dist-info").mkdir()
    (tmp_path / "black-1.0.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: black\nVersion: 1.0.0\n")
    (tmp_path / "black-1.2.3.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: black\nVersion: 1.2.3\n")
    importlib.invalidate_caches()
    from importlib.metadata import version

    assert cache.black_version() == version("black")


def test_without_black_the_cache_keys_on_no_version(monkeypatch) -> None:
    import importlib.util

    from optimize import cache

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cache.black_version() == ""
