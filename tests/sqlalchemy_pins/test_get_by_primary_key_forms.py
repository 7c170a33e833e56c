"""Real SQLAlchemy, counted statements: what get-by-primary-key's rewrites and refusals rely on.

The code run here is the codemod's own input and output: each form is written as a module,
rewritten by `get-by-primary-key`, and both versions are executed against one SQLite
database with the same models, for a key that exists and one that does not.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
import types

import libcst as cst
import pytest
from sqlalchemy import Index, PrimaryKeyConstraint, UniqueConstraint, create_engine, event, select, text
from sqlalchemy.exc import NoResultFound, SAWarning
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, with_loader_criteria

from optimize.analyzers.index import RepoIndex
from optimize.codemods.get_by_primary_key import GetByPrimaryKey
from optimize.transform import run_codemod

MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Team(Base):
        __tablename__ = "teams"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

    class Membership(Base):
        __tablename__ = "memberships"
        user_id: Mapped[int] = mapped_column(primary_key=True)
        team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
        role: Mapped[str]
"""
# Each form as an application writes it; `find` takes the session and the key.
LEGACY = """
    from app.models import Team

    def find(db, team_id):
        return db.query(Team).filter(Team.id == team_id).first()
"""
SELECT = """
    from sqlalchemy import select
    from app.models import Team

    def find(db, team_id):
        return db.execute(select(Team).where(Team.id == team_id)).scalar_one_or_none()
"""
ASYNC_SELECT = """
    from sqlalchemy import select
    from app.models import Team

    async def find(db, team_id):
        result = await db.execute(select(Team).where(Team.id == team_id))
        return result.scalar_one_or_none()
"""
COMPOSITE = """
    from sqlalchemy import select
    from app.models import Membership

    def find(db, key):
        team_id, user_id = key
        return db.scalars(select(Membership).where(Membership.team_id == team_id, Membership.user_id == user_id)).first()
"""
REQUIREMENTS = {"requirements.txt": b"sqlalchemy>=2.0\n"}


@pytest.fixture
def models(monkeypatch) -> types.ModuleType:
    """The models as the module `app.models`, so the forms import them as an app does
    (registered first: SQLAlchemy resolves `Mapped[...]` through the class's module)."""
    module = types.ModuleType("app.models")
    package = types.ModuleType("app")
    package.models = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app", package)
    monkeypatch.setitem(sys.modules, "app.models", module)
    exec(compile(textwrap.dedent(MODELS), "app/models.py", "exec"), module.__dict__)
    return module


def rewritten(form: str) -> str:
    """``form`` after get-by-primary-key (which must have changed it)."""
    source = textwrap.dedent(form)
    index = RepoIndex.build(
        {"app/example.py": source.encode(), "app/models.py": textwrap.dedent(MODELS).encode()}, REQUIREMENTS
    )
    result = run_codemod(GetByPrimaryKey, cst.parse_module(source), "app/example.py", index=index)
    assert result.changes, result.refusals
    return result.tree.code


def load(source: str):
    namespace: dict[str, object] = {}
    exec(compile(source, "app/example.py", "exec"), namespace)
    return namespace["find"]


class Counter:
    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args, **kwargs) -> None:
        self.count += 1


@pytest.fixture
def database(tmp_path, models):
    engine = create_engine(f"sqlite:///{tmp_path}/forms.db")
    models.Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(models.Team(id=1, name="core"))
        session.add(models.Membership(user_id=7, team_id=1, role="admin"))
        session.commit()
    yield engine, Counter(engine)
    engine.dispose()


@pytest.mark.parametrize("form", [LEGACY, SELECT], ids=["query-filter-first", "execute-select-scalar_one_or_none"])
def test_the_rewrite_returns_what_the_query_returned(database, models, form) -> None:
    engine, counter = database
    original, replacement = load(textwrap.dedent(form)), load(rewritten(form))
    assert "db.get(Team, team_id)" in rewritten(form)
    with Session(engine) as session:
        found = original(session, 1)
        assert isinstance(found, models.Team) and found.name == "core"
        assert replacement(session, 1) is found
        assert original(session, 99) is None and replacement(session, 99) is None
    with Session(engine) as fresh:  # nothing held yet: get reads the row itself
        counter.count = 0
        got = replacement(fresh, 1)
        assert counter.count == 1 and got.name == "core"
        assert original(fresh, 1) is got


@pytest.mark.parametrize("form", [LEGACY, SELECT], ids=["query-filter-first", "execute-select-scalar_one_or_none"])
def test_get_issues_no_statement_for_an_object_the_session_holds(database, models, form) -> None:
    engine, counter = database
    original, replacement = load(textwrap.dedent(form)), load(rewritten(form))
    with Session(engine) as session:
        held = session.get(models.Team, 1)
        counter.count = 0
        assert original(session, 1) is held
        assert counter.count == 1  # the query always goes to the database
        counter.count = 0
        assert replacement(session, 1) is held
        assert counter.count == 0


def test_the_async_rewrite_returns_what_the_select_returned(tmp_path, models) -> None:
    source = rewritten(ASYNC_SELECT)
    assert "return await db.get(Team, team_id)" in source
    original, replacement = load(textwrap.dedent(ASYNC_SELECT)), load(source)

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/async.db")
        async with engine.begin() as conn:
            await conn.run_sync(models.Base.metadata.create_all)
        counter = Counter(engine.sync_engine)
        try:
            async with AsyncSession(engine) as session:
                session.add(models.Team(id=1, name="core"))
                await session.commit()
            async with AsyncSession(engine) as session:
                found = await original(session, 1)
                counter.count = 0
                assert await replacement(session, 1) is found and counter.count == 0
                assert await original(session, 99) is None and await replacement(session, 99) is None
        finally:
            await engine.dispose()

    asyncio.run(scenario())


def test_a_composite_key_tuple_in_the_mappers_order(database, models) -> None:
    """The criteria name team_id first; the rewrite orders the tuple as the mapper does."""
    engine, counter = database
    source = rewritten(COMPOSITE)
    assert "db.get(Membership, (user_id, team_id))" in source
    assert [c.key for c in models.Membership.__mapper__.primary_key] == ["user_id", "team_id"]
    original, replacement = load(textwrap.dedent(COMPOSITE)), load(source)
    with Session(engine) as session:
        found = original(session, (1, 7))
        assert found is not None and found.role == "admin"
        counter.count = 0
        assert replacement(session, (1, 7)) is found and counter.count == 0
        assert original(session, (7, 1)) is None and replacement(session, (7, 1)) is None


# --- the key order rules `analyzers/primary_keys.py` proves an order by ---------------------


class PinBase(DeclarativeBase):
    pass


class KeyMixin:
    a: Mapped[int] = mapped_column(primary_key=True)


class Declared(PinBase):
    __tablename__ = "pin_declared"
    b: Mapped[int] = mapped_column(primary_key=True)
    a: Mapped[int] = mapped_column(primary_key=True)


class FromMixin(KeyMixin, PinBase):
    __tablename__ = "pin_from_mixin"
    b: Mapped[int] = mapped_column(primary_key=True)


class SortOrdered(PinBase):
    __tablename__ = "pin_sort_ordered"
    b: Mapped[int] = mapped_column(primary_key=True, sort_order=2)
    a: Mapped[int] = mapped_column(primary_key=True, sort_order=1)


class Constrained(PinBase):
    __tablename__ = "pin_constrained"
    __table_args__ = (PrimaryKeyConstraint("a", "b"),)
    b: Mapped[int] = mapped_column(primary_key=True)
    a: Mapped[int] = mapped_column(primary_key=True)


class Indexed(PinBase):
    __tablename__ = "pin_indexed"
    __table_args__ = (Index("ix_pin_indexed_c", "c"), UniqueConstraint("a", "c"), {"info": {"x": 1}})
    b: Mapped[int] = mapped_column(primary_key=True)
    a: Mapped[int] = mapped_column(primary_key=True)
    c: Mapped[int]


@pytest.mark.parametrize(
    "cls, order",
    [
        (Declared, ["b", "a"]),  # the class's declaration order...
        (Indexed, ["b", "a"]),  # ...also beside indexes, other constraints and options...
        (FromMixin, ["b", "a"]),  # ...a mixin's key column after the class's own...
        (SortOrdered, ["a", "b"]),  # ...unless sort_order...
        (Constrained, ["a", "b"]),  # ...or a PrimaryKeyConstraint decides
    ],
)
def test_the_mappers_key_order(cls, order) -> None:
    assert [c.key for c in cls.__mapper__.primary_key] == order


# --- why the refusals: where get and the query differ -----------------------------------


def test_one_raises_and_first_is_a_row_where_get_returns_none_or_the_object(database, models) -> None:
    engine, _ = database
    Team = models.Team
    with Session(engine) as session:
        with pytest.raises(NoResultFound):
            session.query(Team).filter(Team.id == 99).one()
        with pytest.raises(NoResultFound):
            session.execute(select(Team).where(Team.id == 99)).scalar_one()
        assert session.get(Team, 99) is None
        row = session.execute(select(Team).where(Team.id == 1)).first()
        assert row is not None and not isinstance(row, Team) and row[0] is session.get(Team, 1)


def test_query_get_is_session_get(database, models) -> None:
    engine, counter = database
    with Session(engine) as session:
        held = session.get(models.Team, 1)
        counter.count = 0
        with pytest.warns(Warning, match="legacy"):
            assert session.query(models.Team).get(1) is held
        assert counter.count == 0


def test_a_deleted_row_is_the_difference(database, models) -> None:
    """Why the codemod is unsafe and refuses a function that deletes: a held object whose
    row is gone is still returned by get, where the query finds nothing. Its loaded values
    are what either form returns when the row was only changed."""
    engine, _ = database
    Team = models.Team
    with Session(engine) as session:
        session.add(Team(id=2, name="gone"))
        session.commit()
    with Session(engine) as session:
        held, doomed = session.get(Team, 1), session.get(Team, 2)
        with engine.begin() as other:
            other.execute(text("UPDATE teams SET name = 'renamed' WHERE id = 1"))
            other.execute(text("DELETE FROM teams WHERE id = 2"))
        assert session.execute(select(Team).where(Team.id == 1)).scalar_one_or_none() is held
        assert held.name == "core"  # not overwritten by the select either
        assert session.execute(select(Team).where(Team.id == 2)).scalar_one_or_none() is None
        assert session.get(Team, 2) is doomed
    with Session(engine) as session:
        team = session.get(Team, 1)
        session.delete(team)  # deleted in the session, not flushed
        assert session.get(Team, 1) is team
        assert session.query(Team).filter(Team.id == 1).first() is None  # autoflushed first


def test_a_none_key_finds_nothing_either_way(database, models) -> None:
    """A key value that is None at run time: the query compares `IS NULL` and finds no row;
    get returns None too, with a warning."""
    engine, _ = database
    Team = models.Team
    with Session(engine) as session:
        assert session.query(Team).filter(Team.id == None).first() is None  # `== None` compiles to IS NULL
        with pytest.warns(SAWarning, match="NULL primary key"):
            assert session.get(Team, None) is None


def test_an_identity_map_hit_runs_no_do_orm_execute_hook(database, models) -> None:
    """A soft-delete filter added in `do_orm_execute` hides a row from the query, not from
    get when the session already holds the object."""
    engine, _ = database
    Team = models.Team
    with Session(engine) as session:
        held = session.get(Team, 1)
        held.name = "archived"
        session.flush()

        @event.listens_for(session, "do_orm_execute")
        def hide_archived(state) -> None:
            if state.is_select:
                state.statement = state.statement.options(
                    with_loader_criteria(Team, Team.name != "archived")
                )

        assert session.query(Team).filter(Team.id == 1).first() is None
        assert session.get(Team, 1) is held
