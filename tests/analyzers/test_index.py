"""The repository index on the example app and on small look-alikes."""

from __future__ import annotations

import textwrap

import pytest

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.versions import sqlalchemy_minimum
from tests.fixture_app import FIXTURE


def build(files: dict[str, str], project: dict[str, str] | None = None) -> RepoIndex:
    return RepoIndex.build(
        {p: textwrap.dedent(s).encode() for p, s in files.items()},
        {p: textwrap.dedent(s).encode() for p, s in (project or {}).items()},
    )


@pytest.fixture(scope="module")
def taskboard() -> RepoIndex:
    files = {
        p.relative_to(FIXTURE.parent).as_posix(): p.read_bytes() for p in FIXTURE.rglob("*.py")
    }
    project = {"requirements.txt": (FIXTURE / "requirements.txt").read_bytes()}
    return RepoIndex.build(files, project)


def test_models_and_loading_strategies(taskboard: RepoIndex) -> None:
    task = taskboard.model("Task")
    assert task is not None and task.table == "tasks" and task.primary_key == ("id",)
    assert {n: r.lazy for n, r in task.relationships.items()} == {
        "project": "select", "task_status": "select", "assignee": "select", "reporter": "selectin",
    }
    assert task.relationships["assignee"].target == "User"
    assert taskboard.model("Project").relationships["application"].lazy == "joined"
    assert taskboard.model("Project").relationships["tasks"].target == "Task"
    assert taskboard.model("TaskStatus").columns["project_id"].index
    assert taskboard.model("ConnectionManager") is None


def test_session_factories(taskboard: RepoIndex) -> None:
    factories = {f.name: f.expire_on_commit for f in taskboard.session_factories if f.name}
    assert factories == {"SessionLocal": False, "AuditSessionLocal": True, "sessionmaker": True} or (
        factories["SessionLocal"] is False and factories["AuditSessionLocal"] is True
    )
    assert not taskboard.expire_on_commit_disabled()
    assert taskboard.expires_on_commit("taskboard.database.get_db") is False
    assert taskboard.expires_on_commit("taskboard.audit.get_audit_db") is True
    assert taskboard.expires_on_commit(None) is True


def test_broadcasts_resolve_through_imports_instances_and_wrappers(taskboard: RepoIndex) -> None:
    assert taskboard.is_broadcast("taskboard.websocket.manager.broadcast_to_room")
    assert taskboard.is_broadcast("taskboard.events.handle_task_update")
    assert "broadcast_to_room sends with websocket.send_json" in taskboard.broadcast_reason(
        "taskboard.events.emit_project_status_changed_if_needed"
    )
    assert not taskboard.is_broadcast("taskboard.events.record_activity")  # writes to the DB
    assert not taskboard.is_broadcast("taskboard.routers.tasks.create_task")  # commits


def test_classic_declarative_sqlmodel_and_aliases() -> None:
    index = build(
        {
            "app/models.py": """
                import sqlalchemy as sa
                from sqlalchemy.orm import relationship as rel, declarative_base
                from sqlmodel import SQLModel, Field, Relationship

                Base = declarative_base()

                class Author(Base):
                    __tablename__ = "authors"
                    id = sa.Column(sa.Integer, primary_key=True)
                    books = rel("Book", lazy="dynamic")

                class Book(Base):
                    __tablename__ = "books"
                    id = sa.Column(sa.Integer, primary_key=True)
                    author_id = sa.Column(sa.ForeignKey("authors.id"), index=True)
                    author = sa.orm.relationship(Author, lazy="raise")

                class Hero(SQLModel, table=True):
                    id: int | None = Field(default=None, primary_key=True)
                    team: "Team" = Relationship(sa_relationship_kwargs={"lazy": "selectin"})

                class HeroRead(SQLModel):
                    id: int
            """
        }
    )
    assert index.model("Author").relationships["books"].lazy == "dynamic"
    assert index.model("Book").relationships["author"] == index.relationship("Book", "author")
    assert index.relationship("Book", "author").lazy == "raise"
    assert index.model("Book").columns["author_id"].foreign_key == "authors.id"
    assert index.model("Hero").relationships["team"].lazy == "selectin"
    assert index.model("Hero").primary_key == ("id",)
    assert index.model("HeroRead") is None


def test_a_sender_that_also_commits_is_not_a_broadcast() -> None:
    index = build(
        {
            "svc/notify.py": """
                async def notify(ws, db, msg):
                    await ws.send_text(msg)
                    await db.commit()

                async def fan_out(conns, msg):
                    for c in conns:
                        await c.send_json(msg)

                async def relay(conns, msg):
                    await fan_out(conns, msg)
            """
        }
    )
    assert not index.is_broadcast("svc.notify.notify")
    assert index.is_broadcast("svc.notify.relay")
    assert index.is_broadcast("elsewhere.broadcast_all")  # unknown function: name pattern
    assert not index.is_broadcast("elsewhere.save_all")


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"requirements.txt": "SQLAlchemy[asyncio]>=2.0.4\n"}, (2, 0, 4)),
        ({"requirements.txt": "sqlalchemy==2.0.1  # pinned\n"}, (2, 0, 1)),
        ({"pyproject.toml": '[project]\ndependencies = ["fastapi", "sqlalchemy>=1.4,<3"]\n'}, (1, 4)),
        ({"pyproject.toml": '[tool.poetry.dependencies]\nsqlalchemy = "^2.0.20"\n'}, (2, 0, 20)),
        (
            {
                "pyproject.toml": '[project]\ndependencies = ["sqlalchemy>=1.4"]\n',
                "poetry.lock": '[[package]]\nname = "SQLAlchemy"\nversion = "2.0.36"\n',
            },
            (2, 0, 36),
        ),
        ({"requirements.txt": "fastapi\nsqlalchemy\n"}, None),
        ({}, None),
    ],
)
def test_sqlalchemy_minimum(files, expected) -> None:
    assert sqlalchemy_minimum({k: v.encode() for k, v in files.items()}) == expected


def test_session_factories_from_small_sources() -> None:
    assert not build({"app/x.py": "x = 1\n"}).expire_on_commit_disabled()  # no factory: unknown
    index = build(
        {
            "app/db.py": """
                from sqlalchemy.orm import sessionmaker
                from sqlalchemy.ext.asyncio import async_sessionmaker as make

                SyncLocal = sessionmaker(bind=engine)
                AsyncLocal = make(engine, expire_on_commit=False)
                Flagged = make(engine, expire_on_commit=settings.expire)
            """
        }
    )
    kinds = {f.name: (f.kind, f.expire_on_commit) for f in index.session_factories}
    assert kinds == {
        "SyncLocal": ("sessionmaker", True),
        "AsyncLocal": ("async_sessionmaker", False),
        "Flagged": ("async_sessionmaker", None),
    }
    assert not index.expire_on_commit_disabled()
    only_off = build(
        {"app/db.py": "from sqlalchemy.ext.asyncio import async_sessionmaker\nS = async_sessionmaker(e, expire_on_commit=False)\n"}
    )
    assert only_off.expire_on_commit_disabled()


def test_broadcast_through_a_module_level_instance_in_a_src_layout() -> None:
    index = build(
        {
            "src/app/ws.py": """
                class Hub:
                    def __init__(self):
                        self.rooms = {}

                    async def to_room(self, room, payload):
                        for conn in self.rooms.get(room, []):
                            await conn.send_json(payload)

                    async def remember(self, db, room):
                        db.add(room)
                        await db.commit()

                hub = Hub()
            """,
            "src/app/events.py": """
                from app.ws import hub

                async def task_moved(room, task):
                    seen = set()
                    seen.add(task)  # a set's add is no database write
                    await hub.to_room(room, {"task": task})

                async def task_saved(db, room):
                    await hub.remember(db, room)
                    await hub.to_room(room, {})
            """,
        }
    )
    assert index.is_broadcast("app.ws.hub.to_room")
    assert index.is_broadcast("app.events.task_moved")
    assert "to_room sends with conn.send_json" in index.broadcast_reason("app.events.task_moved")
    assert not index.is_broadcast("app.events.task_saved")  # writes through remember()
    assert not index.is_broadcast("app.ws.hub.remember")


def test_facts_are_cached_by_content() -> None:
    cache: dict = {}
    first = RepoIndex.build({"app/m.py": b"x = 1\n", "app/n.py": b"y = 2\n"}, cache=cache)
    second = RepoIndex.build({"app/m.py": b"x = 1\n", "app/n.py": b"y = 3\n"}, cache=cache)
    assert second.facts["app/m.py"] is first.facts["app/m.py"]
    assert second.facts["app/n.py"] is not first.facts["app/n.py"]
    assert len(cache) == 3


def test_a_sender_that_waits_for_input_is_a_listener_not_a_broadcast() -> None:
    index = build(
        {
            "svc/hub.py": """
                async def pump(conn, others):
                    async for message in conn.websocket.iter_text():
                        for other in others:
                            await other.send_text(message)

                async def listen(conn, others):
                    await pump(conn, others)

                async def announce(others, message):
                    for other in others:
                        await other.send_text(message)
            """
        }
    )
    listen = index.function("svc.hub.listen")
    assert index.sender(listen)
    assert "waits for input (conn.websocket.iter_text)" in index.disqualified(listen)
    assert not index.is_broadcast("svc.hub.listen") and not index.is_broadcast("svc.hub.pump")
    assert index.is_broadcast("svc.hub.announce") and index.disqualified(index.function("svc.hub.announce")) is None
