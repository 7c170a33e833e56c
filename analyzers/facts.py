"""Facts gathered from one module's `ast`: the unit the repository index caches.

Names are resolved through the module's own imports, so a call written `manager.broadcast(...)`
after `from app.ws import manager` is recorded as `app.ws.manager.broadcast`. The facts of a
file depend on nothing but its path and text: its own definitions and the targets of its
relative imports are named by path (`src/app/models.py` defines `src.app.models.Task`;
`from .db import Base` there is `src.app.db.Base`), and the index's `ModuleMap` knows each
file by that name as well as by the names an import spells (`app.models`).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from optimize.analyzers.pickling import interning_keys, pickled_by_fields
from optimize.analyzers.blocking import blocking_function, blocking_session_call
from optimize.analyzers.bound_reads import provable_reads
from optimize.analyzers.annotations import TypeRef, dotted, read_annotation
from optimize.analyzers.query_shapes import QueryShapes, query_shapes
from optimize.analyzers.walk import Nodes, scopes_around, walk, with_enclosing
from optimize.analyzers.engine_factories import ENGINE_FACTORIES
from optimize.analyzers.calls import CallSite, SiteScanner, is_route, name_uses
from optimize.analyzers.models import ModelInfo, model_info, table_indexes
from optimize.analyzers.modules import path_name, relative_path_name
from optimize.analyzers.tasks import drops_task, loop_names, may_drop_task


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SettingsField:
    """A class-level field with a literal default, e.g. ``max_overflow: int = 5``."""

    path: str
    cls: str
    name: str
    value: object
    line: int


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ClassField:
    """Any class-level field: ``name: T = value`` or ``name = value``."""

    path: str
    cls: str
    name: str
    annotation: str | None
    value: object
    has_literal: bool
    line: int


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SessionFactory:
    path: str
    name: str  # the name it is bound to ("" for an inline `AsyncSession(...)`)
    qualname: str
    kind: str  # sessionmaker | async_sessionmaker | Session | AsyncSession
    expire_on_commit: bool | None  # None: not a literal


@pickled_by_fields
@dataclass(slots=True)
class FunctionInfo:
    qualname: str  # module.func or module.Class.method
    path: str
    line: int
    is_async: bool
    # Filled in while the body is scanned, then frozen (`freeze`): tuples and frozensets,
    # the empty ones shared, take a fraction of the memory of a thousand files' lists.
    calls: Collection[str] = field(default_factory=set)  # resolved dotted names of callees
    sends: Sequence[str] = field(default_factory=list)  # e.g. "websocket.send_json"
    # `publish`/`emit` on a name imported from another module: a send when the index finds
    # that module's instance built by a pub/sub library, e.g. "app.core.redis.client.publish".
    imported_sends: Sequence[str] = field(default_factory=list)
    # Calls that block the thread and are not awaited (`analyzers.blocking`), with their
    # lines: ("time.sleep", 12), ("db.query(...)", 14).
    blocking: Sequence[tuple[str, int]] = field(default_factory=list)
    receives: Sequence[str] = field(default_factory=list)  # e.g. "conn.websocket.receive_text"
    writes: Sequence[str] = field(default_factory=list)  # e.g. "db.commit"
    returns: TypeRef | None = None  # the return annotation, as the module resolves its class
    route: bool = False  # decorated as an endpoint (`@router.post(...)`)
    decorated: bool = False  # any decorator: a route, a CLI command, a task, registered somewhere
    sites: Sequence[CallSite] = field(default_factory=list)  # its calls, in order

    def freeze(self) -> None:
        self.calls = tuple(sorted(self.calls))  # read in order; a tuple is a fraction of a set
        self.sends, self.imported_sends, self.blocking = tuple(self.sends), tuple(self.imported_sends), tuple(self.blocking)
        self.receives, self.writes, self.sites = tuple(self.receives), tuple(self.writes), tuple(self.sites)


# Sending to websocket clients or a pub/sub channel. The Starlette WebSocket methods
# (`send_json`, `send_text`, `send_bytes`) and `broadcast` say what they are by name. A
# plain `send` is one only on a parameter typed as a WebSocket: `aiosmtplib.send(message)`
# (an email), `cdp_session.send("Page.navigate")` or an HTTP client's `send(request)` are
# calls whose outcome the caller must hear about. `publish` and `emit` are one only on a
# client of a pub/sub library (redis, socket.io, broadcaster), known from the receiver's
# annotation or constructor: a message-queue publish (a job enqueued with aio-pika or NATS)
# or an in-process event bus, whose handlers may write, are not.
SEND_METHODS = {"send_json", "send_text", "send_bytes", "broadcast"}
WEBSOCKET_SEND = "send"
WEBSOCKET_TYPES = frozenset({
    "fastapi.WebSocket", "starlette.websockets.WebSocket", "fastapi.websockets.WebSocket",
})
PUBSUB_METHODS = {"publish", "emit"}
PUBSUB_LIBRARIES = frozenset({"redis", "aioredis", "coredis", "socketio", "broadcaster"})


def is_pubsub_type(qualname: str | None) -> bool:
    """A class or factory of a pub/sub library: `redis.asyncio.Redis`,
    `redis.asyncio.from_url`, `socketio.AsyncServer`, `broadcaster.Broadcast`."""
    return bool(qualname) and qualname.split(".", 1)[0] in PUBSUB_LIBRARIES


# Waiting for input (Starlette's WebSocket, streams): a function that does is a listener
# that must run while its caller holds the connection, never a broadcast.
RECEIVE_METHODS = {
    "receive", "receive_text", "receive_json", "receive_bytes", "iter_text", "iter_json", "iter_bytes",
}
# Always a database write; `add`/`delete`/`merge` only on a receiver that is also flushed
# or committed in the function (sets have `.add` too).
WRITE_METHODS = {"commit", "flush", "add_all", "bulk_save_objects"}
SESSION_WRITE_METHODS = {"add", "delete", "merge"}
_WRITE_STATEMENTS = {"insert", "update", "delete"}
EXECUTE_METHODS = {"execute", "exec", "execute_many", "executemany", "executescript"}


def _statement_kind(statement: ast.AST) -> str:
    """`select`, `update`, `insert`, `delete` for a statement chain (`sa.update(T).where(...)`)
    or `text("...")` by its first word; `?` when it cannot be told."""
    node = statement
    while isinstance(node, ast.Call):
        called = (dotted(node.func) or "").rsplit(".", 1)[-1]
        if called in _WRITE_STATEMENTS | {"select"}:
            return called
        if called == "text" and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            words = node.args[0].value.split(None, 1)
            return words[0].lower() if words and words[0].lower() in _WRITE_STATEMENTS | {"select"} else "?"
        if not isinstance(node.func, ast.Attribute):
            return "?"
        node = node.func.value
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        words = node.value.split(None, 1)
        return words[0].lower() if words and words[0].lower() in _WRITE_STATEMENTS | {"select"} else "?"
    return "?"
FACTORY_KINDS = {
    "sqlalchemy.orm.sessionmaker": "sessionmaker",
    "sqlalchemy.orm.session.sessionmaker": "sessionmaker",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "async_sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": "async_sessionmaker",
    "sqlalchemy.orm.Session": "Session",
    "sqlalchemy.orm.session.Session": "Session",
    "sqlmodel.Session": "Session",
    "sqlalchemy.ext.asyncio.AsyncSession": "AsyncSession",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession": "AsyncSession",
}


@interning_keys("name_uses", "imports")
@pickled_by_fields
@dataclass(slots=True)
class FileFacts:
    path: str
    module: str = ""
    imports: dict[str, str] = field(default_factory=dict)  # local name -> qualified name
    models: dict[str, ModelInfo] = field(default_factory=dict)  # mapped by themselves
    classes: dict[str, ModelInfo] = field(default_factory=dict)  # every class, with its bases
    settings_fields: list[SettingsField] = field(default_factory=list)
    class_fields: list[ClassField] = field(default_factory=list)
    session_factories: list[SessionFactory] = field(default_factory=list)
    functions: dict[str, FunctionInfo] = field(default_factory=dict)  # qualname -> info
    instances: dict[str, str] = field(default_factory=dict)  # module-level name -> class qualname
    name_uses: dict[str, int] = field(default_factory=dict)  # identifier -> times read
    depends: set[str] = field(default_factory=set)  # what `Depends(f)` / `Security(f)` name, resolved
    engine_calls: int = 0  # calls of `create_engine` / `create_async_engine` (`ENGINE_FACTORIES`)
    engine_call_lines: tuple[int, ...] = ()  # the lines those calls start on
    # Names assigned at module level or in a class body (`max_overflow = 5`, settings fields).
    assigned_names: frozenset[str] = frozenset()
    # In a function, attributes assigned from an attribute (`task.project_id = project.id`):
    # the attribute read on the right (`id`).
    attribute_copies: frozenset[str] = frozenset()
    # The scopes holding an assignment to a name's attribute (`task.project_id = ...`), with
    # every scope around them: the functions where `in-memory-requery` finds a key assigned.
    attribute_assign_scopes: frozenset[int] = frozenset()
    # Attributes read by a statement of their own or bound to one name (`_ = task.assignee`,
    # `task.assignee`, `owner = task.assignee`), each with the scopes (`ColumnUse.scope`: a
    # function's line, 0 for the module) of those statements: where `redundant-lazy-load` looks.
    # One bound to a name only where the function may load the object (`analyzers.bound_reads`).
    statement_reads: dict[str, frozenset[int]] = field(default_factory=dict)
    queries: QueryShapes = field(default_factory=QueryShapes)  # SQL strings and ORM query shapes
    # Statements and loop callbacks that may start a task and drop it (`analyzers.tasks`).
    dropped_tasks: int = 0
    # Their lines, and those of assignments that name an event loop (`loop = ...`): where
    # the `dangling-task` codemod reads and edits.
    task_lines: tuple[int, ...] = ()
    # The names of what `app.add_middleware(M, ...)` statements register (`M`, `mw.M` -> "M").
    middleware_added: frozenset[str] = frozenset()
    # The scopes of the legacy Query API's fetches by key: `.get(x)` on a `x.query(M)...`
    # chain, or on a name the file binds to one.
    query_gets: frozenset[int] = frozenset()
    # The scopes (`ColumnUse.scope`: a function's line, 0 for the module) of the calls that
    # may fetch one row or object: `.first()`, `.one()`, `.one_or_none()`, `.scalar()`,
    # `.scalar_one()`, `.scalar_one_or_none()`, `session.scalar(stmt)`.
    one_row_scopes: frozenset[int] = frozenset()
    # The scopes of the calls a statement `get-by-primary-key` reads may start from
    # (`values.read_statement`): `select(...)` however it is imported or reached
    # (`sa.select`, `select as sel`), and `x.query(...)`.
    select_scopes: frozenset[int] = frozenset()
    # The scopes of `x.get(A, b.c)` calls: two arguments, the second an attribute (a key
    # `session.get` may be given from another object: `session.get(Project, task.project_id)`).
    attribute_key_gets: frozenset[int] = frozenset()
    # The lines of the functions decorated as endpoints, nested ones too, sync and async
    # (a route's response model may serialise a relationship of each row it returns).
    sync_routes: frozenset[int] = frozenset()
    async_routes: frozenset[int] = frozenset()
    # Calls that may run a query and hand back its rows: `x.execute(...)`, `x.scalars(...)`,
    # `x.exec(...)` and the legacy `x.query(...)` (`analyzers.values.read_source`).
    query_runs: int = 0
    # The scopes that may fetch a query result (a `FETCH_METHODS` call), with every function
    # around them; the module's (0) only when it fetches one itself, and then its rows may
    # reach any function. A loop or a route is judged on rows its own function fetched.
    fetch_scopes: frozenset[int] = frozenset()


def module_of(path: str) -> str:
    """The name the facts give the module at ``path``: its path name (see `modules`)."""
    return path_name(path)


class _Resolver:
    def __init__(self, module: str, imports: dict[str, str], local: set[str]) -> None:
        self.module = module
        self.imports = imports
        self.local = local

    def resolve(self, name: str | None) -> str | None:
        if not name:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            base = self.imports[head]
        elif head in self.local:
            base = f"{self.module}.{head}"
        else:
            return name
        return f"{base}.{rest}" if rest else base

    def resolve_strict(self, name: str | None) -> str | None:
        """Like `resolve`, but None for a name the module neither imports nor defines."""
        head = (name or "").partition(".")[0]
        return self.resolve(name) if head in self.imports or head in self.local else None


def _imports(nodes: Nodes, path: str) -> dict[str, str]:
    """Local name -> qualified name of every import in the module (also those under
    `if TYPE_CHECKING:` and inside functions). `import a.b` binds `a`; `import a.b as c`
    binds `c` to `a.b`; a relative import is named by path from ``path``, and one that
    climbs above the repository root keeps its dots (it names nothing in the repository)."""
    found: dict[str, str] = {}
    for node, _ in nodes.of(ast.Import, ast.ImportFrom):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    found[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*":
                    continue
                spelled = f"{node.module}.{alias.name}" if node.module else alias.name
                if node.level:
                    spelled = relative_path_name(path, node.level, spelled) or "." * node.level + spelled
                found[alias.asname or alias.name] = spelled
    return found


_CONTAINERS = {ast.Tuple: tuple, ast.List: list, ast.Set: set}
_NOT_SIMPLE = object()
# What a literal is made of, `set()` aside: a node of any other class anywhere in it (a
# name, an attribute) and `literal_eval` refuses it.
_LITERAL_PARTS = (
    ast.Tuple, ast.List, ast.Set, ast.Dict, ast.UnaryOp, ast.BinOp, ast.Constant, ast.expr_context, ast.unaryop,
    ast.operator,
)


def _is_set_call(node: ast.AST) -> bool:
    """`set()` or its name (`literal_eval` reads an empty set so)."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "set" and not node.args and not node.keywords
    return isinstance(node, ast.Name) and node.id == "set"


def _simple(node: ast.AST | None) -> object:
    """The value of a constant or a signed number (`-1.5`), else `_NOT_SIMPLE`."""
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub))
        and isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float, complex)
    ):
        return node.operand.value if isinstance(node.op, ast.UAdd) else -node.operand.value
    return _NOT_SIMPLE


def _literal(node: ast.AST | None) -> tuple[bool, object]:
    """Whether ``node`` is a literal (`ast.literal_eval` reads it) and its value. Constants,
    signed numbers and containers of them, most defaults, are read here: `literal_eval`
    leaves a reference cycle per call, garbage that would stay while the collector is off
    (`RepoIndex.build`)."""
    if node is None:
        return False, None
    value = _simple(node)
    if value is not _NOT_SIMPLE:
        return True, value
    kind = _CONTAINERS.get(type(node))
    if kind is not None:
        values = [_simple(e) for e in node.elts]
        if _NOT_SIMPLE not in values:
            return True, kind(values)
    elif isinstance(node, ast.Dict) and None not in node.keys:  # `**x` has no key
        keys, values = [_simple(k) for k in node.keys], [_simple(v) for v in node.values]
        if _NOT_SIMPLE not in keys and _NOT_SIMPLE not in values:
            return True, dict(zip(keys, values))
    if not all(isinstance(n, _LITERAL_PARTS) or _is_set_call(n) for n in ast.walk(node)):
        return False, None  # a name, an attribute, a call but `set()`: `literal_eval` refuses it
    try:
        return True, ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False, None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _field_default(value: ast.AST | None) -> ast.AST | None:
    """`Field(default=5)` / `Field(5)` / `field(default=5)` -> the default expression."""
    if isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] in {"Field", "field"}:
        default = _keyword(value, "default")
        if default is None and value.args:
            default = value.args[0]
        return default
    return value


def _class_fields(path: str, node: ast.ClassDef) -> list[ClassField]:
    fields = []
    for stmt in node.body:
        if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name, annotation, value = stmt.target.id, ast.unparse(stmt.annotation), stmt.value
        elif (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            name, annotation, value = stmt.targets[0].id, None, stmt.value
        else:
            continue
        has_literal, literal = _literal(_field_default(value))
        fields.append(ClassField(path, node.name, name, annotation, literal, has_literal, stmt.lineno))
    return fields


class _FunctionScanner(SiteScanner):
    """Calls, sends and writes of one function body (nested functions excluded), and its
    call sites (`SiteScanner`) in the same walk."""

    def __init__(
        self, info: FunctionInfo, resolver: _Resolver, cls: str | None, callee: Callable[[ast.AST], str | None]
    ) -> None:
        super().__init__(callee)
        self.info = info
        self.resolver = resolver
        self.cls = cls
        self.maybe_writes: list[str] = []
        self.bound: dict[str, list[ast.AST]] = {}  # name -> the values the function assigns it
        self.types: dict[str, str] = {}  # parameter -> the class its annotation names
        self.instances: dict[str, str] = {}  # module-level name -> the class or factory it is built by
        self.awaited: set[int] = set()  # ids of the calls under an `await`

    def finish(self) -> None:
        sessions = {w.rsplit(".", 1)[0] for w in self.info.writes}
        self.info.writes.extend(w for w in self.maybe_writes if w.rsplit(".", 1)[0] in sessions)  # type: ignore[attr-defined]
        self.info.sites = self.sites()
        self.info.freeze()

    # Nested definitions are their own functions (`SiteScanner` skips them); a nested
    # class body runs with the function, so its calls are the function's, but no site.
    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.quiet += 1
        self.generic_visit(node)
        self.quiet -= 1

    def visit_Await(self, node: ast.Await) -> None:
        # `await f(x())`: the coroutines handed to an awaited call (`gather`) count as
        # awaited too.
        self._await(node.value)
        if isinstance(node.value, ast.Call):
            for arg in node.value.args:
                self._await(arg.value if isinstance(arg, ast.Starred) else arg)
        self._site_await(node)
        self.generic_visit(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        for item in node.items:  # `async with session.get(url) as response` (aiohttp)
            self._await(item.context_expr)
        super().visit_AsyncWith(node)

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._await(node.iter)
        self._loop(node)

    def _await(self, node: ast.AST) -> None:
        self.awaited.add(id(node))

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        awaited = id(node) in self.awaited
        if name:
            head, _, rest = name.partition(".")
            if head in {"self", "cls"} and self.cls and rest and "." not in rest:
                self.info.calls.add(f"{self.resolver.module}.{self.cls}.{rest}")
            else:
                resolved = self.resolver.resolve(name)
                if resolved:
                    self.info.calls.add(sys.intern(resolved))
                if blocking_function(resolved):
                    self.info.blocking.append((f"{resolved}(...)", node.lineno))
        if isinstance(node.func, ast.Attribute):
            method = node.func.attr
            receiver = dotted(node.func.value) or "?"
            if blocking_session_call(method, receiver, self.types.get(receiver), awaited):
                self.info.blocking.append((f"{receiver}.{method}(...)", node.lineno))
            if (
                method in SEND_METHODS
                or (method == WEBSOCKET_SEND and self.types.get(receiver) in WEBSOCKET_TYPES)
                or (method in PUBSUB_METHODS and is_pubsub_type(self._receiver_type(receiver)))
            ):
                self.info.sends.append(f"{receiver}.{method}")
            elif method in PUBSUB_METHODS and receiver.partition(".")[0] in self.resolver.imports and receiver not in self.bound:
                resolved = self.resolver.resolve(receiver)
                if resolved and not is_pubsub_type(resolved):
                    self.info.imported_sends.append(f"{resolved}.{method}")
            if method in RECEIVE_METHODS:
                self.info.receives.append(f"{receiver}.{method}")
            if method in WRITE_METHODS:
                self.info.writes.append(f"{receiver}.{method}")
            elif method in SESSION_WRITE_METHODS:
                self.maybe_writes.append(f"{receiver}.{method}")
            if method in EXECUTE_METHODS and node.args and not self._reads_only(node.args[0]):
                # Anything run that is not shown to be a SELECT may write: `update(...)`,
                # `sa.update(...)`, a statement built earlier, `text("UPDATE ...")`.
                self.info.writes.append(f"{receiver}.{method}({_statement_kind(node.args[0])})")
        self._site(node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bound.setdefault(target.id, []).append(node.value)
        self.generic_visit(node)

    def _receiver_type(self, receiver: str) -> str | None:
        """The class (or factory) a plain-name receiver is built by: its parameter's
        annotation, what every assignment of it in the function calls, or the module-level
        instance of that name."""
        if receiver in self.types:
            return self.types[receiver]
        values = self.bound.get(receiver)
        if values:
            built = {self.resolver.resolve(dotted(v.func)) if isinstance(v, ast.Call) else None for v in values}
            return built.pop() if len(built) == 1 else None
        return self.instances.get(receiver)

    def _reads_only(self, statement: ast.AST, depth: int = 0) -> bool:
        """Whether running ``statement`` only reads: a `select(...)` chain, `text("SELECT
        ...")`, or a name the function binds only to those."""
        if isinstance(statement, ast.Name) and depth < 3:
            values = self.bound.get(statement.id, [])
            return bool(values) and all(self._reads_only(v, depth + 1) for v in values)
        return _statement_kind(statement) == "select"



# What a result, a `ScalarResult` or a legacy `Query` is asked for one row with (see
# `analyzers.values`, `_STEPS`); each takes no argument.
_ONE_ROW_METHODS = frozenset({"first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none"})


_SOURCE_METHODS = frozenset({"execute", "scalars", "exec", "query"})
# The calls a query result is fetched through (`analyzers.values.read_source`, `read_fetch`).
FETCH_METHODS = _SOURCE_METHODS | {"scalar"}


def _defined_here(func: ast.AST, resolver: _Resolver) -> bool:
    """Whether the called name is one the module binds itself, not through an import
    (SQLAlchemy's own `create_engine`, a module's wrapper or alias of that name): the
    codemods read it as that local name, never as an engine factory."""
    head = (dotted(func) or "").partition(".")[0]
    return head in resolver.local and head not in resolver.imports


def _on_query_chain(node: ast.AST) -> bool:
    """Whether ``node`` is a chain of method calls that starts with `.query(...)`:
    `db.query(M)`, `db.query(M).options(...)`."""
    while isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "query":
            return True
        node = node.func.value
    return False


def collect_file_facts(path: str, tree: ast.Module) -> FileFacts:
    module = module_of(path)
    nodes = walk(tree)  # every collector below reads this one walk
    imports = _imports(nodes, path)
    local = {
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    for n in tree.body:
        if isinstance(n, ast.Assign):
            local.update(t.id for t in n.targets if isinstance(t, ast.Name))
    resolver = _Resolver(module, imports, local)
    facts = FileFacts(path=path, module=module, imports=imports, name_uses=name_uses(nodes))
    facts.queries = query_shapes(tree, resolver.resolve, nodes)

    def qualify(call: ast.AST) -> str | None:
        return resolver.resolve(dotted(call))

    typing_only = {
        id(c)
        for n in tree.body
        if isinstance(n, ast.If) and (dotted(n.test) or "").rsplit(".", 1)[-1] == "TYPE_CHECKING"
        for c in n.body
        if isinstance(c, ast.ClassDef)
    }
    copies: set[str] = set()
    name_gets: list[tuple[str, int]] = []
    query_names: set[str] = set()  # names bound to a `x.query(M)...` chain
    one_row_scopes: set[int] = set()
    select_scopes: set[int] = set()
    statement_reads: dict[str, set[int]] = {}
    bound_reads: list[tuple[str, int, str]] = []  # (attribute, scope, object) of `x = obj.attr`
    attribute_assigns: set[int] = set()  # scopes of `x.attr = ...`
    fetching: set[int] = set()  # scopes of `x.execute(...)` and the other `FETCH_METHODS`
    sync_routes: set[int] = set()
    async_routes: set[int] = set()
    query_gets: set[int] = set()
    attribute_key_gets: set[int] = set()
    middleware: set[str] = set()
    maybe_dropped: list[ast.AST] = []
    loops: set[str] = set()
    task_lines: set[int] = set()
    # One pass over the nodes of these classes, dispatched on the node's class.
    for node, scope in nodes.of(
        ast.Call, ast.Expr, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign
    ):
        kind = type(node)
        if kind is ast.Call:
            if may_drop_task(node):  # a loop callback given a lambda that starts a task
                maybe_dropped.append(node)
            func = node.func
            if type(func) is ast.Attribute:
                method = func.attr
                if method in _SOURCE_METHODS:
                    facts.query_runs += 1
                if method in FETCH_METHODS:
                    fetching.add(scope)
                if method == "get" and len(node.args) + len(node.keywords) == 1:
                    if _on_query_chain(func.value):
                        query_gets.add(scope)
                    elif type(func.value) is ast.Name:
                        name_gets.append((func.value.id, scope))  # `q.get(x)` after `q = db.query(M)`
                elif method == "get" and len(node.args) == 2 and not node.keywords and type(node.args[1]) is ast.Attribute:
                    attribute_key_gets.add(scope)  # `session.get(Project, task.project_id)`
                elif method in _ONE_ROW_METHODS and not node.args and not node.keywords:
                    one_row_scopes.add(scope)
                elif method == "scalar" and len(node.args) + len(node.keywords) == 1:
                    one_row_scopes.add(scope)  # `session.scalar(stmt)`
            qualified = qualify(func) or ""
            # `qualified` is the name as written when no import binds it; an attribute on
            # what `dotted` cannot spell (`rows[0].query(...)`) is told by its name.
            if qualified.rpartition(".")[2] == "select" or (type(func) is ast.Attribute and func.attr in {"select", "query"}):
                select_scopes.add(scope)
            if (
                node.args
                and qualified.rsplit(".", 1)[-1] in {"Depends", "Security"}
                and (target := resolver.resolve(dotted(node.args[0])))
            ):
                facts.depends.add(target)
            if qualified in ENGINE_FACTORIES and not _defined_here(func, resolver):
                facts.engine_calls += 1
                facts.engine_call_lines += (node.lineno,)
            factory = FACTORY_KINDS.get(qualified)
            if factory is not None:
                is_literal, value = _literal(_keyword(node, "expire_on_commit"))
                if _keyword(node, "expire_on_commit") is None:
                    expire = True
                else:
                    expire = bool(value) if is_literal else None
                facts.session_factories.append(SessionFactory(path, "", "", factory, expire))
        elif kind is ast.Expr:
            if may_drop_task(node):
                maybe_dropped.append(node)
            call = node.value
            if type(call) is ast.Attribute and type(call.value) is ast.Name:
                statement_reads.setdefault(call.attr, set()).add(scope)
            elif (
                type(call) is ast.Call
                and type(call.func) is ast.Attribute
                and call.func.attr == "add_middleware"
                and call.args
            ):
                added = dotted(call.args[0])
                if added:
                    middleware.add(added.rsplit(".", 1)[-1])
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if node.decorator_list and is_route(node):
                (sync_routes if kind is ast.FunctionDef else async_routes).add(node.lineno)
        elif kind is ast.ClassDef:
            for f in _class_fields(path, node):
                facts.class_fields.append(f)
                if f.has_literal:
                    facts.settings_fields.append(SettingsField(path, f.cls, f.name, f.value, f.line))
            if id(node) in typing_only:
                continue  # `if TYPE_CHECKING: class ProductCheckout(Checkout)`: no class at run time
            info = model_info(path, node, resolver.resolve)
            facts.classes[node.name] = info
            if info.mapped:
                facts.models[node.name] = info
        elif kind is ast.Assign or kind is ast.AnnAssign:
            named_loops = loop_names(node, resolver.resolve)
            if named_loops:
                loops |= named_loops
                task_lines.add(node.lineno)
            if (
                scope
                and isinstance(node.value, ast.Attribute)
                and any(isinstance(t, ast.Attribute) for t in (node.targets if kind is ast.Assign else [node.target]))
            ):
                copies.add(node.value.attr)
            if kind is ast.Assign and any(type(t) is ast.Attribute and type(t.value) is ast.Name for t in node.targets):
                attribute_assigns.add(scope)
            value = node.value
            if (
                kind is ast.Assign
                and type(value) is ast.Attribute
                and type(value.value) is ast.Name
                and len(node.targets) == 1
                and type(node.targets[0]) is ast.Name
            ):
                if node.targets[0].id == "_":
                    statement_reads.setdefault(value.attr, set()).add(scope)
                else:  # `owner = task.assignee`: kept below where task may be loaded
                    bound_reads.append((value.attr, scope, value.value.id))
            if kind is ast.Assign and _on_query_chain(value):
                query_names.update(t.id for t in node.targets if type(t) is ast.Name)
    query_gets.update(scope for name, scope in name_gets if name in query_names)
    facts.query_gets = frozenset(query_gets)
    facts.sync_routes = frozenset(sync_routes)
    facts.async_routes = frozenset(async_routes)
    facts.attribute_key_gets = frozenset(attribute_key_gets)
    facts.one_row_scopes = frozenset(one_row_scopes)
    facts.select_scopes = frozenset(select_scopes)
    facts.attribute_copies = frozenset(copies)
    around = scopes_around(nodes) if attribute_assigns or fetching or bound_reads else {}
    if attribute_assigns:
        facts.attribute_assign_scopes = frozenset(with_enclosing(attribute_assigns, around))
    if fetching:  # the module's scope (0) only for a fetch of its own
        facts.fetch_scopes = frozenset(with_enclosing(fetching, around) - ({0} - fetching))
    for attr, scope in provable_reads(nodes, bound_reads, facts.fetch_scopes, around):
        statement_reads.setdefault(attr, set()).add(scope)
    facts.statement_reads = {attr: frozenset(scopes) for attr, scopes in statement_reads.items()}
    facts.middleware_added = frozenset(middleware)
    dropped = [node for node in maybe_dropped if drops_task(node, resolver.resolve, loops)]
    facts.dropped_tasks = len(dropped)
    facts.task_lines = tuple(sorted(task_lines | {node.lineno for node in dropped})) if dropped else ()
    facts.assigned_names = frozenset(
        t.id
        for body in [tree.body, *(c.body for c, _ in nodes.of(ast.ClassDef))]
        for n in body
        for t in (n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else [])
        if isinstance(t, ast.Name)
    )

    # `Index("ix", Task.project_id, Task.status)` beside the class it indexes.
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Expr, ast.Assign)) else None
        if isinstance(value, ast.Call) and (dotted(value.func) or "").rsplit(".", 1)[-1] == "Index":
            owners = {ast.unparse(a.value).split(".", 1)[0] for a in value.args if isinstance(a, ast.Attribute)}
            if len(owners) == 1 and (owner := owners.pop()) in facts.classes:
                facts.classes[owner].indexes.extend(table_indexes(value, owner))

    # Give factories the name they are bound to.
    named: list[SessionFactory] = []
    for node, _ in nodes.of(ast.Assign, ast.AnnAssign):
        if isinstance(node.value, ast.Call):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            kind = FACTORY_KINDS.get(qualify(node.value.func) or "")
            if kind in {"sessionmaker", "async_sessionmaker"}:
                for target in targets:
                    if isinstance(target, ast.Name):
                        expire_node = _keyword(node.value, "expire_on_commit")
                        is_literal, value = _literal(expire_node)
                        expire = True if expire_node is None else (bool(value) if is_literal else None)
                        named.append(
                            SessionFactory(path, target.id, f"{module}.{target.id}", kind, expire)
                        )
    unnamed = [f for f in facts.session_factories if f.kind in {"Session", "AsyncSession"}]
    facts.session_factories = named + unnamed

    # Module-level instances: `manager = ConnectionManager()`.
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            cls = qualify(node.value.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and cls:
                    facts.instances[target.id] = cls

    # Functions and methods.
    def add_function(node, cls: str | None) -> None:
        qual = f"{module}.{cls}.{node.name}" if cls else f"{module}.{node.name}"
        info = FunctionInfo(qual, path, node.lineno, isinstance(node, ast.AsyncFunctionDef))
        info.returns = read_annotation(node.returns, resolver.resolve_strict)
        info.route = is_route(node)
        info.decorated = bool(node.decorator_list)

        def callee(func: ast.AST) -> str | None:
            name = dotted(func)
            head, _, rest = (name or "").partition(".")
            if head in {"self", "cls"} and cls and rest and "." not in rest:
                return f"{module}.{cls}.{rest}"
            return resolver.resolve(name)

        scanner = _FunctionScanner(info, resolver, cls, callee)
        every = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        scanner.types = {
            a.arg: ref.qualname for a in every
            if a.annotation is not None
            and (ref := read_annotation(a.annotation, resolver.resolve_strict)) is not None
        }
        scanner.instances = facts.instances
        for stmt in node.body:
            scanner.visit(stmt)
        scanner.finish()
        facts.functions[qual] = info

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            add_function(node, None)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    add_function(item, node.name)
    return facts
