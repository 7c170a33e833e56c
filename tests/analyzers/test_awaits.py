"""`analyzers.awaits` reads awaited call statements as the codemod's LibCST reading does:
the same statements, spans and callee names, on real async modules and on shapes picked to
differ; where it cannot be sure it says None."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from textwrap import dedent

import libcst as cst
import libcst.matchers as m
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider, QualifiedNameProvider

from optimize.analyzers.awaits import async_functions
from optimize.transform import module_name

FIXTURE_APP = Path(__file__).resolve().parents[2] / "fixtures" / "taskboard"


def _installed(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin
    return Path(spec.origin)


# Async code as libraries and apps write it: handlers, clients, websockets, task groups.
REAL = [
    *sorted(p for p in FIXTURE_APP.rglob("*.py") if "__pycache__" not in p.parts),
    _installed("starlette.routing"),
    _installed("starlette.websockets"),
    _installed("starlette.middleware.errors"),
    _installed("fastapi.routing"),
    _installed("httpx._client"),
    _installed("anyio._core._sockets"),
    _installed("sqlalchemy.ext.asyncio.session"),
    _installed("sqlalchemy.ext.asyncio.engine"),
]


def _libcst_reading(source: str, module: str) -> list[tuple[str, tuple]]:
    """(function name, (line, column, end line, end column, callee)) for every awaited call
    statement LibCST's reading sees, as `fire-and-forget-broadcast` reads them."""
    wrapper = MetadataWrapper(cst.parse_module(source))
    positions = wrapper.resolve(PositionProvider)
    names = wrapper.resolve(QualifiedNameProvider)
    found = []
    for function in m.findall(wrapper.module, m.FunctionDef(asynchronous=m.Asynchronous())):
        for line in m.findall(function.body, m.SimpleStatementLine()):
            if not (len(line.body) == 1 and m.matches(line.body[0], m.Expr(m.Await(m.Call())))):
                continue
            call = line.body[0].value.expression
            held = names.get(call.func, set())
            qualified = sorted(q.name for q in (held() if callable(held) else held))
            local = cst.helpers.get_full_name_for_node(call.func)
            name = qualified[0] if qualified else local
            callee = name if name is None or "." in name or not module else f"{module}.{name}"
            where = positions[line]
            found.append((function.name.value, (where.start.line, where.start.column + 1, where.end.line, where.end.column + 1, callee)))
    return found


def _ast_reading(source: bytes, module: str) -> list[tuple[str, tuple]] | None:
    functions = async_functions(source, module)
    if functions is None:
        return None
    return [
        (f.name, (s.line, s.column, s.end_line, s.end_column, s.callee)) for f in functions for s in f.statements
    ]


@pytest.mark.parametrize("path", REAL, ids=[p.name for p in REAL])
def test_the_reading_is_libcsts_on_real_modules(path: Path) -> None:
    source = path.read_bytes()
    module = module_name(path.name)[0]
    found = _ast_reading(source, module)
    if found is None:
        return  # the reading gave up on this module: nothing is decided from it
    assert found == _libcst_reading(source.decode(), module)
    READ.append(path)


READ: list[Path] = []


SHAPES = {
    "imports and module names": """
        from .ws import manager as mgr
        import app.events as events
        from app import hub
        manager = object()

        async def notify():
            pass

        class Service:
            async def run(self, other):
                await mgr.broadcast()
                await events.publish(1)
                await hub.rooms.send_all()
                await manager.broadcast_to_room(
                    "room",
                    {"x": "é"},
                )
                await notify()  # a comment
    """,
    "names the function binds": """
        from app import ws, hub

        class Room:
            async def tell(self, client, *others, **options):
                ws = hub.pick()
                await ws.send(1)
                await client.send(2)
                await self.notify(3)
                await others.send(4)
                async with hub.lock() as lock:
                    await lock.release()
                if (found := hub.find()):
                    await found.send(5)
                [await x.send(6) for x in others]

            def helper(self):
                return [1]

        async def handler(x):
            from app.events import emit_update
            from . import rooms

            def local():
                return 1

            await emit_update(x)
            await rooms.send_all(x)
            await local()
    """,
    "statements LibCST reads as other nodes": """
        from app import ws

        async def f(x):
            if x: await ws.send(1)
            y = 1; await ws.send(2)
            await ws.send(3); y = 2
            try:
                await ws.send(4)
            except Exception:
                await ws.send(5)
            else:
                await ws.send(6)
            finally:
                await ws.send(7)
            match x:
                case 1:
                    await ws.send(8)
            with open(x) as fh:
                await ws.send(9)
    """,
}


@pytest.mark.parametrize("name", SHAPES)
def test_the_reading_is_libcsts_on_shapes_picked_to_differ(name: str) -> None:
    source = dedent(SHAPES[name]).lstrip("\n")
    found = _ast_reading(source.encode(), "app.routes")
    assert found is not None
    assert found == _libcst_reading(source, "app.routes")


@pytest.mark.parametrize(
    "code",
    [
        "async def f():\n    await print(1)\n",  # a builtin
        "try:\n    from a import ws\nexcept ImportError:\n    ws = None\nasync def f():\n    await ws.send(1)\n",  # bound twice
        "from app import *\nasync def f():\n    await ws.send(1)\n",
        "async def f():\n    async def g():\n        await h()\n    await g()\n",  # nested
        "def outer():\n    async def f():\n        await h()\n",
        "from app import ws\nasync def f():\n    await ws.make()()\n",  # not a dotted name
        "from app import ws\nasync def f():\n    x = 1; \\\n    await ws.send(1)\n",  # a continued line
        "import app.ws\nasync def f():\n    await app.ws.send(1)\n",  # `import a.b`
    ],
)
def test_what_might_be_read_differently_is_not_read(code: str) -> None:
    assert async_functions(code.encode(), "app.routes") is None
