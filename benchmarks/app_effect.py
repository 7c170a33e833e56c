"""The example app before and after `optimize apply --unsafe-fixes`, side by side.

For each request: SQL statements (a `before_cursor_execute` listener) and median latency
over repeated calls, with websocket clients in the rooms the request broadcasts to. The
clients are slow (each `send_json` takes SLOW_CLIENT_MS), as on a real network with many
users: an awaited broadcast makes the response wait for all of them.

    python benchmarks/app_effect.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "fixtures" / "taskboard"
REPEAT = 15
CLIENTS = 5
SLOW_CLIENT_MS = 20

# Runs inside the app's directory, in a fresh interpreter, for one variant of the code.
MEASURE = r"""
import asyncio, json, os, statistics, sys, tempfile, time
sys.path.insert(0, os.getcwd())
os.environ["TASKBOARD_DATABASE__URL"] = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
from fastapi.testclient import TestClient
from sqlalchemy import event
from taskboard.database import Base, SessionLocal, engine
from taskboard.main import app
from taskboard.models import Application, User
from taskboard.websocket import manager

REPEAT, CLIENTS, SLOW = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000


class SlowClient:
    async def send_json(self, message):
        await asyncio.sleep(SLOW)


count = 0
def on_execute(*args, **kwargs):
    global count
    count += 1
event.listen(engine.sync_engine, "before_cursor_execute", on_execute)


async def reset():
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        await conn.run_sync(Base.metadata.create_all)
    async with SessionLocal() as session:
        session.add_all([User(id=1, email="a@x", display_name="Ada"), Application(id=1, name="Support")])
        await session.commit()
    for room in ("application:1", "project:1"):
        manager.rooms[room] = [SlowClient() for _ in range(CLIENTS)]


results = {}
with TestClient(app) as client:
    client.portal.call(reset)
    client.post("/applications/1/projects", json={"name": "warm-up"})
    cases = {
        "POST /applications/{id}/projects": lambda i: client.post("/applications/1/projects", json={"name": f"p{i}"}),
        "POST /projects/{id}/tasks": lambda i: client.post("/projects/1/tasks", json={"title": f"t{i}", "assignee_id": 1}),
        "GET /projects/{id}": lambda i: client.get("/projects/1"),
    }
    for name, call in cases.items():
        times, statements = [], []
        for i in range(REPEAT):
            global_count = count
            start = time.perf_counter()
            response = call(i)
            times.append((time.perf_counter() - start) * 1000)
            statements.append(count - global_count)
            assert response.status_code < 400, response.text
        results[name] = {"ms": statistics.median(times), "statements": statistics.median(statements)}
print(json.dumps(results))
"""


def measure(app_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOARD_")}
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(REPEAT), str(CLIENTS), str(SLOW_CLIENT_MS)],
        cwd=app_dir, env=env, capture_output=True, text=True, timeout=600,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def git(app: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=app, check=True, capture_output=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = Path(tmp) / "taskboard"
        shutil.copytree(FIXTURE, app, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        git(app, "init", "-q", "-b", "main")
        git(app, "add", "-A")
        git(app, "-c", "user.name=bench", "-c", "user.email=b@example.invalid", "commit", "-qm", "app")
        before = measure(app)
        done = subprocess.run(
            [sys.executable, "-m", "optimize.cli", "apply", str(app), "--unsafe-fixes",
             "--author", "bench <b@example.invalid>"],
            capture_output=True, text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"apply failed: {done.stderr}")
        after = measure(app)
    print(
        f"Example app, {CLIENTS} websocket clients per room taking {SLOW_CLIENT_MS} ms per message, "
        f"median of {REPEAT} requests"
    )
    print(f"{'request':36}{'SQL before':>11}{'SQL after':>10}{'ms before':>11}{'ms after':>10}")
    for name in before:
        b, a = before[name], after[name]
        print(f"{name:36}{b['statements']:>11.0f}{a['statements']:>10.0f}{b['ms']:>11.1f}{a['ms']:>10.1f}")


if __name__ == "__main__":
    main()
