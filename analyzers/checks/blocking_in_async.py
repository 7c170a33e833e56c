"""## What it does
Finds blocking calls in `async def` route handlers and dependencies: a database call on a
sync session, `requests` / `urllib` / httpx's module-level HTTP functions, `time.sleep`,
or a call of a repository function that makes one of these (followed through the call
graph, `depth` calls deep, default 4). Reported with the chain of calls down to the
blocking one.

## Why is this bad?
An `async def` handler runs on the event loop. While it waits for the database or the
network on a sync call, nothing else runs: every other request of the process waits too,
so one slow query stalls the whole server. FastAPI runs a plain `def` handler in its thread
pool instead, where blocking is harmless.

## Example
```python
@router.get("/tasks")
async def list_tasks(db: Session = Depends(get_db)):
    return db.query(Task).all()
```

## Use instead
```python
@router.get("/tasks")
def list_tasks(db: Session = Depends(get_db)):
    return db.query(Task).all()
```
or `await run_in_threadpool(...)` / `await asyncio.to_thread(...)` for the blocking part,
or an `AsyncSession`. A call handed to one of those, awaited, or made inside a nested
function is not reported.
"""

from __future__ import annotations

from optimize.analyzers.checks.base import Clean, IndexCheck, Report
from optimize.codemods.options import int_between


class BlockingInAsync(IndexCheck):
    ID = "blocking-in-async"
    TITLE = "blocking call in an async route handler or dependency"
    OPTIONS = {"depth": 4}
    OPTION_CHECKS = {"depth": int_between(0, 50)}
    FIXED_BY = "sync-handler"

    def check(self) -> None:
        depth = int(self.options["depth"])
        for facts in self.index.facts.values():
            for function in facts.functions.values():
                if not function.is_async or not (function.route or self.index.is_dependency(function)):
                    continue
                for chain in self.index.blocking_chains(function, depth):
                    self._report(function, chain)

    def _report(self, function, chain) -> None:
        what = "route handler" if function.route else "dependency"
        name = function.qualname.rsplit(".", 1)[-1]
        through = f" ({' -> '.join([name, *(call for _, call, _ in chain)])})" if len(chain) > 1 else ""
        self.report(
            function.path,
            chain[0][2],
            f"async {what} {name} blocks the event loop on {chain[-1][1]}{through}",
            "make it a plain `def`, or offload the call: `await run_in_threadpool(...)`",
        )


ROUTER = {"app/__init__.py": "", "app/deps.py": "def get_db(): ...\n"}

BlockingInAsync.EXAMPLES = [
    Report(
        name="a sync session in an async handler",
        files=ROUTER,
        code="""
            from fastapi import APIRouter, Depends
            from sqlalchemy.orm import Session

            from .deps import get_db

            router = APIRouter()

            @router.get("/tasks")
            async def list_tasks(db: Session = Depends(get_db)):
                return db.query(Task).all()
        """,
        message="async route handler list_tasks blocks the event loop on db.query(...)",
    ),
    Report(
        name="through a sync helper in another module, with the chain",
        files={
            **ROUTER,
            "app/services/tasks.py": """
                import requests

                def load(db):
                    return fetch_remote()

                def fetch_remote():
                    return requests.get("https://example.com/tasks").json()
            """,
        },
        code="""
            from fastapi import APIRouter

            from .services.tasks import load

            router = APIRouter()

            @router.get("/tasks")
            async def list_tasks(db):
                return load(db)
        """,
        message="(list_tasks -> load(...) -> fetch_remote(...) -> requests.get(...))",
    ),
    Report(
        name="time.sleep in an async dependency",
        code="""
            import time
            from fastapi import Depends

            async def rate_limit():
                time.sleep(0.5)

            @router.get("/x", dependencies=[Depends(rate_limit)])
            async def x():
                return 1
        """,
        message="async dependency rate_limit blocks the event loop on time.sleep(...)",
    ),
    Clean(
        name="offloaded, awaited, async session, plain def handler, nested function",
        code="""
            import asyncio, time
            from fastapi import APIRouter
            from sqlalchemy.ext.asyncio import AsyncSession
            from starlette.concurrency import run_in_threadpool

            router = APIRouter()

            def load(db):
                return db.query(Task).all()

            @router.get("/a")
            async def a(db):
                return await run_in_threadpool(load, db)

            @router.get("/b")
            async def b(db: AsyncSession):
                await asyncio.to_thread(time.sleep, 1)
                return (await db.scalars(select(Task))).all()

            @router.get("/c")
            def c(db):
                time.sleep(1)
                return load(db)

            @router.get("/d")
            async def d(db):
                def later():
                    return db.query(Task).all()
                return await run_in_threadpool(later)
        """,
    ),
    Clean(
        name="too deep for depth = 1, and suppressed",
        options={"depth": 1},
        code="""
            import time

            def inner():
                time.sleep(1)

            def outer():
                inner()

            @router.get("/a")
            async def a():
                outer()

            @router.get("/b")
            async def b():
                time.sleep(1)  # optimize: ignore[blocking-in-async]
        """,
    ),
]
