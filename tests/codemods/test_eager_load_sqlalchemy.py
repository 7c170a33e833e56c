"""eager-load on real SQLAlchemy (sqlite): the rewritten function returns the same rows and
values with 2 statements per relationship level instead of 1 + one per row."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import libcst as cst
import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.orm import Session

from optimize.analyzers.index import RepoIndex
from optimize.codemods.eager_load import MODELS, EagerLoad
from optimize.transform import run_codemod

SERVICE = """\
from sqlalchemy import select

from .models import Project, Task


def titles_and_assignees(db):
    tasks = db.scalars(select(Task).order_by(Task.id)).all()
    return [(t.title, t.assignee.name) for t in tasks]


def owners(db):
    out = []
    for task in db.query(Task).order_by(Task.id).all():
        out.append((task.id, task.project.owner.name, task.assignee.name))
    return out
"""
ROWS = 6


def _package(root: Path, name: str, service: str) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "models.py").write_text(textwrap.dedent(MODELS["app/models.py"]))
    (package / "service.py").write_text(service)


@pytest.fixture()
def packages(tmp_path: Path):
    index = RepoIndex.build(
        {"app/__init__.py": b"", "app/models.py": textwrap.dedent(MODELS["app/models.py"]).encode(), "app/service.py": SERVICE.encode()}
    )
    done = run_codemod(EagerLoad, cst.parse_module(SERVICE), "app/service.py", index=index)
    assert len(done.changes) == 3, done.refusals  # one per relationship path loaded
    _package(tmp_path, "before_app", SERVICE)
    _package(tmp_path, "after_app", done.tree.code)
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("before_app.service"), importlib.import_module("after_app.service")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] in {"before_app", "after_app"}]:
            del sys.modules[name]


def _run(module, function: str):
    models = importlib.import_module(module.__name__.rsplit(".", 1)[0] + ".models")
    engine = create_engine("sqlite://")
    models.Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([models.User(id=i, name=f"user{i}") for i in range(ROWS + 1)])
        s.add_all([models.Project(id=i, owner_id=ROWS - i) for i in range(ROWS)])
        s.add_all([models.Task(id=i, title=f"t{i}", assignee_id=i, project_id=(i * 5) % ROWS) for i in range(ROWS)])
        s.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with Session(engine) as s:
        result = getattr(module, function)(s)
    return result, len(statements)


def test_one_level_two_statements_same_rows(packages) -> None:
    before, after = packages
    old, old_count = _run(before, "titles_and_assignees")
    new, new_count = _run(after, "titles_and_assignees")
    assert new == old and len(new) == ROWS
    assert old_count == 1 + ROWS and new_count == 2


def test_a_chain_and_two_relationships_on_the_legacy_query(packages) -> None:
    before, after = packages
    old, old_count = _run(before, "owners")
    new, new_count = _run(after, "owners")
    assert new == old and len(new) == ROWS
    # tasks; then per row its project, the project's owner and its assignee (identity-map hits aside)
    assert old_count > 2 * ROWS
    assert new_count == 4  # tasks, projects, their owners, assignees
