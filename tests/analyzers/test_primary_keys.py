"""A model's primary key order as its mapper sees it (`optimize.analyzers.primary_keys`),
proven from the class or refused with the reason; the SQLAlchemy behaviour behind each rule
is pinned in `tests/sqlalchemy_pins/test_get_by_primary_key_forms.py`."""

from __future__ import annotations

import textwrap

import pytest

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.primary_keys import primary_key_order

BASE = """
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass
"""
MODELS = """
    from sqlalchemy import Column, ForeignKey, Integer, PrimaryKeyConstraint
    from sqlalchemy.orm import Mapped, declared_attr, mapped_column

    from app.db import Base
    from app.mixins import Keyed, Scoped

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Membership(Base):
        __tablename__ = "memberships"
        user_id: Mapped[int] = mapped_column(primary_key=True)
        project_id: Mapped[int] = mapped_column(primary_key=True)
        role: Mapped[str]

    class Legacy(Base):
        __tablename__ = "legacy"
        b = Column(Integer, primary_key=True)
        a = Column(Integer, primary_key=True)

    class Inherits(Keyed, Base):
        __tablename__ = "inherits"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Sorted(Base):
        __tablename__ = "sorted"
        b: Mapped[int] = mapped_column(primary_key=True, sort_order=2)
        a: Mapped[int] = mapped_column(primary_key=True, sort_order=1)

    class Constrained(Base):
        __tablename__ = "constrained"
        __table_args__ = (PrimaryKeyConstraint("a", "b"),)
        b: Mapped[int] = mapped_column(primary_key=True)
        a: Mapped[int] = mapped_column(primary_key=True)

    class Declared(Base):
        __tablename__ = "declared"
        b: Mapped[int] = mapped_column(primary_key=True)
        a: Mapped[int] = mapped_column(primary_key=True)

        @declared_attr.directive
        def __table_args__(cls):
            return (PrimaryKeyConstraint("a", "b"),)

    class FromMixin(Scoped, Base):
        __tablename__ = "from_mixin"
        b: Mapped[int] = mapped_column(primary_key=True)
        a: Mapped[int] = mapped_column(primary_key=True)

    class Parent(Base):
        __tablename__ = "parents"
        a: Mapped[int] = mapped_column(primary_key=True)
        b: Mapped[int] = mapped_column(primary_key=True)

    class Child(Parent):
        __tablename__ = "children"
        a: Mapped[int] = mapped_column(ForeignKey("parents.a"), primary_key=True)
        b: Mapped[int] = mapped_column(ForeignKey("parents.b"), primary_key=True)
"""
MIXINS = """
    from sqlalchemy import PrimaryKeyConstraint
    from sqlalchemy.orm import Mapped, mapped_column

    class Keyed:
        tenant_id: Mapped[int] = mapped_column(primary_key=True)

    class Scoped:
        __table_args__ = (PrimaryKeyConstraint("a", "b"),)
"""
HEROES = """
    from sqlmodel import Field, SQLModel

    class HeroTeam(SQLModel, table=True):
        hero_id: int = Field(primary_key=True)
        team_id: int = Field(primary_key=True)
"""


@pytest.fixture(scope="module")
def index() -> RepoIndex:
    files = {"app/db.py": BASE, "app/models.py": MODELS, "app/mixins.py": MIXINS, "app/heroes.py": HEROES}
    return RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in files.items()})


def _order(index: RepoIndex, qualname: str) -> tuple[str, ...] | str:
    model = index.model_for(qualname)
    assert model is not None, qualname
    return primary_key_order(index, model)


@pytest.mark.parametrize(
    "qualname, order",
    [
        ("app.models.Task", ("id",)),
        ("app.models.Membership", ("user_id", "project_id")),
        ("app.models.Legacy", ("b", "a")),
        ("app.heroes.HeroTeam", ("hero_id", "team_id")),
    ],
)
def test_the_declared_order_when_nothing_else_decides_it(index: RepoIndex, qualname, order) -> None:
    assert _order(index, qualname) == order


@pytest.mark.parametrize(
    "qualname, reason",
    [
        ("app.models.Inherits", "part of Inherits's composite primary key is inherited"),
        ("app.models.Sorted", "Sorted.b sets sort_order"),
        ("app.models.Constrained", "Constrained.__table_args__ may declare"),
        ("app.models.Declared", "Declared.__table_args__ may declare"),
        ("app.models.FromMixin", "Scoped.__table_args__ may declare FromMixin's primary key"),
        ("app.models.Child", "the mapped base class Parent"),
    ],
)
def test_an_order_something_else_may_decide_is_refused(index: RepoIndex, qualname, reason) -> None:
    order = _order(index, qualname)
    assert isinstance(order, str) and reason in order, order
