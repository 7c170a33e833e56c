"""## What it does
Rewrites a fetch of one object by its primary key to `Session.get`, on every query form:

| form | becomes |
| --- | --- |
| `(await db.execute(select(M).where(M.id == x))).scalar_one_or_none()` | `await db.get(M, x)` |
| `… .scalars().first()`, `… .scalars().one_or_none()`, `… .unique().scalar_one_or_none()`, `… .scalar()` | `await db.get(M, x)` |
| `(await db.scalars(select(M).where(M.id == x))).first()` / `.one_or_none()` | `await db.get(M, x)` |
| `await db.scalar(select(M).filter_by(id=x))` | `await db.get(M, x)` |
| SQLModel: `session.exec(select(M).where(M.id == x)).first()` / `.one_or_none()` | `session.get(M, x)` |
| legacy: `db.query(M).filter(M.id == x).first()` / `.one_or_none()` / `.scalar()` | `db.get(M, x)` |
| legacy: `db.query(M).filter_by(id=x).first()` | `db.get(M, x)` |
| legacy: `db.query(M).get(x)` | `db.get(M, x)` |
| `result = await db.execute(stmt)` + `obj = result.scalar_one_or_none()` | `obj = await db.get(M, x)` |
| a composite key, `where(M.b == y, M.a == x)` | `db.get(M, (x, y))`, in the mapper's key order |

`M` is written as the code wrote it (`models.User` stays `models.User`); criteria may be
split over several `where`/`filter` calls, `and_(...)` or `&`.

## Why is this bad?
A select always goes to the database. `Session.get` first looks in the session's identity
map and returns an object the session already holds without a round trip; otherwise it
issues the same single-row SELECT (with the model's default eager loads).

## Example
```python
result = await db.execute(select(Task).where(Task.id == task_id))
task = result.scalar_one_or_none()

user = db.query(User).filter(User.id == user_id).first()
```

## Use instead
```python
task = await db.get(Task, task_id)

user = db.get(User, user_id)
```

## Fix safety
Unsafe: an object the session already holds is returned without asking the database. Its
loaded values are what either form hands back (a select re-reads the row but does not
overwrite a held object's attributes), but a row another transaction deleted since is the
difference: the select finds no row and returns None, `get` returns the held object. An
identity-map hit also skips the autoflush a select does, and the session's
`do_orm_execute` hooks (a soft-delete filter added with `with_loader_criteria`, for
example) do not run for it. A key value that is None at run time finds nothing either way
(`get` warns). Each is pinned in `tests/sqlalchemy_pins/test_get_by_primary_key_forms.py`.

## Preconditions
- The selected class resolves, through the import that names it, to a mapped model of the
  repository (`index.model_for`); a class that only shares a model's name is left alone.
- The criteria are equalities on the whole primary key, each column once, against values:
  a column (`M.id == Other.id`), an `aliased(...)` class, a subquery's column or any other
  SQL construct is not a value.
- Nothing else on the statement: no other filter, `options(...)`, `order_by`, `join`,
  `limit`, `with_for_update`, `execution_options`, `populate_existing`; `execute(...)` is
  given nothing beside the statement.
- The fetch returns one object or None: `scalar_one_or_none()`, `scalar()`,
  `scalars().first()`, `scalars().one_or_none()`, `Query.first()` / `.one_or_none()` /
  `.scalar()` / `.get()`, SQLModel `exec(...).first()` / `.one_or_none()`.
- A composite key's tuple is built in the mapper's order, which must be proven from the
  class: every key column declared in the class itself (a mixin's key column is placed after
  the class's own), none with `sort_order=`, and no `__table_args__`, `__mapper_args__` or
  `__table__` in the class or its bases (a `PrimaryKeyConstraint` names its own order).
- The receiver is not a `Connection` (`async with engine.connect() as conn`, an annotation),
  nor `self` / `cls` of a class not known to be a session (a repository's own `query()`
  and `get()` need not be the session's).
- Nothing that can run before the lookup deletes through the same session
  (`session.delete(obj)`, `session.query(M)....delete()`, `session.execute(delete(M))`, or a
  local function that uses the session), earlier on some path or in an earlier iteration of
  a loop (`optimize.analyzers.effects` on the flow graph). `get` returns an object deleted
  but not yet flushed; the select autoflushes the delete and finds no row. A delete after
  the lookup (`obj = ...; session.delete(obj)`) changes nothing it finds.
- The legacy Query forms need SQLAlchemy 1.4 or later (`Session.get` is new in 1.4): the
  project must state a lower bound of at least 1.4 (requirements, pyproject, a lock file).
- In the two-statement form the `result` object is used for nothing else.

## What it refuses
Every case above that is a lookup by primary key but fails a precondition is reported with
the reason, for example:
```python
project = (await db.execute(select(Project).where(Project.id == pid).options(selectinload(Project.tasks)))).scalar_one_or_none()
# `.options(...)` on the statement: get would not apply loader options to an object the session already holds
task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()
# `execute(...).scalar_one()` raises NoResultFound when no row matches, where get returns None
row = (await db.execute(select(Task).where(Task.id == task_id))).first()
# `execute(...).first()` holds a Row, not a Task: get would hand back the object itself
```
A statement that does not compare a primary-key column is no lookup by key and is left
without a word; so are `.all()` fetches and classes that are neither a model nor named like
one.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import libcst as cst
import libcst.matchers as m
from optimize.analyzers.parents import ParentNodeProvider

from optimize.analyzers.primary_keys import primary_key_order
from optimize.analyzers.values import (
    SELECT_FUNCTIONS,
    Fetch,
    Form,
    Holds,
    holds_sql,
    read_fetch,
    read_source,
)
from optimize.analyzers.effects import EffectKind, SessionEffects
from optimize.analyzers.flow import FunctionFlow
from optimize.analyzers.sessions import Receiver, receiver_kind
from optimize.codemods.base import SUPPRESSED, UNSAFE, Codemod, Keep, function_lines, Rewrite
from optimize.codemods.statements import without_statements
from optimize.analyzers.cst_find import findall

SESSION_GET_MIN_VERSION = (1, 4)
# Why a chain method rules the rewrite out (others: "get would not apply it").
METHOD_REASONS = {
    "options": "get would not apply loader options to an object the session already holds",
    "with_for_update": "get would not lock the row",
    "populate_existing": "get would not refresh an object the session already holds",
    "execution_options": "get would not apply the execution options",
}


def code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


@dataclass(frozen=True)
class Lookup:
    """The `session.get(M, key)` a fetch becomes."""

    session: cst.BaseExpression
    model: cst.BaseExpression
    key: cst.BaseExpression
    awaited: bool
    rationale: str

    def expression(self) -> cst.BaseExpression:
        call = cst.Call(
            func=cst.Attribute(self.session, cst.Name("get")),
            args=[
                cst.Arg(self.model, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                cst.Arg(self.key),
            ],
        )
        return cst.Await(call) if self.awaited else call


class GetByPrimaryKey(Codemod):
    ID = "get-by-primary-key"
    # Tests beyond the examples: the claims they prove (listed on the codemod's docs page).
    TESTS = (
        "tests/codemods/test_get_by_primary_key.py",
        "tests/analyzers/test_values.py",
        "tests/analyzers/test_primary_keys.py",
        "tests/sqlalchemy_pins/test_get_by_primary_key_forms.py",
    )
    TITLE = "fetch rows by primary key with Session.get, which uses the identity map"
    SAFETY = UNSAFE
    CONDITIONS = (
        "a mapped model (through its import), equality on the whole primary key, no other "
        "filter/options/lock; one-or-None fetch (not one()/scalar_one()); Query forms need SQLAlchemy>=1.4"
    )
    DESCRIPTION = "Replace select-by-primary-key and query-by-primary-key with Session.get."
    # Not `select(`: an alias (`from sqlalchemy import select as sel`) is called by its own
    # name; the facts then tell the calls apart.
    TRIGGERS = (b"select", b"query")
    ALSO = (b"scalar", b".first(", b".one(", b".one_or_none(", b".get(")
    NEEDS_MODEL = True  # every case starts from a model class named in the function
    EFFECT = "no round trip when the session already holds the row"

    @classmethod
    def applies_to(cls, path: str, source: bytes, index, options=None) -> bool:
        """The legacy `query(M).get(x)`, or a call that fetches one row (`.first()`,
        `.scalar_one_or_none()`, `session.scalar(stmt)`, ...) in a function that calls
        `select(...)` or `x.query(...)` and whose filters test a model's primary key for
        equality. A fetch reads its statement, which starts from one of those calls, from
        the same expression or the statements just before it, so all are in one function
        (a statement a helper builds, `self.base_statement().where(M.id == id)`, is not read)."""
        if not cls.applies(source, index):
            return False
        facts = index.facts.get(path)
        if facts is None or facts.query_gets:
            return True
        scopes = facts.one_row_scopes & facts.select_scopes
        return bool(scopes) and index.filters_by_primary_key(path, scopes)

    @classmethod
    def candidate_lines(cls, path: str, index, options=None) -> frozenset[int] | None:
        """The functions holding those fetches: a fetch and its statement are read, and
        rewritten, in one function."""
        facts = index.facts.get(path)
        if facts is None:
            return None
        scopes = facts.one_row_scopes & facts.select_scopes
        keyed = {s for s in scopes if index.filters_by_primary_key(path, frozenset({s}))} | facts.query_gets
        # A fetch outside any function (a module or class body) is read with the module.
        return None if 0 in keyed else function_lines(keyed)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The two-statement form: `result = ...execute(...)` dropped, the fetch replaced.
        self._drop: set[int] = set()
        self._replace_value: dict[int, Lookup] = {}
        self._done: dict[int, cst.BaseExpression] = {}  # id(original call) -> its replacement
        self._flows: tuple[cst.FunctionDef, FunctionFlow] | None = None

    # --- `(await db.execute(select(M).where(M.id == x))).scalar_one_or_none()` and kin ------

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        fetch = read_fetch(self, self.index, original)
        if fetch is None:
            return updated
        plan = self._plan(fetch, self._function_of(original))
        if plan is None:
            return updated
        if isinstance(plan, str):
            self.refuse(original, plan)
            return updated
        if not self.record(original, plan.rationale):
            return updated
        self.remove_imports_used_by(original, SELECT_FUNCTIONS)
        replacement = self._in_place(original, self._built(plan))
        self._done[id(original)] = replacement
        return replacement

    def _built(self, plan: Lookup) -> cst.BaseExpression:
        """The lookup's expression, with any lookup rewritten inside its parts (the key
        value `Task.id == (await db.get(...)).task_id`) kept rewritten: the parts are taken
        from the original tree."""
        return plan.expression().visit(_Substitute(self._done))

    def _in_place(self, original: cst.Call, replacement: cst.BaseExpression) -> cst.BaseExpression:
        """``replacement`` with the original's parentheses, and with its own where an
        `await` would otherwise bind to a trailing `.attr`, `[...]` or `(...)`."""
        if original.lpar:
            return replacement.with_changes(lpar=original.lpar, rpar=original.rpar)
        parent = self.get_metadata(ParentNodeProvider, original, None)
        trailed = (
            (isinstance(parent, (cst.Attribute, cst.Subscript)) and parent.value is original)
            or (isinstance(parent, cst.Call) and parent.func is original)
        )
        if isinstance(replacement, cst.Await) and trailed:
            return replacement.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return replacement

    # --- `result = await db.execute(...)` + `x = result.scalar_one_or_none()` ----------------

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        statements = list(node.body)
        for first, second in itertools.pairwise(statements):
            pair = self._result_pair(first, second)
            if pair is None:
                continue
            result_name, fetch = pair
            function = self._function_of(node)
            plan = self._plan(fetch, function)
            if plan is None:
                continue
            if isinstance(plan, str):
                self.refuse(second, plan)
                continue
            if function is None or len(findall(function, m.Name(result_name))) != 2:
                self.refuse(second, f"`{result_name}` is used again: get returns only the object, not a result")
                continue
            if self.suppressed(first):  # the change spans both statements
                self.refuse(second, SUPPRESSED)
            elif self.record(second, plan.rationale):
                self.remove_imports_used_by(first, SELECT_FUNCTIONS)
                self._drop.add(id(first))
                self._replace_value[id(second)] = plan

    def _result_pair(self, first: cst.BaseStatement, second: cst.BaseStatement) -> tuple[str, Fetch] | None:
        """(result name, fetch) when ``first`` binds a source to a name and ``second``
        assigns or returns a fetch from that name."""
        if not (isinstance(first, cst.SimpleStatementLine) and isinstance(second, cst.SimpleStatementLine)):
            return None
        if len(first.body) != 1 or len(second.body) != 1:
            return None
        bind, use = first.body[0], second.body[0]
        if not (isinstance(bind, cst.Assign) and len(bind.targets) == 1 and isinstance(bind.targets[0].target, cst.Name)):
            return None
        value = _fetched_value(use)
        if value is None:
            return None
        source = read_source(self, self.index, bind.value)
        if source is None:
            return None
        name = bind.targets[0].target.value
        fetch = read_fetch(self, self.index, value, {name: source}.get)
        if fetch is None or fetch.source is not source:
            return None
        return name, fetch

    def leave_IndentedBlock(self, original: cst.IndentedBlock, updated: cst.IndentedBlock) -> cst.IndentedBlock:
        if not any(id(s) in self._drop for s in original.body):
            return updated
        body: list[cst.BaseStatement] = []
        for orig, upd in zip(original.body, updated.body):
            plan = self._replace_value.pop(id(orig), None)
            if plan is not None:
                small = upd.body[0]
                upd = upd.with_changes(body=[small.with_changes(value=self._built(plan))])
            body.append(upd)
        return without_statements(original, updated.with_changes(body=body), self._drop)

    # --- the question: is this fetch a lookup by primary key, and may it become get? ---------

    def _plan(self, fetch: Fetch, scope: cst.CSTNode | None) -> Lookup | str | None:
        """The lookup ``fetch`` becomes; a string saying why it may not; None when it is
        not a fetch by primary key at all (left without a word)."""
        statement = fetch.source.statement
        model = statement.entity.model
        if fetch.holds in {Holds.OBJECTS, Holds.ROWS}:
            return None
        if model is None:
            return self._namesake(fetch)
        key = model.primary_key
        written = f"`{fetch.written}`"
        if fetch.key is None and not {e.column for e in statement.equalities} & set(key):
            return None
        reason = (
            self._statement_reason(fetch, key)
            or self._fetch_reason(fetch, model.name, written)
            or self._value_reason(fetch, model.name, scope)
            or self._session_reason(fetch, scope)
        )
        if reason:
            return reason
        if fetch.key is not None:
            value = fetch.key  # `Query.get(key)` takes the key as `Session.get` does
        else:
            order = primary_key_order(self.index, model)
            if isinstance(order, str):
                return f"composite primary key: {order}"
            values = {e.column: e.value for e in statement.equalities}
            if len(order) == 1:
                value = values[order[0]]
            else:
                value = cst.Tuple([cst.Element(values[c]) for c in order])
        entity = statement.entity.written
        return Lookup(
            session=fetch.source.session,
            model=statement.entity.node,
            key=value,
            awaited=fetch.source.awaited,
            rationale=(
                f"{fetch.written} of {entity} by its primary key -> get({entity}, ...): "
                "the identity map answers without a round trip when it can"
            ),
        )

    def _namesake(self, fetch: Fetch) -> str | None:
        """Why a class named like a model is not rewritten (it is not that model)."""
        entity = fetch.source.statement.entity
        short = entity.written.rsplit(".", 1)[-1]
        namesake = self.index.model(short)
        if namesake is None:
            return None
        if fetch.key is None and not {e.column for e in fetch.source.statement.equalities} & set(namesake.primary_key):
            return None
        if any("<locals>" in n for n in entity.names):
            what = (
                f"an attribute of `{code(entity.node.value)}`, which the index cannot type"
                if isinstance(entity.node, cst.Attribute)
                else "a local name"
            )
        elif entity.names:
            what = ", ".join(sorted(entity.names))
        else:
            what = "not imported"
        return (
            f"`{entity.written}` here is {what}, not shown to be a mapped model class of the "
            f"repository (the model {short} is in {namesake.path})"
        )

    def _statement_reason(self, fetch: Fetch, key: tuple[str, ...]) -> str | None:
        statement = fetch.source.statement
        if statement.methods:
            method = statement.methods[0]
            return f"`.{method}(...)` on the statement: {METHOD_REASONS.get(method, 'get would not apply it')}"
        if fetch.source.extra_args:
            return f"`{fetch.source.method}(...)` is given more than the statement, which get would not pass on"
        if fetch.key is not None:
            if statement.equalities or statement.other_criteria:
                return "`query(...).get()` on a filtered query (SQLAlchemy refuses it)"
            return None
        if statement.other_criteria:
            return f"also filters on `{code(statement.other_criteria[0])}`: get would ignore that condition"
        model = statement.entity.written
        columns = [e.column for e in statement.equalities]
        extra = [c for c in columns if c not in key]
        if extra:
            return f"also filters on {model}.{extra[0]}: get would ignore that condition"
        repeated = [c for c in key if columns.count(c) > 1]
        if repeated:
            return f"compares {model}.{repeated[0]} more than once"
        if len(columns) != len(key):
            return f"compares only {', '.join(columns)} of {model}'s composite primary key ({', '.join(key)})"
        return None

    def _fetch_reason(self, fetch: Fetch, model: str, written: str) -> str | None:
        if fetch.holds is Holds.OBJECT:
            return f"{written} raises NoResultFound when no row matches, where get returns None"
        if fetch.holds in {Holds.ROW, Holds.ROW_OR_NONE}:
            return f"{written} holds a Row, not a {model}: get would hand back the object itself"
        return None

    def _value_reason(self, fetch: Fetch, model: str, scope: cst.CSTNode | None) -> str | None:
        for equality in fetch.source.statement.equalities:
            if holds_sql(self, self.index, equality.value, scope):
                return (
                    f"compares {model}.{equality.column} with `{code(equality.value)}`, which may be "
                    "an SQL expression, not a value: get needs the key's value"
                )
        return None

    def _session_reason(self, fetch: Fetch, scope: cst.CSTNode | None) -> str | None:
        session = fetch.source.session
        kind = receiver_kind(self, session, scope)
        if kind is Receiver.CONNECTION:
            return f"`{code(session)}` is a Connection, not a Session: it has no identity map and no get()"
        if kind is Receiver.UNKNOWN and isinstance(session, cst.Name) and session.value in {"self", "cls"}:
            # A repository class wrapping the session: its own get() need not be Session.get.
            return f"`{session.value}` is not known to be a Session: its get() may be another method"
        deletion = self._deletion_before(scope, code(session), session)
        if deletion:
            return (
                f"the function also deletes (`{deletion}`): get can return an object deleted "
                "in the session but not yet flushed, where the query finds no row"
            )
        if fetch.source.statement.form is Form.QUERY:
            minimum = self.index.sqlalchemy_min
            if minimum is None:
                return (
                    "Session.get needs SQLAlchemy 1.4, and the project states no lower bound "
                    "for SQLAlchemy (declare one, e.g. sqlalchemy>=1.4)"
                )
            if minimum < SESSION_GET_MIN_VERSION:
                allowed = ".".join(str(part) for part in minimum)
                return f"Session.get needs SQLAlchemy 1.4; the project allows {allowed}"
        return None

    def _deletion_before(self, scope: cst.CSTNode | None, session: str, at: cst.CSTNode) -> str | None:
        """A delete through ``session`` (`session.delete(obj)`, `session.query(M)....delete()`,
        `session.execute(delete(M))`) or a local function using it, that can run before the
        fetch at ``at``: earlier on some path, or in an earlier iteration (`effects`)."""
        flow = self._flow(scope)
        if flow is None:
            return None
        try:
            target = flow.step_of(at)
        except KeyError:
            return None
        effects = SessionEffects(flow, {session: None}, self.index, self.path)
        for step in flow.steps:
            if not flow.reaches(step, target):
                continue
            for effect in effects.of(step):
                through = effect.session is not None and (effect.session == session or effect.session.startswith(f"{session}."))
                if through and (effect.kind is EffectKind.DELETE or effect.what.endswith("uses the session")):
                    return effect.what
        return None

    def _flow(self, scope: cst.CSTNode | None) -> FunctionFlow | None:
        """The flow graph of the function ``scope``, built once per function."""
        if not isinstance(scope, cst.FunctionDef):
            return None
        if self._flows is None or self._flows[0] is not scope:
            self._flows = (scope, FunctionFlow.of(scope))
        return self._flows[1]

    def _function_of(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        current: cst.CSTNode | None = node
        while current is not None and not isinstance(current, cst.FunctionDef):
            current = self.get_metadata(ParentNodeProvider, current, None)
        return current


class _Substitute(cst.CSTTransformer):
    """Puts back the replacements already made for nodes of the original tree."""

    def __init__(self, done: dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self.done = done

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        return self.done.get(id(original_node), updated_node)


def _fetched_value(statement: cst.BaseSmallStatement) -> cst.Call | None:
    """The call in `x = <call>` / `x: T = <call>` / `return <call>`."""
    if isinstance(statement, cst.Assign) and len(statement.targets) != 1:
        return None
    if not isinstance(statement, (cst.Assign, cst.AnnAssign, cst.Return)):
        return None
    return statement.value if isinstance(statement.value, cst.Call) else None


MODELS = {
    "app/models.py": """
        from sqlalchemy import ForeignKey, Index, PrimaryKeyConstraint
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Project(Base):
            __tablename__ = "projects"
            id: Mapped[int] = mapped_column(primary_key=True)
            slug: Mapped[str]
            owner_id: Mapped[int]

        class Membership(Base):
            __tablename__ = "memberships"
            user_id: Mapped[int] = mapped_column(primary_key=True)
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
            role: Mapped[str]

        class TenantMixin:
            tenant_id: Mapped[int] = mapped_column(primary_key=True)

        class Document(TenantMixin, Base):
            __tablename__ = "documents"
            id: Mapped[int] = mapped_column(primary_key=True)

        class Grant(Base):
            __tablename__ = "grants"
            __table_args__ = (PrimaryKeyConstraint("scope", "user_id"),)
            user_id: Mapped[int] = mapped_column(primary_key=True)
            scope: Mapped[str] = mapped_column(primary_key=True)

        class Seat(Base):
            __tablename__ = "seats"
            __table_args__ = (Index("ix_seats_role", "role"), {"comment": "who sits where"})
            room_id: Mapped[int] = mapped_column(primary_key=True)
            number: Mapped[int] = mapped_column(primary_key=True)
            role: Mapped[str]
    """,
}

# A pre-2.0 codebase: legacy Query API, declarative_base(), Column(...).
LEGACY_MODELS = {
    "app/models.py": """
        from sqlalchemy import Column, ForeignKey, Integer, String
        from sqlalchemy.orm import declarative_base, relationship

        Base = declarative_base()

        class User(Base):
            __tablename__ = "users"
            id = Column(Integer, primary_key=True)
            email = Column(String, unique=True)
            team_id = Column(Integer, ForeignKey("teams.id"))
            team = relationship("Team")

        class Team(Base):
            __tablename__ = "teams"
            id = Column(Integer, primary_key=True)
            name = Column(String)
    """,
}
LEGACY_REQUIREMENTS = "fastapi==0.95.2\nSQLAlchemy>=1.4,<2.0\n"

# The models as a package, imported relatively (`from .models.task import Task`).
PACKAGE_MODELS = {
    "app/db.py": """
        from sqlalchemy.orm import DeclarativeBase

        class Base(DeclarativeBase):
            pass
    """,
    "app/models/__init__.py": "",
    "app/models/task.py": """
        from sqlalchemy.orm import Mapped, mapped_column

        from ..db import Base

        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
            title: Mapped[str]
    """,
}

SQLMODEL_MODELS = {
    "app/models.py": """
        from sqlmodel import Field, SQLModel

        class Hero(SQLModel, table=True):
            id: int | None = Field(default=None, primary_key=True)
            name: str
            secret_name: str
    """,
}

EXAMPLES = [
    Rewrite(
        name="result variable and scalar_one_or_none",
        files=MODELS,
        before="""
            from sqlalchemy import select
            from app.models import Project

            async def read_project(project_id, db):
                result = await db.execute(select(Project).where(Project.id == project_id))
                project = result.scalar_one_or_none()
                if project is None:
                    raise LookupError(project_id)
                return project
        """,
        after="""
            from app.models import Project

            async def read_project(project_id, db):
                project = await db.get(Project, project_id)
                if project is None:
                    raise LookupError(project_id)
                return project
        """,
    ),
    Rewrite(
        name="chained, scalars().first(), scalar(), filter_by, sync",
        files=MODELS,
        before="""
            import sqlalchemy as sa
            from app.models import Project

            async def a(db, pid):
                return (await db.execute(sa.select(Project).where(pid == Project.id))).scalar_one_or_none()

            async def b(db, pid):
                return (await db.execute(sa.select(Project).filter_by(id=pid))).scalars().first()

            async def c(db, pid):
                return await db.scalar(sa.select(Project).where(Project.id == pid))

            def d(session, pid):
                return session.execute(sa.select(Project).where(Project.id == pid)).scalar_one_or_none()
        """,
        after="""
            import sqlalchemy as sa
            from app.models import Project

            async def a(db, pid):
                return await db.get(Project, pid)

            async def b(db, pid):
                return await db.get(Project, pid)

            async def c(db, pid):
                return await db.get(Project, pid)

            def d(session, pid):
                return session.get(Project, pid)
        """,
    ),
    Rewrite(
        name="scalars(...).one_or_none() and .first(), scalars().one_or_none(), unique()",
        files=MODELS,
        before="""
            from fastapi import Depends
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.models import Project

            async def a(pid: int, db: AsyncSession):
                return (await db.scalars(select(Project).where(Project.id == pid))).one_or_none()

            async def b(pid: int, db: AsyncSession):
                return (await db.scalars(select(Project).where(Project.id == pid))).first()

            async def c(pid: int, db: AsyncSession):
                result = await db.execute(select(Project).where(Project.id == pid))
                return result.unique().scalars().one_or_none()
        """,
        after="""
            from fastapi import Depends
            from sqlalchemy.ext.asyncio import AsyncSession
            from app.models import Project

            async def a(pid: int, db: AsyncSession):
                return await db.get(Project, pid)

            async def b(pid: int, db: AsyncSession):
                return await db.get(Project, pid)

            async def c(pid: int, db: AsyncSession):
                return await db.get(Project, pid)
        """,
    ),
    Rewrite(
        name="legacy Query API: filter().first(), filter_by().one_or_none(), get(), scalar()",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        before="""
            from fastapi import Depends, HTTPException
            from sqlalchemy.orm import Session

            from app.database import get_db
            from app.models import Team, User

            def read_user(user_id: int, db: Session = Depends(get_db)):
                user = db.query(User).filter(User.id == user_id).first()
                if user is None:
                    raise HTTPException(status_code=404)
                return user

            def read_team(team_id: int, db: Session = Depends(get_db)):
                return db.query(Team).filter_by(id=team_id).one_or_none()

            def team_name(team_id: int, db: Session = Depends(get_db)):
                team = db.query(Team).get(team_id)
                return team.name if team else None

            def maybe_user(db: Session, user_id: int):
                return db.query(User).filter(user_id == User.id).scalar()
        """,
        after="""
            from fastapi import Depends, HTTPException
            from sqlalchemy.orm import Session

            from app.database import get_db
            from app.models import Team, User

            def read_user(user_id: int, db: Session = Depends(get_db)):
                user = db.get(User, user_id)
                if user is None:
                    raise HTTPException(status_code=404)
                return user

            def read_team(team_id: int, db: Session = Depends(get_db)):
                return db.get(Team, team_id)

            def team_name(team_id: int, db: Session = Depends(get_db)):
                team = db.get(Team, team_id)
                return team.name if team else None

            def maybe_user(db: Session, user_id: int):
                return db.get(User, user_id)
        """,
    ),
    Rewrite(
        name="legacy Query API in a service class holding its session",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        before="""
            from app import models

            class UserService:
                def __init__(self, session):
                    self.session = session

                def get(self, user_id):
                    return self.session.query(models.User).filter(models.User.id == user_id).one_or_none()
        """,
        after="""
            from app import models

            class UserService:
                def __init__(self, session):
                    self.session = session

                def get(self, user_id):
                    return self.session.get(models.User, user_id)
        """,
    ),
    Rewrite(
        name="SQLModel exec(...).first() and .one_or_none(), sync and async",
        files=SQLMODEL_MODELS,
        before="""
            from sqlmodel import Session, select
            from sqlmodel.ext.asyncio.session import AsyncSession

            from app.models import Hero

            def read_hero(hero_id: int, session: Session):
                return session.exec(select(Hero).where(Hero.id == hero_id)).first()

            def find_hero(hero_id: int, session: Session):
                hero = session.exec(select(Hero).where(Hero.id == hero_id)).one_or_none()
                return hero

            async def read_hero_async(hero_id: int, session: AsyncSession):
                return (await session.exec(select(Hero).where(Hero.id == hero_id))).first()
        """,
        after="""
            from sqlmodel import Session
            from sqlmodel.ext.asyncio.session import AsyncSession

            from app.models import Hero

            def read_hero(hero_id: int, session: Session):
                return session.get(Hero, hero_id)

            def find_hero(hero_id: int, session: Session):
                hero = session.get(Hero, hero_id)
                return hero

            async def read_hero_async(hero_id: int, session: AsyncSession):
                return await session.get(Hero, hero_id)
        """,
    ),
    Rewrite(
        name="composite key in the mapper's order, whatever the criteria's order",
        files=MODELS,
        before="""
            from sqlalchemy import and_, select
            from app.models import Membership

            async def membership(db, project_id, user_id):
                return (await db.execute(select(Membership).where(Membership.project_id == project_id, Membership.user_id == user_id))).scalar_one_or_none()

            async def role(db, project_id, user_id):
                stmt = select(Membership).where(and_(Membership.project_id == project_id, Membership.user_id == user_id))
                member = (await db.scalars(select(Membership).where((Membership.project_id == project_id) & (Membership.user_id == user_id)))).first()
                return member.role if member else stmt

            def membership_sync(session, project_id, user_id):
                return session.scalars(select(Membership).filter_by(project_id=project_id).filter_by(user_id=user_id)).one_or_none()
        """,
        after="""
            from sqlalchemy import and_, select
            from app.models import Membership

            async def membership(db, project_id, user_id):
                return await db.get(Membership, (user_id, project_id))

            async def role(db, project_id, user_id):
                stmt = select(Membership).where(and_(Membership.project_id == project_id, Membership.user_id == user_id))
                member = await db.get(Membership, (user_id, project_id))
                return member.role if member else stmt

            def membership_sync(session, project_id, user_id):
                return session.get(Membership, (user_id, project_id))
        """,
    ),
    Rewrite(
        name="relative import of a models package, 2.0 select",
        files=PACKAGE_MODELS,
        before="""
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models.task import Task

            async def read_task(task_id: int, db: AsyncSession):
                result = await db.execute(select(Task).where(Task.id == task_id))
                return result.scalar_one_or_none()
        """,
        after="""
            from sqlalchemy.ext.asyncio import AsyncSession

            from .models.task import Task

            async def read_task(task_id: int, db: AsyncSession):
                return await db.get(Task, task_id)
        """,
    ),
    Rewrite(
        name="relative import of a models package, legacy query",
        files=PACKAGE_MODELS,
        requirements="sqlalchemy>=2.0\n",
        before="""
            from sqlalchemy.orm import Session

            from .models import task as task_models

            def read_task(task_id: int, db: Session):
                return db.query(task_models.Task).filter(task_models.Task.id == task_id).first()
        """,
        after="""
            from sqlalchemy.orm import Session

            from .models import task as task_models

            def read_task(task_id: int, db: Session):
                return db.get(task_models.Task, task_id)
        """,
    ),
    Keep(
        name="a plain class named like a model, imported from elsewhere",
        reason="not shown to be a mapped model class",
        files={
            **PACKAGE_MODELS,
            "app/domain/task.py": """
                from dataclasses import dataclass

                @dataclass
                class Task:
                    # Mapped imperatively elsewhere: its key is the table's, unknown here.
                    id: int
                    title: str
            """,
        },
        code="""
            from sqlalchemy import select

            from app.domain.task import Task

            async def read_task(task_id, db):
                return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="scalar_one() raises where get returns None",
        reason="raises NoResultFound",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                return (await db.execute(select(Project).where(Project.id == pid))).scalar_one()
        """,
    ),
    Keep(
        name="legacy one() raises where get returns None",
        reason="raises NoResultFound",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        code="""
            from app.models import User

            def read_user(db, user_id):
                return db.query(User).filter(User.id == user_id).one()
        """,
    ),
    Keep(
        name="execute(...).first() holds a Row",
        reason="holds a Row",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                row = (await db.execute(select(Project).where(Project.id == pid))).first()
                return row[0] if row else None
        """,
    ),
    Keep(
        name="legacy query filtered on a column that is not the key",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        code="""
            from app.models import Team, User

            def by_email(db, email):
                return db.query(User).filter(User.email == email).first()

            def by_name(db, name):
                return db.query(Team).filter_by(name=name).one_or_none()
        """,
    ),
    Keep(
        name="legacy query with options(...)",
        reason="`.options(...)` on the statement",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        code="""
            from sqlalchemy.orm import joinedload
            from app.models import User

            def read_user(db, user_id):
                return db.query(User).options(joinedload(User.team)).filter(User.id == user_id).first()
        """,
    ),
    Keep(
        name="select with options(...)",
        reason="get would not apply loader options",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from sqlalchemy.orm import selectinload
            from app.models import Project

            async def f(db, pid):
                return (await db.execute(select(Project).where(Project.id == pid).options(selectinload(Project.members)))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="with_for_update locks the row",
        reason="get would not lock the row",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                return (await db.execute(select(Project).where(Project.id == pid).with_for_update())).scalar_one_or_none()
        """,
    ),
    Keep(
        name="another filter beside the key",
        reason="also filters on Project.owner_id",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def owned(db, pid, user):
                return (await db.execute(select(Project).where(Project.id == pid, Project.owner_id == user.id))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="a column, not a value",
        reason="may be an SQL expression",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Membership, Project

            async def f(db):
                return (await db.execute(select(Project).where(Project.id == Membership.project_id))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="part of a composite key",
        reason="compares only user_id",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Membership

            async def f(db, uid):
                return (await db.execute(select(Membership).where(Membership.user_id == uid))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="composite key with a column from a mixin: order unproven",
        reason="composite primary key: part of Document's composite primary key is inherited",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Document

            async def f(db, tenant_id, doc_id):
                return (await db.execute(select(Document).where(Document.tenant_id == tenant_id, Document.id == doc_id))).scalar_one_or_none()
        """,
    ),
    Rewrite(
        name="composite key beside __table_args__ of indexes and options: the columns' order",
        files=MODELS,
        requirements="sqlalchemy>=2.0\n",
        before="""
            from app.models import Seat

            def seat(session, room_id, number):
                return session.query(Seat).filter(Seat.number == number, Seat.room_id == room_id).one_or_none()
        """,
        after="""
            from app.models import Seat

            def seat(session, room_id, number):
                return session.get(Seat, (room_id, number))
        """,
    ),
    Keep(
        name="composite key ordered by __table_args__: order unproven",
        reason="Grant.__table_args__ may declare Grant's primary key in another order",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Grant

            def f(session, user_id, scope):
                return session.scalars(select(Grant).filter_by(user_id=user_id, scope=scope)).first()
        """,
    ),
    Keep(
        name="a connection has no get",
        reason="is a Connection, not a Session",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(engine, pid):
                async with engine.connect() as conn:
                    return (await conn.execute(select(Project).where(Project.id == pid))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="a repository's own query method",
        reason="`self` is not known to be a Session",
        files=LEGACY_MODELS,
        requirements=LEGACY_REQUIREMENTS,
        code="""
            from app.models import User
            from app.repositories.base import BaseRepository

            class UserRepository(BaseRepository):
                def find(self, user_id):
                    return self.query(User).filter(User.id == user_id).first()
        """,
    ),
    Rewrite(
        name="a delete after the lookup cannot change what it finds",
        files=MODELS,
        requirements="sqlalchemy>=2.0\n",
        before="""
            from sqlalchemy import select
            from app.models import Project

            async def remove(db, pid):
                project = (await db.execute(select(Project).where(Project.id == pid))).scalar_one_or_none()
                if project is not None:
                    await db.delete(project)
                return project
        """,
        after="""
            from app.models import Project

            async def remove(db, pid):
                project = await db.get(Project, pid)
                if project is not None:
                    await db.delete(project)
                return project
        """,
    ),
    Keep(
        name="a delete in the loop runs before the next iteration's lookup",
        reason="get can return an object deleted in the session",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def remove_all(db, pids):
                for pid in pids:
                    project = (await db.execute(select(Project).where(Project.id == pid))).scalar_one_or_none()
                    await db.delete(project)
        """,
    ),
    Keep(
        name="the function deletes through the session",
        reason="get can return an object deleted in the session",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def replace(db, old, pid):
                await db.delete(old)
                return (await db.execute(select(Project).where(Project.id == pid))).scalar_one_or_none()
        """,
    ),
    Keep(
        name="legacy query on SQLAlchemy 1.3: no Session.get",
        reason="Session.get needs SQLAlchemy 1.4; the project allows 1.3.24",
        files=LEGACY_MODELS,
        requirements="SQLAlchemy==1.3.24\n",
        code="""
            from app.models import User

            def read_user(db, user_id):
                return db.query(User).filter(User.id == user_id).first()
        """,
    ),
    Keep(
        name="legacy query, SQLAlchemy version not stated",
        reason="states no lower bound for SQLAlchemy",
        files=LEGACY_MODELS,
        code="""
            from app.models import User

            def read_user(db, user_id):
                return db.query(User).get(user_id)
        """,
    ),
    Keep(
        name="result object used again",
        reason="`result` is used again",
        files=MODELS,
        code="""
            from sqlalchemy import select
            from app.models import Project

            async def f(db, pid):
                result = await db.execute(select(Project).where(Project.id == pid))
                project = result.scalar_one_or_none()
                log(result)
                return project
        """,
    ),
    Keep(
        name="unknown model",
        code="""
            from sqlalchemy import select

            async def f(db, pid):
                return (await db.execute(select(Thing).where(Thing.id == pid))).scalar_one_or_none()
        """,
    ),
]
GetByPrimaryKey.EXAMPLES = EXAMPLES
