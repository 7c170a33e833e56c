"""The background-task helper module the task codemods add to a target package, and how
they find (or place) it.

`asyncio.create_task(...)` whose result is dropped can be garbage-collected mid-flight and
loses its exception ("Task exception was never retrieved"). The helper keeps a reference
until the task finishes, logs its exception, and lets the application drain pending tasks
at shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst
from libcst.codemod.visitors import AddImportsVisitor

from optimize.codemods.base import Codemod

HELPER_FILE = "background_tasks.py"
HELPER_FUNCTION = "spawn_background"

HELPER_SOURCE = '''"""Background tasks that stay referenced until they finish and whose errors are logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

logger = logging.getLogger(__name__)

# A task only weakly referenced by the event loop can be garbage-collected mid-flight.
_tasks: set[asyncio.Task[Any]] = set()


def spawn_background(coro: Coroutine[Any, Any, Any], *, name: str | None = None) -> asyncio.Task[Any]:
    """Run ``coro`` without waiting for it; its exception is logged, not lost."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    _tasks.add(task)
    task.add_done_callback(_finished)
    return task


def _finished(task: asyncio.Task[Any]) -> None:
    _tasks.discard(task)
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        logger.error("background task %s failed", task.get_name(), exc_info=exc)


async def drain_background(timeout: float | None = None) -> None:
    """Wait for the pending background tasks, e.g. in the application's shutdown."""
    pending = [task for task in _tasks if not task.done()]
    if pending:
        await asyncio.wait(pending, timeout=timeout)
'''

REFERENCE_SET = "_background_tasks"


@dataclass(frozen=True)
class HelperPlace:
    """Where the helper module lives and how the file being rewritten imports it:
    `from <"." * level><module> import spawn_background`."""

    path: str  # repository path of the helper
    module: str
    level: int = 0  # leading dots of a relative import (0: absolute)


_ROOT = PurePosixPath(".")


def _top_package(directory: PurePosixPath, packages: set[PurePosixPath]) -> PurePosixPath:
    """The outermost package holding ``directory`` that the run can see. Each step drops
    one path component, so the walk ends at the target directory (`.`) at the latest:
    `PurePosixPath(".").parent` is `.` again."""
    top = directory
    while top != _ROOT and top.parent in packages:
        top = top.parent
    return top


def _is_helper(codemod: Codemod, path: str) -> bool:
    facts = codemod.index.facts.get(path)
    return facts is not None and any(q.endswith("." + HELPER_FUNCTION) for q in facts.functions)


def _home_package(codemod: Codemod, own: PurePosixPath) -> PurePosixPath:
    """The package that holds the helper for files of the top-level package ``own``: at
    most one helper per distribution. When the build configuration ships ``own`` with
    other top-level packages, that is the declared package that already has the helper,
    else the first one declared; a package the project does not declare keeps its own,
    since nothing says the others are importable beside it."""
    declared = [PurePosixPath(p) for p in codemod.index.distribution]
    if own not in declared:
        return own
    existing = [p for p in declared if _is_helper(codemod, (p / HELPER_FILE).as_posix())]
    return (existing or declared)[0]


def helper_location(codemod: Codemod) -> HelperPlace | None:
    """Where the file being rewritten finds `spawn_background`: `background_tasks.py` in
    its top-level package (or the distribution's, see `_home_package`). None outside a
    package, when the import would not name that file, or when a file of that name
    exists but is not the helper.

    When the target directory is itself a package (it holds `__init__.py`), its import
    name lies outside what the run reads: the helper goes in the target directory and is
    imported relatively, which resolves to that file whatever the package is called."""
    packages = {PurePosixPath(p).parent for p in codemod.index.facts if PurePosixPath(p).name == "__init__.py"}
    directory = PurePosixPath(codemod.path).parent
    if directory not in packages:
        return None
    if _top_package(directory, packages) == _ROOT:
        helper = HELPER_FILE
        place = HelperPlace(helper, HELPER_FILE[:-3], level=len(directory.parts) + 1)
    else:
        # The top-level package as the interpreter imports it (the index's module names):
        # a namespace directory inside the package tree (`pkg/routes/streaming/` without
        # `__init__.py`) is a portion of `pkg`, not where a package starts.
        names = codemod.index.modules.candidates(codemod.path)
        if not names or "." not in names[0].name:
            return None
        home = _home_package(codemod, PurePosixPath(*names[0].root, names[0].name.split(".", 1)[0]))
        helper = (home / HELPER_FILE).as_posix()
        place = HelperPlace(helper, f"{home.name}.{HELPER_FILE[:-3]}")
        # The import must name the helper file (the module exists, or is created, under
        # that name), or it is not written.
        if all(n.name != place.module for n in codemod.index.modules.candidates(helper)):
            return None
    if helper in codemod.index.facts and not _is_helper(codemod, helper):
        return None
    return place


def use_helper(codemod: Codemod) -> str | None:
    """Arrange for `spawn_background` to be importable in the current module: create the
    helper module if the repository lacks it and add the import. Returns the local name,
    or None when no helper can be placed (the caller falls back to the create_task style)."""
    place = helper_location(codemod)
    if place is None:
        return None
    if place.path not in codemod.index.facts:
        codemod.create_file(place.path, HELPER_SOURCE)
    if codemod.path == place.path:
        return HELPER_FUNCTION
    AddImportsVisitor.add_needed_import(codemod.context, place.module, HELPER_FUNCTION, relative=place.level)
    return HELPER_FUNCTION


def spawn_call(coro: cst.BaseExpression, name: cst.Arg | None = None) -> cst.Call:
    args = [cst.Arg(coro)]
    if name is not None:
        args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(name.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    return cst.Call(func=cst.Name(HELPER_FUNCTION), args=args)


def create_task_statements(coro: cst.BaseExpression, name: cst.Arg | None, template: cst.SimpleStatementLine):
    """The plain-asyncio form with the reference kept: three statements."""
    args = [cst.Arg(coro)]
    if name is not None:
        args[0] = args[0].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(name.with_changes(comma=cst.MaybeSentinel.DEFAULT))
    create = cst.Call(func=cst.Attribute(cst.Name("asyncio"), cst.Name("create_task")), args=args)
    first = template.with_changes(
        body=[cst.Assign([cst.AssignTarget(cst.Name("_background_task"))], create)]
    )
    keep = cst.parse_statement(f"{REFERENCE_SET}.add(_background_task)\n")
    drop = cst.parse_statement(f"_background_task.add_done_callback({REFERENCE_SET}.discard)\n")
    return [first, keep, drop]


def ensure_reference_set(module: cst.Module) -> cst.Module:
    """Add `_background_tasks: set[asyncio.Task] = set()` after the imports, once."""
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine) and f"{REFERENCE_SET}:" in cst.Module([]).code_for_node(statement):
            return module
    index = 0
    for i, statement in enumerate(module.body):
        if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body
        ):
            index = i + 1
        elif i == 0 and isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Expr):
            index = 1  # the module docstring
    declaration = cst.parse_statement(
        f"{REFERENCE_SET}: set[asyncio.Task] = set()  # keeps background tasks alive until done\n"
    ).with_changes(leading_lines=[cst.EmptyLine()])
    return module.with_changes(body=[*module.body[:index], declaration, *module.body[index:]])
