"""What starts an asyncio task and what drops it: the names `dangling-task` rewrites and the
facts screen for it.

A task is dropped when the call that creates it is a statement of its own, or when a lambda
that returns it is handed to an event-loop callback registrar, which calls the lambda in the
running loop and throws its result away. The facts tell it as the codemod does: names
resolved through the module's imports, `create_task` only on an event loop.
"""

from __future__ import annotations

import ast
from typing import Callable

from optimize.analyzers.annotations import dotted

# What starts a task: these functions, or `create_task` on an event loop (a name bound to
# one of LOOP_GETTERS' results, or such a call itself). A task group's `tg.create_task`
# is not dropped (the group holds it).
SPAWNERS = frozenset({
    "asyncio.create_task", "asyncio.ensure_future", "asyncio.tasks.create_task", "asyncio.tasks.ensure_future",
})
LOOP_GETTERS = frozenset({
    "asyncio.get_event_loop", "asyncio.get_running_loop", "asyncio.events.get_event_loop",
    "asyncio.events.get_running_loop",
})
# Event-loop (and Starlette) callback registrars: they call the callback inside the
# running loop and drop what it returns.
CALLBACK_REGISTRARS = frozenset({
    "call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_signal_handler",
    "add_done_callback", "add_event_handler",
})

Resolve = Callable[[str | None], str | None]


def loop_names(node: ast.AST, resolve: Resolve) -> set[str]:
    """The names ``node`` binds to an event loop: `loop = asyncio.get_running_loop()`."""
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
        if (resolve(dotted(node.value.func)) or "") in LOOP_GETTERS:
            return {t.id for t in node.targets if isinstance(t, ast.Name)}
    return set()


def is_spawn(node: ast.AST, resolve: Resolve, loops: set[str]) -> bool:
    """Whether ``node`` is a call that starts a task (the module's ``loops`` are the names
    it binds to an event loop anywhere)."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if (resolve(dotted(func)) or "") in SPAWNERS:
        return True
    if isinstance(func, ast.Attribute) and func.attr == "create_task":
        receiver = func.value
        if isinstance(receiver, ast.Name):
            return receiver.id in loops
        return isinstance(receiver, ast.Call) and (resolve(dotted(receiver.func)) or "") in LOOP_GETTERS
    return False


def may_drop_task(node: ast.AST) -> bool:
    """Whether ``node`` has the shape of a dropped task, whatever it calls: an expression
    statement that is a call, or a registrar call given a lambda returning a call. The
    facts keep these and test them with `is_spawn` once the module's loops are known."""
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Call)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLBACK_REGISTRARS:
        return any(isinstance(a, ast.Lambda) and isinstance(a.body, ast.Call) for a in node.args)
    return False


def drops_task(node: ast.AST, resolve: Resolve, loops: set[str]) -> bool:
    """Whether ``node`` (found by `may_drop_task`) starts a task and drops it."""
    if isinstance(node, ast.Expr):
        return is_spawn(node.value, resolve, loops)
    return any(isinstance(a, ast.Lambda) and is_spawn(a.body, resolve, loops) for a in node.args)  # type: ignore[attr-defined]
