"""Proof of effect against a real PostgreSQL server (Debian's `postgresql` package).

- the claims of the pool codemods, with real SQLAlchemy engines;
- the example app before and after `optimize apply`: a server restart between two requests
  fails the first request after it without pool-pre-ping and not with it; statement counts
  drop by exactly the removed queries on PostgreSQL too; a broadcast to slow websocket
  clients no longer holds the response back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import create_async_engine

from tests.fixture_app import FIXTURE, copy_fixture, run_fixture_suite
from tests.gitrepo import make_repo, run_cli

pytestmark = pytest.mark.postgres
_names = itertools.count()


@pytest.fixture
def database(postgres_server) -> str:
    name = f"t{next(_names)}"
    postgres_server.create_database(name)
    return postgres_server.url(name)


async def _query_after_restart(server, url: str, pre_ping: bool) -> None:
    engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_pre_ping=pre_ping)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("select 1"))
        server.restart()
        async with engine.connect() as conn:
            assert (await conn.execute(text("select 1"))).scalar() == 1
    finally:
        await engine.dispose()


def test_without_pre_ping_the_first_query_after_a_restart_fails(postgres_server, database) -> None:
    with pytest.raises(DBAPIError):
        asyncio.run(_query_after_restart(postgres_server, database, pre_ping=False))


def test_with_pre_ping_the_first_query_after_a_restart_succeeds(postgres_server, database) -> None:
    asyncio.run(_query_after_restart(postgres_server, database, pre_ping=True))


def test_max_overflow_bounds_concurrent_connections(database) -> None:
    async def scenario():
        engine = create_async_engine(database, pool_size=2, max_overflow=3, pool_timeout=0.5)
        conns = [await engine.connect() for _ in range(5)]  # pool_size + max_overflow
        with pytest.raises(PoolTimeout):
            await engine.connect()
        for conn in conns:
            await conn.close()
        await engine.dispose()

    asyncio.run(scenario())


# --- the example app on PostgreSQL ----------------------------------------------------------

RESTART_SCRIPT = r"""
import os, sys
sys.path.insert(0, os.getcwd())
from fastapi.testclient import TestClient
from taskboard.main import app

with TestClient(app, raise_server_exceptions=False) as client:
    client.post("/applications/1/projects", json={"name": "p"})
    assert client.get("/projects/1").status_code in (200, 404)
    sys.stdout.write("restart\n"); sys.stdout.flush()
    sys.stdin.readline()  # the test restarts the server now
    print("status", client.get("/projects/1").status_code)
"""

SEED_SCRIPT = r"""
import asyncio, os, sys
sys.path.insert(0, os.getcwd())
from taskboard.database import Base, SessionLocal, engine
from taskboard.models import Application, User

async def main():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        session.add_all([User(id=1, email="a@x", display_name="Ada"), Application(id=1, name="Support")])
        await session.commit()
    await engine.dispose()

asyncio.run(main())
"""


def _status_after_restart(app: Path, server, url: str) -> int:
    env = {"TASKBOARD_DATABASE__URL": url, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    subprocess.run([sys.executable, "-c", SEED_SCRIPT], cwd=app, env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [sys.executable, "-c", RESTART_SCRIPT], cwd=app, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout.readline().strip() == "restart", process.stderr.read()
        server.restart()
        process.stdin.write("go\n")
        process.stdin.flush()
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    line = next((l for l in out.splitlines() if l.startswith("status")), None)
    assert line is not None, err[-2000:]
    return int(line.split()[1])


@pytest.fixture(scope="module")
def app_pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("pg-app")
    before = copy_fixture(root / "before")
    after = copy_fixture(root / "after")
    make_repo(after, {})
    result = run_cli("apply", str(after), "--unsafe-fixes")
    assert result.exit_code == 0, result.output
    return before, after


def test_restart_between_requests_fails_before_and_succeeds_after_pool_pre_ping(
    app_pair, postgres_server
) -> None:
    before, after = app_pair
    postgres_server.create_database("restart_before")
    postgres_server.create_database("restart_after")
    assert _status_after_restart(before, postgres_server, postgres_server.url("restart_before")) == 500
    assert _status_after_restart(after, postgres_server, postgres_server.url("restart_after")) == 200


def test_statement_counts_and_responses_hold_on_postgresql(app_pair, postgres_server, tmp_path) -> None:
    from optimize.codemods.registry import by_id

    before_app, after_app = app_pair
    logs = {}
    for label, app in (("before", before_app), ("after", after_app)):
        name = f"suite_{label}"
        postgres_server.create_database(name)
        logs[label] = run_fixture_suite(
            app, tmp_path / f"{label}.json",
            extra_env={"TASKBOARD_DATABASE__URL": postgres_server.url(name)},
            pytest_args=["-k", "not assignment_report"],  # that test drives a sync sqlite engine
        )
    expected = json.loads((FIXTURE / "expected_effects.json").read_text())
    registered = set(by_id())
    before, after = logs["before"], logs["after"]
    assert before.keys() == after.keys() and before
    for key in before:
        assert (before[key]["status"], before[key]["body"]) == (after[key]["status"], after[key]["body"]), key
        removed = sum(n for c, n in expected.get(key, {}).get("by", {}).items() if c in registered)
        assert after[key]["statements"] == before[key]["statements"] - removed, key


SLOW_SCRIPT = r"""
import asyncio, os, sys, time
sys.path.insert(0, os.getcwd())
from fastapi.testclient import TestClient
from taskboard.main import app
from taskboard.websocket import manager

events = []

class SlowClient:
    async def send_json(self, message):
        await asyncio.sleep(0.2)
        events.append("delivered")

with TestClient(app) as client:
    manager.rooms["application:1"] = [SlowClient(), SlowClient()]
    response = client.post("/applications/1/projects", json={"name": "slow"})
    events.append("responded")
    assert response.status_code == 201, response.text
    deadline = time.time() + 10
    while events.count("delivered") < 2 and time.time() < deadline:
        client.portal.call(asyncio.sleep, 0.05)
print(",".join(events))
"""


def test_slow_websocket_clients_no_longer_hold_the_response(app_pair, postgres_server) -> None:
    before_app, after_app = app_pair
    orders = {}
    for label, app in (("before", before_app), ("after", after_app)):
        name = f"slow_{label}"
        postgres_server.create_database(name)
        env = {"TASKBOARD_DATABASE__URL": postgres_server.url(name), "PATH": "/usr/bin:/bin"}
        subprocess.run([sys.executable, "-c", SEED_SCRIPT], cwd=app, env=env, check=True, capture_output=True)
        done = subprocess.run([sys.executable, "-c", SLOW_SCRIPT], cwd=app, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        orders[label] = done.stdout.strip().splitlines()[-1]
    assert orders["before"] == "delivered,delivered,responded"  # the response waited for both
    assert orders["after"] == "responded,delivered,delivered"  # it no longer does; both still get it
