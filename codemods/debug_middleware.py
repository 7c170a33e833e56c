"""## What it does
An `app.add_middleware(M, ...)` whose middleware is a debug, profiling or timing middleware
(its class name matches the configured patterns) and that is registered unconditionally is
wrapped in `if <debug flag>:`. Its module-level import moves inside the block (a lazy
import): just that name leaves a grouped `from x import (A, B, C)` (LibCST's
`RemoveImportsVisitor`, the group's layout kept), and the import stays where it is when the
name is still used elsewhere in the module (LibCST scope analysis), e.g. a middleware
registered twice or configured after registration. `import x` + `x.M` moves `import x`
only when the registration is x's only use. A middleware already under `if <debug flag>:`
only gets its import moved.

## Why is this bad?
Every middleware runs on every request; a debug or timing middleware (often a
`BaseHTTPMiddleware`, which adds a task and a stream wrapper per request) costs latency in
production where nobody reads its output, and importing it pulls debugging code into
every worker at start-up.

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
Safe when the debug flag is found, in this order: the `debug_flag` option (an expression,
parsed, never evaluated); the one debug setting read in the same function, then in the
module: an attribute chain ending in `debug`/`DEBUG` (`settings.api.debug`,
`settings.DEBUG`, `get_settings().debug`) whose head is a module-level name and that the
repository index resolves to a bool field of a settings class; else `app.debug` when the
app was created with a non-literal `FastAPI(debug=...)`/`Starlette(debug=...)`; else the one
bool field named `debug`/`DEBUG` of the settings objects the module names
(`analyzers/settings_lookup.py::settings_flags`): an instance of a pydantic `BaseSettings`
subclass (`from app.core.config import settings`, relative imports and package re-exports
included, or `settings = Settings()` in the module) or a function that builds one
(`get_settings`, used as `get_settings().DEBUG`), directly or through nested settings
fields (`settings.api.debug`), fields inherited from base classes in the repository
included. `settings.DEBUG` and `get_settings().DEBUG` are one field (the instance is used).
The settings class itself is not a settings object (its attributes are the defaults). The
name must be the module-level one where the middleware is registered (not a parameter or a
local of the same name, bound once, and bound before a module-level registration). With no
flag, two different ones read, two candidate fields (`settings.DEBUG` and
`settings.api.debug`), or a debug attribute the module reads that the index cannot place
(`config.DEBUG`) beside the candidate, it reports instead of guessing. A flag found this way
is named in the rationale with the field it reads.

## Preconditions
- The receiver is a FastAPI or Starlette application created in the module
  (`app = FastAPI(...)`, through any import alias) or a parameter annotated as one.
- The middleware class name matches `middleware_patterns`.
- The registration is not under another condition on the debug flag: a middleware under
  `if not settings.api.debug:` (or an `else:` branch of the debug check) is refused, not
  nested: it is registered on purpose outside debug, and wrapping it would invert intent.
- A lazy import is made only for a module-level `from x import M` / `import x` whose only
  use in the module is this registration.

## What it refuses
```python
app = FastAPI()
app.add_middleware(RequestTimingMiddleware)
```
`skipped: no debug setting found for RequestTimingMiddleware; set
[tool.optimize.debug-middleware] debug_flag`. With a settings class that has both `DEBUG`
and `api.debug`: `skipped: ambiguous debug setting (settings.DEBUG or settings.api.debug)
for TimingMiddleware; ...`; with two read: `skipped: two debug settings are read in the
function (other_settings.debug, settings.debug) ...`. Also refused: a `debug` attribute the index
cannot tie to a settings class (`def create_app(settings): ... settings.debug`), a
receiver it cannot identify as an app (`router.add_middleware(...)` on a parameter of
unknown type), a registration under a negated or `else` debug condition,
`# optimize: ignore[debug-middleware]`. Production middleware (`CORSMiddleware`,
`GZipMiddleware`) does not match the patterns and is not reported.

## Options
```toml
[tool.optimize.debug-middleware]
middleware_patterns = ["*Debug*", "*Profil*", "*Timing*", "*Timer*", "*QueryLogger*", "*ProcessTime*"]
debug_flag = "settings.DEBUG"   # an expression, parsed and never evaluated
```
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst
from libcst.codemod.visitors import RemoveImportsVisitor
from libcst.helpers import get_full_name_for_node
from libcst.metadata import (
    ExpressionContext,
    ExpressionContextProvider,
    GlobalScope,
    ScopeProvider,
)
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.settings_lookup import SettingsFlag, resolve_setting, settings_flags
from optimize.analyzers.values import from_package
from optimize.codemods.base import Codemod, Keep, Rewrite, dotted_chain
from optimize.codemods.options import expression_or_empty, non_empty_strings

APP_CLASSES = {
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
    "starlette.Starlette",
}
DEBUG_FIELDS = {"debug", "DEBUG"}
# The test of an `if` that already guards a registration with the debug flag.
_DEBUG_TEST = re.compile(r"^[A-Za-z_][\w.()]*\.(debug|DEBUG)$|^(debug|DEBUG)$")


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)




@dataclass(frozen=True)
class _Flag:
    """The expression a registration is put under, and where it was found when the module
    did not read it itself (for the rationale)."""

    expression: cst.BaseExpression
    origin: str = ""


def _preferred(flags: list[SettingsFlag]) -> SettingsFlag:
    """Of the chains that read one field, the instance (`settings.DEBUG`) over a call
    (`get_settings().DEBUG`), then the first by name."""
    return min(flags, key=lambda f: ("()" in f.chain, f.chain))


def _head(node: cst.BaseExpression) -> cst.Name | None:
    while isinstance(node, (cst.Attribute, cst.Call)):
        node = node.value if isinstance(node, cst.Attribute) else node.func
    return node if isinstance(node, cst.Name) else None


class DebugMiddleware(Codemod):
    ID = "debug-middleware"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_debug_middleware.py",
        "tests/analyzers/test_settings_lookup.py",
        "tests/codemods/test_engine_claims.py::test_rewritten_app_registers_debug_middleware_only_in_debug",
    )
    TITLE = "register debug middleware only under the debug setting, imported lazily"
    CONDITIONS = "debug/profiling/timing middleware on a FastAPI/Starlette app; debug flag found"
    DESCRIPTION = "Wrap debug middleware registration in the debug flag, with a lazy import."
    TRIGGERS = (b"add_middleware",)
    OPTIONS = {
        "middleware_patterns": ["*Debug*", "*Profil*", "*Timing*", "*Timer*", "*QueryLogger*", "*ProcessTime*"],
        "debug_flag": "",
    }
    # The flag is inserted as `if <debug_flag>:`; a typo would fail in every file.
    OPTION_CHECKS = {"middleware_patterns": non_empty_strings, "debug_flag": expression_or_empty}
    METADATA_DEPENDENCIES = (*Codemod.METADATA_DEPENDENCIES, ScopeProvider, ExpressionContextProvider)
    EFFECT = "the middleware no longer runs on every production request"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """Every case registers a middleware whose name matches the patterns."""
        facts = index.facts.get(path)
        if not cls.applies(source, index):
            return False
        if facts is None:
            return True
        patterns = (options or {}).get("middleware_patterns", cls.OPTIONS["middleware_patterns"])
        return any(fnmatch.fnmatchcase(name, p) for name in facts.middleware_added for p in patterns)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.patterns = list(self.options["middleware_patterns"])
        self._flags: list[tuple[cst.FunctionDef | None, cst.Attribute]] = []
        self._apps: dict[str, bool] = {}  # app name -> created with a non-literal debug=
        self._removals: list[tuple[cst.ImportFrom, str]] = []
        self._commas: dict[tuple[str, str], cst.Comma] = {}  # (module, dropped name) -> comma
        self._scope_flags: list[SettingsFlag] | None = None  # computed on first need

    # --- module pre-pass: the app objects and the debug flags in sight ---------------------

    def visit_Module(self, node: cst.Module) -> None:
        collector = _FlagCollector(self)
        node.visit(collector)
        self._flags = collector.flags
        self._apps = collector.apps

    def _flag_for(self, app_name: str, function: cst.FunctionDef | None, call: cst.Call) -> _Flag | str:
        """The debug flag: the option; else the one bool `debug` setting read in the
        function, then in the module; else `app.debug` for an app built with `debug=`;
        else the one bool debug field of the settings objects the module names. A string
        says why there is none."""
        if self.options["debug_flag"]:
            return _Flag(cst.parse_expression(self.options["debug_flag"]))
        for scope in ((function,) if function is not None else ()), None:
            nodes = [n for f, n in self._flags if scope is None or f in scope]
            found = {_code(n): n for n in nodes if self._is_debug_setting(n)}
            if len(found) == 1:
                return _Flag(next(iter(found.values())).deep_clone())
            if len(found) > 1:  # two different flags: not ours to choose
                return f"two debug settings are read {'in the function' if scope else 'in the module'} ({', '.join(sorted(found))})"
        if self._apps.get(app_name):
            return _Flag(cst.parse_expression(f"{app_name}.debug"))
        return self._flag_in_scope(call)

    def _flag_in_scope(self, call: cst.Call) -> _Flag | str:
        """The one bool `debug`/`DEBUG` field of the settings objects (`settings`,
        `get_settings()`) that the module names and that the registration can see."""
        if self._scope_flags is None:
            self._scope_flags = settings_flags(self.index, self.path, DEBUG_FIELDS, self.module.code)
        flags: dict[tuple[str, tuple[str, ...]], list[SettingsFlag]] = {}
        for flag in self._scope_flags:
            if self._visible(flag.head, call):
                # `settings.DEBUG` and `get_settings().DEBUG` read the same field.
                flags.setdefault((flag.root, flag.attributes), []).append(flag)
        if not flags:
            return "no debug setting found"
        if len(flags) > 1:
            chains = sorted(_preferred(group).chain for group in flags.values())
            return f"ambiguous debug setting ({' or '.join(chains)})"
        flag = _preferred(next(iter(flags.values())))
        # A debug attribute the module reads but the index cannot place (`config.DEBUG`)
        # may be the application's real switch: not ours to overrule.
        unplaced = sorted(
            {
                _code(node)
                for _, node in self._flags
                if self.get_metadata(ExpressionContextProvider, node, None) is ExpressionContext.LOAD
                and not self._is_debug_setting(node)
            }
        )
        if unplaced:
            return (
                f"the module reads {', '.join(unplaced)}, which the index cannot tie to a settings "
                f"class, besides {flag.chain}"
            )
        field = flag.field
        root = flag.root.rsplit(".", 1)[-1]
        return _Flag(
            cst.parse_expression(flag.chain),
            f"; {flag.chain} is {root}.{'.'.join(flag.attributes)} ({field.path}:{field.line}), "
            "the one bool debug field of the settings in scope",
        )

    def _visible(self, head: str, call: cst.Call) -> bool:
        """Whether ``head`` at ``call`` is the module-level name, bound once and, for a
        registration at module level, before it."""
        scope = self.get_metadata(ScopeProvider, call, None)
        if scope is None:
            return False
        assignments = list(scope[head])
        if len(assignments) != 1 or not isinstance(assignments[0].scope, GlobalScope):
            return False  # a parameter or local named like the settings object, or rebound
        if isinstance(scope, GlobalScope):
            bound = getattr(assignments[0], "node", None)
            return bound is not None and 0 < self.line_of(bound) < self.line_of(call)
        return True

    def _is_debug_setting(self, node: cst.Attribute) -> bool:
        """A chain whose head is a module-level name and that the index resolves to a bool
        field of a settings class."""
        chain, head = dotted_chain(node), _head(node)
        if chain is None or head is None:
            return False
        scope = self.get_metadata(ScopeProvider, head, None)
        if scope is None:
            return False
        assignments = list(scope[head.value])
        if not assignments or not all(isinstance(a.scope, GlobalScope) for a in assignments):
            return False  # a parameter or local named like the settings object
        field = resolve_setting(self.index, self.path, chain, self.module.code).field
        return field is not None and (field.annotation == "bool" or isinstance(field.value, bool))

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

    def transform_module(self, tree: cst.Module) -> cst.Module:
        # RemoveImportsVisitor runs after the rewrite; it drops the trailing comma of a
        # parenthesised group when it removes the last name: the group keeps its layout.
        result = super().transform_module(tree)
        if not self._commas:
            return result
        return result.visit(_CommaRestorer(self._commas, self.context.full_package_name))

    def _rewrite_body(self, owner, originals, updates):
        body: list[cst.BaseStatement] = []
        condition = self._debug_condition(owner)
        for orig, upd in zip(originals, updates):
            registration = self._registration(orig)
            if registration is None:
                body.append(upd)
                continue
            app_name, middleware, call = registration
            if condition == "other":
                self.refuse(
                    call,
                    f"skipped: {middleware} is registered under a condition on the debug flag "
                    "that is not a plain check (a negation or an else branch)",
                )
                body.append(upd)
                continue
            if condition == "debug":
                lazy = self._lazy_import(orig, call.args[0].value)
                if lazy is None or not self.record(
                    call, f"{middleware} is only used under the debug condition: imported lazily there"
                ):
                    body.append(upd)
                    continue
                statement, schedule = lazy
                schedule()
                body.extend([statement.with_changes(leading_lines=upd.leading_lines), upd.with_changes(leading_lines=[])])
                continue
            flag = self._flag_for(app_name, self._function_of(owner), call)
            if isinstance(flag, str):
                self.refuse(
                    call,
                    f"skipped: {flag} for {middleware}; set [tool.optimize.debug-middleware] debug_flag",
                )
                body.append(upd)
                continue
            lazy = self._lazy_import(orig, call.args[0].value)
            if not self.record(
                call,
                f"{middleware} registered only when {_code(flag.expression)}"
                + (" and imported lazily" if lazy is not None else "")
                + flag.origin,
            ):
                body.append(upd)
                continue
            inner = [upd.with_changes(leading_lines=[])]
            if lazy is not None:
                statement, schedule = lazy
                schedule()
                inner = [statement, inner[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])]
            body.append(
                cst.If(test=flag.expression, body=cst.IndentedBlock(body=inner), leading_lines=upd.leading_lines)
            )
        return body

    def _function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        while node is not None and not isinstance(node, cst.FunctionDef):
            node = self.get_metadata(ParentNodeProvider, node, None)
        return node

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
        if app_name not in self._apps:
            self.refuse(call, f"skipped: cannot tell that {app_name or 'the receiver'} is a FastAPI/Starlette app")
            return None
        return app_name, short, call

    def _debug_condition(self, owner) -> str | None:
        """"debug" when ``owner`` is the body of `if <debug flag>:`, "other" when it sits
        under any other condition that mentions debug (`if not settings.debug:`, `else:`)."""
        node = owner
        while node is not None and not isinstance(node, cst.Module):
            parent = self.get_metadata(ParentNodeProvider, node, None)
            if isinstance(parent, (cst.If, cst.Else)):
                branch = parent
                if isinstance(parent, cst.Else):
                    branch = self.get_metadata(ParentNodeProvider, parent, None)
                test = _code(branch.test) if isinstance(branch, cst.If) else ""
                if "debug" in test.lower():
                    plain = parent is branch and node is branch.body and _DEBUG_TEST.match(test.strip())
                    if plain and node is owner:
                        return "debug"
                    return "other"
            if isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
                return None
            node = parent
        return None

    # --- the lazy import ---------------------------------------------------------------------

    def _lazy_import(
        self, statement, middleware: cst.BaseExpression
    ) -> tuple[cst.SimpleStatementLine, Callable[[], None]] | None:
        """The import to put inside the conditional when the registration is the only use of
        the module-level import that brings the middleware (`from x import M` for `M`,
        `import x` for `x.M`), and what schedules that import's removal (called once the
        change is recorded). None: imports stay."""
        head = middleware if isinstance(middleware, cst.Name) else None
        if isinstance(middleware, cst.Attribute) and isinstance(middleware.value, cst.Name):
            head = middleware.value
        if head is None:
            return None
        scope = self.get_metadata(ScopeProvider, statement, None)
        if scope is None:
            return None
        assignments = [a for a in scope.globals[head.value] if hasattr(a, "node")]
        if len(assignments) != 1 or len(assignments[0].references) != 1:
            return None  # rebound, or used elsewhere in the module: the import stays
        node = assignments[0].node
        if not isinstance(self.get_metadata(ParentNodeProvider, self.enclosing_statement(node), None), cst.Module):
            return None  # not a module-level import: nothing to move
        if isinstance(node, cst.ImportFrom) and head is middleware and not isinstance(node.names, cst.ImportStar):
            alias = next((a for a in node.names if (a.evaluated_alias or a.evaluated_name) == head.value), None)
            if alias is None:
                return None
            local = cst.ImportFrom(
                module=node.module,
                relative=node.relative,
                names=[cst.ImportAlias(name=alias.name, asname=alias.asname)],
            )
            return cst.SimpleStatementLine(body=[local]), lambda: self._schedule(node, alias, statement)
        if isinstance(node, cst.Import) and head is not middleware:
            alias = next((a for a in node.names if (a.evaluated_alias or a.evaluated_name) == head.value), None)
            if alias is None:
                return None
            local = cst.Import(names=[cst.ImportAlias(name=alias.name, asname=alias.asname)])
            return cst.SimpleStatementLine(body=[local]), lambda: self._schedule(node, alias, statement)
        return None

    def _schedule(self, node, alias: cst.ImportAlias, statement) -> None:
        """Drop ``alias`` from the module-level ``node`` once the rewrite is done."""
        name = alias.evaluated_alias or alias.evaluated_name
        in_function = self._function_of(statement) is not None
        if in_function and isinstance(node, cst.ImportFrom):
            # The lazy import binds the name in the function's scope, so the module-level
            # one is unused afterwards: LibCST's visitor proves that again and removes it.
            module = ("." * len(node.relative)) + (get_full_name_for_node(node.module) or "")
            module = from_package(self.context.full_package_name or "", module) if node.relative else module
            self._commas[(module, name)] = alias.comma
            RemoveImportsVisitor.remove_unused_import(self.context, module, alias.evaluated_name, alias.evaluated_alias)
        elif in_function:
            RemoveImportsVisitor.remove_unused_import(self.context, alias.evaluated_name, asname=alias.evaluated_alias)
        else:
            # A lazy import inside a module-level `if` shares the module's scope, where
            # LibCST's visitor would count its use against the old import: drop it here.
            self._removals.append((node, name))


class _CommaRestorer(cst.CSTTransformer):
    """Gives a parenthesised `from x import (...)` whose last name was removed the trailing
    comma (and line break) the removed name had."""

    def __init__(self, commas: dict[tuple[str, str], cst.Comma], package: str | None) -> None:
        self.by_module: dict[str, cst.Comma] = {m: c for (m, _), c in commas.items()}
        self.package = package

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom) -> cst.ImportFrom:
        if updated.lpar is None or isinstance(updated.names, cst.ImportStar):
            return updated
        module = "." * len(updated.relative) + (get_full_name_for_node(updated.module) or "")
        comma = self.by_module.get(from_package(self.package or "", module) if updated.relative else module)
        last = updated.names[-1]
        if comma is None or not isinstance(comma, cst.Comma) or isinstance(last.comma, cst.Comma):
            return updated
        return updated.with_changes(names=[*updated.names[:-1], last.with_changes(comma=comma)])


def _without_name(statement, import_node: cst.Import | cst.ImportFrom, name: str):
    """``statement`` with ``name`` dropped from ``import_node``, keeping the group's layout
    (a trailing comma and the closing parenthesis stay where they were); None when the
    statement held nothing else."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return statement
    small = []
    for node in statement.body:
        if isinstance(node, (cst.Import, cst.ImportFrom)) and node.deep_equals(import_node):
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
    """Apps created in the module (and whether with a non-literal `debug=`), and every
    attribute read named `debug`/`DEBUG` with the function it is read in."""

    def __init__(self, codemod: DebugMiddleware) -> None:
        self.codemod = codemod
        self.apps: dict[str, bool] = {}
        self.flags: list[tuple[cst.FunctionDef | None, cst.Attribute]] = []
        self.functions: list[cst.FunctionDef] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.functions.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()

    def visit_Assign(self, node: cst.Assign) -> None:
        if isinstance(node.value, cst.Call) and self.codemod.refers_to(node.value.func, APP_CLASSES):
            debug = next(
                (a.value for a in node.value.args if a.keyword is not None and a.keyword.value == "debug"),
                None,
            )
            flagged = debug is not None and not (
                isinstance(debug, cst.Name) and debug.value in {"True", "False"}
            )
            for target in node.targets:
                name = get_full_name_for_node(target.target)
                if name:
                    self.apps[name] = flagged

    def visit_Param(self, node: cst.Param) -> None:
        if node.annotation is not None and self.codemod.refers_to(node.annotation.annotation, APP_CLASSES):
            self.apps.setdefault(node.name.value, False)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in DEBUG_FIELDS:
            self.flags.append((self.functions[-1] if self.functions else None, node))


CONFIG = """
    from functools import lru_cache
    from pydantic import BaseModel
    from pydantic_settings import BaseSettings

    class ApiSettings(BaseModel):
        title: str = "api"
        debug: bool = False

    class Settings(BaseSettings):
        DEBUG: bool = False
        api: ApiSettings = ApiSettings()

    @lru_cache
    def get_settings() -> Settings:
        return Settings()

    settings = get_settings()
"""

# `DEBUG: bool = False` on a BaseSettings class, bound once at import (`app/core/config.py`).
SETTINGS_INSTANCE = """
    from pydantic_settings import BaseSettings, SettingsConfigDict

    class Settings(BaseSettings):
        model_config = SettingsConfigDict(env_file=".env")

        PROJECT_NAME: str = "api"
        CORS_ORIGINS: list[str] = []
        DEBUG: bool = False

    settings = Settings()
"""

# The same field behind a cached factory, no module-level instance.
SETTINGS_FUNCTION = """
    from functools import lru_cache
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        DEBUG: bool = False

    @lru_cache
    def get_settings() -> Settings:
        return Settings()
"""

# A lower-case flag one level down: `settings.api.debug`.
SETTINGS_NESTED = """
    from pydantic import BaseModel
    from pydantic_settings import BaseSettings

    class ApiSettings(BaseModel):
        title: str = "api"
        debug: bool = False

    class Settings(BaseSettings):
        api: ApiSettings = ApiSettings()

    settings = Settings()
"""

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
                app = FastAPI(title=settings.api.title, debug=settings.api.debug)
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
                app = FastAPI(title=settings.api.title, debug=settings.api.debug)
                app.add_middleware(RequestIDMiddleware)
                if settings.api.debug:
                    from app.middleware import RequestTimingMiddleware

                    app.add_middleware(RequestTimingMiddleware)
                return app
        """,
        files={"app/config.py": CONFIG},
    ),
    Rewrite(
        name="flag read elsewhere in the module, module-level app",
        before="""
            import fastapi
            from debug_toolbar.middleware import DebugToolbarMiddleware
            from app.config import get_settings

            app = fastapi.FastAPI(title="api")
            app.add_middleware(DebugToolbarMiddleware, panels=["sql"])
            if get_settings().DEBUG:
                print("debug mode")
        """,
        after="""
            import fastapi
            from app.config import get_settings

            app = fastapi.FastAPI(title="api")
            if get_settings().DEBUG:
                from debug_toolbar.middleware import DebugToolbarMiddleware

                app.add_middleware(DebugToolbarMiddleware, panels=["sql"])
            if get_settings().DEBUG:
                print("debug mode")
        """,
        files={"app/config.py": CONFIG},
    ),
    Rewrite(
        name="import x and x.M: the module import moves",
        before="""
            from fastapi import FastAPI
            import pyinstrument_middleware
            from app.config import settings

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(pyinstrument_middleware.ProfilerMiddleware)
                if settings.DEBUG:
                    app.state.verbose = True
                return app
        """,
        after="""
            from fastapi import FastAPI
            from app.config import settings

            def create_app() -> FastAPI:
                app = FastAPI()
                if settings.DEBUG:
                    import pyinstrument_middleware

                    app.add_middleware(pyinstrument_middleware.ProfilerMiddleware)
                if settings.DEBUG:
                    app.state.verbose = True
                return app
        """,
        files={"app/config.py": CONFIG},
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
        name="app built with debug=: app.debug; name used elsewhere, so the import stays",
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
            if app.debug:
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
    Rewrite(
        name="flag from the settings instance the module imports",
        before="""
            from fastapi import FastAPI
            from starlette.middleware.cors import CORSMiddleware

            from app.core.config import settings
            from app.middleware.timing import ProcessTimeMiddleware


            def create_app() -> FastAPI:
                app = FastAPI(title=settings.PROJECT_NAME)
                app.add_middleware(CORSMiddleware, allow_origins=settings.CORS_ORIGINS)
                app.add_middleware(ProcessTimeMiddleware)
                return app
        """,
        after="""
            from fastapi import FastAPI
            from starlette.middleware.cors import CORSMiddleware

            from app.core.config import settings


            def create_app() -> FastAPI:
                app = FastAPI(title=settings.PROJECT_NAME)
                app.add_middleware(CORSMiddleware, allow_origins=settings.CORS_ORIGINS)
                if settings.DEBUG:
                    from app.middleware.timing import ProcessTimeMiddleware

                    app.add_middleware(ProcessTimeMiddleware)
                return app
        """,
        files={"app/core/config.py": SETTINGS_INSTANCE},
    ),
    Rewrite(
        name="flag from get_settings()",
        before="""
            from fastapi import FastAPI
            from app.core.config import get_settings
            from app.middleware import RequestTimerMiddleware

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(RequestTimerMiddleware)
                return app
        """,
        after="""
            from fastapi import FastAPI
            from app.core.config import get_settings

            def create_app() -> FastAPI:
                app = FastAPI()
                if get_settings().DEBUG:
                    from app.middleware import RequestTimerMiddleware

                    app.add_middleware(RequestTimerMiddleware)
                return app
        """,
        files={"app/core/config.py": SETTINGS_FUNCTION},
    ),
    Rewrite(
        name="flag from a relatively imported settings instance",
        before="""
            from fastapi import FastAPI
            from .core.config import settings
            from .middleware import ProfilerMiddleware

            app = FastAPI(title=settings.PROJECT_NAME)
            app.add_middleware(ProfilerMiddleware)
        """,
        after="""
            from fastapi import FastAPI
            from .core.config import settings

            app = FastAPI(title=settings.PROJECT_NAME)
            if settings.DEBUG:
                from .middleware import ProfilerMiddleware

                app.add_middleware(ProfilerMiddleware)
        """,
        files={"app/core/config.py": SETTINGS_INSTANCE},
    ),
    Rewrite(
        name="nested flag from the settings instance, lower-case field",
        before="""
            from fastapi import FastAPI
            from app.config import settings
            from app.middleware import TimingMiddleware

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                return app
        """,
        after="""
            from fastapi import FastAPI
            from app.config import settings

            def create_app() -> FastAPI:
                app = FastAPI()
                if settings.api.debug:
                    from app.middleware import TimingMiddleware

                    app.add_middleware(TimingMiddleware)
                return app
        """,
        files={"app/config.py": SETTINGS_NESTED},
    ),
    Keep(
        name="two candidate flags on the settings in scope",
        code="""
            from fastapi import FastAPI
            from app.config import settings
            from app.middleware import TimingMiddleware

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                return app
        """,
        reason="ambiguous debug setting (settings.DEBUG or settings.api.debug)",
        files={"app/config.py": CONFIG},
    ),
    Keep(
        name="the settings name is shadowed by a parameter",
        code="""
            from fastapi import FastAPI
            from app.core.config import settings
            from app.middleware import TimingMiddleware

            def create_app(settings: object) -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                return app
        """,
        reason="no debug setting found",
        files={"app/core/config.py": SETTINGS_INSTANCE},
    ),
    Keep(
        name="only the settings class is imported: its attributes are defaults",
        code="""
            from fastapi import FastAPI
            from app.core.config import Settings
            from app.middleware import TimingMiddleware

            app = FastAPI()
            app.add_middleware(TimingMiddleware)
        """,
        reason="no debug setting found",
        files={"app/core/config.py": SETTINGS_INSTANCE},
    ),
    Keep(
        name="the module also reads a debug attribute the index cannot place",
        code="""
            from fastapi import FastAPI
            from app.core.config import settings
            from app.middleware import TimingMiddleware

            def create_app(config) -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                app.state.verbose = config.DEBUG
                return app
        """,
        reason="the module reads config.DEBUG, which the index cannot tie to a settings class",
        files={"app/core/config.py": SETTINGS_INSTANCE},
    ),
    Keep(
        name="a settings-like object that is not a BaseSettings",
        code="""
            from fastapi import FastAPI
            from app.state import runtime
            from app.middleware import TimingMiddleware

            app = FastAPI()
            app.add_middleware(TimingMiddleware)
        """,
        reason="no debug setting found",
        files={
            "app/state.py": """
                class Runtime:
                    debug: bool = False

                runtime = Runtime()
            """,
        },
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
        name="a debug attribute the index cannot tie to a settings class",
        code="""
            from fastapi import FastAPI
            from app.middleware import RequestTimingMiddleware

            def create_app(settings) -> FastAPI:
                app = FastAPI()
                app.add_middleware(RequestTimingMiddleware)
                app.state.debug = settings.debug
                return app
        """,
        reason="no debug setting found",
        files={"app/config.py": CONFIG},
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
        name="under a negated debug condition",
        code="""
            from fastapi import FastAPI
            from app.config import settings
            from app.middleware import TimingMiddleware

            def create_app() -> FastAPI:
                app = FastAPI(debug=settings.api.debug)
                if not settings.api.debug:
                    app.add_middleware(TimingMiddleware)
                return app
        """,
        reason="not a plain check",
        files={"app/config.py": CONFIG},
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
