"""## What it does
Fixes the provable cases of the [`blocking-in-async`](../checks/blocking-in-async.md)
check: an `async def` route handler that blocks the event loop (a sync session, `requests`,
`time.sleep`, directly or through the call graph, `depth` calls deep) and awaits nothing
becomes a plain `def`, which FastAPI runs in its thread pool.

## Why is this bad?
While an `async def` handler waits on a sync call, the event loop serves no other request
of the process. A `def` handler waits in a worker thread instead.

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

## Fix safety
Unsafe: the handler runs in a worker thread (40 by default), so code relying on the event
loop's thread or on thread-local state behaves differently. Left alone, with the reason:
a handler that also awaits (`await`, `async for`, `async with`: offload the blocking call
instead), yields, defines an async function, names anything from `asyncio`, has a decorator
besides the route's (it may expect a coroutine function), or is called from elsewhere in the
repository (or may be: a callback, an unresolved call). A handler with no blocking call is
never touched: a thread-pool hop would only slow it. It runs before `fire-and-forget-broadcast`
and `dangling-task`, whose background tasks need the event loop's thread.

## Options
```toml
[tool.optimize.sync-handler]
depth = 4   # calls followed to find the blocking one (as blocking-in-async)
```
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.routes import is_route_decorator
from optimize.codemods.base import UNSAFE, Codemod, Keep, Rewrite
from optimize.codemods.options import int_between
from optimize.analyzers.cst_find import findall

_AWAITING = m.Await() | m.For(asynchronous=m.Asynchronous()) | m.With(asynchronous=m.Asynchronous()) | m.CompFor(asynchronous=m.Asynchronous())


class SyncHandler(Codemod):
    ID = "sync-handler"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_sync_handler_fastapi.py (real FastAPI: same responses, run in the thread pool)",
    )
    TITLE = "run blocking async route handlers that await nothing as plain def handlers"
    SAFETY = UNSAFE
    CONDITIONS = "async route handler with a blocking call (blocking-in-async), nothing awaited, no other decorator, no caller"
    DESCRIPTION = "Make async route handlers that block and await nothing plain def handlers."
    TRIGGERS = (b"async def",)
    OPTIONS = {"depth": 4}
    OPTION_CHECKS = {"depth": int_between(0, 50)}
    EFFECT = "the event loop keeps serving while the handler blocks"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """Only a file whose facts hold an async route handler that blocks."""
        facts = index.facts.get(path)
        return cls.applies(source, index) and facts is not None and any(
            f.is_async and f.route and index.blocking_chains(f, 50) for f in facts.functions.values()
        )

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        if original.asynchronous is None:
            return updated
        function = self._facts_of(original)
        if function is None or not function.route:
            return updated
        chains = self.index.blocking_chains(function, int(self.options["depth"]))
        if not chains:
            return updated
        blocker = chains[0][-1][1]
        why = self._why_not(original, function)
        if why:
            self.refuse(original, f"skipped: {original.name.value} blocks on {blocker} but {why}")
            return updated
        if not self.record(
            original,
            f"{original.name.value} blocks the event loop on {blocker} and awaits nothing: "
            "as a plain def, FastAPI runs it in its thread pool",
        ):
            return updated
        return updated.with_changes(asynchronous=None)

    def _facts_of(self, node: cst.FunctionDef):
        facts = self.index.facts.get(self.path)
        if facts is None:
            return None
        return facts.functions.get(f"{facts.module}.{node.name.value}")

    def _why_not(self, node: cst.FunctionDef, function) -> str | None:
        others = [d for d in node.decorators if not is_route_decorator(d)]
        if others:
            return "it has another decorator, which may expect a coroutine function"
        if findall(node.body, _AWAITING):
            return "it also awaits, so it must stay async (offload the blocking call instead)"
        if findall(node.body, m.Yield()):
            return "it yields"
        if findall(node.body, m.FunctionDef(asynchronous=m.Asynchronous())):
            return "it defines an async function"
        if any(n.startswith("asyncio") for name in findall(node.body, m.Name() | m.Attribute()) for n in self.qualified_names(name)):
            return "it uses asyncio, which needs the event loop's thread"
        callers = self.index.callers(function)
        if callers is None or callers:
            return "it is called from elsewhere in the repository, which may await it" if callers else (
                "the repository may call it in a way not seen (a callback or an unresolved call)"
            )
        return None


APP = {"app/__init__.py": "", "app/deps.py": "def get_db():\n    ...\n"}

SyncHandler.EXAMPLES = [
    Rewrite(
        name="a sync session in an async handler that awaits nothing",
        files=APP,
        before="""
            from fastapi import APIRouter, Depends
            from sqlalchemy.orm import Session

            from .deps import get_db

            router = APIRouter()

            @router.get("/tasks")
            async def list_tasks(db: Session = Depends(get_db)):
                return db.query(Task).all()
        """,
        after="""
            from fastapi import APIRouter, Depends
            from sqlalchemy.orm import Session

            from .deps import get_db

            router = APIRouter()

            @router.get("/tasks")
            def list_tasks(db: Session = Depends(get_db)):
                return db.query(Task).all()
        """,
    ),
    Keep(
        name="it also awaits",
        code="""
            import time

            @router.get("/a")
            async def a(request):
                time.sleep(1)
                return await request.json()
        """,
        reason="it also awaits, so it must stay async",
    ),
    Keep(
        name="another decorator",
        code="""
            import time

            @router.get("/a")
            @limiter.limit("5/minute")
            async def a(request):
                time.sleep(1)
        """,
        reason="it has another decorator",
    ),
    Keep(
        name="uses asyncio",
        code="""
            import asyncio, time

            @router.get("/a")
            async def a():
                time.sleep(1)
                asyncio.get_running_loop()
        """,
        reason="it uses asyncio",
    ),
    Keep(
        name="called elsewhere",
        files={"app/__init__.py": "", "app/other.py": "from .example import a\n\n\nasync def b():\n    return await a()\n"},
        code="""
            import time

            @router.get("/a")
            async def a():
                time.sleep(1)
        """,
        reason="it is called from elsewhere",
    ),
    Keep(
        name="no blocking call, not a route, already def",
        code="""
            import time

            @router.get("/a")
            async def a(x):
                return x + 1

            async def helper():
                time.sleep(1)

            @router.get("/c")
            def c():
                time.sleep(1)
        """,
    ),
]
