"""sync-handler on real FastAPI: the rewritten handlers give the same responses, and run in
the thread pool (off the event loop's thread)."""

from __future__ import annotations

import importlib
import sys
import threading
from pathlib import Path

import libcst as cst
from fastapi.testclient import TestClient

from optimize.analyzers.index import RepoIndex
from optimize.codemods.sync_handler import SyncHandler
from optimize.transform import run_codemod

APP = """\
import threading
import time

from fastapi import APIRouter, Depends, FastAPI

router = APIRouter()


def get_db():
    yield {"tasks": [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]}


@router.get("/tasks")
async def list_tasks(db=Depends(get_db)):
    time.sleep(0.01)
    return {"tasks": db["tasks"], "thread": threading.current_thread().name}


@router.get("/tasks/{task_id}")
async def one(task_id: int, db=Depends(get_db)):
    time.sleep(0.01)
    return next((t for t in db["tasks"] if t["id"] == task_id), None)


app = FastAPI()
app.include_router(router)
"""


def test_same_responses_in_the_thread_pool(tmp_path: Path) -> None:
    index = RepoIndex.build({"svc/__init__.py": b"", "svc/main.py": APP.encode()})
    done = run_codemod(SyncHandler, cst.parse_module(APP), "svc/main.py", index=index)
    assert len(done.changes) == 2 and "async def" not in done.tree.code
    for name, code in (("before_svc", APP), ("after_svc", done.tree.code)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
        (tmp_path / name / "main.py").write_text(code)
    sys.path.insert(0, str(tmp_path))
    try:
        before = TestClient(importlib.import_module("before_svc.main").app)
        after = TestClient(importlib.import_module("after_svc.main").app)
        old, new = before.get("/tasks").json(), after.get("/tasks").json()
        assert new["tasks"] == old["tasks"]
        assert new["thread"] != old["thread"]  # a worker thread, not the loop's
        for path in ("/tasks/1", "/tasks/2", "/tasks/3"):
            assert after.get(path).json() == before.get(path).json()
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n.split(".")[0] in {"before_svc", "after_svc"}]:
            del sys.modules[name]
