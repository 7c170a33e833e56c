"""## What it does
`asyncio.create_task(...)`, `asyncio.ensure_future(...)` and `loop.create_task(...)` (a loop
from `get_event_loop()`/`get_running_loop()`) used as a statement, whose task is dropped,
become `spawn_background(...)`, from the helper module the codemod adds once to the package
(`<package>/background_tasks.py`), one per distribution: when the root `pyproject.toml` or
`setup.cfg` declares several top-level packages, all of them import the helper of the first
declared (or of the one that already has it). When the directory `optimize` runs on is itself a
package (its import name cannot be seen from inside), the helper goes in that directory and
is imported relatively (`from .background_tasks import ...`). `name=` is kept. A task
returned from a lambda given to an event-loop callback registrar (`call_soon`,
`call_later`, `call_at`, `add_signal_handler`, `add_done_callback`, Starlette's
`add_event_handler`) is dropped by the loop and rewritten the same way; `__del__` is left
alone (a finalizer may run with no loop). Outside a package, or with
`style = "create_task"`, the task is kept in a module-level set instead.

## Why is this bad?
The event loop holds tasks weakly: a task nobody references can be garbage-collected before
it finishes, and its exception is never retrieved. Ruff flags it (RUF006) but has no fix.

## Example
```python
asyncio.create_task(manager.broadcast_to_room(room, {"type": "ping"}))
```

## Use instead
```python
spawn_background(manager.broadcast_to_room(room, {"type": "ping"}))
```

## Fix safety
Safe: the coroutine runs as before; it is now referenced until done and its error is logged
(`test_an_exception_is_logged_not_lost`, `test_tasks_are_referenced_until_done_and_drained`).

## Preconditions
- The call resolves to asyncio's `create_task`/`ensure_future`, or `create_task` on an event
  loop obtained in the function.
- Its result is dropped (an expression statement).
- Only the coroutine and `name=` are passed.

## What it refuses
```python
asyncio.create_task(coro, context=ctx)
```
`skipped: arguments other than the coroutine and name= (e.g. context=)`. Assigned, awaited,
returned tasks and `TaskGroup.create_task` are not dropped and are left alone.

## Options
```toml
[tool.optimize.dangling-task]
style = "helper"   # or "create_task"
```
"""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from optimize.codemods.background_helper import (
    create_task_statements,
    ensure_reference_set,
    spawn_call,
    use_helper,
)
from optimize.analyzers.tasks import CALLBACK_REGISTRARS, LOOP_GETTERS, SPAWNERS
from optimize.codemods.base import Codemod, Keep, Rewrite
from optimize.codemods.options import one_of
from libcst.codemod.visitors import AddImportsVisitor
from libcst.helpers import get_full_name_for_node as name_of



class DanglingTask(Codemod):
    ID = "dangling-task"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_background_tasks.py (real asyncio; ruff RUF006 on the rewritten app)",
    )
    TITLE = "keep a reference to fire-and-forget tasks and log their errors"
    CONDITIONS = "create_task/ensure_future result dropped; only the coroutine and name= are passed"
    DESCRIPTION = "Rewrite dropped asyncio tasks to a helper that keeps them and logs errors."
    TRIGGERS = (b"create_task", b"ensure_future")
    OPTIONS = {"style": "helper"}
    OPTION_CHECKS = {"style": one_of("helper", "create_task")}
    EFFECT = "background tasks can no longer vanish mid-flight or lose their exceptions"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """Every case is a spawn call the facts see dropped (`analyzers.tasks.drops_task`)."""
        facts = index.facts.get(path)
        return cls.applies(source, index) and (facts is None or facts.dropped_tasks > 0)

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """Those spawns, and the assignments naming the loops they may be started on
        (`loop = asyncio.get_running_loop()` in one function, `loop.create_task` in another)."""
        facts = index.facts.get(path)
        return None if facts is None else frozenset(facts.task_lines)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._loops: set[str] = set()
        self._needs_set = False
        self._functions: list[str] = []  # the enclosing function names, innermost last

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._functions.append(node.name.value)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        self._functions.pop()
        return updated

    def visit_Assign(self, node: cst.Assign) -> None:
        # `loop = asyncio.get_running_loop()`
        if isinstance(node.value, cst.Call) and self.refers_to(node.value.func, LOOP_GETTERS):
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self._loops.add(target.target.value)

    def _is_spawn(self, call: cst.Call) -> bool:
        if self.refers_to(call.func, SPAWNERS):
            return True
        func = call.func
        if isinstance(func, cst.Attribute) and func.attr.value == "create_task":
            receiver = func.value
            if isinstance(receiver, cst.Name) and receiver.value in self._loops:
                return True
            if isinstance(receiver, cst.Call) and self.refers_to(receiver.func, LOOP_GETTERS):
                return True
        return False

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        if len(original.body) != 1 or not m.matches(original.body[0], m.Expr(value=m.Call())):
            return updated
        call = original.body[0].value
        if not self._spawnable(call, original):
            return updated
        new_call = updated.body[0].value
        coro = next(a for a in new_call.args if a.keyword is None).value
        name = next((a for a in new_call.args if a.keyword is not None), None)
        what = name_of(call.func) or "create_task"
        if self.options["style"] == "create_task" or use_helper(self) is None:
            if not self.record(original, f"{what}(...) result was dropped: now kept in a module-level set until done"):
                return updated
            self._needs_set = True
            AddImportsVisitor.add_needed_import(self.context, "asyncio")
            return cst.FlattenSentinel(create_task_statements(coro, name, updated))
        if not self.record(original, f"{what}(...) result was dropped: spawn_background keeps it until done and logs its error"):
            return updated
        return updated.with_changes(body=[updated.body[0].with_changes(value=spawn_call(coro, name))])

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`loop.call_soon(lambda: asyncio.create_task(job()))`: the event loop calls the
        lambda and drops what it returns, the task."""
        func = original.func
        if not (isinstance(func, cst.Attribute) and func.attr.value in CALLBACK_REGISTRARS):
            return updated
        args = list(updated.args)
        for i, arg in enumerate(original.args):
            body = arg.value.body if isinstance(arg.value, cst.Lambda) else None
            if not (isinstance(body, cst.Call) and self._is_spawn(body)) or not self._spawnable(body, arg):
                continue
            what = name_of(body.func) or "create_task"
            if self.options["style"] == "create_task" or use_helper(self) is None:
                self.refuse(arg, f"skipped: the task {what}(...) returns from a lambda is dropped, and a lambda cannot hold the statements of the create_task style; the helper style can fix it")
                continue
            if not self.record(arg, f"{what}(...) returned from a lambda given to {func.attr.value} is dropped by the loop: spawn_background keeps it until done and logs its error"):
                continue
            new_body = args[i].value.body
            coro = next(a for a in new_body.args if a.keyword is None).value
            name = next((a for a in new_body.args if a.keyword is not None), None)
            args[i] = args[i].with_changes(value=args[i].value.with_changes(body=spawn_call(coro, name)))
        return updated.with_changes(args=args)

    def _spawnable(self, call: cst.Call, report: cst.CSTNode) -> bool:
        """Whether the dropped task of ``call`` may become `spawn_background(...)`; the
        reason is reported when not."""
        if not self._is_spawn(call):
            return False
        if self._functions and self._functions[-1] == "__del__":
            # A finalizer runs at garbage collection, often with no running loop: the
            # helper's `get_running_loop()` would raise and leave the coroutine never awaited.
            self.refuse(report, "skipped: in __del__, which may run with no event loop running")
            return False
        positional = [a for a in call.args if a.keyword is None and not a.star]
        extra = [a for a in call.args if a.keyword is not None and a.keyword.value != "name"]
        if len(positional) != 1 or extra or any(a.star for a in call.args):
            self.refuse(report, "skipped: arguments other than the coroutine and name= (e.g. context=)")
            return False
        return True

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        return ensure_reference_set(updated) if self._needs_set else updated


PACKAGE = {"app/__init__.py": "", "app/ws.py": "async def broadcast(room, msg): ..."}

EXAMPLES = [
    Rewrite(
        name="dropped create_task in a package: helper added and imported",
        files=PACKAGE,
        before="""
            import asyncio

            async def ping(manager, task):
                asyncio.create_task(manager.broadcast_to_room(f"project:{task.project_id}", {"type": "ping"}))
                return {"ok": True}
        """,
        after="""
            import asyncio
            from app.background_tasks import spawn_background

            async def ping(manager, task):
                spawn_background(manager.broadcast_to_room(f"project:{task.project_id}", {"type": "ping"}))
                return {"ok": True}
        """,
    ),
    Rewrite(
        name="one helper per distribution: a package shipped with others imports the first declared",
        files={
            "pyproject.toml": '[tool.setuptools]\npackages = ["core", "core.db", "app"]\n',
            "core/__init__.py": "",
            "app/__init__.py": "",
        },
        before="""
            import asyncio

            async def start(job):
                asyncio.create_task(job.run())
        """,
        after="""
            import asyncio
            from core.background_tasks import spawn_background

            async def start(job):
                spawn_background(job.run())
        """,
    ),
    Rewrite(
        name="the distribution's existing helper is reused, wherever it was declared",
        files={
            "pyproject.toml": '[tool.poetry]\npackages = [{include = "app"}, {include = "worker"}]\n',
            "app/__init__.py": "",
            "worker/__init__.py": "",
            "worker/background_tasks.py": "def spawn_background(coro, *, name=None): ...",
        },
        before="""
            import asyncio

            async def start(job):
                asyncio.create_task(job.run())
        """,
        after="""
            import asyncio
            from worker.background_tasks import spawn_background

            async def start(job):
                spawn_background(job.run())
        """,
    ),
    Rewrite(
        name="ensure_future and loop.create_task, name kept",
        files=PACKAGE,
        before="""
            from asyncio import ensure_future, get_running_loop

            async def start(job):
                ensure_future(job.run())
                loop = get_running_loop()
                loop.create_task(job.cleanup(), name="cleanup")
        """,
        after="""
            from asyncio import ensure_future, get_running_loop
            from app.background_tasks import spawn_background

            async def start(job):
                spawn_background(job.run())
                loop = get_running_loop()
                spawn_background(job.cleanup(), name="cleanup")
        """,
    ),
    Rewrite(
        name="create_task style keeps the reference in a module-level set",
        files=PACKAGE,
        options={"style": "create_task"},
        before="""
            import asyncio

            async def notify(send):
                asyncio.create_task(send())
        """,
        after="""
            import asyncio

            _background_tasks: set[asyncio.Task] = set()  # keeps background tasks alive until done

            async def notify(send):
                _background_task = asyncio.create_task(send())
                _background_tasks.add(_background_task)
                _background_task.add_done_callback(_background_tasks.discard)
        """,
    ),
    Keep(
        name="task kept, awaited or returned",
        code="""
            import asyncio

            async def f(coro, other):
                task = asyncio.create_task(coro)
                await asyncio.create_task(other)
                return asyncio.create_task(coro)
        """,
    ),
    Keep(
        name="task groups keep their tasks",
        code="""
            import asyncio

            async def f(jobs):
                async with asyncio.TaskGroup() as tg:
                    for job in jobs:
                        tg.create_task(job())
        """,
    ),
    Rewrite(
        name="a task returned from a lambda the event loop calls is dropped too",
        files=PACKAGE,
        before="""
            import asyncio

            async def start(app, job):
                loop = asyncio.get_running_loop()
                loop.call_later(5, lambda: asyncio.create_task(job.run(), name="run"))
                app.add_event_handler("startup", lambda: asyncio.ensure_future(job.warm()))
        """,
        after="""
            import asyncio
            from app.background_tasks import spawn_background

            async def start(app, job):
                loop = asyncio.get_running_loop()
                loop.call_later(5, lambda: spawn_background(job.run(), name="run"))
                app.add_event_handler("startup", lambda: spawn_background(job.warm()))
        """,
    ),
    Keep(
        name="a lambda whose task is used, and one the create_task style cannot hold",
        files=PACKAGE,
        options={"style": "create_task"},
        code="""
            import asyncio

            async def start(jobs, loop):
                tasks = list(map(lambda job: asyncio.create_task(job()), jobs))
                loop.call_soon(lambda: asyncio.create_task(jobs[0]()))
                return tasks
        """,
        reason="a lambda cannot hold the statements of the create_task style",
    ),
    Keep(
        name="not asyncio's create_task",
        code="""
            from tasks import create_task

            def f():
                create_task("nightly")
        """,
    ),
    Keep(
        name="in __del__: a finalizer may run with no event loop",
        code="""
            import asyncio

            class Client:
                def __del__(self):
                    asyncio.get_running_loop().create_task(self.aclose())
        """,
        reason="in __del__",
    ),
    Keep(
        name="context= argument",
        code="""
            import asyncio

            async def f(coro, ctx):
                asyncio.create_task(coro, context=ctx)
        """,
        reason="context=",
    ),
]
DanglingTask.EXAMPLES = EXAMPLES
