"""Real SQLAlchemy, counted statements: every loading claim the ORM codemods rely on.

`redundant-lazy-load` removes `_ = obj.rel` only where one of these tests shows the
relationship is already loaded; `in-memory-requery` relies on expire-on-commit behaviour.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import ForeignKey, create_engine, event, select
from sqlalchemy.exc import MissingGreenlet, StatementError
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    selectinload,
    sessionmaker,
)

STRATEGIES = ["select", "joined", "selectin", "subquery", "immediate"]


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owners"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


def _item_class(lazy: str):
    return type(
        f"Item_{lazy}",
        (Base,),
        {
            "__tablename__": f"items_{lazy}",
            "id": mapped_column(primary_key=True),
            "owner_id": mapped_column(ForeignKey("owners.id")),
            "owner": relationship(Owner, lazy=lazy),
            "__annotations__": {"id": Mapped[int], "owner_id": Mapped[int], "owner": Mapped[Owner]},
        },
    )


ITEMS = {lazy: _item_class(lazy) for lazy in STRATEGIES}


class Counter:
    def __init__(self, engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._hit)

    def _hit(self, *args, **kwargs) -> None:
        self.count += 1


@pytest.fixture
def sync_db(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path}/pins.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Owner(id=1, name="ada"))
        for cls in ITEMS.values():
            session.add(cls(id=1, owner_id=1))
        session.commit()
    return engine, Counter(engine)


def loaded(obj, attribute: str) -> bool:
    return attribute in obj.__dict__


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_refresh_naming_the_relationship_loads_it(sync_db, lazy) -> None:
    engine, counter = sync_db
    with Session(engine) as session:
        item = session.get(ITEMS[lazy], 1)
        session.refresh(item, attribute_names=["owner"])
        assert loaded(item, "owner")
        counter.count = 0
        assert item.owner.name == "ada"
        assert counter.count == 0


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_plain_refresh_loads_eager_strategies_only(sync_db, lazy) -> None:
    engine, counter = sync_db
    with Session(engine) as session:
        item = session.get(ITEMS[lazy], 1)
        session.expire(item)
        session.refresh(item)
        counter.count = 0
        _ = item.owner
        expected = 1 if lazy == "select" else 0
        assert counter.count == expected, f"lazy={lazy}: plain refresh {'does not load' if expected else 'loads'} it"


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_select_results_load_eager_strategies_only(sync_db, lazy) -> None:
    engine, counter = sync_db
    with Session(engine) as session:
        item = session.execute(select(ITEMS[lazy]).where(ITEMS[lazy].id == 1)).scalar_one()
        counter.count = 0
        _ = item.owner
        assert counter.count == (1 if lazy == "select" else 0)


@pytest.mark.parametrize("option", [selectinload, joinedload])
def test_loader_options_load_a_lazy_select_relationship(sync_db, option) -> None:
    engine, counter = sync_db
    cls = ITEMS["select"]
    with Session(engine) as session:
        item = session.execute(select(cls).options(option(cls.owner))).scalar_one()
        counter.count = 0
        _ = item.owner
        assert counter.count == 0


@pytest.mark.parametrize("expire_on_commit, expected", [(True, 1), (False, 0)])
def test_commit_expires_loaded_relationships_unless_disabled(sync_db, expire_on_commit, expected) -> None:
    engine, counter = sync_db
    cls = ITEMS["selectin"]
    with sessionmaker(engine, expire_on_commit=expire_on_commit)() as session:
        item = session.get(cls, 1)
        assert loaded(item, "owner")
        session.commit()
        counter.count = 0
        _ = item.owner
        assert counter.count >= expected and (expected or counter.count == 0)


@pytest.mark.parametrize("expire", ["expire", "expire_all"])
def test_expire_unloads(sync_db, expire) -> None:
    engine, counter = sync_db
    cls = ITEMS["selectin"]
    with Session(engine) as session:
        item = session.get(cls, 1)
        getattr(session, expire)(*([item] if expire == "expire" else []))
        assert not loaded(item, "owner")


def test_async_refresh_with_attribute_names_then_access_needs_no_io(tmp_path) -> None:
    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/a.db")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=False)
        cls = ITEMS["select"]
        async with factory() as session:
            session.add(Owner(id=1, name="ada"))
            session.add(cls(id=1, owner_id=1))
            await session.commit()
        async with factory() as session:
            item = await session.get(cls, 1)
            with pytest.raises((MissingGreenlet, StatementError), match="greenlet"):
                _ = item.owner  # not loaded: lazy loading needs IO, which async forbids
        async with factory() as session:
            item = await session.get(cls, 1)
            await session.refresh(item, attribute_names=["owner"])
            assert item.owner.name == "ada"  # loaded by the refresh: no IO
        await engine.dispose()

    asyncio.run(scenario())


def test_async_attribute_access_after_an_expiring_commit_fails(tmp_path) -> None:
    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/b.db")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with async_sessionmaker(engine)() as session:  # expire_on_commit=True
            owner = Owner(id=1, name="ada")
            session.add(owner)
            await session.commit()
            with pytest.raises((MissingGreenlet, StatementError), match="greenlet"):
                _ = owner.name
        await engine.dispose()

    asyncio.run(scenario())


def test_get_uses_the_identity_map_and_returns_none_when_missing(sync_db) -> None:
    """What get-by-primary-key relies on (and why it is unsafe: a held object is not re-read)."""
    engine, counter = sync_db
    cls = ITEMS["select"]
    with Session(engine) as session:
        counter.count = 0
        first = session.get(cls, 1)
        assert counter.count == 1
        counter.count = 0
        assert session.get(cls, 1) is first and counter.count == 0
        assert session.execute(select(cls).where(cls.id == 1)).scalar_one_or_none() is first
        assert counter.count == 1  # a select always goes to the database
        assert session.get(cls, 99) is None
        assert session.execute(select(cls).where(cls.id == 99)).scalar_one_or_none() is None


def test_a_requery_returns_the_object_already_held(sync_db) -> None:
    """What in-memory-requery relies on: the identity map hands back the same object."""
    engine, _ = sync_db
    with Session(engine) as session:
        owner = Owner(name="grace")
        session.add(owner)
        session.flush()
        again = session.execute(select(Owner).where(Owner.id == owner.id)).scalar_one_or_none()
        assert again is owner


# --- the same claims in async code (aiosqlite): an unloaded attribute raises instead of loading


def _async_case(tmp_path, body, expire_on_commit: bool = True) -> object:
    """Run ``body(factory, counter)`` against a seeded aiosqlite file database."""

    async def scenario():
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/async.db")
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        factory = async_sessionmaker(engine, expire_on_commit=expire_on_commit)
        async with factory() as session:
            session.add(Owner(id=1, name="ada"))
            session.add_all([cls(id=1, owner_id=1) for cls in ITEMS.values()])
            await session.commit()
        try:
            return await body(factory, Counter(engine.sync_engine))
        finally:
            await engine.dispose()

    return asyncio.run(scenario())


def _read_without_io(obj, counter: Counter) -> bool:
    """True when reading ``obj.owner`` needs no statement; False when it would need one
    (async code raises MissingGreenlet instead of lazy loading)."""
    counter.count = 0
    try:
        _ = obj.owner
    except (MissingGreenlet, StatementError) as exc:
        assert "greenlet" in str(exc)
        return False
    assert counter.count == 0
    return True


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_async_refresh_naming_the_relationship_loads_it(tmp_path, lazy) -> None:
    async def body(factory, counter):
        async with factory() as session:
            item = await session.get(ITEMS[lazy], 1)
            session.expire(item)
            await session.refresh(item, attribute_names=["owner"])
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body) is True


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_async_plain_refresh_loads_eager_strategies_only(tmp_path, lazy) -> None:
    async def body(factory, counter):
        async with factory() as session:
            item = await session.get(ITEMS[lazy], 1)
            session.expire(item)
            await session.refresh(item)
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body) is (lazy != "select")


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_async_select_results_load_eager_strategies_only(tmp_path, lazy) -> None:
    async def body(factory, counter):
        async with factory() as session:
            item = (await session.execute(select(ITEMS[lazy]))).scalar_one()
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body) is (lazy != "select")


@pytest.mark.parametrize("option", [selectinload, joinedload])
def test_async_loader_options_load_a_lazy_select_relationship(tmp_path, option) -> None:
    cls = ITEMS["select"]

    async def body(factory, counter):
        async with factory() as session:
            item = (await session.execute(select(cls).options(option(cls.owner)))).scalar_one()
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body) is True


@pytest.mark.parametrize("expire_on_commit", [True, False])
def test_async_commit_expires_loaded_relationships_unless_disabled(tmp_path, expire_on_commit) -> None:
    cls = ITEMS["selectin"]

    async def body(factory, counter):
        async with factory() as session:
            item = await session.get(cls, 1)
            assert _read_without_io(item, counter)
            await session.commit()
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body, expire_on_commit) is (not expire_on_commit)


@pytest.mark.parametrize("expire", ["expire", "expire_all"])
def test_async_expire_unloads(tmp_path, expire) -> None:
    cls = ITEMS["selectin"]

    async def body(factory, counter):
        async with factory() as session:
            item = await session.get(cls, 1)
            getattr(session, expire)(*([item] if expire == "expire" else []))
            return _read_without_io(item, counter)

    assert _async_case(tmp_path, body) is False


# --- what else the codemod's flow check assumes


@pytest.mark.parametrize("lazy", STRATEGIES)
def test_a_query_reloads_an_expired_relationship_of_an_object_already_held(sync_db, lazy) -> None:
    """An object already in the identity map gets its unloaded eager relationships
    populated by a new `select(M)`; a lazy="select" one stays unloaded."""
    engine, counter = sync_db
    cls = ITEMS[lazy]
    with Session(engine) as session:
        item = session.get(cls, 1)
        _ = item.owner
        session.expire(item, ["owner"])
        again = session.execute(select(cls)).scalar_one()
        assert again is item
        assert loaded(item, "owner") is (lazy != "select")


@pytest.mark.parametrize("option", [selectinload, joinedload])
def test_a_loader_option_reloads_an_expired_relationship_of_an_object_already_held(sync_db, option) -> None:
    engine, _ = sync_db
    cls = ITEMS["select"]
    with Session(engine) as session:
        item = session.get(cls, 1)
        _ = item.owner
        session.expire(item, ["owner"])
        session.execute(select(cls).options(option(cls.owner))).scalar_one()
        assert loaded(item, "owner")


def test_leaving_a_begin_block_commits_and_expires(sync_db) -> None:
    """`with session.begin():` commits on exit: an expiring commit the code never spells."""
    engine, counter = sync_db
    cls = ITEMS["selectin"]
    with sessionmaker(engine)() as session:
        with session.begin():
            item = session.get(cls, 1)
            assert loaded(item, "owner")
        assert not loaded(item, "owner")
        counter.count = 0
        _ = item.owner
        assert counter.count >= 1


def test_rollback_expires(sync_db) -> None:
    engine, _ = sync_db
    cls = ITEMS["selectin"]
    with Session(engine) as session:
        item = session.get(cls, 1)
        session.rollback()
        assert not loaded(item, "owner")
