"""## What it does
Registers debug, profiling and timing middleware only under the application's debug
setting: an unconditional `app.add_middleware(RequestTimingMiddleware)` is wrapped in
`if settings.api.debug:`, and the middleware's module-level import moves inside that
block (a lazy import), so production neither imports nor runs it. A middleware that is
already conditional only gets its import moved.

## Why is this bad?
Every middleware runs on every request. Debug middleware (timers, profilers, SQL loggers,
`BaseHTTPMiddleware` wrappers) adds latency and allocations in production, where nobody
reads its output, and its import pulls debugging dependencies into every worker's start-up.

## Example
```python
from app.middleware import (
    RequestIDMiddleware,
    RequestTimingMiddleware,
)

def create_app() -> FastAPI:
    app = FastAPI(debug=settings.api.debug)
    app.add_middleware(RequestIDMiddleware)
    app.add_middleware(RequestTimingMiddleware)
    return app
```

## Use instead
```python
from app.middleware import (
    RequestIDMiddleware,
)

def create_app() -> FastAPI:
    app = FastAPI(debug=settings.api.debug)
    app.add_middleware(RequestIDMiddleware)
    if settings.api.debug:
        from app.middleware import RequestTimingMiddleware

        app.add_middleware(RequestTimingMiddleware)
    return app
```

## Fix safety
Safe when the debug flag is found: the flag the app itself is created with
(`FastAPI(debug=<flag>)`), a debug setting read in the same module (`settings.debug`,
`settings.api.debug`, `get_settings().DEBUG`, ...), or the `debug_flag` option. With none,
the codemod reports instead of guessing. The middleware's name must match the configured
patterns and the receiver must be a FastAPI or Starlette application.
"""

from __future__ import annotations

import fnmatch
import re

import libcst as cst
from libcst.helpers import get_full_name_for_node
from libcst.metadata import ScopeProvider

from optimize.codemods.base import Codemod, Keep, Rewrite

APP_CLASSES = {
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
    "starlette.Starlette",
}
_DEBUG_TEST = re.compile(r"^[A-Za-z_][\w.()]*\.(debug|DEBUG|Debug|is_debug|IS_DEBUG|debug_mode|DEBUG_MODE)$|^(debug|DEBUG)$")
_DEBUG_ATTR = re.compile(r"^(debug|DEBUG|Debug|is_debug|IS_DEBUG|debug_mode|DEBUG_MODE)$")


class DebugMiddleware(Codemod):
    ID = "debug-middleware"
    TITLE = "register debug middleware only under the debug setting, imported lazily"
    CONDITIONS = "debug/profiling/timing middleware on a FastAPI/Starlette app; debug flag found"
    DESCRIPTION = "Wrap debug middleware registration in the debug flag, with a lazy import."
    TRIGGERS = (b"add_middleware",)
    OPTIONS = {
        "middleware_patterns": [
            "*Debug*", "*Profil*", "*Timing*", "*Timer*", "*QueryLogger*", "*SQLLogger*", "*ProcessTime*",
        ],
        "debug_flag": "",
    }
    METADATA_DEPENDENCIES = (*Codemod.METADATA_DEPENDENCIES, ScopeProvider)
    EFFECT = "the middleware no longer runs on every production request"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.patterns = list(self.options["middleware_patterns"])
        self._module_flags: list[cst.BaseExpression] = []
        self._app_flags: dict[str, cst.BaseExpression | None] = {}
        self._removals: list[tuple[cst.ImportFrom, str]] = []

    # --- module pre-pass: the app objects and the debug flags in sight ---------------------

    def visit_Module(self, node: cst.Module) -> None:
        collector = _FlagCollector(self)
        node.visit(collector)
        self._module_flags = collector.flags
        self._app_flags = collector.apps

    def _flag_for(self, app_name: str) -> cst.BaseExpression | None:
        if self.options["debug_flag"]:
            return cst.parse_expression(self.options["debug_flag"])
        if self._app_flags.get(app_name) is not None:
            return self._app_flags[app_name].deep_clone()
        unique = {cst.Module([]).code_for_node(f) for f in self._module_flags}
        if len(unique) == 1:
            return self._module_flags[0].deep_clone()
        return None

    # --- the rewrite, one statement list at a time -------------------------------------------

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        return updated.with_changes(body=self._rewrite_body(original, original.body, updated.body))

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        body = self._rewrite_body(original, original.body, updated.body)
        for import_node, name in self._removals:
            kept: list[cst.BaseStatement] = []
            carried: list[cst.EmptyLine] = []
            for statement in body:
                new = _without_name(statement, import_node, name)
                if new is None:  # the import is gone: its leading comments go to the next line
                    carried.extend(statement.leading_lines)
                    continue
                if carried:
                    new = new.with_changes(leading_lines=[*carried, *new.leading_lines])
                    carried = []
                kept.append(new)
            body = kept
        return updated.with_changes(body=body)

    def _rewrite_body(self, owner, originals, updates):
        body: list[cst.BaseStatement] = []
        condition = self._debug_condition(owner)
        conditional = condition == "debug"
        for orig, upd in zip(originals, updates):
            registration = self._registration(orig)
            if registration is None:
                body.append(upd)
                continue
            app_name, middleware, call = registration
            if not self.allowed(orig):
                body.append(upd)
                continue
            if condition == "other":
                self.refuse(call, f"skipped: {middleware} is registered under a condition on the debug flag that is not a plain check")
                body.append(upd)
                continue
            if conditional:
                lazy = self._lazy_import(orig, middleware)
                if lazy is None:
                    body.append(upd)
                    continue
                self.record(call, f"{middleware} is only used under the debug condition: imported lazily there")
                body.extend([lazy.with_changes(leading_lines=upd.leading_lines), upd.with_changes(leading_lines=[])])
                continue
            flag = self._flag_for(app_name)
            if flag is None:
                self.refuse(
                    call,
                    f"skipped: no debug setting found for {middleware}; "
                    "set [tool.optimize.debug-middleware] debug_flag",
                )
                body.append(upd)
                continue
            lazy = self._lazy_import(orig, middleware)
            flag_code = cst.Module([]).code_for_node(flag)
            inner = [upd.with_changes(leading_lines=[])]
            if lazy is not None:
                inner.insert(0, lazy)
                inner[1] = inner[1].with_changes(leading_lines=[cst.EmptyLine()])
            self.record(
                call,
                f"{middleware} registered only when {flag_code}"
                + (" and imported lazily" if lazy is not None else ""),
            )
            body.append(
                cst.If(test=flag, body=cst.IndentedBlock(body=inner), leading_lines=upd.leading_lines)
            )
        return body

    def _registration(self, statement) -> tuple[str, str, cst.Call] | None:
        """(app name, middleware class name, call) for `app.add_middleware(M, ...)`."""
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            return None
        expr = statement.body[0]
        if not isinstance(expr, cst.Expr) or not isinstance(expr.value, cst.Call):
            return None
        call = expr.value
        func = call.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "add_middleware"):
            return None
        if not call.args or call.args[0].keyword is not None:
            return None
        middleware = get_full_name_for_node(call.args[0].value)
        if middleware is None:
            return None
        short = middleware.rsplit(".", 1)[-1]
        if not any(fnmatch.fnmatchcase(short, p) for p in self.patterns):
            return None
        app_name = get_full_name_for_node(func.value) or ""
        if app_name not in self._app_flags:
            self.refuse(call, f"skipped: cannot tell that {app_name or 'the receiver'} is a FastAPI/Starlette app")
            return None
        return app_name, short, call

    def _debug_condition(self, owner) -> str | None:
        """"debug" when ``owner`` is the body of `if <debug flag>:`, "other" when it sits
        under any other condition that mentions debug (`if not settings.debug:`, `else:`)."""
        from libcst.metadata import ParentNodeProvider

        node = owner
        while node is not None and not isinstance(node, cst.Module):
            parent = self.get_metadata(ParentNodeProvider, node, None)
            if isinstance(parent, (cst.If, cst.Else)):
                branch = parent
                if isinstance(parent, cst.Else):
                    branch = self.get_metadata(ParentNodeProvider, parent, None)
                test = cst.Module([]).code_for_node(branch.test) if isinstance(branch, cst.If) else ""
                if "debug" in test.lower():
                    plain = parent is branch and node is branch.body and _DEBUG_TEST.match(test.strip())
                    if plain and node is owner:
                        return "debug"
                    return "other"
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
                return None
            node = parent
        return None

    def _lazy_import(self, statement, middleware: str) -> cst.SimpleStatementLine | None:
        """A local `from x import M` if M's only use is this registration; the module-level
        import is scheduled for removal. None when the import must stay where it is."""
        scope = self.get_metadata(ScopeProvider, statement, None)
        if scope is None:
            return None
        global_scope = scope.globals
        assignments = [a for a in global_scope[middleware] if hasattr(a, "node")]
        if len(assignments) != 1:
            return None
        assignment = assignments[0]
        node = assignment.node
        if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
            return None
        from libcst.metadata import ParentNodeProvider

        if not isinstance(
            self.get_metadata(ParentNodeProvider, self.enclosing_statement(node), None), cst.Module
        ):
            return None  # already imported inside a block: nothing to move
        if len(assignment.references) != 1:
            return None  # still used elsewhere in the module: keep it there
        alias = next(
            (a for a in node.names if (a.evaluated_alias or a.evaluated_name) == middleware), None
        )
        if alias is None:
            return None
        # Scope analysis proved the registration is the name's only use, so the name is
        # dropped from the module-level import here (RemoveImportsVisitor would re-lay-out
        # a grouped import, and keeps a name rebound in the same scope).
        self._removals.append((node, middleware))
        local = cst.ImportFrom(
            module=node.module,
            relative=node.relative,
            names=[cst.ImportAlias(name=alias.name, asname=alias.asname)],
        )
        return cst.SimpleStatementLine(body=[local])


def _without_name(statement, import_node: cst.ImportFrom, name: str):
    """``statement`` with ``name`` dropped from ``import_node``, keeping the group's layout
    (a trailing comma and the closing parenthesis stay where they were); None when the
    statement held nothing else."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return statement
    small = []
    for node in statement.body:
        if isinstance(node, cst.ImportFrom) and node.deep_equals(import_node):
            names = list(node.names)
            index = next(i for i, a in enumerate(names) if (a.evaluated_alias or a.evaluated_name) == name)
            dropped = names.pop(index)
            if not names:
                continue
            if index == len(names):  # the last one: its comma closes the group
                names[-1] = names[-1].with_changes(comma=dropped.comma)
            node = node.with_changes(names=names)
        small.append(node)
    if not small:
        return None
    if small[-1] is not statement.body[-1] and isinstance(small[-1].semicolon, cst.Semicolon):
        small[-1] = small[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
    return statement.with_changes(body=small)


class _FlagCollector(cst.CSTVisitor):
    """Apps created in the module (with the flag they were created with) and every debug
    setting read in it."""

    def __init__(self, codemod: DebugMiddleware) -> None:
        self.codemod = codemod
        self.apps: dict[str, cst.BaseExpression | None] = {}
        self.flags: list[cst.BaseExpression] = []
        self.called: set[int] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self.codemod.refers_to(node.value.func, APP_CLASSES):
            flag = None
            for arg in node.value.args:
                if arg.keyword is not None and arg.keyword.value == "debug":
                    if isinstance(arg.value, (cst.Attribute, cst.Call, cst.Name)) and not (
                        isinstance(arg.value, cst.Name) and arg.value.value in {"True", "False"}
                    ):
                        flag = arg.value
            for target in node.targets:
                name = get_full_name_for_node(target.target)
                if name:
                    self.apps[name] = flag

    def visit_Param(self, node: cst.Param) -> None:
        if node.annotation is not None and self.codemod.refers_to(node.annotation.annotation, APP_CLASSES):
            self.apps.setdefault(node.name.value, None)

    def visit_Call(self, node: cst.Call) -> None:
        self.called.add(id(node.func))  # `logger.debug(...)` is a method, not a flag

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not _DEBUG_ATTR.match(node.attr.value) or id(node) in self.called:
            return
        root = get_full_name_for_node(node.value) or ""
        if root in self.apps or root.split(".")[0] in {"self", "cls", "logging"}:
            return
        if any(q.startswith("logging.") for q in self.codemod.qualified_names(node)):
            return
        self.flags.append(node)


EXAMPLES = [
    Rewrite(
        name="seed: timing middleware in the app factory, grouped import",
        before="""
            from fastapi import FastAPI

            from app.config import settings
            from app.middleware import (
                RequestIDMiddleware,
                RequestTimingMiddleware,
            )


            def create_app() -> FastAPI:
                app = FastAPI(debug=settings.api.debug)
                app.add_middleware(RequestIDMiddleware)
                app.add_middleware(RequestTimingMiddleware)
                return app
        """,
        after="""
            from fastapi import FastAPI

            from app.config import settings
            from app.middleware import (
                RequestIDMiddleware,
            )


            def create_app() -> FastAPI:
                app = FastAPI(debug=settings.api.debug)
                app.add_middleware(RequestIDMiddleware)
                if settings.api.debug:
                    from app.middleware import RequestTimingMiddleware

                    app.add_middleware(RequestTimingMiddleware)
                return app
        """,
    ),
    Rewrite(
        name="flag read elsewhere in the module, module-level app",
        before="""
            import fastapi
            from debug_toolbar.middleware import DebugToolbarMiddleware
            from .settings import get_settings

            app = fastapi.FastAPI(title="api")
            app.add_middleware(DebugToolbarMiddleware, panels=["sql"])
            if get_settings().DEBUG:
                print("debug mode")
        """,
        after="""
            import fastapi
            from .settings import get_settings

            app = fastapi.FastAPI(title="api")
            if get_settings().DEBUG:
                from debug_toolbar.middleware import DebugToolbarMiddleware

                app.add_middleware(DebugToolbarMiddleware, panels=["sql"])
            if get_settings().DEBUG:
                print("debug mode")
        """,
    ),
    Rewrite(
        name="already conditional: only the import moves",
        before="""
            from fastapi import FastAPI
            from app.profiling import ProfilerMiddleware

            def build(settings) -> FastAPI:
                app = FastAPI()
                if settings.debug:
                    app.add_middleware(ProfilerMiddleware)
                return app
        """,
        after="""
            from fastapi import FastAPI

            def build(settings) -> FastAPI:
                app = FastAPI()
                if settings.debug:
                    from app.profiling import ProfilerMiddleware
                    app.add_middleware(ProfilerMiddleware)
                return app
        """,
    ),
    Rewrite(
        name="name still used elsewhere: the import stays",
        before="""
            from starlette.applications import Starlette
            from app.middleware import TimingMiddleware

            app = Starlette(debug=config.DEBUG)
            app.add_middleware(TimingMiddleware)
            TimingMiddleware.threshold_ms = 50
        """,
        after="""
            from starlette.applications import Starlette
            from app.middleware import TimingMiddleware

            app = Starlette(debug=config.DEBUG)
            if config.DEBUG:
                app.add_middleware(TimingMiddleware)
            TimingMiddleware.threshold_ms = 50
        """,
    ),
    Rewrite(
        name="debug_flag option",
        options={"debug_flag": "os.environ.get('APP_DEBUG') == '1'"},
        before="""
            import os
            from fastapi import FastAPI
            from app.middleware import SQLQueryLoggerMiddleware

            app = FastAPI()
            app.add_middleware(SQLQueryLoggerMiddleware)
        """,
        after="""
            import os
            from fastapi import FastAPI

            app = FastAPI()
            if os.environ.get('APP_DEBUG') == '1':
                from app.middleware import SQLQueryLoggerMiddleware

                app.add_middleware(SQLQueryLoggerMiddleware)
        """,
    ),
    Keep(
        name="no debug flag in sight",
        code="""
            from fastapi import FastAPI
            from app.middleware import RequestTimingMiddleware

            app = FastAPI()
            app.add_middleware(RequestTimingMiddleware)
        """,
        reason="no debug setting found",
    ),
    Keep(
        name="production middleware",
        code="""
            from fastapi import FastAPI
            from fastapi.middleware.cors import CORSMiddleware
            from fastapi.middleware.gzip import GZipMiddleware

            app = FastAPI(debug=settings.debug)
            app.add_middleware(CORSMiddleware, allow_origins=["*"])
            app.add_middleware(GZipMiddleware)
        """,
    ),
    Keep(
        name="receiver is not an app it can see",
        code="""
            from app.middleware import RequestTimingMiddleware

            def install(router):
                router.add_middleware(RequestTimingMiddleware)
        """,
        reason="cannot tell",
    ),
    Keep(
        name="suppressed",
        code="""
            from fastapi import FastAPI
            from app.middleware import RequestTimingMiddleware

            app = FastAPI(debug=settings.debug)
            app.add_middleware(RequestTimingMiddleware)  # optimize: ignore[debug-middleware]
        """,
        reason="suppressed",
    ),
    Keep(
        name="already conditional with a local import",
        code="""
            from fastapi import FastAPI

            def build(settings) -> FastAPI:
                app = FastAPI()
                if settings.debug:
                    from app.profiling import ProfilerMiddleware
                    app.add_middleware(ProfilerMiddleware)
                return app
        """,
    ),
]
DebugMiddleware.EXAMPLES = EXAMPLES
