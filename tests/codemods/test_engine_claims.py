"""Pins, with real SQLAlchemy and FastAPI, the claims the engine and middleware codemods
rely on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool, SingletonThreadPool, StaticPool

from tests.fixture_app import copy_fixture
from tests.gitrepo import make_repo, run_cli


@pytest.mark.parametrize("poolclass", [NullPool, StaticPool, SingletonThreadPool])
def test_max_overflow_on_a_pool_without_overflow_raises(poolclass, tmp_path) -> None:
    with pytest.raises(TypeError):
        create_engine(f"sqlite:///{tmp_path}/x.db", poolclass=poolclass, max_overflow=20)


def test_max_overflow_on_in_memory_sqlite_raises() -> None:
    with pytest.raises(TypeError):
        create_engine("sqlite://", max_overflow=20)


def test_max_overflow_and_pre_ping_on_a_file_sqlite_engine_are_accepted(tmp_path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path}/x.db", max_overflow=20, pool_pre_ping=True)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1
    assert engine.pool._max_overflow == 20


MIDDLEWARE_COUNT = """
import json, sys
sys.path.insert(0, ".")
from taskboard.factory import create_app
app = create_app()
print(json.dumps(sorted(m.cls.__name__ for m in app.user_middleware)))
print(json.dumps(sorted(n for n in sys.modules if n == "taskboard.middleware")))
"""


def _middlewares(app: Path, debug: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", MIDDLEWARE_COUNT],
        cwd=app,
        capture_output=True,
        text=True,
        env={"TASKBOARD_API__DEBUG": debug, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[0]


def test_rewritten_app_registers_debug_middleware_only_in_debug(tmp_path) -> None:
    app = copy_fixture(tmp_path / "app")
    make_repo(app, {})
    assert _middlewares(app, "false") == '["RequestIDMiddleware", "RequestTimingMiddleware"]'
    result = run_cli("apply", str(app), "--only", "debug-middleware")
    assert result.exit_code == 0, result.output
    assert _middlewares(app, "false") == '["RequestIDMiddleware"]'
    assert _middlewares(app, "true") == '["RequestIDMiddleware", "RequestTimingMiddleware"]'
