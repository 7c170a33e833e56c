"""`optimize` never imports or runs the target's code; config values are data; paths from
config stay inside the repository."""

from __future__ import annotations

from pathlib import Path

from tests.gitrepo import make_repo, run_cli

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine(url)\n"


def test_the_target_code_is_never_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    hostile = f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n"
    repo = make_repo(
        tmp_path / "r",
        {"app/__init__.py": hostile, "app/db.py": hostile + ENGINE, "conftest.py": hostile, "setup.py": hostile},
    )
    assert run_cli("scan", str(repo)).exit_code == 0
    assert run_cli("apply", str(repo), "--unsafe-fixes").exit_code == 0
    assert not marker.exists()


def test_config_values_are_data_not_code(tmp_path: Path) -> None:
    marker = tmp_path / "evaluated"
    repo = make_repo(
        tmp_path / "r",
        {
            "app/__init__.py": "",
            "app/main.py": "from fastapi import FastAPI\nfrom app.mw import TimingMiddleware\napp = FastAPI()\napp.add_middleware(TimingMiddleware)\n",
            "pyproject.toml": (
                "[tool.optimize.debug-middleware]\n"
                f"debug_flag = \"__import__('pathlib').Path({str(marker)!r}).touch() or True\"\n"
            ),
        },
    )
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert "__import__" in (repo / "app/main.py").read_text()  # written as text, never run


def test_exclude_globs_cannot_reach_outside_the_repository(tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(ENGINE)
    repo = make_repo(
        tmp_path / "r",
        {"db.py": ENGINE, "pyproject.toml": "[tool.optimize]\nexclude = ['../*', '/etc/*', '**/../../*']\n"},
    )
    assert run_cli("apply", str(repo)).exit_code == 0
    assert "pool_pre_ping=True" in (repo / "db.py").read_text()
    assert outside.read_text() == ENGINE
