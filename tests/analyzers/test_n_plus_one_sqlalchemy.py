"""The n-plus-one check's claims, counted on real SQLAlchemy (sqlite): the loops it reports
run one query per row, the ones it leaves alone do not."""

from __future__ import annotations

from sqlalchemy import ForeignKey, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    owner: Mapped[User] = relationship()
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    project: Mapped[Project] = relationship(lazy="selectin")


ROWS = 5


def _session() -> tuple[Session, list[str]]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([User(id=i, name=f"u{i}") for i in range(ROWS)])
        s.add_all([Project(id=i, name=f"p{i}") for i in range(ROWS)])
        s.add_all([Task(id=i, owner_id=i, project_id=i) for i in range(ROWS)])
        s.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return Session(engine), statements


def test_a_lazy_relationship_read_in_a_loop_runs_a_query_per_row() -> None:
    db, statements = _session()
    names = [t.owner.name for t in db.scalars(select(Task)).all()]
    # the tasks (with their selectin projects), then one per distinct owner
    assert len(statements) == 2 + ROWS and len(names) == ROWS


def test_a_selectinload_or_a_selectin_relationship_loads_with_the_rows() -> None:
    db, statements = _session()
    names = [t.owner.name for t in db.scalars(select(Task).options(selectinload(Task.owner))).all()]
    assert len(statements) == 3 and len(names) == ROWS  # tasks, owners, projects
    db, statements = _session()
    projects = [t.project.name for t in db.scalars(select(Task)).all()]
    assert len(statements) == 2 and len(projects) == ROWS


def test_a_get_per_row_runs_a_query_per_row() -> None:
    db, statements = _session()
    owners = [db.get(User, t.owner_id) for t in db.scalars(select(Task)).all()]
    assert len(statements) == 2 + ROWS and all(owners)


def test_a_many_to_one_read_per_row_skips_parents_already_loaded() -> None:
    # "up to one query per row": rows sharing an owner load it once, from the identity map after.
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all([User(id=1, name="a"), User(id=2, name="b"), Project(id=1, name="p")])
        s.add_all([Task(id=i, owner_id=1 + i % 2, project_id=1) for i in range(6)])
        s.commit()
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session(engine) as db:
        names = [t.owner.name for t in db.scalars(select(Task)).all()]
    assert len(names) == 6 and len(statements) == 2 + 2  # tasks, projects, then the 2 owners
