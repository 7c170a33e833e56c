"""count-in-database on real SQLAlchemy (sqlite): the count of the rewritten code equals
len(.all()) of the original, with criteria, joins, DISTINCT, ORDER BY and LIMIT."""

from __future__ import annotations

import libcst as cst
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from optimize.analyzers.index import RepoIndex
from optimize.codemods.count_in_database import CountInDatabase
from optimize.transform import run_codemod


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    done: Mapped[bool]


SOURCE = """\
from sqlalchemy import select


def counts(db, Task, Project):
    return [
        len(db.scalars(select(Task).where(Task.done.is_(False))).all()),
        len(db.scalars(select(Task).order_by(Task.id).limit(3)).all()),
        len(db.execute(select(Project.id).join(Task, Task.project_id == Project.id).distinct()).all()),
        len(db.query(Task).filter(Task.project_id == 1).all()),
    ]
"""


def test_the_counts_equal_the_lengths() -> None:
    done = run_codemod(CountInDatabase, cst.parse_module(SOURCE), "app/counts.py", index=RepoIndex.build({"app/counts.py": SOURCE.encode()}))
    assert len(done.changes) == 4 and "len(" not in done.tree.code, done.refusals
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as db:
        db.add_all([Project(id=i) for i in range(3)])
        db.add_all([Task(id=i, project_id=i % 2, done=i % 3 == 0) for i in range(10)])
        db.commit()
        before, after = {}, {}
        exec(compile(SOURCE, "before", "exec"), before)  # noqa: S102 -- the test's own code
        exec(compile(done.tree.code, "after", "exec"), after)  # noqa: S102
        assert after["counts"](db, Task, Project) == before["counts"](db, Task, Project) == [6, 3, 2, 5]
