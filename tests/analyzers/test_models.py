"""Models read from small sources: inheritance, look-alikes and relationship factories."""

from __future__ import annotations

import textwrap

from optimize.analyzers.index import RepoIndex


def build(files: dict[str, str]) -> RepoIndex:
    return RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in files.items()})


MODELS = """
    from sqlalchemy import ForeignKey
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Audited:
        created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        created_by: Mapped["User"] = relationship(lazy="joined")

    class User(Base):
        __tablename__ = "users"
        id: Mapped[int] = mapped_column(primary_key=True)

    class Task(Base, Audited):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
        kind: Mapped[str]
        assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
        assignee: Mapped["User | None"] = relationship()

    class Bug(Task):
        fixer: Mapped[User] = relationship(lazy="selectin", foreign_keys="Bug.fixer_id")
        fixer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    class Chore(Task):
        pass
"""


def test_relationships_and_columns_come_from_mixins_and_parent_models() -> None:
    index = build({"app/models.py": MODELS})
    task = index.model("Task")
    assert task.relationships.keys() == {"created_by", "assignee"}
    assert task.relationships["created_by"].lazy == "joined"
    assert task.relationships["assignee"].target == "User"
    bug = index.model("Bug")
    assert bug.table == "tasks"  # single-table inheritance
    assert {n: r.lazy for n, r in bug.relationships.items()} == {
        "created_by": "joined", "assignee": "select", "fixer": "selectin"
    }
    assert bug.primary_key == ("id",) and "kind" in bug.columns
    chore = index.model("Chore")  # declares nothing itself: still a model
    assert chore is not None and chore.relationships.keys() == {"created_by", "assignee"}


def test_a_parent_imported_through_a_package_reexport() -> None:
    index = build(
        {
            "app/models/__init__.py": "from app.models.base import Task\n",
            "app/models/base.py": MODELS,
            "app/bugs.py": """
                from sqlalchemy.orm import Mapped, relationship
                from app.models import Task

                class Incident(Task):
                    responder: Mapped["User"] = relationship(lazy="raise")
            """,
        }
    )
    incident = index.model("Incident")
    assert incident.relationships.keys() == {"created_by", "assignee", "responder"}


def test_look_alikes_are_not_models() -> None:
    index = build(
        {
            "app/models.py": MODELS,
            "app/schemas.py": """
                from pydantic import BaseModel

                class Task(BaseModel):  # same name as the model
                    id: int
                    assignee: str | None = None

                class TaskOut(Task):
                    pass
            """,
            "app/graph.py": """
                from app.graphlib import relationship, Column

                class Edge:
                    link = relationship("Node", lazy="joined")
                    weight = Column(int)
            """,
        }
    )
    assert index.model("Task").path == "app/models.py"  # the pydantic Task is no model
    assert index.model("TaskOut") is None
    assert index.model("Edge") is None  # an application's own `relationship` helper
    assert "Edge" not in index.models and "Bug" in index.models


def test_a_base_name_declared_twice_is_not_guessed() -> None:
    index = build(
        {
            "a/m.py": """
                from sqlalchemy.orm import Mapped, relationship
                class Mixin:
                    owner: Mapped["User"] = relationship(lazy="joined")
            """,
            "b/m.py": """
                from sqlalchemy.orm import Mapped, relationship
                class Mixin:
                    owner: Mapped["User"] = relationship()
            """,
            "c/m.py": """
                from sqlalchemy.orm import Mapped, mapped_column
                from mixins import *

                class Thing(Base, Mixin):
                    __tablename__ = "things"
                    id: Mapped[int] = mapped_column(primary_key=True)
            """,
        }
    )
    assert "owner" not in index.model("Thing").relationships


def test_classic_columns_and_sqlmodel_relationship_kwargs() -> None:
    index = build(
        {
            "app/legacy.py": """
                import sqlalchemy as sa
                from sqlalchemy import orm
                from sqlalchemy.ext.declarative import declarative_base

                Base = declarative_base()

                class Order(Base):
                    __tablename__ = "orders"
                    id = sa.Column(sa.Integer, primary_key=True)
                    customer_id = sa.Column(sa.Integer, sa.ForeignKey("customers.id"), index=True)
                    customer = orm.relationship("Customer", lazy=False)
                    lines = orm.relationship("Line", lazy=True)
            """,
            "app/heroes.py": """
                from sqlmodel import Field, Relationship, SQLModel

                class Team(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    heroes: list["Hero"] = Relationship(
                        back_populates="team", sa_relationship_kwargs={"lazy": "subquery"}
                    )
            """,
        }
    )
    order = index.model("Order")
    assert order.columns["customer_id"].foreign_key == "customers.id" and order.columns["customer_id"].index
    assert order.relationships["customer"].lazy == "joined"  # lazy=False
    assert order.relationships["lines"].lazy == "select"  # lazy=True
    assert index.relationship("Team", "heroes").lazy == "subquery"
    assert index.relationship("Team", "heroes").target == "Hero"


def test_model_for_a_qualified_name() -> None:
    index = build(
        {
            "app/models/__init__.py": "from app.models.base import Task\n",
            "app/models/base.py": MODELS,
            "app/cache.py": "class Task:\n    assignee = None\n",
        }
    )
    assert index.model_for("app.models.Task").path == "app/models/base.py"  # through the re-export
    assert index.model_for("app.models.base.Bug").relationships["fixer"].lazy == "selectin"
    assert index.model_for("app.cache.Task") is None
    assert index.model_for("elsewhere.Task") is None


def test_indexes_from_table_args_columns_and_beside_the_class() -> None:
    source = '''
        from sqlalchemy import Column, ForeignKey, Index, Integer, String, UniqueConstraint
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
        from sqlmodel import Field, SQLModel

        class Base(DeclarativeBase):
            pass

        class Task(Base):
            __tablename__ = "tasks"
            __table_args__ = (
                Index("ix_tasks_project_status", "project_id", "status"),
                UniqueConstraint("project_id", "title", name="uq_title"),
                Index("ix_lower", text("lower(title)")),
                {"schema": "app"},
            )
            id: Mapped[int] = mapped_column(primary_key=True)
            project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
            title: Mapped[str] = mapped_column(unique=True)
            status: Mapped[str]

        Index("ix_tasks_status_id", Task.status, Task.id, unique=True)

        class Hero(SQLModel, table=True):
            __table_args__ = {"schema": "heroes"}
            id: int | None = Field(default=None, primary_key=True)
            name: str = Field(index=True)
    '''
    index = RepoIndex.build({"app/models.py": textwrap.dedent(source).encode()})
    task = index.model_for("app.models.Task")
    assert task is not None
    assert [(i.columns, i.unique, i.name) for i in task.indexes] == [
        (("project_id", "status"), False, "ix_tasks_project_status"),
        (("project_id", "title"), True, "uq_title"),
        (("status", "id"), True, "ix_tasks_status_id"),
    ]
    assert task.columns["project_id"].index and task.columns["title"].unique
    hero = index.model_for("app.models.Hero")
    assert hero is not None and hero.columns["name"].index and hero.indexes == []


def test_a_base_class_re_exported_by_the_package_init_through_a_relative_import() -> None:
    # `from . import Model` in a models package whose `__init__.py` re-exports it with
    # `from .base import Model`: the models are seen, with their keys.
    files = {
        "app/models/__init__.py": "from .base import Model\nfrom .task import Task\n",
        "app/models/base.py": "from sqlalchemy.orm import DeclarativeBase\n\nclass Model(DeclarativeBase):\n    pass\n",
        "app/models/task.py": (
            "from sqlalchemy import Column, Integer, String\nfrom . import Model\n\n"
            "class Task(Model):\n    __tablename__ = 'tasks'\n    id = Column(Integer, primary_key=True)\n"
            "    title = Column(String)\n"
        ),
        "app/models/note.py": (
            "from sqlalchemy.orm import Mapped, mapped_column\nfrom .. import models\n\n"
            "class Note(models.Model):\n    __tablename__ = 'notes'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
        ),
    }
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    for name, key in [("app.models.task.Task", ("id",)), ("app.models.Task", ("id",)), ("app.models.note.Note", ("id",))]:
        model = index.model_for(name)
        assert model is not None and model.primary_key == key, name
