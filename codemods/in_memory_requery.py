"""## What it does
Replaces a query for an object the function already holds by the object:
`select(M).where(M.id == X.fk)` followed by `scalar_one_or_none()` / `scalar_one()` /
`scalars().first()`, the chained forms (`(await db.execute(...)).scalar_one_or_none()`,
`await db.scalar(select(...))`), the legacy Query API (`db.query(M).filter(M.id ==
X.fk).first()` / `.one()` / `.one_or_none()`, `db.query(M).get(X.fk)`), SQLModel's
`session.exec(select(M)...)` and `await db.get(M, X.fk)`, when the function set
`X.fk = obj.id` with `obj` an `M` held in the session. The now-dead `result = ...` statement goes, and an unused
`select` import is removed (`RemoveImportsVisitor`).

## Why is this bad?
The session's identity map returns the very object the function holds, so the query costs a
round trip (50-100 ms in the seed project) for nothing.

## Example
```python
if todo_status:
    project.derived_status_id = todo_status.id
await db.commit()
derived_status_name = None
if project.derived_status_id:
    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
    task_status = result.scalar_one_or_none()
    derived_status_name = task_status.name if task_status else None
```

## Use instead
```python
if project.derived_status_id:
    task_status = todo_status
    derived_status_name = task_status.name if task_status else None
```

## Fix safety
Safe where every precondition below is shown from the function's code; otherwise the query
stays and the reason is reported.

## Preconditions
- The only assignment to `X.fk` in the function is `X.fk = obj.<primary key>`, not inside a
  nested function, and it can run before the query.
- It runs before the query on every path from the function's start (dominance on the
  control-flow graph, `optimize.analyzers.flow`: a loop that may run no time, a branch, or an
  exception that stops the assignment part-way all count as paths without it), or `X` was
  created in the function (`X = Model(...)` without the foreign key), so the key is `None`
  unless the assignment ran.
- The query is guarded by `if X.fk:` or `if X.fk is not None:` (the `None` cases agree).
- What `obj` holds when the assignment runs is an `M` on every path there
  (`optimize.analyzers.holds`): annotated (`M`, `M | None`, `Optional["M"]`), constructed,
  fetched with `get` or any query form, returned by a helper, service or classmethod in any
  module whose return annotation says so, or taken from such a list (`for obj in xs`,
  `next((s for s in xs if ...), None)`, `xs[0]`). `M` is resolved through the import that
  names it: a plain class with a model's name is not that model. `M.<primary key>` is the
  model's sole primary key (repository index).
- `obj` is in the session's identity map, so the query would hand back this very object:
  it was fetched from a session (`get`, a query), or the function adds it (`db.add(obj)`,
  `db.add_all([..., obj])`, `db.add_all(statuses)` for the list it was taken from) and
  flushes or commits after that, both before the query on every path. A parameter may
  belong to no session (or another one) and is refused.
- `obj` and `X` are bound once in the function.
- Nothing that can run between the assignment and the query (`FunctionFlow.between`: both
  branches, the rest of a loop body and the loop's next iteration up to the query, `except`
  and `finally` blocks, `with` exits) does any of this (`optimize.analyzers.effects`):
  - commits on a session whose factory may expire on commit, or leaves a
    `with session.begin():` block, which commits (reading `obj.name` afterwards in async code
    raises `MissingGreenlet`: `test_async_attribute_access_after_an_expiring_commit_fails`,
    and in a loop `test_requery_in_a_loop.py`);
  - calls `expire`, `expire_all`, `rollback`, `close`, `delete`, `expunge` (on any receiver),
    or executes an ORM `delete(M)` statement;
  - passes the session to another function (it may commit, roll back or delete, whatever
    the factory), to a context manager, to `run_sync`, calls a local function or lambda that
    uses the session or a method of an object that holds it (`self.audit()` while
    `self.db` is the session); yields (the caller runs in between);
  - rebinds `obj` or `X`.
- The statement has no other filter, option, lock or ordering; the `result` object is used
  only for this fetch.

A session is what `optimize.analyzers.sessions` says: a parameter typed as one, a
parameter injected from a dependency the index ties to a session factory, a name bound by
`with SessionLocal() as s` / `s = SessionLocal()`, anything the function calls a
session-only method on (`refresh`, `commit`, `flush`, `execute`, `scalars`, `rollback`,
`expire`, `begin`, ...), or a name bound to one of those.

## What it refuses
```python
project = await db.get(Project, project_id)
...
if payload.make_current:
    project.derived_status_id = new_status.id
if project.derived_status_id:
    current = await db.get(TaskStatus, project.derived_status_id)
```
`skipped: project.derived_status_id = new_status.id does not always run before the query, and
project is not created in this function (its derived_status_id may hold another row)`.
Also refused with the reason: a commit on an expiring session anywhere it can run between,
including the end of a `for` or `while` body that runs before the next iteration's query
and an `except` or `finally` block (`skipped: db.commit() in between expires it (the session
factory expires on commit)`), leaving a `begin()` block, the session handed to a service
in another module, a local function that commits, a key assigned twice or in a nested
function, a rebound object, a `delete` in between, a result object used again,
`# optimize: ignore`.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node as name_of
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.effects import SessionEffects
from optimize.analyzers.annotations import Shape
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.holds import FunctionValues
from optimize.analyzers.models import ModelInfo
from optimize.analyzers.sessions import Receiver, receiver_kind, sessions_of
from optimize.analyzers.values import SELECT_FUNCTIONS, Holds, read_fetch, resolve_entity
from optimize.codemods.base import Codemod, Keep, function_lines, Rewrite, unwrap_await
from optimize.codemods.statements import without_statements
from optimize.analyzers.cst_find import findall

# A fetch of one object by its key: what the identity map answers with the object itself.
ONE_OBJECT = {Holds.OBJECT_OR_NONE, Holds.OBJECT}
# Session methods after which an object added to the session is in its identity map.
FLUSHING = {"flush", "commit"}


@dataclass
class Query:
    statement: cst.SimpleStatementLine  # `target = ...` (the one that stays, rewritten)
    step: Step
    target: str
    model: ModelInfo
    key: cst.Attribute  # `X.fk`
    column: str  # the model's column compared with it
    result_statement: cst.SimpleStatementLine | None = None  # `result = await db.execute(...)`
    result_name: str | None = None


class InMemoryRequery(Codemod):
    ID = "in-memory-requery"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/sqlalchemy_pins/test_loading_behaviour.py::test_a_requery_returns_the_object_already_held",
        "tests/sqlalchemy_pins/test_requery_in_a_loop.py",
        "tests/test_fixture_app.py (one statement fewer on `POST /applications/{id}/projects`)",
    )
    TITLE = "use the object already in memory instead of querying it again"
    CONDITIONS = "X.fk = obj.id is the only assignment; query guarded by X.fk; no expiring commit in between"
    DESCRIPTION = "Replace a re-query of an in-memory object by the object."
    TRIGGERS = (b"select", b".get(", b"query(")  # `select`: also `select as sel`, called `sel(`
    ALSO = (b"ession", b"db")  # a Session / AsyncSession / session / db in sight
    NEEDS_MODEL = True  # every case starts from a model class named in the function
    EFFECT = "one SELECT fewer per call of the rewritten function"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """Every case starts from `X.fk = obj.<primary key>` in a function and fetches one
        object by an attribute: `session.get(M, X.fk)`, a one-row fetch or a legacy
        `query(M).get(X.fk)` (see the facts)."""
        facts = index.facts.get(path)
        return cls.applies(source, index) and (
            facts is None
            or (
                not facts.attribute_copies.isdisjoint(index.primary_key_names())
                and bool(cls.candidate_lines(path, index, options))
            )
        )

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """The functions holding those fetches (the codemod reads functions only) and an
        assignment to an attribute (`X.fk = ...`, nested functions included: the codemod
        looks for the key's assignment there and says so): the object, its key and the
        fetch are all read in one function."""
        facts = index.facts.get(path)
        if facts is None:
            return None
        fetches = facts.attribute_key_gets | facts.one_row_scopes | facts.query_gets
        return function_lines(fetches & facts.attribute_assign_scopes)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._replace: dict[int, str] = {}  # id(statement) -> name of the in-memory object
        self._drop: set[int] = set()

    # --- the pattern: a fetch of one object by `X.fk` ------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if not findall(node.body, m.Assign() | m.AnnAssign()):
            return
        flow = FunctionFlow.of(node)
        values = FunctionValues(self, self.index, flow, self.path)
        queries = [q for step in flow.steps if (q := self._query(node, flow, values, step)) is not None]
        if not queries:
            return
        effects = SessionEffects(flow, sessions_of(self, self.index, node, self.path).names, self.index, self.path)
        for query in queries:
            self._prove(node, query, flow, values, effects)

    def _query(self, function: cst.FunctionDef, flow: FunctionFlow, values: FunctionValues, step: Step) -> Query | None:
        line = step.statement
        if step.kind != "simple" or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        small = line.body[0]
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
            target, value = small.targets[0].target.value, small.value
        elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
            target, value = small.target.value, small.value
        else:
            return None
        inner = unwrap_await(value)
        get = self._get(function, inner)
        if get is not None:  # await db.get(M, X.fk)
            model, key = get
            return Query(line, step, target, model, key, model.primary_key[0])
        fetch = read_fetch(self, self.index, inner, values.source_of(step))
        if fetch is None or fetch.holds not in ONE_OBJECT or fetch.source.extra_args:
            return None
        statement = fetch.source.statement
        model = statement.entity.model
        if model is None or len(model.primary_key) != 1 or statement.methods or statement.other_criteria:
            return None
        if receiver_kind(self, fetch.source.session, function) is Receiver.CONNECTION:
            return None
        if fetch.key is not None:  # query(M).get(X.fk)
            if statement.equalities or not isinstance(fetch.key, cst.Attribute):
                return None
            key = fetch.key
        else:
            if len(statement.equalities) != 1 or statement.equalities[0].column != model.primary_key[0]:
                return None
            key = statement.equalities[0].value
        if not isinstance(key, cst.Attribute):
            return None
        query = Query(line, step, target, model, key, model.primary_key[0])
        result = values.result_of(step, inner)
        if result is not None:  # result = await db.execute(...); x = result.scalar_one()
            binding, name = result
            if not (isinstance(binding.statement, cst.SimpleStatementLine) and len(binding.statement.body) == 1):
                return None
            query.result_statement, query.result_name = binding.statement, name
        return query

    def _get(self, function: cst.FunctionDef, call: cst.BaseExpression) -> tuple[ModelInfo, cst.Attribute] | None:
        """(model, key) of `session.get(M, X.fk)` with a single-column key."""
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "get"):
            return None
        if len(call.args) != 2 or any(a.keyword is not None or a.star for a in call.args):
            return None
        key = call.args[1].value
        entity = resolve_entity(self, self.index, call.args[0].value)
        if entity is None or entity.model is None or len(entity.model.primary_key) != 1 or not isinstance(key, cst.Attribute):
            return None
        if receiver_kind(self, call.func.value, function) is Receiver.CONNECTION:
            return None
        return entity.model, key

    # --- the question: is that object in memory, unchanged, when the query runs? -------------

    def _prove(
        self, function: cst.FunctionDef, query: Query, flow: FunctionFlow, values: FunctionValues, effects: SessionEffects
    ) -> None:
        key = name_of(query.key)
        holder = name_of(query.key.value)
        if key is None or holder is None or "." in holder:
            return
        fk_assignments = [
            a for a in findall(function.body, m.Assign())
            if any(name_of(t.target) == key for t in a.targets)
        ]
        if not fk_assignments:
            return  # nothing in memory to use: get-by-primary-key may apply instead
        where = query.statement
        if len(fk_assignments) != 1:
            return self.refuse(where, f"skipped: {key} is assigned more than once in the function")
        assignment = fk_assignments[0]
        value = assignment.value
        if not (isinstance(value, cst.Attribute) and isinstance(value.value, cst.Name) and value.attr.value == query.column):
            return self.refuse(where, f"skipped: {key} is not assigned `<obj>.{query.column}`")
        obj = value.value.value
        # The query runs from its first statement (`result = await db.execute(...)`).
        begins = query.result_statement or query.statement
        try:
            assigned = flow.step_of(assignment)
        except KeyError:  # in a nested function, which may run at any time
            return self.refuse(where, f"skipped: {key} is assigned in a nested function")
        if not flow.reaches(assignment, begins):
            return self.refuse(where, f"skipped: {key} is not assigned on any path before the query")
        for name in (obj, holder):
            if len(effects.bindings(name)) > 1:
                return self.refuse(where, f"skipped: {name} is bound more than once in the function")
        held = values.at(assigned, obj)
        if held is None or held.shape is Shape.MANY or (held.model.path, held.model.name) != (query.model.path, query.model.name):
            return self.refuse(where, f"skipped: cannot show that {obj} is a {query.model.name}")
        if not (flow.dominates(assignment, begins) or self._fresh_holder(flow, holder, query.key.attr.value)):
            return self.refuse(
                where,
                f"skipped: {key} = {obj}.{query.column} does not always run before the query, "
                f"and {holder} is not created in this function (its {query.key.attr.value} may hold another row)",
            )
        if not self._guarded(where, key):
            return self.refuse(where, f"skipped: the query is not guarded by `if {key}:`, so the None cases may differ")
        # What can run between the assignment and the query, round loops included: the
        # rewrite hands out `obj` as it is then, the query would have reloaded it.
        between = flow.between(assignment, begins)
        rebound = effects.rebinding(between, {obj, holder})
        if rebound is not None:
            return self.refuse(where, f"skipped: {rebound[0]} is rebound between the assignment and the query")
        effect = effects.expiring(between) or effects.detaching(between)
        if effect is not None:
            return self.refuse(where, f"skipped: {effects.why(effect)}")
        if query.result_name and _reference_count(function, query.result_name) != 2:
            return self.refuse(where, f"skipped: the result object `{query.result_name}` is used elsewhere")
        if not self._in_session(flow, values, effects, assigned, obj, begins):
            return self.refuse(
                where,
                f"skipped: cannot show that {obj} is in the session's identity map (fetched from it, or added "
                f"and flushed before the query), so the query may return another object",
            )
        if not self.record(
            where,
            f"{query.target} = {obj}: {key} was set to {obj}.{query.column} in this function and the "
            f"session's identity map returns that same {query.model.name} object",
        ):
            return
        self._replace[id(query.statement)] = obj
        if query.result_statement is not None:
            self._drop.add(id(query.result_statement))
        for dropped in (query.result_statement, query.statement):
            if dropped is not None:
                self.remove_imports_used_by(dropped, SELECT_FUNCTIONS)

    def _in_session(
        self, flow: FunctionFlow, values: FunctionValues, effects: SessionEffects, assigned: Step, obj: str, query: cst.CSTNode
    ) -> bool:
        """Whether the query would find ``obj`` in the identity map: it was fetched from a
        session, or added to one (`add(obj)`, `add_all(<its collection>)`) and flushed or
        committed before the query on every path."""
        reaching = flow.last_before(assigned, lambda s: obj in effects.binds(s))
        if reaching.from_start or not reaching.steps:
            return False  # a parameter: the caller's object may belong to no session
        if all(_fetched_here(values, step, obj) for step in reaching.steps):
            return True
        collection = values.collection_of(assigned, obj)
        added = [
            step for step in flow.steps
            if any(_adds(call, obj, collection) for part in step.parts for call in findall(part, m.Call()))
        ]
        flushes = [
            step for step in flow.steps
            if any(
                isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value in FLUSHING
                and name_of(call.func.value) in effects.sessions
                for part in step.parts for call in findall(part, m.Call())
            )
        ]
        return any(
            flow.dominates(add, query) and any(flow.dominates(add, f) and flow.dominates(f, query) for f in flushes)
            for add in added
        )

    def _fresh_holder(self, flow: FunctionFlow, holder: str, fk: str) -> bool:
        """`holder = Model(...)` in this function without the foreign key: until the
        assignment runs, the foreign key is None, which the `if X.fk:` guard excludes."""
        for assign in findall(flow.function.body, m.Assign(targets=[m.AssignTarget(target=m.Name(holder))])):
            value = assign.value
            if not isinstance(value, cst.Call):
                continue
            entity = resolve_entity(self, self.index, value.func)
            if entity is not None and entity.model is not None:
                return not any(a.keyword is not None and a.keyword.value == fk for a in value.args) and not any(
                    a.star for a in value.args
                )
        return False

    def _guarded(self, statement, key: str) -> bool:
        node = statement
        while True:
            parent = self.get_metadata(ParentNodeProvider, node, None)
            if parent is None or isinstance(parent, (cst.FunctionDef, cst.Module)):
                return False
            if isinstance(parent, cst.If) and node is parent.body:
                test = parent.test
                if name_of(test) == key:
                    return True
                if (
                    isinstance(test, cst.Comparison)
                    and len(test.comparisons) == 1
                    and isinstance(test.comparisons[0].operator, cst.IsNot)
                    and name_of(test.left) == key
                    and m.matches(test.comparisons[0].comparator, m.Name("None"))
                ):
                    return True
            node = parent

    # --- the rewrite --------------------------------------------------------------------------

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._replace or id(s) in self._drop for s in original.body):
            return updated
        body = []
        for orig, upd in zip(original.body, updated.body):
            if id(orig) in self._replace:
                assign = upd.body[0]
                upd = upd.with_changes(body=[assign.with_changes(value=cst.Name(self._replace[id(orig)]))])
            body.append(upd)
        return without_statements(original, updated.with_changes(body=body), self._drop)


def _fetched_here(values: FunctionValues, step: Step, obj: str) -> bool:
    """Whether ``step`` binds ``obj`` to an object a session handed out (a query or `get`,
    or iterating a query's results)."""
    if step.kind == "for":
        held = values.bound_by(step, obj)
        return held is not None and held.fetch is not None
    small = step.parts[0] if step.kind == "simple" and step.parts else None
    value = small.value if isinstance(small, (cst.Assign, cst.AnnAssign)) else None
    if value is None:
        return False
    inner = unwrap_await(value)
    if isinstance(inner, cst.Call) and isinstance(inner.func, cst.Attribute) and inner.func.attr.value in {"get", "get_one"}:
        return values.bound_by(step, obj) is not None
    held = values.bound_by(step, obj)
    return held is not None and held.fetch is not None


def _adds(call: cst.CSTNode, obj: str, collection: str | None) -> bool:
    """`session.add(obj)` or `session.add_all(<the collection obj was taken from>)`."""
    if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and len(call.args) == 1):
        return False
    arg = call.args[0].value
    if call.func.attr.value == "add":
        return m.matches(arg, m.Name(obj))
    if call.func.attr.value != "add_all":
        return False
    if isinstance(arg, (cst.List, cst.Tuple, cst.Set)):
        return any(m.matches(element.value, m.Name(obj)) for element in arg.elements)
    return collection is not None and m.matches(arg, m.Name(collection))


def _reference_count(function: cst.FunctionDef, name: str) -> int:
    return len(findall(function.body, m.Name(name)))


MODELS = {
    "app/models.py": """
        from sqlalchemy import ForeignKey
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class TaskStatus(Base):
            __tablename__ = "task_statuses"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str]

            @classmethod
            def create_default_statuses(cls, project_id: int) -> list["TaskStatus"]:
                return [cls(name=name) for name in ("Todo", "In Progress", "Done")]

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            derived_status_id: Mapped[int | None] = mapped_column(ForeignKey("task_statuses.id"))
    """,
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

        async def get_db():
            async with SessionLocal() as session:
                yield session
    """,
}
EXPIRING = {
    **MODELS,
    "app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker
        SessionLocal = async_sessionmaker(engine)

        async def get_db():
            async with SessionLocal() as session:
                yield session
    """,
}

SQLMODEL = {
    "backend/app/models.py": """
        from sqlmodel import Field, SQLModel

        class TaskStatus(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str

        class Project(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str = ""
            derived_status_id: int | None = Field(default=None, foreign_key="taskstatus.id")
    """,
    "backend/app/db.py": """
        from sqlalchemy.orm import sessionmaker
        from sqlmodel import Session, create_engine

        engine = create_engine("sqlite://")
        SessionLocal = sessionmaker(engine, class_=Session, expire_on_commit=False)

        def get_session():
            with SessionLocal() as session:
                yield session
    """,
}
# The loop below (and its `while` and `finally` twins) runs with real SQLAlchemy in
# tests/sqlalchemy_pins/test_requery_in_a_loop.py: as written it works; with the re-query
# replaced by `status`, the second iteration raises MissingGreenlet.
LOOP_WITH_COMMIT = """
    from fastapi import Depends
    from sqlalchemy.ext.asyncio import AsyncSession

    from .db import get_db
    from .models import Project, TaskStatus

    async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
        status = await db.get(TaskStatus, status_id)
        template = Project()
        template.derived_status_id = status.id
        imported = []
        for name in names:
            if template.derived_status_id:
                current = await db.get(TaskStatus, template.derived_status_id)
                imported.append(current.name)
            db.add(Project(name=name, derived_status_id=template.derived_status_id))
            await db.commit()
        return imported
"""

EXAMPLES = [
    Rewrite(
        name="seed: derived status re-queried after being set from an in-memory object",
        files=MODELS,
        before="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession = Depends(get_db)):
                project = Project(name=name)
                db.add(project)
                todo_status = TaskStatus(name="Todo")
                db.add(todo_status)
                await db.flush()
                if todo_status:
                    project.derived_status_id = todo_status.id
                await db.commit()

                # Get the derived status name for the response
                derived_status_name = None
                if project.derived_status_id:
                    result = await db.execute(
                        select(TaskStatus).where(TaskStatus.id == project.derived_status_id)
                    )
                    task_status = result.scalar_one_or_none()
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession = Depends(get_db)):
                project = Project(name=name)
                db.add(project)
                todo_status = TaskStatus(name="Todo")
                db.add(todo_status)
                await db.flush()
                if todo_status:
                    project.derived_status_id = todo_status.id
                await db.commit()

                # Get the derived status name for the response
                derived_status_name = None
                if project.derived_status_id:
                    task_status = todo_status
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name
        """,
    ),
    Rewrite(
        name="chained forms and get, sync session",
        files=MODELS,
        before="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            def assign(session, project: Project, status_id: int):
                status = session.get(TaskStatus, status_id)
                project.derived_status_id = status.id
                if project.derived_status_id is not None:
                    again = session.get(TaskStatus, project.derived_status_id)
                    same = session.scalar(select(TaskStatus).where(project.derived_status_id == TaskStatus.id))
                    one = (session.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))).scalar_one()
                    return again, same, one
        """,
        after="""
            from app.models import Project, TaskStatus

            def assign(session, project: Project, status_id: int):
                status = session.get(TaskStatus, status_id)
                project.derived_status_id = status.id
                if project.derived_status_id is not None:
                    again = status
                    same = status
                    one = status
                    return again, same, one
        """,
    ),
    Rewrite(
        name="seed: the status taken from a classmethod's list with next(...), legacy query and 2.0 select",
        files={
            **MODELS,
            "app/services/statuses.py": """
                from ..models import TaskStatus

                def find_status(statuses: list[TaskStatus], name: str) -> TaskStatus | None:
                    return next((s for s in statuses if s.name == name), None)
            """,
        },
        before="""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession):
                project = Project(name=name)
                db.add(project)
                await db.flush()
                statuses = TaskStatus.create_default_statuses(project.id)
                db.add_all(statuses)
                await db.flush()
                todo_status = next((s for s in statuses if s.name == "Todo"), None)
                if todo_status:
                    project.derived_status_id = todo_status.id
                derived_status_name = None
                if project.derived_status_id:
                    task_status = (
                        await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    ).scalar_one_or_none()
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name

            def legacy(db, project: Project, status_id: int):
                status = db.query(TaskStatus).filter(TaskStatus.id == status_id).one()
                project.derived_status_id = status.id
                if project.derived_status_id:
                    current = db.query(TaskStatus).filter(TaskStatus.id == project.derived_status_id).first()
                    same = db.query(TaskStatus).get(project.derived_status_id)
                    return current, same
        """,
        after="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import Project, TaskStatus

            async def create_project(name: str, db: AsyncSession):
                project = Project(name=name)
                db.add(project)
                await db.flush()
                statuses = TaskStatus.create_default_statuses(project.id)
                db.add_all(statuses)
                await db.flush()
                todo_status = next((s for s in statuses if s.name == "Todo"), None)
                if todo_status:
                    project.derived_status_id = todo_status.id
                derived_status_name = None
                if project.derived_status_id:
                    task_status = todo_status
                    derived_status_name = task_status.name if task_status else None
                return derived_status_name

            def legacy(db, project: Project, status_id: int):
                status = db.query(TaskStatus).filter(TaskStatus.id == status_id).one()
                project.derived_status_id = status.id
                if project.derived_status_id:
                    current = status
                    same = status
                    return current, same
        """,
    ),
    Keep(
        name="the statuses are never added to the session: the query cannot return them",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from .models import Project, TaskStatus

            async def create_project(name: str, db):
                project = Project(name=name)
                statuses = TaskStatus.create_default_statuses(project.id)
                todo_status = next((s for s in statuses if s.name == "Todo"), None)
                if todo_status:
                    project.derived_status_id = todo_status.id
                if project.derived_status_id:
                    found = (await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))).scalar_one_or_none()
                    return found
        """,
        reason="cannot show that todo_status is in the session's identity map",
    ),
    Keep(
        name="a parameter may belong to no session",
        files=MODELS,
        code="""
            from .models import Project, TaskStatus

            def assign(session, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id:
                    found = session.get(TaskStatus, project.derived_status_id)
                    return found
        """,
        reason="cannot show that status is in the session's identity map",
    ),
    Keep(
        name="a plain class named like the model is not the model",
        files={
            **MODELS,
            "app/schemas.py": """
                class TaskStatus:
                    id: int
            """,
        },
        code="""
            from .models import Project
            from .schemas import TaskStatus

            async def f(db, project: Project, status_id: int):
                status = await db.get(TaskStatus, status_id)
                project.derived_status_id = status.id
                if project.derived_status_id:
                    return await db.get(TaskStatus, project.derived_status_id)
        """,
    ),
    Keep(
        name="the object rebound between running the query and reading its result",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from .models import Project, TaskStatus

            async def f(db, name: str, other_id: int):
                project = Project(name=name)
                status = TaskStatus(name="Todo")
                db.add(status)
                await db.flush()
                project.derived_status_id = status.id
                if project.derived_status_id:
                    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    status = await db.get(TaskStatus, other_id)
                    found = result.scalar_one_or_none()
                    return found, status
        """,
        reason="bound more than once",
    ),
    Keep(
        name="commit on a session that expires on commit",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from app.db import get_db
            from app.models import Project, TaskStatus

            async def create(db=Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Backlog")
                project.derived_status_id = status.id
                await db.commit()
                if project.derived_status_id:
                    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    found = result.scalar_one_or_none()
                    return found
        """,
        reason="expires on commit",
    ),
    Keep(
        name="not guarded by the foreign key",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                return result.scalar_one_or_none()
        """,
    ),
    Keep(
        name="assignment only on one branch, holder loaded from the database",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def add_status(db, project_id, name, make_current):
                project = await db.get(Project, project_id)
                new_status = TaskStatus(name=name)
                db.add(new_status)
                await db.flush()
                if make_current:
                    project.derived_status_id = new_status.id
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="does not always run before the query",
    ),
    Keep(
        name="foreign key assigned twice",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, a: TaskStatus, b: TaskStatus, flag):
                project.derived_status_id = a.id
                if flag:
                    project.derived_status_id = b.id
                if project.derived_status_id:
                    found = await db.scalar(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    return found
        """,
        reason="assigned more than once",
    ),
    Keep(
        name="object rebound",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus, other):
                project.derived_status_id = status.id
                status = other
                if project.derived_status_id:
                    found = await db.get(TaskStatus, project.derived_status_id)
                    return found
        """,
        reason="bound more than once",
    ),
    Keep(
        name="deleted in between",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                await db.delete(status)
                if project.derived_status_id:
                    found = await db.get(TaskStatus, project.derived_status_id)
                    return found
        """,
        reason="delete",
    ),
    Keep(
        name="other filters or options",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id:
                    found = await db.scalar(
                        select(TaskStatus).where(TaskStatus.id == project.derived_status_id).with_for_update()
                    )
                    return found
        """,
    ),
    Keep(
        name="result object used again",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project, TaskStatus

            async def f(db, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                if project.derived_status_id:
                    result = await db.execute(select(TaskStatus).where(TaskStatus.id == project.derived_status_id))
                    found = result.scalar_one_or_none()
                    log(result)
                    return found
        """,
        reason="used elsewhere",
    ),
    Keep(
        name="not an instance of the queried model",
        files=MODELS,
        code="""
            from app.models import Project, TaskStatus

            async def f(db, project: Project, other: Project):
                project.derived_status_id = other.id
                if project.derived_status_id:
                    return await db.get(TaskStatus, project.derived_status_id)
        """,
    ),
    Keep(
        name="re-query inside a for loop whose body ends with a commit that expires",
        files=EXPIRING,
        code=LOOP_WITH_COMMIT,
        reason="db.commit() in between expires it (the session factory expires on commit)",
    ),
    Keep(
        name="re-query inside a while loop whose body ends with a commit that expires",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def drain(queue: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                while queue:
                    name = queue.pop()
                    if template.derived_status_id:
                        result = await db.execute(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))
                        current = result.scalar_one_or_none()
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.commit()
                return imported
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="the commit is in a finally block that runs before the next iteration",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    try:
                        if template.derived_status_id:
                            current = await db.scalar(select(TaskStatus).where(TaskStatus.id == template.derived_status_id))
                            imported.append(current.name)
                        db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    finally:
                        await db.commit()
                return imported
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="the commit is in an except handler that can run between",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy.exc import IntegrityError
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def rename_all(project_id: int, status: TaskStatus, names: list[str], db: AsyncSession = Depends(get_db)):
                project = await db.get(Project, project_id)
                project.derived_status_id = status.id
                try:
                    await db.flush()
                except IntegrityError:
                    await db.commit()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="db.commit() in between expires it",
    ),
    Keep(
        name="leaving a begin() block commits",
        files=EXPIRING,
        code="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models import Project, TaskStatus

            async def attach(db: AsyncSession, project: Project, status: TaskStatus):
                project.derived_status_id = status.id
                async with db.begin():
                    db.add(project)
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="the db.begin() block (it commits on exit) in between expires it",
    ),
    Keep(
        name="the session is handed to a service in another module, even one that does not expire",
        files={
            **MODELS,
            "app/services/statuses.py": """
                from app.models import TaskStatus

                async def retire_status(db, status_id):
                    await db.delete(await db.get(TaskStatus, status_id))
                    await db.flush()
            """,
        },
        code="""
            from .models import Project, TaskStatus
            from .services.statuses import retire_status

            async def move(db, project: Project, status: TaskStatus, old_id: int):
                project.derived_status_id = status.id
                await db.refresh(project)
                await retire_status(db, old_id)
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current
        """,
        reason="the session is passed to retire_status() in between",
    ),
    Keep(
        name="a local function that commits, called in between",
        files=EXPIRING,
        code="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def create(db: AsyncSession = Depends(get_db)):
                async def save():
                    await db.commit()

                project = Project()
                status = TaskStatus(name="Backlog")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await save()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="save() uses the session in between",
    ),
    Keep(
        name="the assignment comes later in the loop body than the query",
        files=MODELS,
        code="""
            from .models import Project, TaskStatus

            async def relink(db, project: Project, status: TaskStatus, rounds: int):
                seen = []
                for _ in range(rounds):
                    if project.derived_status_id:
                        current = await db.get(TaskStatus, project.derived_status_id)
                        seen.append(current.name)
                    project.derived_status_id = status.id
                return seen
        """,
        reason="does not always run before the query",
    ),
    Rewrite(
        name="loop that only flushes: the commit after it cannot run between",
        files=EXPIRING,
        before="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    if template.derived_status_id:
                        current = await db.get(TaskStatus, template.derived_status_id)
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.flush()
                await db.commit()
                return imported
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .db import get_db
            from .models import Project, TaskStatus

            async def import_projects(names: list[str], status_id: int, db: AsyncSession = Depends(get_db)):
                status = await db.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported = []
                for name in names:
                    if template.derived_status_id:
                        current = status
                        imported.append(current.name)
                    db.add(Project(name=name, derived_status_id=template.derived_status_id))
                    await db.flush()
                await db.commit()
                return imported
        """,
    ),
    Rewrite(
        name="commit in the loop on an expire_on_commit=False factory",
        files=MODELS,
        before=LOOP_WITH_COMMIT,
        after=LOOP_WITH_COMMIT.replace(
            "current = await db.get(TaskStatus, template.derived_status_id)", "current = status"
        ),
    ),
    Rewrite(
        name="SQLModel in a backend/app layout, sync session committing in the loop",
        files=SQLMODEL,
        before="""
            from fastapi import Depends
            from sqlmodel import Session

            from app.db import get_session
            from app.models import Project, TaskStatus

            def import_projects(names: list[str], status_id: int, session: Session = Depends(get_session)) -> list[str]:
                status = session.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported: list[str] = []
                for name in names:
                    session.add(Project(name=name, derived_status_id=template.derived_status_id))
                    session.commit()
                    if template.derived_status_id:
                        current = session.get(TaskStatus, template.derived_status_id)
                        imported.append(current.name)
                return imported
        """,
        after="""
            from fastapi import Depends
            from sqlmodel import Session

            from app.db import get_session
            from app.models import Project, TaskStatus

            def import_projects(names: list[str], status_id: int, session: Session = Depends(get_session)) -> list[str]:
                status = session.get(TaskStatus, status_id)
                template = Project()
                template.derived_status_id = status.id
                imported: list[str] = []
                for name in names:
                    session.add(Project(name=name, derived_status_id=template.derived_status_id))
                    session.commit()
                    if template.derived_status_id:
                        current = status
                        imported.append(current.name)
                return imported
        """,
    ),
    Keep(
        name="the foreign key is set in a nested function that may not run",
        files=MODELS,
        code="""
            from .models import Project, TaskStatus

            async def relink(db, project: Project, status: TaskStatus, confirmed: bool):
                def link():
                    project.derived_status_id = status.id

                if confirmed:
                    link()
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        reason="assigned in a nested function",
    ),
    Rewrite(
        name="a dependency that is no session handed to a helper in between",
        files={
            **MODELS,
            "app/auth.py": """
                async def get_current_user(token: str):
                    return {"token": token}
            """,
        },
        before="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .auth import get_current_user
            from .db import get_db
            from .models import Project, TaskStatus

            async def create(user=Depends(get_current_user), db: AsyncSession = Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Todo")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await audit(user, "project created")
                if project.derived_status_id:
                    current = await db.get(TaskStatus, project.derived_status_id)
                    return current.name
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession

            from .auth import get_current_user
            from .db import get_db
            from .models import Project, TaskStatus

            async def create(user=Depends(get_current_user), db: AsyncSession = Depends(get_db)):
                project = Project()
                status = TaskStatus(name="Todo")
                db.add_all([project, status])
                await db.flush()
                project.derived_status_id = status.id
                await audit(user, "project created")
                if project.derived_status_id:
                    current = status
                    return current.name
        """,
    ),
]
InMemoryRequery.EXAMPLES = EXAMPLES
