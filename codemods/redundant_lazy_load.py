"""## What it does
Removes statements that exist only to trigger a relationship load (`_ = task.assignee`,
or a bare `task.assignee`) when the relationship is provably loaded already: named in a
preceding `refresh(task, attribute_names=[...])`, loaded eagerly by a preceding plain
`refresh(task)` or `select(Task)` because of its `lazy=` strategy, or loaded by a
`.options(selectinload(Task.assignee))` on the query that produced `task`.

## Why is this bad?
The statement reads an attribute and throws it away. When the relationship is already
loaded it does nothing but cost a line of code and a reader's attention; when a later
change expires it, it becomes a hidden synchronous query (or a `MissingGreenlet` error in
async code). The seed projects carried such lines after every `refresh`.

## Example
```python
await db.refresh(task, attribute_names=["assignee", "reporter"])

# Load relationships for the broadcast
_ = task.assignee  # Trigger lazy load
_ = task.reporter
```

## Use instead
```python
await db.refresh(task, attribute_names=["assignee", "reporter"])
```

## Fix safety
Safe where proven. The proof is the preceding operation and the relationship's loading
strategy read from the model; `tests/sqlalchemy_pins/test_loading_behaviour.py` pins every
case with real SQLAlchemy and counted statements. SQLAlchemy loads a `lazy="select"`
relationship named in `refresh(attribute_names=...)` only from 2.0.4 on: where the
project's requirements do not guarantee 2.0.4+, that case is an unsafe fix. Nothing between
the proof and the statement may reassign the object, expire it (`expire`, `expire_all`,
`rollback`), commit on a session that expires on commit (a `with session.begin():` block
commits on exit), or pass the session to another function (which could do either). Only
proven relationships count: `_ = task.title` of a column, or of an object whose model is
not known, is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from optimize.codemods.base import SAFE, UNSAFE, Codemod, Keep, Rewrite
from optimize.codemods.orm_flow import (
    EAGER_STRATEGIES,
    EXPIRING_METHODS,
    RESULT_METHODS,
    SELECT_FUNCTIONS,
    assigned_names,
    execute_call,
    method_calls,
    name_of,
    read_select,
    session_dependencies,
    unwrap_await,
)

REFRESH_NAMES_MIN_VERSION = (2, 0, 4)
# Calls that show their receiver is a session (its commits and hand-offs then count).
_SESSION_METHODS = {"refresh", "commit", "flush", "execute", "scalars", "rollback", "expire", "expire_all", "begin"}
_MID_TRY = "a try statement's handler, else or finally block may start anywhere in its body"
_LOAD_WORDS = ("load", "lazy", "relationship", "trigger", "eager", "prefetch", "populate")


@dataclass
class Proof:
    tier: str
    why: str


@dataclass
class State:
    """What is known at a point of a function body."""

    models: dict[str, str] = field(default_factory=dict)  # variable -> model class
    loaded: dict[str, dict[str, Proof]] = field(default_factory=dict)  # variable -> attr -> proof
    results: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # result var -> (model, options)
    # variable -> (why its proof no longer holds, the model it held then)
    lost: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    refreshed: set[str] = field(default_factory=set)  # variables a refresh() was the last proof for

    def copy(self) -> "State":
        return State(
            dict(self.models),
            {k: dict(v) for k, v in self.loaded.items()},
            dict(self.results),
            dict(self.lost),
            set(self.refreshed),
        )

    def forget(self, names: set[str]) -> None:
        for name in names:
            self.models.pop(name, None)
            self.loaded.pop(name, None)
            self.results.pop(name, None)
            self.refreshed.discard(name)


class RedundantLazyLoad(Codemod):
    ID = "redundant-lazy-load"
    TITLE = "remove lazy-load triggers for relationships that are already loaded"
    CONDITIONS = "relationship provably loaded by a preceding refresh/query; nothing expires it in between"
    DESCRIPTION = "Remove `_ = obj.relationship` statements whose relationship is already loaded."
    TRIGGERS = (b"refresh(", b"select(")
    ALSO = (b"refresh(", b"_ = ", b"options(")
    NEEDS_MODEL = True  # every case starts from a model class named in the function
    EFFECT = "no hidden lazy load on the rewritten path"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._remove: dict[int, Proof] = {}  # id(original statement) -> proof

    # --- analysis: one pass per function, on the original tree --------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions = session_dependencies(self, node)
        for receiver, method, _ in method_calls(node.body):  # `db.refresh(...)`: db is a session
            if method in _SESSION_METHODS and receiver != "?":
                self._sessions.setdefault(receiver, None)
        state = State()
        for param in node.params.params:
            if param.annotation is not None:
                model = self._model_name(param.annotation.annotation)
                if model:
                    state.models[param.name.value] = model
        self._run(node.body.body, state)

    def _run(self, body, state: State) -> State:
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    self._simple(statement, small, state)
            else:
                self._compound(statement, state)
        return state

    def _compound(self, statement: cst.BaseCompoundStatement, state: State) -> None:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            state.forget({statement.name.value})
            return
        invalid = self._invalidated(statement)
        if isinstance(statement, (cst.For, cst.While)):
            # The body runs again after its own end: what it invalidates holds at its start.
            inner = state.copy()
            self._apply_invalidation(inner, invalid)
            self._run(statement.body.body, inner)
        elif isinstance(statement, cst.If):
            self._run(statement.body.body, state.copy())
            branch = statement.orelse
            while branch is not None:
                if isinstance(branch, cst.If):
                    self._run(branch.body.body, state.copy())
                    branch = branch.orelse
                else:
                    self._run(branch.body.body, state.copy())
                    branch = None
        elif isinstance(statement, cst.With):
            self._run(statement.body.body, state.copy())
        elif isinstance(statement, cst.Try):
            self._run(statement.body.body, state.copy())
            # Handlers, else and finally may start anywhere in the try body: what was loaded
            # before it may be gone, so they are judged with nothing loaded.
            unknown = State(
                models=dict(state.models), lost={v: (_MID_TRY, state.models.get(v)) for v in state.loaded}
            )
            blocks = [h.body for h in statement.handlers] + [
                b.body for b in (statement.orelse, statement.finalbody) if b is not None
            ]
            for block in blocks:
                self._run(block.body, unknown.copy())
        self._apply_invalidation(state, invalid)

    def _invalidated(self, node: cst.CSTNode) -> tuple[set[str], str | None]:
        """(names rebound, why everything loaded may be expired) anywhere inside ``node``."""
        why = None
        for receiver, method, _ in method_calls(node):
            if method in EXPIRING_METHODS:
                why = f"{receiver}.{method}() in between unloads it"
            elif method in {"commit", "begin"} and self._commit_expires(receiver):
                spelled = "commit()" if method == "commit" else "begin() block (it commits on exit)"
                why = f"{receiver}.{spelled} in between expires it (the session may expire on commit)"
        for session, call in _calls_passing(node, set(self._sessions)):
            if why is None and self._commit_expires(session):
                why = f"the session is passed to {name_of(call.func) or 'a call'}() in between, which may commit or expire"
        return assigned_names(node), why

    def _apply_invalidation(self, state: State, invalid: tuple[set[str], str | None]) -> None:
        names, why = invalid
        for name in names:
            if name in state.loaded:
                state.lost[name] = (f"{name} is reassigned in between", state.models.get(name))
        state.forget(names)
        if why:
            for name in state.loaded:
                state.lost[name] = (why, state.models.get(name))
            state.loaded.clear()
            state.refreshed.clear()

    def _commit_expires(self, receiver: str) -> bool:
        dependency = self._sessions.get(receiver)
        return self.index.expires_on_commit(dependency)

    def _model_name(self, node: cst.BaseExpression) -> str | None:
        """The model class ``node`` names, checked through imports: an unrelated class with
        a model's name is not that model."""
        name = name_of(node)
        if name is None:
            return None
        short = name.rsplit(".", 1)[-1]
        model = self.index.model(short)
        if model is None:
            return None
        qualified = self.qualified_names(node)
        if qualified and not any(
            (found := self.index.model_for(q)) is not None and (found.path, found.line) == (model.path, model.line)
            for q in qualified
        ):
            return None
        return short

    def _query_model(self, statement: cst.BaseExpression) -> tuple[str, set[str]] | None:
        """(model, relationships its loader options load) for a `select(M)...` statement."""
        select = read_select(self, statement)
        if select is None:
            return None
        node = statement
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and not self.refers_to(
            node.func, SELECT_FUNCTIONS
        ):
            node = node.func.value
        if not (isinstance(node, cst.Call) and node.args) or self._model_name(node.args[0].value) != select.model:
            return None
        return select.model, select.options

    def _simple(self, line: cst.SimpleStatementLine, small: cst.BaseSmallStatement, state: State) -> None:
        trigger = _trigger(small)
        if trigger is not None and len(line.body) == 1:
            self._judge(line, trigger, state)
            return
        used = _bound_read(small)
        if used is not None and len(line.body) == 1:
            self._judge_used(line, used, state)
        value = getattr(small, "value", None)
        # Proofs: refresh calls.
        if isinstance(small, cst.Expr):
            self._refresh(unwrap_await(small.value), state)
        # What a variable now holds.
        if isinstance(small, (cst.Assign, cst.AnnAssign)) and value is not None:
            targets = small.targets if isinstance(small, cst.Assign) else [cst.AssignTarget(small.target)]
            invalid = self._invalidated(small)
            self._apply_invalidation(state, invalid)
            if len(targets) == 1 and isinstance(targets[0].target, cst.Name):
                self._bind(targets[0].target.value, value, state)
            if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                model = self._model_name(small.annotation.annotation)
                if model:
                    state.models[small.target.value] = model
            return
        self._apply_invalidation(state, self._invalidated(small))

    def _bind(self, name: str, value: cst.BaseExpression, state: State) -> None:
        inner = unwrap_await(value)
        scalar = _scalar_call(inner)
        if scalar is not None:  # `obj = await db.scalar(select(M))`
            query = self._query_model(scalar)
            if query is not None:
                self._loaded_by_query(name, *query, state)
            return
        executed = execute_call(inner) or _scalars_call(inner)
        if executed is not None:
            query = self._query_model(executed[1])
            if query is not None:
                state.results[name] = query
            return
        if isinstance(inner, cst.Call):
            callee = inner.func
            # obj = Model(...)
            model = self._model_name(callee)
            if model:
                state.models[name] = model
                return
            # obj = result.scalar_one() / result.scalars().first()
            if isinstance(callee, cst.Attribute) and callee.attr.value in RESULT_METHODS | {"first"}:
                source = callee.value
                if isinstance(source, cst.Call) and isinstance(source.func, cst.Attribute) and source.func.attr.value == "scalars":
                    source = source.func.value
                source = unwrap_await(source)
                if isinstance(source, cst.Name) and source.value in state.results:
                    model, options = state.results[source.value]
                    self._loaded_by_query(name, model, options, state)
                    return
                executed = execute_call(source) or _scalars_call(source)
                if executed is not None:
                    query = self._query_model(executed[1])
                    if query is not None:
                        self._loaded_by_query(name, *query, state)
                        return
            # obj = await db.get(Model, pk): the model is known, nothing more is proven.
            if isinstance(callee, cst.Attribute) and callee.attr.value == "get" and inner.args:
                model = self._model_name(inner.args[0].value)
                if model:
                    state.models[name] = model

    def _loaded_by_query(self, name: str, model: str, options: set[str], state: State) -> None:
        state.models[name] = model
        info = self.index.model(model)
        loaded: dict[str, Proof] = {}
        for rel in options:
            loaded[rel] = Proof(SAFE, f"loaded by the query's loader option for {model}.{rel}")
        for rel, spec in (info.relationships.items() if info else []):
            if spec.lazy in EAGER_STRATEGIES and rel not in loaded:
                loaded[rel] = Proof(SAFE, f"{model}.{rel} is lazy={spec.lazy!r}: loaded with the query")
        state.loaded[name] = loaded
        state.lost.pop(name, None)
        state.refreshed.discard(name)

    def _refresh(self, call: cst.BaseExpression, state: State) -> None:
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "refresh"):
            return
        positional = [a for a in call.args if a.keyword is None]
        if not positional or not isinstance(positional[0].value, cst.Name):
            return
        target = positional[0].value.value
        names_arg = next((a for a in call.args if a.keyword and a.keyword.value == "attribute_names"), None)
        if names_arg is None and len(positional) > 1:
            names_arg = positional[1]
        model = state.models.get(target)
        info = self.index.model(model) if model else None
        loaded: dict[str, Proof] = {}
        if names_arg is not None:
            names = _string_list(names_arg.value)
            if names is None:
                state.loaded.pop(target, None)
                state.refreshed.discard(target)
                return
            for attr in names:
                spec = info.relationships.get(attr) if info else None
                if spec is not None and spec.lazy in EAGER_STRATEGIES:
                    loaded[attr] = Proof(SAFE, f"named in the preceding refresh(); {model}.{attr} is lazy={spec.lazy!r}")
                elif self.index.sqlalchemy_min is not None and self.index.sqlalchemy_min >= REFRESH_NAMES_MIN_VERSION:
                    loaded[attr] = Proof(SAFE, "named in the preceding refresh(attribute_names=...) (SQLAlchemy >= 2.0.4)")
                else:
                    loaded[attr] = Proof(
                        UNSAFE,
                        "named in the preceding refresh(attribute_names=...), which loads a lazy='select' "
                        "relationship only from SQLAlchemy 2.0.4; the project does not require 2.0.4+",
                    )
        elif info is not None:
            for rel, spec in info.relationships.items():
                if spec.lazy in EAGER_STRATEGIES:
                    loaded[rel] = Proof(SAFE, f"{model}.{rel} is lazy={spec.lazy!r}: a plain refresh() loads it")
        state.loaded[target] = loaded
        state.lost.pop(target, None)
        state.refreshed.add(target)

    def _judge(self, line: cst.SimpleStatementLine, trigger: tuple[str, str], state: State) -> None:
        obj, attr = trigger
        proof = state.loaded.get(obj, {}).get(attr)
        lost_why, lost_model = state.lost.get(obj, (None, None))
        model = state.models.get(obj) or lost_model
        spec = self.index.relationship(model, attr) if model else None
        if spec is None:
            return  # a column, or an object whose model is unknown: not a relationship load
        if proof is None:
            if lost_why:
                why = f"{obj}.{attr} is not shown to be loaded: {lost_why}"
            elif obj in state.refreshed:
                why = f"relationship {model}.{attr} uses lazy={spec.lazy!r} and is not named in the refresh"
            else:
                why = f"relationship {model}.{attr} uses lazy={spec.lazy!r} and nothing before it loads it"
            if self.allowed(line):
                self.refuse(line, f"skipped: {why}")
            return
        if spec is not None and spec.lazy in {"dynamic", "write_only"}:
            if self.allowed(line):
                self.refuse(line, f"skipped: {model}.{attr} is lazy={spec.lazy!r}: reading it loads nothing")
            return
        if not self.allowed(line):
            return
        if not self.permits(line, proof.tier, proof.why):
            return
        self._remove[id(line)] = proof
        self.record(line, f"removed `{obj}.{attr}` trigger: {proof.why}", tier=proof.tier)

    def _judge_used(self, line: cst.SimpleStatementLine, used: tuple[str, str, str], state: State) -> None:
        name, obj, attr = used
        model = state.models.get(obj)
        if model and self.index.relationship(model, attr) and attr in state.loaded.get(obj, {}):
            if self.allowed(line):
                self.refuse(
                    line,
                    f"skipped: the value is used ({name} = {obj}.{attr}); only `_ = {obj}.{attr}` "
                    f"or a bare `{obj}.{attr}` is a load trigger",
                )

    # --- the rewrite -------------------------------------------------------------------------

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._remove for s in original.body):
            return updated
        body = _without(original.body, updated.body, self._remove)
        if not body:
            body = [cst.SimpleStatementLine([cst.Pass()])]
        return updated.with_changes(body=body)


def _trigger(small: cst.BaseSmallStatement) -> tuple[str, str] | None:
    """(variable, attribute) for `_ = var.attr` or a bare `var.attr`."""
    if isinstance(small, cst.Assign):
        if len(small.targets) != 1 or not m_name(small.targets[0].target, "_"):
            return None
        value = small.value
    elif isinstance(small, cst.Expr):
        value = small.value
    else:
        return None
    if isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and not value.lpar:
        return value.value.value, value.attr.value
    return None


def _bound_read(small: cst.BaseSmallStatement) -> tuple[str, str, str] | None:
    """(name, variable, attribute) for `name = var.attr` with a name other than `_`."""
    if not (isinstance(small, cst.Assign) and len(small.targets) == 1):
        return None
    target, value = small.targets[0].target, small.value
    if (
        isinstance(target, cst.Name)
        and target.value != "_"
        and isinstance(value, cst.Attribute)
        and isinstance(value.value, cst.Name)
    ):
        return target.value, value.value.value, value.attr.value
    return None


def _session_call(node: cst.BaseExpression, methods: set[str]) -> cst.BaseExpression | None:
    node = unwrap_await(node)
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value in methods
        and node.args
        and node.args[0].keyword is None
    ):
        return node.args[0].value
    return None


def _scalar_call(node: cst.BaseExpression) -> cst.BaseExpression | None:
    """The statement of `session.scalar(stmt)` (one object back)."""
    return _session_call(node, {"scalar"})


def _scalars_call(node: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.BaseExpression] | None:
    """(session, statement) of `session.scalars(stmt)`, shaped like `execute_call`'s answer."""
    statement = _session_call(node, {"scalars"})
    return None if statement is None else (unwrap_await(node).func.value, statement)


def _calls_passing(node: cst.CSTNode, sessions: set[str]) -> list[tuple[str, cst.Call]]:
    """(session, call) for calls inside ``node`` given a session (`audit(db)`, `log(self.db)`)."""
    hits = []
    for call in m.findall(node, m.Call()):
        for arg in call.args:
            passed = name_of(arg.value)
            if passed in sessions:
                hits.append((passed, call))
                break
    return hits


def m_name(node: cst.CSTNode, name: str) -> bool:
    return isinstance(node, cst.Name) and node.value == name


def _string_list(node: cst.BaseExpression) -> list[str] | None:
    if not isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return None
    out = []
    for element in node.elements:
        if not isinstance(element.value, cst.SimpleString):
            return None
        value = element.value.evaluated_value
        if not isinstance(value, str):
            return None
        out.append(value)
    return out


def _describes_load(lines) -> bool:
    comments = [l.comment.value.lower() for l in lines if l.comment is not None]
    return bool(comments) and all(any(w in c for w in _LOAD_WORDS) for c in comments)


def _without(originals, updates, remove: dict[int, Proof]):
    """The statements minus the removed ones. A comment block above a run of removed
    statements that only described the load goes with them; other comments move down."""
    body = []
    carried: list[cst.EmptyLine] = []
    run_removed = True
    for index, (orig, upd) in enumerate(zip(originals, updates)):
        if id(orig) in remove:
            starts_run = index == 0 or id(originals[index - 1]) not in remove
            if starts_run:
                # Does the whole run of trigger statements go?
                j = index
                while j < len(originals) and id(originals[j]) in remove:
                    j += 1
                next_is_trigger = j < len(originals) and _is_trigger_line(originals[j])
                run_removed = not next_is_trigger
                if not (run_removed and _describes_load(upd.leading_lines)):
                    carried.extend(upd.leading_lines)
            else:
                carried.extend(upd.leading_lines)
            continue
        if carried:
            upd = upd.with_changes(leading_lines=[*carried, *upd.leading_lines])
            carried = []
        body.append(upd)
    return body


def _is_trigger_line(statement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and _trigger(statement.body[0]) is not None
    )


MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        assignee_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
        reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="selectin")
        watchers: Mapped[list[User]] = relationship(lazy="dynamic")
"""
FILES = {"app/models.py": MODELS}
SESSION = {
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    """
}
NEW_SQLALCHEMY = "sqlalchemy[asyncio]>=2.0.30\n"

EXAMPLES = [
    Rewrite(
        name="seed: named in refresh(attribute_names=...), comment goes with it",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        before="""
            from app.models import Task

            async def create_task(db, payload):
                task = Task(**payload)
                db.add(task)
                await db.commit()
                await db.refresh(task, attribute_names=["task_status", "assignee", "reporter", "project"])

                # Load assignee/reporter relationships for WebSocket broadcast and response
                _ = task.assignee  # Trigger lazy load
                _ = task.reporter  # Trigger lazy load

                # Broadcast task creation to project room for real-time updates
                await notify(task)
        """,
        after="""
            from app.models import Task

            async def create_task(db, payload):
                task = Task(**payload)
                db.add(task)
                await db.commit()
                await db.refresh(task, attribute_names=["task_status", "assignee", "reporter", "project"])

                # Broadcast task creation to project room for real-time updates
                await notify(task)
        """,
    ),
    Rewrite(
        name="plain refresh loads a selectin relationship; block left empty gets pass",
        files=FILES,
        before="""
            from app.models import Task

            def touch(session, task: Task, flag):
                session.refresh(task)
                if flag:
                    task.reporter
        """,
        after="""
            from app.models import Task

            def touch(session, task: Task, flag):
                session.refresh(task)
                if flag:
                    pass
        """,
    ),
    Rewrite(
        name="query with a loader option",
        files=FILES,
        before="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from app.models import Task

            async def load(db, task_id):
                result = await db.execute(
                    select(Task).where(Task.id == task_id).options(selectinload(Task.assignee))
                )
                task = result.scalar_one()
                _ = task.assignee
                return task
        """,
        after="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from app.models import Task

            async def load(db, task_id):
                result = await db.execute(
                    select(Task).where(Task.id == task_id).options(selectinload(Task.assignee))
                )
                task = result.scalar_one()
                return task
        """,
    ),
    Rewrite(
        name="commit on a session that does not expire",
        files={**FILES, **SESSION},
        requirements=NEW_SQLALCHEMY,
        before="""
            from app.models import Task

            async def save(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                await db.commit()
                _ = task.assignee
        """,
        after="""
            from app.models import Task

            async def save(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                await db.commit()
        """,
    ),
    Rewrite(
        name="version not guaranteed: an unsafe-tier change",
        files=FILES,
        before="""
            from app.models import Task

            async def create_task(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                _ = task.assignee
                return task
        """,
        after="""
            from app.models import Task

            async def create_task(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                return task
        """,
    ),
    Keep(
        name="plain refresh does not load a lazy='select' relationship",
        files=FILES,
        code="""
            from app.models import Task

            def report(session, task: Task):
                session.refresh(task)
                _ = task.assignee  # load before the session closes
                return task
        """,
        reason="relationship Task.assignee uses lazy='select' and is not named in the refresh",
    ),
    Keep(
        name="commit on an expiring session in between",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def save(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                await db.commit()
                _ = task.assignee
        """,
        reason="not shown to be loaded",
    ),
    Keep(
        name="expire in between",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, ["assignee"])
                session.expire(task)
                _ = task.assignee
        """,
        reason="not shown to be loaded",
    ),
    Keep(
        name="reassigned in between",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task, other):
                session.refresh(task, attribute_names=["assignee"])
                task = other
                _ = task.assignee
        """,
        reason="task is reassigned in between",
    ),
    Keep(
        name="the value is used",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee"])
                assignee = task.assignee
                return assignee
        """,
        reason="the value is used",
    ),
    Keep(
        name="inside a loop that commits on an expiring session",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def f(db, task: Task, items):
                await db.refresh(task, attribute_names=["assignee"])
                for item in items:
                    _ = task.assignee
                    await db.commit()
        """,
        reason="not shown to be loaded",
    ),
    Keep(
        name="in an except handler",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee"])
                try:
                    work()
                except ValueError:
                    _ = task.assignee
        """,
        reason="handler",
    ),
    Keep(
        name="session handed to another function in between",
        files={**FILES},
        requirements=NEW_SQLALCHEMY,
        code="""
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.models import Task

            async def f(db: AsyncSession, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                await audit(db)
                _ = task.assignee
        """,
        reason="not shown to be loaded",
    ),
    Rewrite(
        name="scalars() result: a selectin relationship is loaded with the query",
        files=FILES,
        before="""
            from sqlalchemy import select
            from app.models import Task

            async def first_task(db):
                task = (await db.scalars(select(Task).order_by(Task.id))).first()
                _ = task.reporter  # eager load reporter
                return task
        """,
        after="""
            from sqlalchemy import select
            from app.models import Task

            async def first_task(db):
                task = (await db.scalars(select(Task).order_by(Task.id))).first()
                return task
        """,
    ),
    Rewrite(
        name="classic Column model, aliased relationship, joinedload through sa.orm",
        files={
            "app/legacy.py": """
                import sqlalchemy as sa
                from sqlalchemy.orm import declarative_base, relationship as rel

                Base = declarative_base()

                class Order(Base):
                    __tablename__ = "orders"
                    id = sa.Column(sa.Integer, primary_key=True)
                    customer_id = sa.Column(sa.ForeignKey("customers.id"))
                    customer = rel("Customer")
            """
        },
        before="""
            import sqlalchemy as sa
            from app.legacy import Order

            def load(session, order_id):
                order = session.execute(
                    sa.select(Order).where(Order.id == order_id).options(sa.orm.joinedload(Order.customer))
                ).scalar_one()
                # Prefetch the customer
                _ = order.customer
                return order
        """,
        after="""
            import sqlalchemy as sa
            from app.legacy import Order

            def load(session, order_id):
                order = session.execute(
                    sa.select(Order).where(Order.id == order_id).options(sa.orm.joinedload(Order.customer))
                ).scalar_one()
                return order
        """,
    ),
    Rewrite(
        name="SQLModel Relationship(sa_relationship_kwargs={'lazy': 'selectin'}), plain refresh",
        files={
            "app/heroes.py": """
                from sqlmodel import Field, Relationship, SQLModel

                class Team(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)

                class Hero(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    team_id: int | None = Field(default=None, foreign_key="team.id")
                    team: Team | None = Relationship(sa_relationship_kwargs={"lazy": "selectin"})
            """
        },
        before="""
            from app.heroes import Hero

            def create_hero(session, name):
                hero = Hero(name=name)
                session.add(hero)
                session.commit()
                session.refresh(hero)
                hero.team
                return hero
        """,
        after="""
            from app.heroes import Hero

            def create_hero(session, name):
                hero = Hero(name=name)
                session.add(hero)
                session.commit()
                session.refresh(hero)
                return hero
        """,
    ),
    Rewrite(
        name="a relationship declared on a mixin",
        files={
            "app/models.py": MODELS,
            "app/notes.py": """
                from sqlalchemy.orm import Mapped, mapped_column, relationship
                from app.models import Base, User

                class Authored:
                    author: Mapped[User] = relationship(lazy="joined")

                class Note(Base, Authored):
                    __tablename__ = "notes"
                    id: Mapped[int] = mapped_column(primary_key=True)
            """,
        },
        before="""
            from app.notes import Note

            def reload(session, note: Note):
                session.refresh(note)
                _ = note.author
        """,
        after="""
            from app.notes import Note

            def reload(session, note: Note):
                session.refresh(note)
        """,
    ),
    Keep(
        name="a plain column read is no relationship load: left alone silently",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee_id"])
                _ = task.assignee_id
        """,
    ),
    Keep(
        name="leaving a begin() block commits",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def f(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                async with db.begin():
                    db.add(task)
                _ = task.assignee
        """,
        reason="begin() block (it commits on exit)",
    ),
    Keep(
        name="an untyped session handed to another function",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def f(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                await record_activity(db, task.id)
                _ = task.assignee
        """,
        reason="the session is passed to record_activity()",
    ),
    Keep(
        name="the refresh is in one branch, the trigger after it",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task, stale):
                if stale:
                    session.refresh(task, attribute_names=["assignee"])
                _ = task.assignee
        """,
        reason="nothing before it loads it",
    ),
    Keep(
        name="a lazy='dynamic' relationship",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["watchers"])
                _ = task.watchers
        """,
        reason="lazy='dynamic'",
    ),
    Keep(
        name="suppressed",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee"])
                _ = task.assignee  # optimize: ignore[redundant-lazy-load]
        """,
        reason="suppressed",
    ),
]
RedundantLazyLoad.EXAMPLES = EXAMPLES
