"""What the index alone decides is reported without LibCST (`Codemod.refusals_without_tree`):
the plan is the one the tree gives, and the file is not parsed for that codemod."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimize import engine
from optimize.analyzers.index import RepoIndex
from optimize.codemods.fire_and_forget_broadcast import FireAndForgetBroadcast
from optimize.codemods.get_by_primary_key import GetByPrimaryKey
from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from tests.examples import EXAMPLE_PATH, all_cases, dedent, index_for

DECIDING = [c for c in REGISTRY if c.refusals_without_tree.__func__ is not engine.Codemod.refusals_without_tree.__func__]
CASES = [case for case in all_cases() if case.codemod in DECIDING]


def _plan(codemods, index: RepoIndex, path: str, source: str, decide: bool, monkeypatch, options=None):
    monkeypatch.setattr(engine, "DECIDE_WITHOUT_TREE", decide)
    config = Config(options=options or {})
    run = engine._Run(Path("/nonexistent"), list(codemods), config, index, True, frozenset(index.facts), None, [])
    return engine._plan_file(run, path, source.encode())


def test_the_codemods_that_decide_without_the_tree_are_known() -> None:
    assert {c.ID for c in DECIDING} == {"fire-and-forget-broadcast"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_example_plans_the_same_with_and_without_the_tree(case, monkeypatch) -> None:
    example = case.example
    source = dedent(getattr(example, "before", None) or example.code)
    index = index_for(example, source)
    options = {case.codemod.ID: dict(example.options)} if example.options else None
    tree = _plan([case.codemod], index, EXAMPLE_PATH, source, False, monkeypatch, options)
    decided = _plan([case.codemod], index, EXAMPLE_PATH, source, True, monkeypatch, options)
    assert decided.steps == tree.steps and decided.skip == tree.skip


APP = {
    "app/__init__.py": "",
    "app/ws.py": """
        class Hub:
            async def broadcast(self, room, message):
                for ws in self.rooms.get(room, []):
                    await ws.send_json(message)

            async def listen(self, websocket):
                await websocket.send_text("welcome")
                while True:
                    await self.broadcast("all", await websocket.receive_text())

        hub = Hub()
    """,
    "app/events.py": """
        from .ws import hub

        async def record_and_broadcast(db, room, message):
            db.add(message)
            await db.commit()
            await hub.broadcast(room, message)
    """,
}
ROUTES = """
    from fastapi import APIRouter
    from .events import record_and_broadcast
    from .ws import hub

    router = APIRouter()


    @router.post("/rooms/{room}")
    async def post(room, message, db):
        await record_and_broadcast(db, room, message)
        await record_and_broadcast(db, room, message)  # optimize: ignore[fire-and-forget-broadcast]
        await record_and_broadcast(db, "é", message)


    @router.websocket("/rooms/{room}/ws")
    async def follow(websocket):
        await hub.listen(websocket)


    async def helper(db, room, message):
        db.add(message)
        await db.commit()
        await hub.broadcast(room, message)
"""


def _app_index(routes: str) -> RepoIndex:
    files = {p: dedent(s).encode() for p, s in APP.items()}
    files["app/routes.py"] = routes.encode()
    return RepoIndex.build(files)


def test_refusals_the_index_decides_are_the_trees_and_no_tree_is_read(monkeypatch) -> None:
    source = dedent(ROUTES)
    index = _app_index(source)
    tree = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, False, monkeypatch)
    decided = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, True, monkeypatch)
    assert decided.steps == tree.steps
    assert tree.ran == ["fire-and-forget-broadcast"] and decided.ran == [] and not decided.parsed
    reasons = {(r.line, r.column, r.end_column, r.reason.split(":")[0]) for r in decided.steps[0].refusals}
    assert reasons == {
        (10, 5, 50, "skipped"),  # writes to the database
        (11, 5, 50, "suppressed by `# optimize"),
        (12, 5, 49, "skipped"),  # the column after a non-ASCII character, in characters
        (17, 5, 32, "skipped"),  # a listener
        (23, 5, 39, "skipped"),  # not a route handler
    }


def _route(statement: str) -> str:
    return dedent(f"""
        from fastapi import APIRouter
        from .ws import hub

        router = APIRouter()


        @router.post("/rooms/{{room}}")
        async def post(room, message):
            {statement}
    """)


@pytest.mark.parametrize(
    "statement",
    [
        "x = 1; await hub.broadcast(room, message)",  # not a statement of its own line: not judged
        "hub = other(); await hub.broadcast(room, message)",
    ],
)
def test_a_line_of_several_statements_is_not_judged_either_way(statement: str, monkeypatch) -> None:
    source = _route(statement)
    index = _app_index(source)
    tree = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, False, monkeypatch)
    decided = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, True, monkeypatch)
    assert decided.steps == tree.steps and not tree.steps[0].refusals and not tree.steps[0].changes
    assert decided.ran == []


def test_a_broadcast_the_index_does_not_refuse_reads_the_tree(monkeypatch) -> None:
    source = _route("await hub.broadcast(room, message)")
    index = _app_index(source)
    assert FireAndForgetBroadcast.refusals_without_tree("app/routes.py", source.encode(), index) is None
    plan = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, True, monkeypatch)
    assert plan.ran == ["fire-and-forget-broadcast"] and plan.steps[0].changes


def test_after_an_earlier_codemods_rewrite_the_tree_is_read(monkeypatch) -> None:
    """The facts describe the file as committed: once get-by-primary-key rewrote it, the
    broadcast codemod reads the new module, whole."""
    files = {p: dedent(s).encode() for p, s in APP.items()}
    files["app/models.py"] = dedent("""
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Room(Base):
            __tablename__ = "rooms"
            id: Mapped[int] = mapped_column(primary_key=True)
    """).encode()
    source = dedent("""
        from sqlalchemy import select
        from .events import record_and_broadcast
        from .models import Room


        async def post(room_id, message, db):
            room = (await db.execute(select(Room).where(Room.id == room_id))).scalar_one_or_none()
            await record_and_broadcast(db, room, message)
    """)
    files["app/routes.py"] = source.encode()
    index = RepoIndex.build(files, {"requirements.txt": b"sqlalchemy>=2.0\n"})
    codemods = [GetByPrimaryKey, FireAndForgetBroadcast]
    tree = _plan(codemods, index, "app/routes.py", source, False, monkeypatch)
    decided = _plan(codemods, index, "app/routes.py", source, True, monkeypatch)
    assert tree.steps[0].changes and tree.steps[1].refusals
    assert decided.steps == tree.steps
    assert decided.ran == ["get-by-primary-key", "fire-and-forget-broadcast"]


def test_a_call_on_the_line_after_its_await_is_judged_the_same(monkeypatch) -> None:
    source = dedent("""
        from fastapi import APIRouter
        from .events import record_and_broadcast

        router = APIRouter()


        @router.post("/rooms/{room}")
        async def post(room, message, db):
            await (
                record_and_broadcast(db, room, message)
            )
    """)
    index = _app_index(source)
    tree = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, False, monkeypatch)
    decided = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, True, monkeypatch)
    assert tree.steps[0].refusals and decided.steps == tree.steps and decided.ran == []


def test_a_failure_to_decide_without_the_tree_reads_the_tree(monkeypatch) -> None:
    """A bug in the tree-free reading (or a module nested too deeply for it) costs only
    the parse it would have saved."""
    source = dedent(ROUTES)
    index = _app_index(source)
    tree = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, False, monkeypatch)

    def broken(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(FireAndForgetBroadcast, "refusals_without_tree", classmethod(broken))
    decided = _plan([FireAndForgetBroadcast], index, "app/routes.py", source, True, monkeypatch)
    assert decided.steps == tree.steps and decided.ran == ["fire-and-forget-broadcast"]
