"""## What it does
Removes statements that exist only to trigger a relationship load, `_ = task.assignee` or a
bare `task.assignee`, when the relationship is provably loaded already. A comment block just
above them that only described the load goes with them (only when every statement it
describes goes); a block left empty gets `pass`. `_ = obj.col` of a plain column, or of an
object whose model is not known, is no relationship load and is left alone silently.

## Why is this bad?
When the relationship is loaded, the statement does nothing. When a later change makes it
unloaded, it turns into a hidden query, or a `MissingGreenlet` error in async code.

## Example
```python
await db.refresh(task, attribute_names=["task_status", "assignee", "reporter", "project"])

# Load assignee/reporter relationships for WebSocket broadcast and response
_ = task.assignee  # Trigger lazy load
_ = task.reporter  # Trigger lazy load

# Broadcast task creation to project room for real-time updates
```

## Use instead
```python
await db.refresh(task, attribute_names=["task_status", "assignee", "reporter", "project"])

# Broadcast task creation to project room for real-time updates
```

## Fix safety
A proof is required, in the same function, before the statement:

| proof | loads | pinned by |
| --- | --- | --- |
| `refresh(obj, attribute_names=[..."rel"...])` (or the positional list) | `rel`, any strategy (a `lazy="select"` one from SQLAlchemy 2.0.4) | `test_refresh_naming_the_relationship_loads_it`, `test_async_refresh_naming_the_relationship_loads_it` |
| plain `refresh(obj)` | relationships with `lazy="joined"`, `"selectin"`, `"subquery"`, `"immediate"`; not the default `"select"` | `test_plain_refresh_loads_eager_strategies_only`, `test_async_plain_refresh_loads_eager_strategies_only` |
| `obj = (await s.execute(select(M)...)).scalar_one()` (and `scalar_one_or_none()`, `s.scalar(select(M))`, `s.scalars(select(M)).first()`, SQLModel `s.exec(select(M)).first()`, the legacy `s.query(M)....first()` / `.one()`), or `for obj in s.scalars(select(M))` / `for obj in s.query(M)...` | the same eager strategies, also on an object already held | `test_select_results_load_eager_strategies_only`, `test_async_select_results_load_eager_strategies_only`, `test_a_query_reloads_an_expired_relationship_of_an_object_already_held` |
| `.options(selectinload(M.rel))` / `joinedload` / `subqueryload` / `immediateload` on that query | `rel` | `test_loader_options_load_a_lazy_select_relationship`, `test_async_loader_options_load_a_lazy_select_relationship` |

The model of `obj` is what `optimize.analyzers.holds` says it holds there: `obj = M(...)`,
an annotation (`obj: M`, `M | None`, `Optional["M"]`), any query form, `s.get(M, ...)`, a
helper, service or classmethod in any module whose return annotation says so, an element
of such a list; resolved through imports (a class of the same name that is not the model
does not count), and the strategy from the model's `relationship(lazy=...)` in the
repository index, including relationships declared on mixins and parent models. Both
declarative styles (`Mapped[...] = relationship(...)` and `x = relationship(...)`, under any
import alias) and SQLModel's `Relationship(sa_relationship_kwargs={"lazy": ...})` are read. Where the project's dependency files do not guarantee SQLAlchemy 2.0.4+,
removing a `lazy="select"` relationship named in `refresh(attribute_names=...)` is an
unsafe-tier change: made with `--unsafe-fixes`, refused (and reported) otherwise.

## Preconditions
The proof must hold on every path to the statement. The function's control-flow graph
(`optimize.analyzers.flow`) gives the steps that can be the last to load or rebind the object
before the statement (`FunctionFlow.last_before`): each must be a proof that loads the
relationship (a refresh in each branch counts), and none may be a refresh that an exception
can stop part-way on the way to the statement. Between each proof and the statement
(`FunctionFlow.between`: both branches, the rest of a loop body and the loop's next
iteration, `except` and `finally` blocks, `with` exits; for `obj = result.scalar_one()`,
also between the `execute` and that line) nothing (`optimize.analyzers.effects`):
- reassigns the object (`obj = ...`, a `for`/`with`/`except ... as` target, `del`),
- calls `expire`, `expire_all`, `rollback`, `close` on anything (`test_expire_unloads`,
  `test_rollback_expires`),
- commits on a session whose factory may expire on commit (`test_commit_expires_loaded_relationships_unless_disabled`;
  the session is tied to its factory through `Depends(get_db)` when it can be, otherwise every
  factory in the repository must set `expire_on_commit=False`), including leaving a
  `with session.begin():` block (`test_leaving_a_begin_block_commits_and_expires`),
- passes the session to another function, a context manager or `run_sync` (it could commit,
  roll back or expire), calls a local function or lambda that uses the session or a method
  of an object that holds it (`self.audit()` while `self.db` is the session), or yields;
  a session is a parameter typed as one or injected from a session dependency, anything the
  function calls `refresh`/`commit`/`execute`/... on, or a name bound to one of those.

A loop body that refreshes the object again in each iteration after the previous
iteration's commit keeps its proof: the new refresh is the last load before the statement.

The object cannot be `None` at the statement (`FunctionValues.not_none`): a query that finds
no row (`scalar_one_or_none()`, `.first()`, `get`) gives `None`, and `_ = task.assignee` then
raises `AttributeError`, which the function no longer would once the line is gone. Every
path from the fetch must pass something that would have raised on `None` (`task.x`, a
`refresh(task)`), an `if task is None: raise/return` guard, or enter `if task:`.

## What it refuses
```python
def report(session, task: Task):
    session.refresh(task)
    _ = task.assignee  # load before the session closes
```
`skipped: relationship Task.assignee uses lazy='select' and is not named in the refresh`.
Also: a proof lost to a commit, expire, reassignment, a `begin()` block or a call receiving
the session (the reason names it), including a commit at the end of a `for`/`while` body
that runs before the next iteration's trigger, one in an `except` handler of the loop body,
one between `result = await db.execute(...)` and `result.scalar_one()`, and a local
`async def save(): await db.commit()` called in between; a trigger in an `except` handler of
the refresh itself or after a branch that held the proof; `assignee = task.assignee` ("the
value is used"); `lazy="dynamic"`/`"write_only"` relationships;
`# optimize: ignore[redundant-lazy-load]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.effects import SessionEffects
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.holds import FunctionValues
from optimize.analyzers.models import EAGER_STRATEGIES, ModelInfo
from optimize.analyzers.sessions import sessions_of
from optimize.codemods.base import SAFE, UNSAFE, Codemod, Keep, function_lines, Rewrite, unwrap_await
from optimize.codemods.statements import without_statements
from optimize.analyzers.cst_find import findall

REFRESH_NAMES_MIN_VERSION = (2, 0, 4)
_LOAD_WORDS = ("load", "lazy", "relationship", "trigger", "eager", "prefetch", "populate")


@dataclass
class Proof:
    tier: str
    why: str


@dataclass
class Load:
    """A step that loads relationships of a variable: a `refresh()` of it, or the query
    whose result it is bound to."""

    step: Step
    model: ModelInfo | None
    loaded: dict[str, Proof] = field(default_factory=dict)  # relationship -> why it is loaded
    refresh: bool = False
    # `obj = result.scalar_one()`: the `result = await s.execute(...)` step and its name.
    result: tuple[Step, str] | None = None


class RedundantLazyLoad(Codemod):
    ID = "redundant-lazy-load"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_redundant_lazy_load.py",
        "tests/sqlalchemy_pins/test_loading_behaviour.py",
    )
    TITLE = "remove lazy-load triggers for relationships that are already loaded"
    CONDITIONS = "relationship provably loaded by a preceding refresh/query; nothing expires it in between"
    DESCRIPTION = "Remove `_ = obj.relationship` statements whose relationship is already loaded."
    # Every proof is a refresh or a query in the function (`select` under any alias, the
    # legacy `query`); the trigger statements themselves are found by the facts.
    TRIGGERS = (b"refresh", b"select", b"query")
    # Not NEEDS_MODEL: the object may come from a helper's return annotation, in a file
    # that never names its model.
    EFFECT = "no hidden lazy load on the rewritten path"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """Only where a statement in a function reads a relationship name of some model
        of the repository by itself or into one name (`_ = obj.rel`, `obj.rel`,
        `x = obj.rel`): the facts list those attributes, so a file without one is never
        parsed."""
        if not cls.applies(source, index):
            return False
        facts = index.facts.get(path)
        if facts is not None and not facts.statement_reads:
            return False  # no statement of the shape at all: the models need not be read
        relationships = index.relationship_names()
        return bool(relationships) and (facts is None or bool(cls.candidate_lines(path, index, options)))

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """The functions holding those statements (the codemod reads functions only):
        each proof is looked for in the trigger's own function."""
        facts = index.facts.get(path)
        if facts is None:
            return None
        relationships = index.relationship_names()
        return function_lines(
            scope for attr, scopes in facts.statement_reads.items() if attr in relationships for scope in scopes
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._remove: dict[int, Proof] = {}  # id(original statement) -> proof
        self._relationships: set[str] | None = None  # every model's relationship names, on first use

    # --- the pattern: trigger statements of one function ---------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        flow = FunctionFlow.of(node)
        effects = SessionEffects(flow, sessions_of(self, self.index, node, self.path).names, self.index, self.path)
        values = FunctionValues(self, self.index, flow, self.path, effects.binds)
        for step in flow.steps:
            line = step.statement
            if step.kind != "simple" or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
                continue
            trigger = _trigger(step.parts[0])
            if trigger is not None:
                self._judge(line, self._verdict(flow, effects, values, step, *trigger), *trigger)
                continue
            used = _bound_read(step.parts[0])
            if used is not None:
                name, obj, attr = used
                if isinstance(self._verdict(flow, effects, values, step, obj, attr), Proof):
                    self.refuse(
                        line,
                        f"skipped: the value is used ({name} = {obj}.{attr}); only `_ = {obj}.{attr}` "
                        f"or a bare `{obj}.{attr}` is a load trigger",
                    )

    # --- the question: is obj.attr loaded on every path to the trigger? --------------------------

    def _verdict(
        self, flow: FunctionFlow, effects: SessionEffects, values: FunctionValues, at: Step, obj: str, attr: str
    ) -> Proof | str | None:
        """The proof that ``obj.attr`` is loaded when ``at`` runs, the reason it is not
        shown to be, or None when ``obj.attr`` is no relationship of a known model."""

        def event(step: Step) -> bool:  # what can change what obj has loaded
            return obj in effects.binds(step) or _refreshes(step, obj)

        if self._relationships is None:
            self._relationships = {rel for info in self.index.models.values() for rel in info.relationships}
        if attr not in self._relationships:
            return None  # no model has such a relationship: nothing to ask the flow graph

        def earlier_loads() -> list[Load]:  # loads that reach the trigger, even if lost since
            candidates = (self._load(values, s, obj) for s in flow.steps if event(s) and flow.reaches(s, at))
            return [load for load in candidates if load is not None]

        reaching = flow.last_before(at, event)
        lasts, from_start = reaching.steps, reaching.from_start
        loads = {step: self._load(values, step, obj) for step in lasts}
        # The model obj holds here, or (to say why a proof was lost) the one it held then.
        held = values.at(at, obj)
        model = held.model if held is not None else next(
            (load.model for load in [*loads.values(), *earlier_loads()] if load is not None and load.model), None
        )
        spec = model.relationships.get(attr) if model else None
        if model is None or spec is None:
            return None  # a column, or an object whose model is unknown: not a relationship load
        named = f"{model.name}.{attr}"
        nothing = f"relationship {named} uses lazy={spec.lazy!r} and nothing before it loads it"
        if any(_refreshes(step, obj) for step in reaching.interrupted):
            return f"{obj}.{attr} is not shown to be loaded: a refresh of {obj} on the way to it may stop part-way with an exception"
        if from_start or not lasts:
            return nothing if not loads else f"{nothing} on every path"
        proofs: list[Proof] = []
        for step in lasts:
            load = loads[step]
            if load is None:
                if step is flow.start:
                    return f"{nothing} on every path"
                if any(other is not None for other in loads.values()) or earlier_loads():
                    return f"{obj}.{attr} is not shown to be loaded: {obj} is reassigned in between"
                return nothing
            proof = load.loaded.get(attr)
            if proof is None:
                if load.refresh:
                    return f"relationship {named} uses lazy={spec.lazy!r} and is not named in the refresh"
                return nothing
            # From the load to the trigger, with no other load or rebinding of obj on the way
            # (those are judged as loads of their own); round loops included.
            window = flow.between(step, at, avoiding=event)
            if load.result is not None:  # the query ran at `result = ...`
                result_step, result_name = load.result
                window += flow.between(
                    result_step, step, avoiding=lambda s, name=result_name: name in effects.binds(s)
                )
            effect = effects.expiring(window)
            if effect is not None:
                return f"{obj}.{attr} is not shown to be loaded: {effects.why(effect)}"
            proofs.append(proof)
        if spec.lazy in {"dynamic", "write_only"}:
            return f"{named} is lazy={spec.lazy!r}: reading it loads nothing"
        if not values.not_none(at, obj):
            # On None the read raises AttributeError; without it the function would go on.
            return (
                f"{obj} may be None here (a query that finds no row returns None): reading {obj}.{attr} "
                f"raises then, and nothing before it would"
            )
        return next((p for p in proofs if p.tier == UNSAFE), proofs[0])

    def _load(self, values: FunctionValues, step: Step, obj: str) -> Load | None:
        """What ``step`` loads of ``obj``: a refresh, a query result bound to it, or None
        (it rebinds obj to something not shown to be loaded)."""
        small = step.parts[0] if step.kind == "simple" and step.parts else None
        if _refreshes(step, obj):
            call = unwrap_await(small.value) if isinstance(small, cst.Expr) else None
            held = values.at(step, obj)
            model = held.model if held is not None else None
            if not _is_refresh_of(call, obj):
                return Load(step, model, refresh=True)  # a refresh inside a larger expression
            assert isinstance(call, cst.Call)
            return Load(step, model, self._refresh_loads(call, model), refresh=True)
        held = values.bound_by(step, obj)
        if held is None or held.fetch is None:
            return None
        loads = held.fetch.source.statement.loads
        return Load(step, held.model, self._loaded_by_query(held.model, loads), result=held.result)

    def _loaded_by_query(self, model: ModelInfo, options: frozenset[str]) -> dict[str, Proof]:
        loaded: dict[str, Proof] = {}
        for rel in options:
            loaded[rel] = Proof(SAFE, f"loaded by the query's loader option for {model.name}.{rel}")
        for rel, spec in model.relationships.items():
            if spec.lazy in EAGER_STRATEGIES and rel not in loaded:
                loaded[rel] = Proof(SAFE, f"{model.name}.{rel} is lazy={spec.lazy!r}: loaded with the query")
        return loaded

    def _refresh_loads(self, call: cst.Call, info: ModelInfo | None) -> dict[str, Proof]:
        positional = [a for a in call.args if a.keyword is None]
        names_arg = next((a for a in call.args if a.keyword and a.keyword.value == "attribute_names"), None)
        if names_arg is None and len(positional) > 1:
            names_arg = positional[1]
        model = info.name if info else None
        loaded: dict[str, Proof] = {}
        if names_arg is not None:
            names = _string_list(names_arg.value)
            for attr in names or []:  # names not spelled out: nothing is shown loaded
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
        return loaded

    # --- the edit -------------------------------------------------------------------------------

    def _judge(self, line: cst.SimpleStatementLine, verdict: Proof | str | None, obj: str, attr: str) -> None:
        if verdict is None:
            return
        if isinstance(verdict, str):
            self.refuse(line, f"skipped: {verdict}")
        elif self.record(line, f"removed `{obj}.{attr}` trigger: {verdict.why}", verdict.tier, verdict.why):
            self._remove[id(line)] = verdict

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._remove for s in original.body):
            return updated
        return without_statements(original, updated, self._remove, _only_describes_the_load)

def _refreshes(step: Step, obj: str) -> bool:
    """Whether ``step`` calls `<session>.refresh(obj, ...)` anywhere in it."""
    return any(
        _is_refresh_of(call, obj)
        for part in step.parts
        for call in findall(part, m.Call(func=m.Attribute(attr=m.Name("refresh"))))
    )


def _is_refresh_of(call: cst.BaseExpression | None, obj: str) -> bool:
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "refresh"):
        return False
    positional = [a for a in call.args if a.keyword is None]
    return bool(positional) and isinstance(positional[0].value, cst.Name) and positional[0].value.value == obj


def _bound_value(small: cst.CSTNode | None, name: str) -> cst.BaseExpression | None:
    """The value of `name = value` / `name: T = value`."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and m_name(small.targets[0].target, name):
        return small.value
    if isinstance(small, cst.AnnAssign) and m_name(small.target, name):
        return small.value
    return None


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


def _only_describes_the_load(comments, following) -> bool:
    """A comment block above removed triggers goes with them when it speaks only of loading
    and no trigger that stays follows the run."""
    return not (following is not None and _is_trigger_line(following)) and _describes_load(comments)


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
# The same models written for Python 3.12+: PEP 695 aliases and a generic repository class,
# which the host Python may not parse (the index lowers them).
MODELS_NEW_SYNTAX = """
    from sqlalchemy import ForeignKey, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

    type UserId = int
    type Rows[T] = list[T]

    class Base(DeclarativeBase):
        pass

    class Repo[ModelT: Base]:
        def __init__(self, model: type[ModelT]) -> None:
            self.model = model

        async def all(self, db) -> Rows[ModelT]:
            return list(await db.scalars(select(self.model)))

    class User(Base):
        __tablename__ = "users"
        id: Mapped[UserId] = mapped_column(primary_key=True)

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        assignee_id: Mapped[UserId] = mapped_column(ForeignKey("users.id"))
        reporter_id: Mapped[UserId] = mapped_column(ForeignKey("users.id"))
        assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])
        reporter: Mapped[User] = relationship(foreign_keys=[reporter_id], lazy="selectin")
        watchers: Mapped[list[User]] = relationship(lazy="dynamic")
"""
FILES_NEW_SYNTAX = {"app/models.py": MODELS_NEW_SYNTAX}
SESSION = {
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
    """
}
NEW_SQLALCHEMY = "sqlalchemy[asyncio]>=2.0.30\n"
EXPIRING_SESSION = {
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine)

        async def get_db():
            async with SessionLocal() as session:
                yield session
    """
}
REMINDERS = """
    from fastapi import Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from .db import get_db
    from .models import Task

    async def remind(task_id: int, messages: list[str], db: AsyncSession = Depends(get_db)):
        task = await db.get(Task, task_id)
        await db.refresh(task, attribute_names=["assignee"])
        for message in messages:
            _ = task.assignee  # load the assignee for the reminder
            db.add(Reminder(task_id=task.id, text=message))
            await db.commit()
"""

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
    Rewrite(
        name="models module in Python 3.12 syntax (PEP 695 aliases, a generic class)",
        files=FILES_NEW_SYNTAX,
        before="""
            from .models import Task

            def touch(session, task: Task):
                session.refresh(task)
                _ = task.reporter
                return task
        """,
        after="""
            from .models import Task

            def touch(session, task: Task):
                session.refresh(task)
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
    Rewrite(
        name="in an except handler whose try body cannot unload it",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        before="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee"])
                try:
                    work()
                except ValueError:
                    _ = task.assignee
                    raise
        """,
        after="""
            from app.models import Task

            def f(session, task: Task):
                session.refresh(task, attribute_names=["assignee"])
                try:
                    work()
                except ValueError:
                    raise
        """,
    ),
    Keep(
        name="in an except handler after a commit in the try body",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def f(db, task: Task):
                await db.refresh(task, attribute_names=["assignee"])
                try:
                    await db.commit()
                    await publish(task.id)
                except PublishError:
                    _ = task.assignee
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="in an except handler of the refresh itself",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from app.models import Task

            async def f(db, task: Task):
                await db.refresh(task, attribute_names=["reporter"])
                try:
                    await db.refresh(task, attribute_names=["assignee"])
                except TimeoutError:
                    _ = task.assignee
        """,
        reason="may stop part-way with an exception",
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
                if task is None:
                    raise LookupError("no task")
                _ = task.reporter  # eager load reporter
                return task
        """,
        after="""
            from sqlalchemy import select
            from app.models import Task

            async def first_task(db):
                task = (await db.scalars(select(Task).order_by(Task.id))).first()
                if task is None:
                    raise LookupError("no task")
                return task
        """,
    ),
    Rewrite(
        name="objects of a query with a loader option, iterated; legacy query iterated",
        files=FILES,
        before="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from .models import Task

            async def names(db):
                out = []
                for task in await db.scalars(select(Task).options(selectinload(Task.assignee))):
                    _ = task.assignee
                    out.append(task)
                return out

            def legacy(session):
                for task in session.query(Task).filter(Task.id > 10):
                    _ = task.reporter
                    yield task
        """,
        after="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from .models import Task

            async def names(db):
                out = []
                for task in await db.scalars(select(Task).options(selectinload(Task.assignee))):
                    out.append(task)
                return out

            def legacy(session):
                for task in session.query(Task).filter(Task.id > 10):
                    yield task
        """,
    ),
    Rewrite(
        name="the object from a helper in another module annotated `-> Task | None`, refreshed",
        files={
            **FILES,
            "app/services/tasks.py": """
                from typing import Optional

                from ..models import Task

                async def find_task(db, task_id: int) -> Optional["Task"]:
                    return await db.get(Task, task_id)
            """,
        },
        requirements=NEW_SQLALCHEMY,
        before="""
            from .services.tasks import find_task

            async def show(db, task_id: int):
                task = await find_task(db, task_id)
                await db.refresh(task, attribute_names=["assignee"])
                _ = task.assignee
                return task
        """,
        after="""
            from .services.tasks import find_task

            async def show(db, task_id: int):
                task = await find_task(db, task_id)
                await db.refresh(task, attribute_names=["assignee"])
                return task
        """,
    ),
    Keep(
        name="first() may find no row: the read raises on None and would no longer",
        files=FILES,
        code="""
            from sqlalchemy import select
            from app.models import Task

            async def first_task(db):
                task = (await db.scalars(select(Task).order_by(Task.id))).first()
                _ = task.reporter
                return task
        """,
        reason="task may be None here",
    ),
    Keep(
        name="a loader option on another model loads nothing of this one",
        files=FILES,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from app.models import Task, User

            async def load(db, task_id):
                task = (await db.execute(select(Task).where(Task.id == task_id).options(selectinload(User.id)))).scalar_one()
                _ = task.assignee
                return task
        """,
        reason="nothing before it loads it",
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
    Keep(
        name="loop whose body ends with a commit on an expiring AsyncSession",
        files={**FILES, **EXPIRING_SESSION},
        requirements=NEW_SQLALCHEMY,
        code=REMINDERS,
        reason="db.commit() in between expires it (the session factory expires on commit)",
    ),
    Keep(
        name="while loop whose body ends with a commit on an expiring AsyncSession",
        files={**FILES, **EXPIRING_SESSION},
        requirements=NEW_SQLALCHEMY,
        code="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Task

            async def drain(task_id: int, queue: list[str], db: AsyncSession = Depends(get_db)):
                task = await db.get(Task, task_id)
                await db.refresh(task, attribute_names=["assignee"])
                while queue:
                    message = queue.pop()
                    _ = task.assignee
                    db.add(Reminder(task_id=task.id, text=message))
                    await db.commit()
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="a commit in an except handler runs before the next iteration",
        files={**FILES, **EXPIRING_SESSION},
        requirements=NEW_SQLALCHEMY,
        code="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Task

            async def notify(task_id: int, channels: list[str], db: AsyncSession = Depends(get_db)):
                task = await db.get(Task, task_id)
                await db.refresh(task, attribute_names=["assignee"])
                for channel in channels:
                    _ = task.assignee
                    try:
                        await send(channel, task.id)
                    except ConnectionError:
                        await db.commit()
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="a local function that commits, called in between",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import Task

            async def f(db: AsyncSession, task: Task):
                async def save():
                    await db.commit()

                await db.refresh(task, attribute_names=["assignee"])
                await save()
                _ = task.assignee
        """,
        reason="save() uses the session in between",
    ),
    Keep(
        name="a commit between the query and reading its result",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        code="""
            from sqlalchemy import select

            from .models import Task

            async def close_task(db, task_id: int):
                result = await db.execute(select(Task).where(Task.id == task_id))
                await db.commit()
                task = result.scalar_one()
                _ = task.reporter
                return task
        """,
        reason="db.commit() in between expires it",
    ),
    Rewrite(
        name="refreshed again in each iteration after the loop's commit",
        files={**FILES, **EXPIRING_SESSION},
        requirements=NEW_SQLALCHEMY,
        before="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Task

            async def remind(task_ids: list[int], db: AsyncSession = Depends(get_db)):
                for task_id in task_ids:
                    task = await db.get(Task, task_id)
                    await db.refresh(task, attribute_names=["assignee"])
                    _ = task.assignee
                    await db.commit()
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Task

            async def remind(task_ids: list[int], db: AsyncSession = Depends(get_db)):
                for task_id in task_ids:
                    task = await db.get(Task, task_id)
                    await db.refresh(task, attribute_names=["assignee"])
                    await db.commit()
        """,
    ),
    Rewrite(
        name="loop that only flushes, on an expiring AsyncSession",
        files={**FILES, **EXPIRING_SESSION},
        requirements=NEW_SQLALCHEMY,
        before=REMINDERS.replace("await db.commit()", "await db.flush()"),
        after=REMINDERS.replace("await db.commit()", "await db.flush()").replace(
            "            _ = task.assignee  # load the assignee for the reminder\n", ""
        ),
    ),
    Rewrite(
        name="commit in the loop on an expire_on_commit=False factory",
        files={**FILES, **EXPIRING_SESSION, "app/db.py": EXPIRING_SESSION["app/db.py"].replace("(engine)", "(engine, expire_on_commit=False)")},
        requirements=NEW_SQLALCHEMY,
        before=REMINDERS,
        after=REMINDERS.replace("            _ = task.assignee  # load the assignee for the reminder\n", ""),
    ),
    Rewrite(
        name="refreshed on both branches",
        files=FILES,
        requirements=NEW_SQLALCHEMY,
        before="""
            from app.models import Task

            def reload(session, task: Task, full: bool):
                if full:
                    session.refresh(task)
                    session.refresh(task, attribute_names=["assignee"])
                else:
                    session.refresh(task, attribute_names=["assignee", "reporter"])
                _ = task.assignee
                return task
        """,
        after="""
            from app.models import Task

            def reload(session, task: Task, full: bool):
                if full:
                    session.refresh(task)
                    session.refresh(task, attribute_names=["assignee"])
                else:
                    session.refresh(task, attribute_names=["assignee", "reporter"])
                return task
        """,
    ),
]
RedundantLazyLoad.EXAMPLES = EXAMPLES
