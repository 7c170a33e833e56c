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
`rollback`), commit on a session that expires on commit, or pass the session to another
function (which could do either).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from optimize.codemods.base import SAFE, UNSAFE, Codemod, Keep, Rewrite
from optimize.codemods.orm_flow import (
    EAGER_STRATEGIES,
    EXPIRING_METHODS,
    RESULT_METHODS,
    assigned_names,
    calls_passing,
    execute_call,
    method_calls,
    name_of,
    read_select,
    session_dependencies,
    unwrap_await,
)

REFRESH_NAMES_MIN_VERSION = (2, 0, 4)
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
    lost: dict[str, str] = field(default_factory=dict)  # variable -> why its proof no longer holds

    def copy(self) -> "State":
        return State(
            dict(self.models), {k: dict(v) for k, v in self.loaded.items()}, dict(self.results), dict(self.lost)
        )

    def forget(self, names: set[str]) -> None:
        for name in names:
            self.models.pop(name, None)
            self.loaded.pop(name, None)
            self.results.pop(name, None)


class RedundantLazyLoad(Codemod):
    ID = "redundant-lazy-load"
    TITLE = "remove lazy-load triggers for relationships that are already loaded"
    CONDITIONS = "relationship provably loaded by a preceding refresh/query; nothing expires it in between"
    DESCRIPTION = "Remove `_ = obj.relationship` statements whose relationship is already loaded."
    TRIGGERS = (b"refresh(", b"select(")
    ALSO = (b"refresh(", b"_ = ", b"options(")
    EFFECT = "no hidden lazy load on the rewritten path"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._remove: dict[int, Proof] = {}  # id(original statement) -> proof

    # --- analysis: one pass per function, on the original tree --------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._sessions = session_dependencies(self, node)
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
            # Handlers, else and finally may start anywhere in the try body: nothing is known.
        self._apply_invalidation(state, invalid)

    def _invalidated(self, node: cst.CSTNode) -> tuple[set[str], str | None]:
        """(names rebound, why everything loaded may be expired) anywhere inside ``node``."""
        why = None
        for receiver, method, _ in method_calls(node):
            if method in EXPIRING_METHODS:
                why = f"{receiver}.{method}() in between unloads it"
            elif method == "commit" and self._commit_expires(receiver):
                why = f"{receiver}.commit() in between expires it (the session may expire on commit)"
        for call in calls_passing(node, set(self._sessions)):
            if why is None and any(self._commit_expires(s) for s in self._sessions):
                why = f"the session is passed to {name_of(call.func) or 'a call'}() in between, which may commit or expire"
        return assigned_names(node), why

    def _apply_invalidation(self, state: State, invalid: tuple[set[str], str | None]) -> None:
        names, why = invalid
        for name in names:
            if name in state.loaded:
                state.lost[name] = f"{name} is reassigned in between"
        state.forget(names)
        if why:
            for name in state.loaded:
                state.lost[name] = why
            state.loaded.clear()

    def _commit_expires(self, receiver: str) -> bool:
        dependency = self._sessions.get(receiver)
        return self.index.expires_on_commit(dependency)

    def _model_name(self, node: cst.BaseExpression) -> str | None:
        name = name_of(node)
        if name is None:
            return None
        short = name.rsplit(".", 1)[-1]
        return short if self.index.model(short) is not None else None

    def _simple(self, line: cst.SimpleStatementLine, small: cst.BaseSmallStatement, state: State) -> None:
        trigger = _trigger(small)
        if trigger is not None and len(line.body) == 1:
            self._judge(line, trigger, state)
            return
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
        executed = execute_call(inner)
        if executed is not None:
            select = read_select(self, executed[1])
            if select is not None and self.index.model(select.model):
                state.results[name] = (select.model, select.options)
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
                executed = execute_call(source)
                if executed is not None:
                    select = read_select(self, executed[1])
                    if select is not None and self.index.model(select.model):
                        self._loaded_by_query(name, select.model, select.options, state)
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

    def _judge(self, line: cst.SimpleStatementLine, trigger: tuple[str, str], state: State) -> None:
        obj, attr = trigger
        proof = state.loaded.get(obj, {}).get(attr)
        model = state.models.get(obj)
        spec = self.index.relationship(model, attr) if model else None
        if proof is None:
            if spec is not None or obj in state.loaded or obj in state.lost:
                if obj in state.lost:
                    why = f"{obj}.{attr} is not shown to be loaded: {state.lost[obj]}"
                elif spec is not None:
                    why = f"relationship {model}.{attr} uses lazy={spec.lazy!r} and nothing before it loads it"
                else:
                    why = f"{obj}.{attr} is not shown to be loaded by what precedes it"
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
            async def create_task(db, task):
                await db.refresh(task, attribute_names=["task_status", "assignee", "reporter", "project"])

                # Load assignee/reporter relationships for WebSocket broadcast and response
                _ = task.assignee  # Trigger lazy load
                _ = task.reporter  # Trigger lazy load

                # Broadcast task creation to project room for real-time updates
                await notify(task)
        """,
        after="""
            async def create_task(db, task):
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
            async def save(db, task):
                await db.refresh(task, attribute_names=["assignee"])
                await db.commit()
                _ = task.assignee
        """,
        after="""
            async def save(db, task):
                await db.refresh(task, attribute_names=["assignee"])
                await db.commit()
        """,
    ),
    Rewrite(
        name="version not guaranteed: an unsafe-tier change",
        files=FILES,
        before="""
            async def create_task(db, task):
                await db.refresh(task, attribute_names=["assignee"])
                _ = task.assignee
                return task
        """,
        after="""
            async def create_task(db, task):
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
        reason="lazy='select'",
    ),
    Keep(
        name="commit on an expiring session in between",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            async def save(db, task):
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
            def f(session, task):
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
            def f(session, task, other):
                session.refresh(task, attribute_names=["assignee"])
                task = other
                _ = task.assignee
        """,
    ),
    Keep(
        name="the value is used",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            def f(session, task):
                session.refresh(task, attribute_names=["assignee"])
                assignee = task.assignee
                return assignee
        """,
    ),
    Keep(
        name="inside a loop that commits on an expiring session",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            async def f(db, task, items):
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
            def f(session, task):
                session.refresh(task, attribute_names=["assignee"])
                try:
                    work()
                except ValueError:
                    _ = task.assignee
        """,
    ),
    Keep(
        name="session handed to another function in between",
        files={**FILES},
        requirements=NEW_SQLALCHEMY,
        code="""
            from sqlalchemy.ext.asyncio import AsyncSession

            async def f(db: AsyncSession, task):
                await db.refresh(task, attribute_names=["assignee"])
                await audit(db)
                _ = task.assignee
        """,
        reason="not shown to be loaded",
    ),
    Keep(
        name="suppressed",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            def f(session, task):
                session.refresh(task, attribute_names=["assignee"])
                _ = task.assignee  # optimize: ignore[redundant-lazy-load]
        """,
        reason="suppressed",
    ),
]
RedundantLazyLoad.EXAMPLES = EXAMPLES
