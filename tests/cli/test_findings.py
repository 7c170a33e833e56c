"""Findings through the CLI, on real git repositories: the table, the JSON, `--fail-on
findings`, configuration, suppression, test files, and a clean repository that prints
nothing new."""

from __future__ import annotations

import json
from pathlib import Path

from tests.gitrepo import make_repo, run_cli, snapshot

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    owner: Mapped[User] = relationship()
    status: Mapped[str]
"""

ROUTES = """\
import time

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Task

router = APIRouter()


@router.get("/tasks")
def list_tasks(db: Session):
    tasks = db.scalars(select(Task).where(Task.status == "open")).all()
    return [{"owner": t.owner.name} for t in tasks]


@router.get("/slow")
async def slow(db: Session):
    time.sleep(0.1)
    return db.get(Task, 1)
"""


def _repo(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    return make_repo(
        tmp_path / "app",
        {"app/__init__.py": "", "app/models.py": MODELS, "app/routes.py": ROUTES, **(extra or {})},
    )


def test_scan_reports_findings_in_json_and_fails_on_them(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    before = snapshot(repo)
    result = run_cli("scan", str(repo), "--format", "json")
    assert result.exit_code == 0, result.output
    found = {(f["check"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]}
    assert found == {
        ("n-plus-one", "app/routes.py", 15),
        ("blocking-in-async", "app/routes.py", 20),
        ("blocking-in-async", "app/routes.py", 21),
        ("missing-index", "app/models.py", 20),
    }
    assert run_cli("scan", str(repo), "--fail-on", "findings").exit_code == 1
    assert run_cli("scan", str(repo), "--fail-on", "none").exit_code == 0
    table = " ".join(run_cli("scan", str(repo), "--output-format", "table").stdout.split())
    assert "Findings" in table and "n-plus-one" in table and "4 findings" in table
    assert snapshot(repo) == before  # scan writes nothing


def test_configuration_suppression_and_test_files(tmp_path: Path) -> None:
    config = '[tool.optimize]\ndisable = ["missing-index"]\n\n[tool.optimize.blocking-in-async]\ndepth = 0\n'
    suppressed = ROUTES.replace("time.sleep(0.1)", "time.sleep(0.1)  # optimize: ignore[blocking-in-async]")
    repo = _repo(
        tmp_path,
        {
            "pyproject.toml": config,
            "tests/test_routes.py": ROUTES.replace(".models", "app.models"),
            "alembic/versions/0001_backfill.py": 'from sqlalchemy import text\n\n\ndef upgrade(op):\n    op.execute(text("UPDATE tasks SET status = \'open\'"))\n',
        },
    )
    (repo / "app/routes.py").write_text(suppressed)
    from tests.gitrepo import git

    git(repo, "commit", "-qam", "suppress")
    found = {(f["check"], f["path"], f["line"]) for f in json.loads(run_cli("scan", str(repo), "--format", "json").stdout)["findings"]}
    assert found == {("blocking-in-async", "app/routes.py", 21), ("n-plus-one", "app/routes.py", 15)}
    only = json.loads(run_cli("scan", str(repo), "--format", "json", "--only", "n-plus-one").stdout)
    assert {f["check"] for f in only["findings"]} == {"n-plus-one"}
    bad = run_cli("scan", str(repo / "x"), "--only", "no-such-check")
    assert bad.exit_code == 2


def test_a_clean_repository_prints_nothing_new(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "clean", {"app/__init__.py": "", "app/util.py": "def add(a, b):\n    return a + b\n"})
    result = run_cli("scan", str(repo))
    assert result.exit_code == 0
    assert "Findings" not in result.stdout and "findings" not in result.stdout
    assert json.loads(run_cli("scan", str(repo), "--format", "json").stdout)["findings"] == []


def test_list_shows_the_checks() -> None:
    listing = run_cli("list").stdout
    for check in ("n-plus-one", "blocking-in-async", "missing-index", "offset-pagination", "sql-syntax"):
        assert check in listing
