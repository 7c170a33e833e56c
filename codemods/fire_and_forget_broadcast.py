"""## What it does
In a route handler (`@router.post(...)`, `@app.get(...)`, ...), an `await <broadcast>(...)`
statement whose result is not used becomes `spawn_background(<broadcast>(...))`. The helper
module (`<package>/background_tasks.py`, added once) keeps a reference to the task until it
finishes, logs its exception, and offers `drain_background()` for shutdown. With
`style = "create_task"` the call becomes `asyncio.create_task(...)` kept in a module-level set.

## Why is this bad?
The handler waits for one send per connected client before it responds: 200-500 ms per
request in the seed project, growing with the number of users. `benchmarks/app_effect.py`
shows POST requests of the example app going from about 110 ms to under 15 ms with five slow
clients per room.

## Example
```python
await db.commit()
await handle_task_update(project_id=project_id, task_id=task.id, action=UpdateAction.CREATED)
```

## Use instead
```python
await db.commit()
spawn_background(handle_task_update(project_id=project_id, task_id=task.id, action=UpdateAction.CREATED))
```

## Fix safety
Unsafe: the broadcast completes after the response; several broadcasts of one request run
concurrently, so a client may receive them in a different order; an error no longer reaches
the handler (it is logged). The commit body names ORM objects passed to the coroutine.

## Preconditions
- The callee is a broadcast, resolved through imports, module-level instances
  (`manager.broadcast_to_room` on `manager = ConnectionManager()`) and wrappers
  (`handle_task_update` calls it): its work is sending to websocket clients or a pub/sub
  channel (`send_json`, `send_text`, `send_bytes`, `broadcast`; a plain `send` only on a
  parameter typed as a `WebSocket`: `aiosmtplib.send(...)`, a browser session's `send(...)`
  or an HTTP client's are not broadcasts; `publish`/`emit` only on a redis, socket.io or
  broadcaster client, known from its annotation or constructor, in this module or imported
  from another: an aio-pika or NATS publish enqueues work and an in-process event bus runs
  handlers, so neither is a broadcast), it writes nothing to the database and it never
  waits for input (`receive_text`, `receive_json`, `iter_text`, ... on any receiver, so a
  websocket reached through a wrapper object counts too), transitively. A coroutine that
  receives is a listener that must run while the handler holds the connection: it is
  reported ("waits for input"), not rewritten.
  A function outside the repository counts only if its name matches `patterns`.
- No argument is (or holds) the session, the `Request` or `WebSocket`, or an object the
  handler changes afterwards. Attribute reads such as `task.id` are evaluated before the task
  starts and are fine; an ORM object itself is passed only when sessions do not expire on commit.
- Not inside a `try` with handlers (its errors were handled there), nor an `async with` block,
  and no `commit()` follows in the handler (clients would hear of uncommitted data).
- The function is a route handler, or a module-level service function whose every call
  in the repository (`optimize.analyzers.calls`, resolved through imports, aliases and
  re-exports) is in a route handler that awaits it as a statement (the result unused), not
  inside `try/except` or `async with`, with no commit after it in the handler. A function
  whose name is also used another way (passed as a callback, called through an object the
  index cannot type, from module-level code) may have callers that rely on delivery: it is
  refused, as is a method.

## What it refuses
```python
await handle_task_update(project_id=project_id, task_id=task_id, action="deleted")
await db.delete(task)
await db.commit()
```
`skipped: a commit follows in the same function, so clients would hear of data not yet
committed`. Also: `record_activity(db, ...)` (writes to the database: not a broadcast), the
session passed (`broadcast_project_digest(db, ...)`), a `try/except` around it, a result
that is used (`delivered = await ...`).

## Options
```toml
[tool.optimize.fire-and-forget-broadcast]
style = "helper"          # or "create_task"
patterns = ["broadcast*", "emit_*", "*_broadcast"]   # names of broadcasts outside the repository
```
"""

from __future__ import annotations

import fnmatch

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node as name_of
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.awaits import async_functions
from optimize.analyzers.routes import is_route
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.holds import FunctionValues
from optimize.analyzers.index import DEFAULT_BROADCAST_PATTERNS
from optimize.analyzers.sessions import sessions_of
from optimize.codemods.background_helper import (
    create_task_statements,
    ensure_reference_set,
    spawn_call,
    use_helper,
)
from optimize.codemods.base import SUPPRESSED, UNSAFE, Codemod, Keep, Refusal, Rewrite, suppression_covers
from optimize.transform import module_name
from optimize.codemods.options import non_empty_strings, one_of
from optimize.analyzers.cst_find import findall

REQUEST_TYPES = {
    "fastapi.Request", "starlette.requests.Request", "fastapi.WebSocket",
    "starlette.websockets.WebSocket", "fastapi.BackgroundTasks",
}


def _mutates(step: Step, name: str) -> bool:
    """Whether ``step`` changes the object ``name`` holds: assigns to its attributes or
    items, or calls one of its methods other than a read."""
    for part in step.parts:
        for node in findall(part, m.AssignTarget() | m.AugAssign() | m.AnnAssign()):
            target = node.target  # type: ignore[union-attr]
            if isinstance(target, (cst.Attribute, cst.Subscript)) and name_of(target.value) == name:
                return True
        for call in findall(part, m.Call(func=m.Attribute())):
            assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
            if name_of(call.func.value) == name and call.func.attr.value not in {"get", "copy", "keys", "items", "values"}:
                return True
    return False


def _references(expr: cst.BaseExpression) -> set[str]:
    """Names whose objects the coroutine receives (not values read now: `task.id` is an int
    by the time the task runs, `task` is the ORM object itself)."""
    if isinstance(expr, cst.Name):
        return {expr.value}
    if isinstance(expr, (cst.List, cst.Tuple, cst.Set)):
        return set().union(set(), *(_references(e.value) for e in expr.elements))
    if isinstance(expr, cst.Dict):
        found: set[str] = set()
        for element in expr.elements:
            if isinstance(element, cst.DictElement):
                found |= _references(element.key) | _references(element.value)
            else:
                found |= _references(element.value)
        return found
    if isinstance(expr, cst.Lambda):
        return {n.value for n in findall(expr, m.Name())}
    return set()


_NEEDS_TREE = object()  # the index does not decide: the function's flow must be read


def _is_own_broadcast(index, module: str, name: str, route: bool, path: str) -> bool:
    """A function that is itself a broadcast (and no route handler): its callers are the
    ones to change."""
    own = f"{module}.{name}" if module else name
    return not route and index.function(own, path) is not None and index.is_broadcast(own, (), path)


def _index_verdict(index, callee: str, patterns: tuple[str, ...], path: str, route: bool, module: str, name: str):
    """What the index alone says of `await <callee>(...)` in the function ``name``: a
    refusal's reason, None (not a broadcast: nothing to say), or `_NEEDS_TREE`."""
    reason = index.broadcast_reason(callee, patterns, path)
    if reason is None:
        known = index.function(callee, path)
        why = known is not None and index.sender(known) and index.disqualified(known)
        return f"skipped: {callee.rsplit('.', 1)[-1]} {why}" if why else None
    if not route:
        why = _only_handlers_call(index, module, name, path)[1]
        if why is not None:
            return f"skipped: {why}"
    return _NEEDS_TREE


def _only_handlers_call(index, module: str, name: str, path: str) -> tuple[str | None, str | None]:
    """(the callers, None) when every call of the function ``name`` in the repository is
    a route handler awaiting it as a statement, with no try/except or `async with` around
    it and no commit after it; (None, why not) otherwise."""
    waiting = "its callers may rely on the broadcast being done"
    own = f"{module}.{name}" if module else name
    info = index.function(own, path)
    sites = None if info is None else index.callers(info)
    if sites is None:
        return None, f"{name} is not a route handler and may be called in ways the index cannot follow; {waiting}"
    if not sites:
        return None, f"{name} is not a route handler and nothing in the repository calls it; {waiting}"
    for caller, site in sites:
        where = f"{caller.qualname.rsplit('.', 1)[-1]} ({caller.path}:{site.line})"
        if not caller.route:
            return None, f"{name} is called by {where}, which is not a route handler; {waiting}"
        if not (site.statement and site.awaited):
            return None, f"{where} uses what {name} returns; it would no longer wait for the broadcast"
        if site.guarded:
            return None, f"{where} calls {name} inside try/except or `async with`, which handle its errors"
        if site.commit_after:
            return None, f"{where} commits after calling {name}, so clients would hear of data not yet committed"
    return ", ".join(sorted({c.qualname.rsplit(".", 1)[-1] for c, _ in sites})), None


def _absolute(index, path: str, name: str) -> str:
    """A relative name made absolute as `Codemod.qualified_names` makes it."""
    return (index.absolute(path, name) or name) if name.startswith(".") else name


class FireAndForgetBroadcast(Codemod):
    ID = "fire-and-forget-broadcast"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_background_tasks.py",
        "tests/test_fixture_app.py (every websocket client still receives every message)",
        "benchmarks/app_effect.py",
    )
    TITLE = "run awaited broadcasts in the background instead of delaying the response"
    SAFETY = UNSAFE
    CONDITIONS = "callee is a broadcast; no session/request/mutated object passed; not in try/except, async with, or before a commit"
    DESCRIPTION = "Turn awaited broadcasts into background tasks."
    TRIGGERS = (b"await",)
    OPTIONS = {"style": "helper", "patterns": list(DEFAULT_BROADCAST_PATTERNS)}
    OPTION_CHECKS = {"style": one_of("helper", "create_task"), "patterns": non_empty_strings}
    EFFECT = "the response no longer waits for every websocket client"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """A file with an async function that awaits, as a statement, a repository function
        that sends (a broadcast, or one refused for writing or listening) or an unknown one
        matching the broadcast name patterns: its facts say so without parsing it."""
        return cls.applies(source, index) and bool(cls._candidates(path, index, options))

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """Those awaits: each is judged and rewritten inside its own function."""
        return cls._candidates(path, index, options)

    @classmethod
    def _candidates(cls, path: str, index, options) -> frozenset[int]:
        facts = index.facts.get(path)
        if facts is None:
            return frozenset()
        patterns = tuple((options or {}).get("patterns", cls.OPTIONS["patterns"]))
        lines = set()
        for function in facts.functions.values():
            for site in function.sites if function.is_async else ():
                if not (site.awaited and site.statement and site.callee):
                    continue
                callee = index.function(site.callee, path)
                if callee is not None and index.sender(callee):
                    lines.add(site.line)
                short = site.callee.rsplit(".", 1)[-1]
                if callee is None and any(fnmatch.fnmatchcase(short, p) for p in patterns):
                    lines.add(site.line)
        return frozenset(lines)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._rewrite: dict[int, str] = {}  # id(statement) -> rationale
        self._analysed: tuple[cst.FunctionDef, FunctionFlow, FunctionValues] | None = None
        self._needs_set = False

    # --- analysis --------------------------------------------------------------------------

    @classmethod
    def refusals_without_tree(cls, path: str, source: bytes, index, options=None) -> list[Refusal] | None:
        """The refusals, when the index alone refuses every awaited call statement of the
        functions holding a candidate (the callee writes or listens; the function is not
        a route handler and its callers are not all route handlers): the file is then not
        parsed with LibCST. None when any statement needs the tree, or is read differently
        by `ast` (`analyzers.awaits`)."""
        lines = cls._candidates(path, index, options)
        if not lines:
            return None
        module = module_name(path)[0]
        functions = async_functions(source, module)  # parses the file: after the index's answer
        if functions is None:
            return None
        patterns = tuple((options or {}).get("patterns", cls.OPTIONS["patterns"]))
        text = source.decode("utf-8").splitlines()
        refusals: list[Refusal] = []
        for function in functions:
            if not any(function.holds(line) for line in lines):
                continue  # emptied in the module LibCST would read (`optimize.spans`)
            if _is_own_broadcast(index, module, function.name, function.route, path):
                continue
            for statement in function.statements:
                callee = _absolute(index, path, statement.callee)
                verdict = _index_verdict(index, callee, patterns, path, function.route, module, function.name)
                if verdict is _NEEDS_TREE:
                    return None
                if verdict is None:
                    continue
                line_text = text[statement.line - 1] if statement.line <= len(text) else ""
                reason = SUPPRESSED if suppression_covers(line_text, cls.ID) else verdict
                if any((r.line, r.reason) == (statement.line, reason) for r in refusals):
                    continue
                refusals.append(Refusal(
                    cls.ID, path, statement.line, reason, statement.column, statement.end_line, statement.end_column
                ))
        return refusals

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None:
            return
        route = is_route(node)
        if _is_own_broadcast(self.index, self.context.full_module_name, node.name.value, route, self.path):
            return  # a broadcast itself: its callers are the ones to change
        statements = [
            s for s in findall(node.body, m.SimpleStatementLine())
            if len(s.body) == 1
            and isinstance(s.body[0], cst.Expr)
            and isinstance(s.body[0].value, cst.Await)
            and isinstance(s.body[0].value.expression, cst.Call)
        ]
        if not statements:
            return
        sessions = sessions_of(self, self.index, node, self.path)
        # A name that may hold a session, a connection, the request or the websocket, or
        # anything a `with` block manages (closed once the block ends, before the task runs).
        protected = set(sessions.may_be_sessions) | sessions.connections | sessions.managed
        for param in [*node.params.params, *node.params.kwonly_params]:
            if param.annotation is not None and self.refers_to(param.annotation.annotation, REQUEST_TYPES):
                protected.add(param.name.value)
        dependencies = sessions.may_be_sessions.values()
        expiring = any(self.index.expires_on_commit(d, self.path) for d in dependencies) or (
            not sessions.may_be_sessions and not self.index.expire_on_commit_disabled()
        )
        for statement in statements:
            call = statement.body[0].value.expression  # type: ignore[union-attr]
            self._judge(node, statement, call, protected, expiring, route)

    def _analysis(self, function: cst.FunctionDef) -> tuple[FunctionFlow, FunctionValues]:
        """The function's flow graph and values, built once and only for a broadcast."""
        if self._analysed is None or self._analysed[0] is not function:
            flow = FunctionFlow.of(function)
            self._analysed = (function, flow, FunctionValues(self, self.index, flow, self.path))
        return self._analysed[1], self._analysed[2]

    def _callee(self, call: cst.Call) -> str | None:
        names = self.qualified_names(call.func)
        local = name_of(call.func)
        if not names and local:
            names = {local}
        for name in sorted(names):
            qualified = name if "." in name or not self.context.full_module_name else f"{self.context.full_module_name}.{name}"
            return qualified
        return None

    def _judge(
        self,
        function: cst.FunctionDef,
        statement: cst.SimpleStatementLine,
        call: cst.Call,
        protected: set[str],
        expiring: bool,
        route: bool,
    ) -> None:
        callee = self._callee(call)
        if callee is None or callee.split(".")[0] in {"self", "cls"}:
            return
        patterns = tuple(self.options["patterns"])
        module, name = self.context.full_module_name, function.name.value
        verdict = _index_verdict(self.index, callee, patterns, self.path, route, module, name)
        if verdict is not _NEEDS_TREE:
            if verdict is not None:
                self.refuse(statement, verdict)
            return
        reason = self.index.broadcast_reason(callee, patterns, self.path)
        short = callee.rsplit(".", 1)[-1]
        callers = None if route else _only_handlers_call(self.index, module, name, self.path)[0]
        flow, values = self._analysis(function)
        try:
            step = flow.step_of(statement)
        except KeyError:  # in a nested function: judged with that function
            return
        used = set().union(*(_references(arg.value) for arg in call.args)) if call.args else set()
        passed = sorted(used & protected)
        if passed:
            return self.refuse(statement, f"skipped: {passed[0]} (a session, connection, request, websocket or what a `with` block manages) is passed to the coroutine")
        later = [s for s in flow.steps if flow.reaches(step, s)]  # what can run after it starts
        mutated = sorted(n for n in used if any(_mutates(s, n) for s in later))
        if mutated:
            return self.refuse(statement, f"skipped: {mutated[0]} is changed after the broadcast starts")
        orm = sorted(n for n in used if values.at(step, n) is not None)
        if orm and expiring:
            return self.refuse(
                statement, f"skipped: ORM object {orm[0]} would be read after the request's session expired it"
            )
        enclosing = self._enclosing(statement)
        if enclosing:
            return self.refuse(statement, f"skipped: {enclosing}")
        if any(findall(part, m.Call(func=m.Attribute(attr=m.Name("commit")))) for s in later for part in s.parts):
            return self.refuse(statement, "skipped: a commit follows in the same function, so clients would hear of data not yet committed")
        rationale = f"{short} runs in the background: {reason}"
        if callers:
            rationale += f"; every caller of {function.name.value} ({callers}) is a route handler that awaits it as a statement"
        if orm:
            rationale += f"; review: it receives ORM object(s) {', '.join(orm)} (sessions keep them loaded: expire_on_commit=False)"
        self._rewrite[id(statement)] = rationale

    def _enclosing(self, statement) -> str | None:
        node = statement
        while True:
            parent = self.get_metadata(ParentNodeProvider, node, None)
            if parent is None or isinstance(parent, (cst.FunctionDef, cst.Module)):
                return None
            if isinstance(parent, cst.Try) and node is parent.body and parent.handlers:
                return "its errors are handled by the surrounding try/except"
            if isinstance(parent, cst.With) and parent.asynchronous is not None:
                return "inside an `async with` block (a transaction or connection may be open)"
            node = parent

    # --- the rewrite -------------------------------------------------------------------------

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        rationale = self._rewrite.get(id(original))
        if rationale is None:
            return updated
        coro = updated.body[0].value.expression
        if not self.record(original, rationale):
            return updated
        if self.options["style"] == "create_task" or use_helper(self) is None:
            from libcst.codemod.visitors import AddImportsVisitor

            self._needs_set = True
            AddImportsVisitor.add_needed_import(self.context, "asyncio")
            return cst.FlattenSentinel(create_task_statements(coro, None, updated))
        return updated.with_changes(body=[updated.body[0].with_changes(value=spawn_call(coro))])

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return ensure_reference_set(updated) if self._needs_set else updated


APP = {
    "app/__init__.py": "",
    "app/ws.py": """
        class ConnectionManager:
            def __init__(self):
                self.rooms = {}

            async def broadcast_to_room(self, room, message):
                for ws in self.rooms.get(room, []):
                    await ws.send_json(message)

        manager = ConnectionManager()
    """,
    "app/events.py": """
        from app.ws import manager

        async def handle_task_update(project_id, task_id, action):
            await manager.broadcast_to_room(f"project:{project_id}", {"task": task_id, "action": action})

        async def record_activity(db, project_id, message):
            db.add(message)
            await db.flush()
            await manager.broadcast_to_room(f"project:{project_id}", {"activity": message})
    """,
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    """,
}

# A service re-exported under another name, which a route handler calls.
RENAMING_REEXPORT = {
    "app/services.py": "from .example import complete_task as finish\n",
    "app/routers/tasks.py": """
        from fastapi import APIRouter

        from ..services import finish

        router = APIRouter()

        @router.post("/tasks/{task_id}/complete")
        async def complete(task_id: int, db):
            await finish(db, task_id)
    """,
}

EXAMPLES = [
    Rewrite(
        name="seed: broadcasts after the commit, through a wrapper and a manager instance",
        files=APP,
        before="""
            from app.events import handle_task_update
            from app.routes import router
            from app.ws import manager

            @router.post("/projects/{project_id}/tasks")
            async def create_task(project_id, payload, db):
                await db.commit()
                # Broadcast task creation
                await handle_task_update(project_id=project_id, task_id=payload.id, action="created")
                if payload.restored:
                    await manager.broadcast_to_room(
                        f"application:{payload.app_id}",
                        {"type": "project_restored"},
                    )
                return {"id": payload.id}
        """,
        after="""
            from app.events import handle_task_update
            from app.routes import router
            from app.ws import manager
            from app.background_tasks import spawn_background

            @router.post("/projects/{project_id}/tasks")
            async def create_task(project_id, payload, db):
                await db.commit()
                # Broadcast task creation
                spawn_background(handle_task_update(project_id=project_id, task_id=payload.id, action="created"))
                if payload.restored:
                    spawn_background(manager.broadcast_to_room(
                        f"application:{payload.app_id}",
                        {"type": "project_restored"},
                    ))
                return {"id": payload.id}
        """,
    ),
    Keep(
        name="the session is passed",
        files=APP,
        code="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.ws import manager

            @app.post("/x")
            async def digest(db: AsyncSession, project_id):
                await manager.broadcast_to_room(f"project:{project_id}", {"db": db})
        """,
        reason="db (a session, connection, request, websocket",
    ),
    Keep(
        name="a notification that writes to the database is not a broadcast",
        files=APP,
        code="""
            from app.events import record_activity

            @app.post("/x")
            async def rename(db, project_id):
                await record_activity(db, project_id, "renamed")
        """,
        reason="writes to the database",
    ),
    Keep(
        name="a notification that writes through execute(sa.update(...)) or a statement built before",
        files={
            **APP,
            "app/seen.py": """
                import sqlalchemy as sa
                from sqlalchemy import update

                from app.ws import manager

                async def mark_seen(db, task_id):
                    await db.execute(sa.update(Task).where(Task.id == task_id).values(seen=True))
                    await manager.broadcast_to_room("tasks", {"seen": task_id})

                async def mark_done(db, task_id):
                    stmt = update(Task).where(Task.id == task_id).values(done=True)
                    await db.execute(stmt)
                    await manager.broadcast_to_room("tasks", {"done": task_id})
            """,
        },
        code="""
            from app.routes import router
            from app.seen import mark_done, mark_seen

            @router.post("/tasks/{task_id}/seen")
            async def seen(task_id: int, db):
                await mark_seen(db, task_id)
                await mark_done(db, task_id)
                return {"ok": True}
        """,
    ),
    Keep(
        name="an object a with block manages is closed when the block ends",
        files=APP,
        code="""
            from app.events import handle_task_update
            from app.routes import router

            @router.post("/tasks/{task_id}")
            async def touch(task_id: int, db):
                async with db.session_context() as session:
                    pass
                await handle_task_update(project_id=session, task_id=task_id, action="touched")
        """,
        reason="is passed to the coroutine",
    ),
    Keep(
        name="an email or a browser command sent with send() is no broadcast",
        files={
            **APP,
            "app/mail.py": """
                import aiosmtplib

                async def send_reset_email(message):
                    await aiosmtplib.send(message, hostname="smtp")

                async def open_page(cdp, url):
                    await cdp.send("Page.navigate", {"url": url})
            """,
        },
        code="""
            from app.mail import open_page, send_reset_email
            from app.routes import router

            @router.post("/password-reset")
            async def reset(payload, cdp):
                await send_reset_email(payload.message)
                await open_page(cdp, payload.url)
                return {"ok": True}
        """,
    ),
    Rewrite(
        name="publish on a redis client built in another module, and socket.io emit, are broadcasts",
        files={
            **APP,
            "app/cache.py": """
                import redis.asyncio as aioredis

                client = aioredis.from_url("redis://localhost")
            """,
            "app/events.py": """
                import socketio
                from redis.asyncio import Redis

                from .cache import client

                sio = socketio.AsyncServer(async_mode="asgi")

                async def announce(room, message):
                    await client.publish(room, message)

                async def push(redis: Redis, room, message):
                    await redis.publish(room, message)
                    await sio.emit("update", message, room=room)
            """,
        },
        before="""
            from app.events import announce, push
            from app.routes import router

            @router.post("/rooms/{room}")
            async def post(room, payload, redis):
                await announce(room, payload.text)
                await push(redis, room, payload.text)
                return {"ok": True}
        """,
        after="""
            from app.events import announce, push
            from app.routes import router
            from app.background_tasks import spawn_background

            @router.post("/rooms/{room}")
            async def post(room, payload, redis):
                spawn_background(announce(room, payload.text))
                spawn_background(push(redis, room, payload.text))
                return {"ok": True}
        """,
    ),
    Keep(
        name="a message-queue publish or an in-process event bus is no broadcast",
        files={
            **APP,
            "app/jobs.py": """
                import aio_pika

                from .bus import bus

                async def enqueue(channel: aio_pika.abc.AbstractChannel, body: bytes):
                    await channel.default_exchange.publish(aio_pika.Message(body), routing_key="jobs")

                async def task_created(task_id):
                    await bus.publish("task.created", task_id)

                async def signal(emitter, task_id):
                    await emitter.emit("task.created", task_id)
            """,
            "app/bus.py": """
                class EventBus:
                    async def publish(self, topic, payload):
                        for handler in self.handlers[topic]:
                            await handler(payload)

                bus = EventBus()
            """,
        },
        code="""
            from app.jobs import enqueue, signal, task_created
            from app.routes import router

            @router.post("/tasks")
            async def create(payload, channel, emitter):
                await enqueue(channel, payload.body)
                await task_created(payload.id)
                await signal(emitter, payload.id)
                return {"ok": True}
        """,
    ),
    Rewrite(
        name="send() on a parameter typed as a WebSocket is a broadcast",
        files={
            **APP,
            "app/notify.py": """
                from fastapi import WebSocket

                async def notify(websocket: WebSocket, text: str):
                    await websocket.send(text)
            """,
        },
        before="""
            from app.notify import notify
            from app.routes import router

            @router.post("/ping")
            async def ping(payload):
                await notify(payload.peer, "pong")
                return {"ok": True}
        """,
        after="""
            from app.notify import notify
            from app.routes import router
            from app.background_tasks import spawn_background

            @router.post("/ping")
            async def ping(payload):
                spawn_background(notify(payload.peer, "pong"))
                return {"ok": True}
        """,
    ),
    Keep(
        name="a receive loop that relays to others is a listener, not a broadcast",
        files={
            **APP,
            "app/hub.py": """
                class Hub:
                    def __init__(self):
                        self.connections = []

                    async def listen(self, conn):
                        while True:
                            message = await conn.websocket.receive_text()
                            for other in self.connections:
                                await other.websocket.send_text(message)

                hub = Hub()
            """,
        },
        code="""
            from app.hub import hub

            @router.websocket("/ws/{room}")
            async def room_socket(room, conn):
                await hub.listen(conn)
        """,
        reason="waits for input (conn.websocket.receive_text)",
    ),
    Keep(
        name="errors handled by try/except",
        files=APP,
        code="""
            from app.ws import manager

            @app.post("/x")
            async def update(room, message, logger):
                try:
                    await manager.broadcast_to_room(room, message)
                except Exception:
                    logger.warning("broadcast failed")
        """,
        reason="try/except",
    ),
    Keep(
        name="a commit follows",
        files=APP,
        code="""
            from app.events import handle_task_update

            @app.post("/x")
            async def delete(db, task):
                await handle_task_update(task.project_id, task.id, "deleted")
                await db.delete(task)
                await db.commit()
        """,
        reason="commit follows",
    ),
    Keep(
        name="the result is used",
        files=APP,
        code="""
            from app.ws import manager

            @app.post("/x")
            async def announce(room, message):
                delivered = await manager.broadcast_to_room(room, message)
                return {"delivered": delivered}
        """,
    ),
    Keep(
        name="an argument is mutated afterwards",
        files=APP,
        code="""
            from app.ws import manager

            @app.post("/x")
            async def announce(room, message):
                await manager.broadcast_to_room(room, message)
                message["sent"] = True
                return message
        """,
        reason="changed after",
    ),
    Rewrite(
        name="a service function whose only callers are route handlers awaiting it as a statement",
        files={
            **APP,
            "app/routers/tasks.py": """
                from fastapi import APIRouter

                from .. import example

                router = APIRouter()

                @router.post("/tasks/{task_id}/complete")
                async def complete(task_id: int, db):
                    await example.complete_task(db, task_id)
                    return {"ok": True}

                @router.post("/tasks/{task_id}/close")
                async def close(task_id: int, db):
                    await example.complete_task(db, task_id)
            """,
        },
        before="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        after="""
            from .events import handle_task_update
            from app.background_tasks import spawn_background

            async def complete_task(db, task_id):
                await db.commit()
                spawn_background(handle_task_update(project_id=1, task_id=task_id, action="completed"))
        """,
    ),
    Rewrite(
        name="a service only route handlers call, through a re-export that renames it",
        files={**APP, **RENAMING_REEXPORT},
        before="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        after="""
            from .events import handle_task_update
            from app.background_tasks import spawn_background

            async def complete_task(db, task_id):
                await db.commit()
                spawn_background(handle_task_update(project_id=1, task_id=task_id, action="completed"))
        """,
    ),
    Keep(
        name="a service a worker also calls, through an import renamed twice",
        files={
            **APP,
            **RENAMING_REEXPORT,
            "app/workers/nightly.py": """
                from app.services import finish as close_out

                async def run(db):
                    await close_out(db, 1)
            """,
        },
        code="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        reason="which is not a route handler",
    ),
    Keep(
        name="a service whose caller commits after it",
        files={
            **APP,
            "app/routers/tasks.py": """
                from fastapi import APIRouter

                from ..example import complete_task

                router = APIRouter()

                @router.post("/tasks/{task_id}/complete")
                async def complete(task_id: int, db):
                    await complete_task(db, task_id)
                    await db.commit()
            """,
        },
        code="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        reason="commits after calling complete_task",
    ),
    Keep(
        name="a service whose result a handler uses",
        files={
            **APP,
            "app/routers/tasks.py": """
                from fastapi import APIRouter

                from ..example import complete_task

                router = APIRouter()

                @router.post("/tasks/{task_id}/complete")
                async def complete(task_id: int, db):
                    return await complete_task(db, task_id)
            """,
        },
        code="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
                return task_id
        """,
        reason="uses what complete_task returns",
    ),
    Keep(
        name="a service also called by a background job",
        files={
            **APP,
            "app/routers/tasks.py": """
                from fastapi import APIRouter

                from ..example import complete_task

                router = APIRouter()

                @router.post("/tasks/{task_id}/complete")
                async def complete(task_id: int, db):
                    await complete_task(db, task_id)
            """,
            "app/jobs.py": """
                from .example import complete_task

                async def nightly(db, ids):
                    for task_id in ids:
                        await complete_task(db, task_id)
            """,
        },
        code="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        reason="which is not a route handler",
    ),
    Keep(
        name="a service handed to something else as a callback",
        files={
            **APP,
            "app/routers/tasks.py": """
                from fastapi import APIRouter, BackgroundTasks

                from ..example import complete_task

                router = APIRouter()

                @router.post("/tasks/{task_id}/complete")
                async def complete(task_id: int, db, tasks: BackgroundTasks):
                    await complete_task(db, task_id)
                    tasks.add_task(complete_task, db, task_id)
            """,
        },
        code="""
            from .events import handle_task_update

            async def complete_task(db, task_id):
                await db.commit()
                await handle_task_update(project_id=1, task_id=task_id, action="completed")
        """,
        reason="may be called in ways the index cannot follow",
    ),
    Keep(
        name="not a route handler: callers may rely on delivery",
        files=APP,
        code="""
            from app.ws import manager

            async def save_and_notify(db, room, message):
                db.add(message)
                await db.flush()
                await manager.broadcast_to_room(room, "saved")
        """,
        reason="not a route handler",
    ),
    Rewrite(
        name="attribute reads are evaluated now; the ORM object itself is not passed",
        files={**APP, "app/models.py": """
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

            class Base(DeclarativeBase):
                pass

            class Task(Base):
                __tablename__ = "tasks"
                id: Mapped[int] = mapped_column(primary_key=True)
        """},
        before="""
            from app.events import handle_task_update
            from app.models import Task

            @router.post("/tasks")
            async def create(db, title):
                task = Task(title=title)
                await db.commit()
                await handle_task_update(task.project_id, task.id, "created")
                return {"id": task.id}
        """,
        after="""
            from app.events import handle_task_update
            from app.models import Task
            from app.background_tasks import spawn_background

            @router.post("/tasks")
            async def create(db, title):
                task = Task(title=title)
                await db.commit()
                spawn_background(handle_task_update(task.project_id, task.id, "created"))
                return {"id": task.id}
        """,
    ),
    Keep(
        name="not a broadcast",
        files=APP,
        code="""
            @app.post("/x")
            async def save(repo, item):
                await repo.store(item)
        """,
    ),
]
FireAndForgetBroadcast.EXAMPLES = EXAMPLES
