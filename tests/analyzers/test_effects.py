"""What a step does to a session, asked over the steps `FunctionFlow.between` returns."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from optimize.analyzers.effects import (
    EffectKind,
    SessionEffects,
    bound_names,
    calls_receiving,
)
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.index import RepoIndex

REPOSITORY = {
    "backend/app/db.py": """
        from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

        engine = create_async_engine("sqlite+aiosqlite://")
        SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
        AuditSession = async_sessionmaker(engine)

        async def get_db():
            async with SessionLocal() as session:
                yield session

        async def get_audit_db():
            async with AuditSession() as session:
                yield session
    """,
    "backend/app/services/audit.py": """
        async def record(db, what):
            db.add(what)
            await db.commit()
    """,
}
KEEPS = "app.db.get_db"  # expire_on_commit=False
EXPIRES = "app.db.get_audit_db"


@pytest.fixture(scope="module")
def index() -> RepoIndex:
    return RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in REPOSITORY.items()})


class Function:
    """One function's flow and effects, with steps looked up by their code."""

    def __init__(self, source: str, index: RepoIndex, sessions: dict[str, str | None]) -> None:
        self.module = cst.parse_module(textwrap.dedent(source).lstrip("\n"))
        function = next(s for s in self.module.body if isinstance(s, cst.FunctionDef))
        self.flow = FunctionFlow.of(function)
        self.effects = SessionEffects(self.flow, sessions, index)

    def __getitem__(self, code: str) -> Step:
        found = [
            s for s in self.flow.steps
            if s.kind == "simple" and self.module.code_for_node(s.parts[0]).strip() == code
        ]
        assert len(found) == 1, code
        return found[0]

    def between(self, a: str, b: str) -> list[Step]:
        return self.flow.between(self[a], self[b])

    def expiring(self, a: str, b: str) -> str | None:
        effect = self.effects.expiring(self.between(a, b))
        return None if effect is None else self.effects.why(effect)

    def detaching(self, a: str, b: str) -> str | None:
        effect = self.effects.detaching(self.between(a, b))
        return None if effect is None else self.effects.why(effect)


def test_a_commit_expires_only_where_the_factory_expires_on_commit(index) -> None:
    source = """
        async def f(db, items):
            a = 1
            for item in items:
                b = 2
                await db.commit()
    """
    expiring = Function(source, index, {"db": EXPIRES})
    assert expiring.expiring("a = 1", "b = 2") == (
        "db.commit() in between expires it (the session factory expires on commit)"
    )
    assert Function(source, index, {"db": KEEPS}).expiring("a = 1", "b = 2") is None
    # a session that cannot be tied to its factory may expire (one factory here does)
    unknown = Function(source, index, {"db": None})
    assert unknown.expiring("a = 1", "b = 2") == (
        "db.commit() in between expires it (the session may expire on commit)"
    )


@pytest.mark.parametrize(
    "statement, kind",
    [
        ("await db.rollback()", EffectKind.ROLLBACK),
        ("db.expire(task)", EffectKind.EXPIRE),
        ("db.expire_all()", EffectKind.EXPIRE),
        ("await db.close()", EffectKind.CLOSE),
        ("db.expunge(task)", EffectKind.EXPUNGE),
        ("await db.delete(task)", EffectKind.DELETE),
        ("await record(db, task)", EffectKind.HAND_OFF),
        ("await db.run_sync(sync_work)", EffectKind.HAND_OFF),
        ("await db.execute(sa.delete(Task).where(Task.id == task.id))", EffectKind.DELETE),
        ("db.query(Task).filter_by(id=task.id).delete()", EffectKind.DELETE),
    ],
)
def test_what_each_session_call_does(index, statement, kind) -> None:
    f = Function(
        f"""
        async def f(db, task):
            a = 1
            {statement}
            b = 2
        """,
        index,
        {"db": KEEPS},
    )
    assert {effect.kind for effect in f.effects.of(f[statement])} == {kind}
    expires = kind in {EffectKind.ROLLBACK, EffectKind.EXPIRE, EffectKind.CLOSE, EffectKind.HAND_OFF}
    detaches = kind in {EffectKind.ROLLBACK, EffectKind.CLOSE, EffectKind.EXPUNGE, EffectKind.DELETE, EffectKind.HAND_OFF}
    assert (f.expiring("a = 1", "b = 2") is not None) is expires
    assert (f.detaching("a = 1", "b = 2") is not None) is detaches


def test_reads_and_writes_through_the_session_do_nothing(index) -> None:
    f = Function(
        """
        async def f(db, task, payload):
            a = 1
            db.add(task)
            await db.flush()
            await db.refresh(task)
            row = await db.get(Task, payload.get("id"))
            await db.execute(select(Task))
            await db.execute(update(Task).values(title="x"))
            b = 2
        """,
        index,
        {"db": EXPIRES},
    )
    steps = f.between("a = 1", "b = 2")
    assert len(steps) == 6 and f.effects.expiring(steps) is None and f.effects.detaching(steps) is None


def test_leaving_a_begin_block_commits_and_an_exception_rolls_back(index) -> None:
    f = Function(
        """
        async def f(db, task):
            a = 1
            try:
                async with db.begin():
                    db.add(task)
                b = 2
            except ValueError:
                c = 3
        """,
        index,
        {"db": KEEPS},
    )
    assert f.expiring("a = 1", "b = 2") is None  # the commit does not expire here
    assert f.expiring("a = 1", "c = 3") == "the db.begin() block (it rolls back on an exception) in between"
    expiring = Function(
        """
        async def f(db, task):
            a = 1
            async with db.begin():
                db.add(task)
            b = 2
        """,
        index,
        {"db": EXPIRES},
    )
    assert expiring.expiring("a = 1", "b = 2") == (
        "the db.begin() block (it commits on exit) in between expires it (the session factory expires on commit)"
    )


def test_a_context_manager_given_the_session_may_commit_when_it_exits(index) -> None:
    f = Function(
        """
        async def f(db, task):
            async with unit_of_work(db):
                a = 1
            b = 2
        """,
        index,
        {"db": KEEPS},
    )
    assert f.expiring("a = 1", "b = 2") == (
        "the unit_of_work(...) block (its context manager was given the session) in between, "
        "which may commit, roll back, expire or delete"
    )


def test_the_session_handed_over_in_any_form(index) -> None:
    f = Function(
        """
        async def f(self, task):
            async def save():
                await self.db.commit()

            keep = lambda: self.db.expire_all()
            a = 1
            await save()
            await notify(self)
            await asyncio.gather(worker(session=self.db))
            schedule(keep)
            await self.audit(task)
            b = 2
        """,
        index,
        {"self.db": KEEPS},
    )
    reasons = [f.effects.why(e) for s in f.between("a = 1", "b = 2") for e in f.effects.of(s)]
    assert reasons == [
        "save() uses the session in between, which may commit, roll back, expire or delete",
        "the session is passed to notify() in between, which may commit, roll back, expire or delete",
        "the session is passed to worker() in between, which may commit, roll back, expire or delete",
        "the session is passed to schedule() in between, which may commit, roll back, expire or delete",
        "self.audit() may use self.db in between, which may commit, roll back, expire or delete",
    ]


def test_a_yield_lets_the_caller_use_the_session(index) -> None:
    f = Function(
        """
        async def get_items(db):
            a = 1
            yield a
            b = 2
        """,
        index,
        {"db": KEEPS},
    )
    assert "yield" in (f.expiring("a = 1", "b = 2") or "")


def test_bound_names_cover_every_way_of_binding() -> None:
    module = cst.parse_module(
        textwrap.dedent(
            """
            async def f(a, /, b, *args, c, **kwargs):
                x, (y, *z) = 1, (2, 3)
                total: int = 0
                total += 1
                del total
                import os.path
                from json import dumps as to_json
                type Alias = int
                for item in items:
                    pass
                async with open_session() as session:
                    pass
                try:
                    pass
                except ValueError as error:
                    pass
                match command:
                    case [first, *others]:
                        pass
                    case {"k": value, **more}:
                        pass
                    case Point(x=px) as point:
                        pass
                if (found := lookup()) is not None:
                    pass

                def helper():
                    inner = 1

                obj.attr = 1
                seq[0] = 2
            """
        )
    )
    function = module.body[0]
    assert isinstance(function, cst.FunctionDef)
    flow = FunctionFlow.of(function)
    names = set().union(*(bound_names(step) for step in flow.steps))
    assert names == {
        "a", "b", "args", "c", "kwargs", "x", "y", "z", "total", "os", "to_json", "Alias", "item",
        "session", "error", "first", "others", "value", "more", "px", "point", "found", "helper",
    }


def test_calls_receiving_a_name_or_its_holder(index) -> None:
    f = Function(
        """
        async def f(self, task):
            await audit(self)
            serialize(task, self.db)
            log("done")
        """,
        index,
        {"self.db": KEEPS},
    )
    assert [len(calls_receiving(f[c], {"self.db"})) for c in ("await audit(self)", 'serialize(task, self.db)', 'log("done")')] == [1, 1, 0]
    assert len(calls_receiving(f["serialize(task, self.db)"], {"task"})) == 1


def test_rebinding_between_two_points(index) -> None:
    f = Function(
        """
        async def f(db, items, status):
            a = 1
            for status in items:
                b = 2
        """,
        index,
        {"db": KEEPS},
    )
    name, step = f.effects.rebinding(f.between("a = 1", "b = 2"), {"status", "other"})
    assert name == "status" and step.kind == "for"
    assert [s.kind for s in f.effects.bindings("status")] == ["start", "for"]
