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
        ("undecodable.py", b"x = '\xe9t\xe9 create_engine'\n", "not decodable"),
        ("nested.py", b"create_engine = " + b"(" * 300 + b"1" + b")" * 300 + b"\n", "syntax error"),
        ("bom-latin1.py", b"\xef\xbb\xbf# -*- coding: latin-1 -*-\ncreate_engine = 1\n", "not decodable"),
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
    """Only the call changes; every other byte (encoding, BOM, each line's ending) stays."""
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


@pytest.mark.parametrize(
    "config, message",
    [
        ("[tool.optimize]\nfrobnicate = 1\n", "frobnicate: unknown key"),
        ("[tool.optimize]\nexclude = 'x'\n", "exclude: expected a list of strings"),
        ("[tool.optimize]\ndisable = ['no-such-codemod']\n", "unknown codemod or check id 'no-such-codemod'"),
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
    before = snapshot(repo)
    for command in (["apply"], ["apply", "--dry-run"], ["scan"]):
        result = run_cli(*command, str(repo), *args)
        assert result.exit_code == 2 and "unknown codemod or check id 'nope'" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    result = run_cli("revert", str(repo), "nope")
    assert result.exit_code == 2 and "unknown codemod id 'nope'" in result.stderr
    assert snapshot(repo) == before


def test_a_missing_directory_is_one_line(tmp_path) -> None:
    result = run_cli("scan", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "no such directory" in result.stderr


@pytest.mark.parametrize(
    "before, after",
    [
        (  # new lines inside a CRLF file get CRLF; the LF line stays LF
            b"from sqlalchemy import create_engine\r\nengine = create_engine(\r\n    url,\r\n    echo=True,\r\n)\nx = 1\n",
            b"from sqlalchemy import create_engine\r\nengine = create_engine(\r\n    url,\r\n    echo=True,\r\n    pool_pre_ping=True,\r\n)\nx = 1\n",
        ),
        (  # latin-1 with its cookie, on a CRLF file: written back in latin-1, CRLF kept
            b"# -*- coding: latin-1 -*-\r\nfrom sqlalchemy import create_engine\r\nengine = create_engine('\xe9', echo=True)\r\n",
            b"# -*- coding: latin-1 -*-\r\nfrom sqlalchemy import create_engine\r\nengine = create_engine('\xe9', echo=True, pool_pre_ping=True)\r\n",
        ),
    ],
    ids=["crlf-multiline", "latin-1-crlf"],
)
def test_a_rewrite_keeps_each_lines_ending_and_the_encoding(tmp_path, before, after) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": before})
    git(repo, "config", "core.autocrlf", "false")
    apply_ok(repo)
    assert (repo / "db.py").read_bytes() == after
    assert git(repo, "status", "--porcelain") == ""


def test_the_default_size_limit_is_one_megabyte(tmp_path) -> None:
    big = ENGINE + ("# filler line\n" * 80_000)  # about 1.1 MB
    repo = make_repo(tmp_path / "r", {"big.py": big, "db.py": ENGINE})
    result = apply_ok(repo)
    assert "big.py: larger than max-file-size" in result.output.replace("\n  ", " ")
    assert (repo / "big.py").read_text() == big
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()


def test_a_file_name_that_is_not_utf8_is_skipped(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE})
    odd = repo / os.fsdecode(b"caf\xe9.py")
    odd.write_text(ENGINE)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "odd name")
    result = run_cli("scan", str(repo))
    assert result.exit_code == 0 and "file name is not valid UTF-8" in result.output
    apply_ok(repo)
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert odd.read_text() == ENGINE


def _between_discovery_and_read(monkeypatch, change) -> None:
    """Run ``change(root)`` after the file list is made and before any file is read."""
    from optimize import files

    real = files.git.list_files

    def listing(root, untracked=True):
        found = real(root, untracked)
        change(root)
        return found

    monkeypatch.setattr(files.git, "list_files", listing)


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda root: (root / "gone.py").unlink(), "gone.py: unreadable: missing"),
        (lambda root: ((root / "gone.py").unlink(), (root / "gone.py").mkdir()), "gone.py: not a regular file"),
        (lambda root: ((root / "gone.py").unlink(), (root / "gone.py").symlink_to("/etc/passwd")), "gone.py: symlink"),
    ],
    ids=["removed", "now-a-directory", "now-a-symlink"],
)
def test_a_file_that_changes_under_the_run_is_reported_and_the_rest_processed(
    tmp_path, monkeypatch, change, reason
) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "gone.py": ENGINE})
    _between_discovery_and_read(monkeypatch, change)
    result = run_cli("apply", str(repo), "--dry-run")
    assert result.exit_code == 0 and "Traceback" not in result.output
    assert reason in result.output
    assert "+engine = create_engine(url, pool_pre_ping=True)" in result.output


@pytest.mark.parametrize(
    "config, message",
    [
        ("tool = 1\n", "tool: expected a table"),
        ("[tool]\noptimize = 3\n", "[tool.optimize] must be a table"),
        ("[tool.optimize]\nenable = 'pool-pre-ping'\n", "enable: expected a list of strings"),
        ("[tool.optimize]\nmax-file-size = '1MB'\n", "max-file-size: expected a positive integer"),
        ("[tool.optimize]\nmax-file-size = true\n", "max-file-size: expected a positive integer"),
        ("[tool.optimize]\npool-overflow = 3\n", "pool-overflow: expected a table of options"),
        ("[tool.optimize.pool-overflow]\ntarget = true\n", "target: expected int"),
        ("[tool.optimize.fire-and-forget-broadcast]\npatterns = [1, 2]\n", "patterns: expected a list of str"),
        ("[tool.optimize.debug-middleware]\ndebug_flag = 1\n", "debug_flag: expected str"),
        ("[tool.optimize]\nenable = ['pool-pre-ping', 'pool-pre-ping ']\n", "unknown codemod or check id 'pool-pre-ping '"),
    ],
)
def test_more_broken_configurations(tmp_path, config, message) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "pyproject.toml": config})
    before = snapshot(repo)
    for command in (["scan"], ["apply"]):
        result = run_cli(*command, str(repo))
        assert result.exit_code == 2, result.output
        assert message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert snapshot(repo) == before


def test_a_pyproject_that_is_not_utf8_is_one_line(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "pyproject.toml": b"[tool.optimize]\n# \xff\n"})
    result = run_cli("scan", str(repo))
    assert result.exit_code == 2 and "pyproject.toml: cannot be read" in result.stderr


def test_a_black_section_black_rejects_leaves_the_rewrite_unformatted(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "pyproject.toml": "[tool.black]\nline-length = 'wide'\n"})
    apply_ok(repo)
    assert "create_engine(url, pool_pre_ping=True)" in (repo / "db.py").read_text()


def test_a_path_that_is_a_file_is_one_line_for_apply_and_the_files_report_for_scan(tmp_path) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": ENGINE, "other.py": ENGINE})
    result = run_cli("apply", str(repo / "db.py"))
    assert result.exit_code == 2 and "not a directory" in result.stderr
    # As pre-commit passes them: the repository is read, only the named files reported.
    scanned = run_cli("scan", str(repo / "db.py"), "--output-format", "concise")
    assert scanned.exit_code == 0 and "db.py:" in scanned.stdout and "other.py" not in scanned.stdout
    missing = run_cli("scan", str(repo / "db.py"), str(repo / "gone.py"))
    assert missing.exit_code == 2 and "no such file or directory" in missing.stderr


def test_a_file_the_parser_cannot_reproduce_is_left_alone(tmp_path) -> None:
    """LibCST drops the last line ending of a file with old Mac (CR) line endings: such a
    file is skipped rather than rewritten with a byte lost."""
    content = b"from sqlalchemy import create_engine\rengine = create_engine(url)\r"
    repo = make_repo(tmp_path / "r", {"mac.py": content, "db.py": ENGINE})
    git(repo, "config", "core.autocrlf", "false")
    result = apply_ok(repo)
    assert "mac.py: not reproduced byte for byte" in result.output.replace("\n  ", " ")
    assert (repo / "mac.py").read_bytes() == content
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()


@pytest.mark.parametrize(
    "content",
    [
        b"\x0c\n" + ENGINE.encode() + b"\x0c\ndef f():\n    pass\n",
        "# a \u2028 separator\n".encode() + ENGINE.encode() + "s = 'a\u2028b'\n".encode(),
        b"x = 1\r\ny = 2\r" + ENGINE.encode().replace(b"\n", b"\r\n"),
        b"# coding: cp1252\n" + ENGINE.encode() + b"s = '\x80'\n",
        b"from sqlalchemy import create_engine\nengine = \\\n    create_engine(url)\n",
        b"from sqlalchemy import create_engine; engine = create_engine(url); x = 1\n",
        ENGINE.encode() + b"x = 1   ",
        ENGINE.encode() + b"try:\n    pass\nexcept* ValueError:\n    pass\nmatch x:\n    case [1, *r]:\n        pass\n",
    ],
    ids=["form-feed", "unicode-line-separator", "lone-cr", "cp1252", "backslash", "semicolons", "trailing-spaces", "except-star-match"],
)
def test_odd_but_valid_layouts_change_only_the_call(tmp_path, content) -> None:
    repo = make_repo(tmp_path / "r", {"db.py": content})
    git(repo, "config", "core.autocrlf", "false")
    apply_ok(repo)
    assert (repo / "db.py").read_bytes() == content.replace(
        b"create_engine(url)", b"create_engine(url, pool_pre_ping=True)"
    )


_UNREADABLE_DRIVER = """
import os, sys
from pathlib import Path
from optimize import files
from optimize.cli import main

repo = Path(sys.argv[1])
real = files.git.list_files

def listing(root, untracked=True):
    found = real(root, untracked)
    os.chmod(repo / "gone.py", 0)  # made unreadable between discovery and reading
    return found

files.git.list_files = listing
sys.argv = ["optimize", "apply", str(repo), "--dry-run"]
main()
"""


def test_a_file_made_unreadable_during_the_run_is_reported(tmp_path) -> None:
    """Permission bits do not stop root, so as root the run goes as the `nobody` user."""
    import shutil
    import subprocess
    import sys
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="optimize-unreadable-"))
    try:
        repo = make_repo(base / "r", {"db.py": ENGINE, "gone.py": ENGINE})
        driver = base / "driver.py"
        driver.write_text(_UNREADABLE_DRIVER)
        command = [sys.executable, str(driver), str(repo)]
        env = {**os.environ, "HOME": str(base), "COLUMNS": "200"}
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                pytest.skip("running as root without setpriv: cannot take permissions away from root")
            base.chmod(0o755)
            for path in [base, *base.rglob("*")]:
                os.chown(path, 65534, 65534, follow_symlinks=False)
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
            probe = subprocess.run([*command[:4], sys.executable, "-c", "import optimize"], capture_output=True)
            if probe.returncode != 0:
                pytest.skip("the interpreter cannot be run as the nobody user here")
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
        output = done.stdout + done.stderr
        assert done.returncode == 0, output
        assert "Traceback" not in output
        assert "gone.py: unreadable: Permission denied" in " ".join(output.split())
        assert "+engine = create_engine(url, pool_pre_ping=True)" in output
    finally:
        shutil.rmtree(base, ignore_errors=True)
