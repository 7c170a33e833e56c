"""What starts an asyncio task and what drops it: the names `dangling-task` rewrites and the
facts screen for it.

A task is dropped when the call that creates it is a statement of its own, or when a lambda
that returns it is handed to an event-loop callback registrar, which calls the lambda in the
running loop and throws its result away.
"""

from __future__ import annotations

import ast
from typing import Callable

# The methods and functions that start a task, by their last name: `asyncio.create_task`,
# `loop.create_task`, `asyncio.ensure_future` (a task group's `tg.create_task` too, which the
# codemod tells apart by its receiver).
SPAWN_NAMES = frozenset({"create_task", "ensure_future"})
# Event-loop (and Starlette) callback registrars: they call the callback inside the
# running loop and drop what it returns.
CALLBACK_REGISTRARS = frozenset({
    "call_soon", "call_soon_threadsafe", "call_later", "call_at", "add_signal_handler",
    "add_done_callback", "add_event_handler",
})


def _spawns(node: ast.AST, resolve: Callable[[str], str | None]) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr in SPAWN_NAMES
    # `from asyncio import create_task as spawn`: the name it was imported as.
    return isinstance(func, ast.Name) and (resolve(func.id) or "").rsplit(".", 1)[-1] in SPAWN_NAMES


def drops_task(node: ast.AST, resolve: Callable[[str], str | None]) -> bool:
    """Whether ``node`` (any node of a module) may drop a task it starts: an expression
    statement that is a spawn call, or a registrar call given a lambda returning one.
    ``resolve`` names a module-level name through the module's imports. A screen: a
    receiver is not resolved, so it may say yes to a call that is no spawn, never no to one
    that is."""
    if isinstance(node, ast.Expr):
        return _spawns(node.value, resolve)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CALLBACK_REGISTRARS:
        return any(isinstance(a, ast.Lambda) and _spawns(a.body, resolve) for a in node.args)
    return False
