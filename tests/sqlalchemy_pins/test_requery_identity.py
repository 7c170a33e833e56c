"""Real SQLAlchemy (sqlite): when a query for `X.fk` gives back the very object the
function holds, which is what `in-memory-requery` relies on, and when it does not.

- An object added to the session and flushed (alone, in a list with `add_all`, or taken
  from such a list with `next(...)`) is what every query form returns: 2.0 `select`,
  the legacy `query(M).filter(...).first()` / `.one()` and `query(M).get(...)`.
- An object never added to the session, or held by another session (a parameter may be
  either), is not: the query returns the row as the database has it, a different object,
  which is why the codemod refuses those.
"""

from __future__ import annotations

import warnings

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.sqlalchemy_pins.test_requery_in_a_loop import Base, Project, TaskStatus


@pytest.fixture
def engine():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def every_form(session: Session, key: int) -> list[TaskStatus | None]:
    """The fetches the codemod replaces, as the examples write them."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Query.get is legacy in 2.0; it still runs
        return [
            session.execute(select(TaskStatus).where(TaskStatus.id == key)).scalar_one_or_none(),
            session.scalar(select(TaskStatus).where(TaskStatus.id == key)),
            session.query(TaskStatus).filter(TaskStatus.id == key).first(),
            session.query(TaskStatus).filter(TaskStatus.id == key).one(),
            session.query(TaskStatus).get(key),
            session.get(TaskStatus, key),
        ]


def test_the_seeds_statuses_added_and_flushed_are_what_every_form_returns(engine) -> None:
    with Session(engine) as db:
        project = Project(name="p")
        db.add(project)
        db.flush()
        statuses = TaskStatus.create_default_statuses()
        db.add_all(statuses)
        db.flush()
        todo_status = next((s for s in statuses if s.name == "Todo"), None)
        assert todo_status is not None
        project.derived_status_id = todo_status.id
        assert project.derived_status_id
        assert all(found is todo_status for found in every_form(db, project.derived_status_id))


def test_an_object_never_added_is_not_what_the_query_returns(engine) -> None:
    with Session(engine) as db:
        db.add(TaskStatus(id=1, name="from the database"))
        db.commit()
    with Session(engine) as db:
        transient = TaskStatus(id=1, name="built in memory")  # never added
        project = Project(name="p")
        project.derived_status_id = transient.id
        found = every_form(db, project.derived_status_id)
        assert all(f is not transient and f.name == "from the database" for f in found)


def test_an_object_of_another_session_is_not_what_this_session_returns(engine) -> None:
    with Session(engine) as db:
        db.add(TaskStatus(id=1, name="Todo"))
        db.commit()
    with Session(engine) as other, Session(engine) as db:
        status = other.get(TaskStatus, 1)  # a parameter may come from anywhere
        project = Project(name="p")
        project.derived_status_id = status.id
        assert all(f is not status for f in every_form(db, project.derived_status_id))
