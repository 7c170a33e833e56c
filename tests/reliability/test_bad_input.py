"""Bad input gets a reported skip or one clear line, never a traceback, and the run goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gitrepo import git, make_repo, run_cli, snapshot

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine(url)\n"


def apply_ok(repo: Path, *args: str):
    result = run_cli("apply", str(repo), *args)
    assert "Traceback" not in result.output
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("broken.py", b"def f(:\n    pass\n", "syntax error"),
        ("py2.py", b"print 'hello'\nexec 'x = 1'\n", "syntax error"),
        ("binary.py", b"\x00\x01\x02create_engine\x00", "binary"),
        ("undecodable.py", b"x = '\xff\xfe create_engine'\n", "cannot be parsed"),
    ],
)
def test_unparsable_files_are_skipped_and_the_rest_is_rewritten(tmp_path, name, content, reason) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, name: content})
    result = run_cli("scan", str(repo))
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert reason in result.output.replace("\n", " ")
    apply_ok(repo)
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert (repo / name).read_bytes() == content


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"\n\n",
        b"# -*- coding: latin-1 -*-\nfrom sqlalchemy import create_engine\nname = '\xe9t\xe9'\nengine = create_engine(url)\n",
        b"\xef\xbb\xbf" + ENGINE.encode(),
        b"from sqlalchemy import create_engine\r\nx = 1\nengine = create_engine(url)\r\n",
        b"from sqlalchemy import create_engine\nif True:\n\tengine = create_engine(url)\n",
        b"from sqlalchemy import create_engine\nengine = create_engine(url)",
    ],
    ids=["empty", "blank", "latin-1", "bom", "mixed-eol", "tabs", "no-final-eol"],
)
def test_encodings_and_layouts_round_trip_byte_for_byte(tmp_path, content) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": content})
    git(repo, "config", "core.autocrlf", "false")
    apply_ok(repo)
    after = (repo / "db.py").read_bytes()
    if b"create_engine(url)" in content:
        assert after == content.replace(b"create_engine(url)", b"create_engine(url, pool_pre_ping=True)")
        assert run_cli("revert", str(repo), "--all").exit_code == 0
    assert (repo / "db.py").read_bytes() == content


def test_oversized_files_are_skipped_with_a_notice(tmp_path) -> None:
    big = ENGINE + "#" * 2000 + "\n"
    repo = make_repo(
        tmp_path / "r",
        {"big.py": big, "db.py": ENGINE, "pyproject.toml": "[tool.optimize]\nmax-file-size = 1000\n"},
    )
    result = run_cli("scan", str(repo))
    assert "larger than max-file-size" in result.output.replace("\n", " ")
    apply_ok(repo)
    assert (repo / "big.py").read_text() == big


def test_a_symlink_is_never_followed_nor_written_through(tmp_path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(ENGINE)
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    os.symlink(outside, repo / "link.py")
    git(repo, "add", "link.py")
    git(repo, "commit", "-qm", "link")
    result = run_cli("scan", str(repo))
    assert "symlink" in result.output
    apply_ok(repo)
    assert outside.read_text() == ENGINE


def test_a_file_that_disappears_during_the_run_is_reported(tmp_path, monkeypatch) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "gone.py": ENGINE})
    from optimize import files

    real = files.git.list_files

    def listing(root, untracked=True):
        found = real(root, untracked)
        (root / "gone.py").unlink(missing_ok=True)
        return found

    monkeypatch.setattr(files.git, "list_files", listing)
    result = run_cli("apply", str(repo), "--dry-run")
    assert result.exit_code == 0 and "Traceback" not in result.output


@pytest.mark.parametrize(
    "config, message",
    [
        ("[tool.optimize]\nfrobnicate = 1\n", "frobnicate: unknown key"),
        ("[tool.optimize]\nexclude = 'x'\n", "exclude: expected a list of strings"),
        ("[tool.optimize]\ndisable = ['no-such-codemod']\n", "unknown codemod id 'no-such-codemod'"),
        ("[tool.optimize.pool-overflow]\ntarget = 'many'\n", "target: expected int"),
        ("[tool.optimize.pool-overflow]\ntargte = 30\n", "targte: unknown option"),
        ("[tool.optimize\n", "pyproject.toml: cannot be read"),
        ("[tool.optimize]\nmax-file-size = -1\n", "max-file-size: expected a positive integer"),
    ],
)
def test_a_broken_configuration_is_one_line_naming_the_key(tmp_path, config, message) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "pyproject.toml": config})
    before = snapshot(repo)
    for command in (["scan"], ["apply"], ["apply", "--dry-run"]):
        result = run_cli(*command, str(repo))
        assert result.exit_code == 2
        assert message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert snapshot(repo) == before


@pytest.mark.parametrize("args", [["--only", "nope"], ["--exclude", "nope"]])
def test_unknown_codemod_ids_on_the_command_line(tmp_path, args) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    result = run_cli("apply", str(repo), *args)
    assert result.exit_code == 2 and "unknown codemod id 'nope'" in result.stderr
    assert run_cli("revert", str(repo), "nope").exit_code == 2


def test_a_missing_directory_is_one_line(tmp_path) -> None:
    result = run_cli("scan", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "no such directory" in result.stderr
