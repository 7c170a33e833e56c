"""The background-task helper the task codemods add, exercised with real asyncio, and the
rewritten code checked with ruff's RUF006 (dangling task)."""

from __future__ import annotations

import asyncio
import gc
import logging
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from optimize.codemods.background_helper import HELPER_SOURCE
from tests.fixture_app import copy_fixture
from tests.gitrepo import git, make_repo, run_cli, snapshot


def helper_module() -> types.ModuleType:
    module = types.ModuleType("background_tasks")
    exec(compile(HELPER_SOURCE, "background_tasks.py", "exec"), module.__dict__)  # noqa: S102 -- our own template
    return module


def test_tasks_are_referenced_until_done_and_drained() -> None:
    helper = helper_module()
    done = []

    async def job(n):
        await asyncio.sleep(0.01)
        done.append(n)

    async def main():
        for n in range(5):
            helper.spawn_background(job(n), name=f"job-{n}")
        gc.collect()  # nothing but the helper references the tasks
        assert len(helper._tasks) == 5
        await helper.drain_background(timeout=5)
        assert not helper._tasks

    asyncio.run(main())
    assert sorted(done) == [0, 1, 2, 3, 4]


def test_an_exception_is_logged_not_lost(caplog) -> None:
    helper = helper_module()

    async def fails():
        raise RuntimeError("client went away")

    async def main():
        helper.spawn_background(fails(), name="broadcast")
        await helper.drain_background(timeout=5)
        await asyncio.sleep(0)

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert "background task broadcast failed" in caplog.text
    assert "client went away" in caplog.text


def test_a_cancelled_task_is_not_an_error(caplog) -> None:
    helper = helper_module()

    async def main():
        task = helper.spawn_background(asyncio.sleep(10))
        await asyncio.sleep(0)
        task.cancel()
        await helper.drain_background(timeout=5)
        await asyncio.sleep(0)
        assert not helper._tasks

    with caplog.at_level(logging.ERROR):
        asyncio.run(main())
    assert "failed" not in caplog.text


@pytest.fixture(scope="module")
def rewritten_app(tmp_path_factory) -> Path:
    app = copy_fixture(tmp_path_factory.mktemp("bg") / "app")
    make_repo(app, {})
    result = run_cli("apply", str(app), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    return app


@pytest.mark.skipif(shutil.which("ruff") is None and not Path(sys.executable).with_name("ruff").exists(), reason="ruff not installed")
def test_rewritten_code_passes_ruff_ruf006(rewritten_app: Path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    original = copy_fixture(rewritten_app.parent / "original")
    before = subprocess.run([ruff, "check", "--select", "RUF006", "--no-cache", "."], cwd=original, capture_output=True, text=True)
    assert before.returncode == 1 and "RUF006" in before.stdout, "the example app has a dangling task"
    after = subprocess.run([ruff, "check", "--select", "RUF006", "--no-cache", "."], cwd=rewritten_app, capture_output=True, text=True)
    assert after.returncode == 0, after.stdout


def test_every_codemod_reverts_to_the_original_bytes_and_reapplies_to_nothing(tmp_path: Path) -> None:
    app = copy_fixture(tmp_path / "app")
    make_repo(app, {})
    original = snapshot(app)["files"]
    assert run_cli("apply", str(app), "--unsafe-fixes").exit_code == 0
    commits = git(app, "log", "--format=%(trailers:key=Optimize-Codemod,valueonly)").split()
    assert len(commits) == len(set(commits)) >= 7
    head = git(app, "rev-parse", "HEAD")
    again = run_cli("apply", str(app), "--unsafe-fixes")
    assert "No commit created" in again.output and git(app, "rev-parse", "HEAD") == head
    # Revert each codemod on its own, newest first, then check the bytes.
    for codemod in commits:
        result = run_cli("revert", str(app), codemod)
        assert result.exit_code == 0, result.output
    assert snapshot(app)["files"] == original


def test_the_helper_goes_in_the_top_level_package_past_a_namespace_directory(tmp_path: Path) -> None:
    # `streaming/` has no `__init__.py`: it is a namespace portion of `pkg.routes`, so
    # `channels` is not a top-level package and `from channels.background_tasks import ...`
    # would not import. The rewritten package must import in a fresh interpreter.
    app = tmp_path / "app"
    make_repo(
        app,
        {
            "pkg/__init__.py": "",
            "pkg/routes/__init__.py": "",
            "pkg/routes/streaming/channels/__init__.py": "",
            "pkg/routes/streaming/channels/live.py": (
                "import asyncio\n\n\nasync def work():\n    pass\n\n\n"
                "async def start():\n    asyncio.create_task(work())\n"
            ),
        },
    )
    assert run_cli("apply", str(app)).exit_code == 0
    assert (app / "pkg" / "background_tasks.py").exists()
    assert not (app / "pkg" / "routes" / "streaming" / "channels" / "background_tasks.py").exists()
    live = (app / "pkg/routes/streaming/channels/live.py").read_text()
    assert "from pkg.background_tasks import spawn_background" in live
    program = (
        "import asyncio, pkg.routes.streaming.channels.live as live\n"
        "asyncio.run(live.start())\n"
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=app, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


DROPPED = "import asyncio\n\n\nasync def work():\n    pass\n\n\nasync def start():\n    asyncio.create_task(work())\n"


def _runs(app: Path, *modules: str) -> None:
    program = "import asyncio, importlib\n" + "".join(
        f"asyncio.run(importlib.import_module({m!r}).start())\n" for m in modules
    )
    done = subprocess.run([sys.executable, "-c", program], cwd=app, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_one_helper_per_distribution_when_the_project_declares_its_packages(tmp_path: Path) -> None:
    app = tmp_path / "app"
    files = {"api/__init__.py": "", "api/live.py": DROPPED, "worker/__init__.py": "", "worker/jobs.py": DROPPED}
    make_repo(app, {**files, "pyproject.toml": '[tool.setuptools]\npackages = ["api", "worker"]\n'})
    assert run_cli("apply", str(app)).exit_code == 0
    assert (app / "api/background_tasks.py").exists()
    assert not (app / "worker/background_tasks.py").exists()
    assert "from api.background_tasks import spawn_background" in (app / "worker/jobs.py").read_text()
    _runs(app, "api.live", "worker.jobs")


def test_undeclared_top_level_packages_each_get_their_own_helper(tmp_path: Path) -> None:
    # Nothing says `worker` is deployed beside `api`, so it must not import from it.
    app = tmp_path / "app"
    make_repo(app, {"api/__init__.py": "", "api/live.py": DROPPED, "worker/__init__.py": "", "worker/jobs.py": DROPPED})
    assert run_cli("apply", str(app)).exit_code == 0
    assert "from worker.background_tasks import spawn_background" in (app / "worker/jobs.py").read_text()
    shutil.rmtree(app / "api")
    _runs(app, "worker.jobs")


def test_the_helper_works_from_a_loop_callback() -> None:
    # The lambda rewrite relies on loop callbacks running inside the running loop.
    helper = helper_module()
    done = []

    async def job():
        done.append(1)

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_soon(lambda: helper.spawn_background(job()))
        loop.call_later(0.01, lambda: helper.spawn_background(job(), name="later"))
        await asyncio.sleep(0.05)
        await helper.drain_background(timeout=5)

    asyncio.run(main())
    assert done == [1, 1]
