"""The call graph across modules (`optimize.analyzers.calls`): callers of a function found
through relative imports, module imports and re-exports; how each calls it; and a function
reached some other way (a callback, a method) answered with None."""

from __future__ import annotations

import textwrap

from optimize.analyzers.index import RepoIndex

SERVICE = """
    async def complete_task(db, task_id):
        await db.commit()

    async def archive(db):
        pass
"""


def index(files: dict[str, str]) -> RepoIndex:
    return RepoIndex.build({p: textwrap.dedent(s).encode() for p, s in files.items()})


def callers_of(files: dict[str, str], qualname: str):
    repo = index(files)
    function = repo.function(qualname)
    assert function is not None, qualname
    return repo.callers(function)


def test_callers_through_relative_module_and_reexported_imports() -> None:
    files = {
        "app/services/__init__.py": "from .tasks import complete_task\n",
        "app/services/tasks.py": SERVICE,
        "app/routers/a.py": """
            from fastapi import APIRouter
            from ..services.tasks import complete_task
            router = APIRouter()

            @router.post("/a")
            async def a(db):
                await complete_task(db, 1)
                return {"ok": True}
        """,
        "app/routers/b.py": """
            from app import services

            async def b(db, ids):
                for i in ids:
                    await services.complete_task(db, i)
                    await db.commit()
        """,
        "app/routers/c.py": """
            from app.services import complete_task as done

            async def c(db):
                try:
                    result = await done(db, 2)
                except ValueError:
                    pass
        """,
    }
    found = callers_of(files, "app.services.tasks.complete_task")
    assert found is not None
    by_caller = {caller.qualname: site for caller, site in found}
    assert set(by_caller) == {"app.routers.a.a", "app.routers.b.b", "app.routers.c.c"}
    a, b, c = by_caller["app.routers.a.a"], by_caller["app.routers.b.b"], by_caller["app.routers.c.c"]
    assert a.statement and a.awaited and not a.guarded and not a.commit_after
    assert b.commit_after  # the loop's commit runs before the next call, and after this one
    assert c.guarded and not c.statement
    routes = {caller.qualname: caller.route for caller, _ in found}
    assert routes == {"app.routers.a.a": True, "app.routers.b.b": False, "app.routers.c.c": False}


def test_callers_through_an_import_renamed_twice() -> None:
    files = {
        "app/services/__init__.py": "from .tasks import complete_task as finish\n",
        "app/services/tasks.py": SERVICE,
        "app/routers/a.py": """
            from fastapi import APIRouter
            from ..services import finish
            router = APIRouter()

            @router.post("/a")
            async def a(db):
                await finish(db, 1)
        """,
        "app/workers/nightly.py": """
            from app.services import finish as close_out

            async def run(db):
                await close_out(db, 2)
        """,
    }
    found = callers_of(files, "app.services.tasks.complete_task")
    assert found is not None
    assert {caller.qualname for caller, _ in found} == {"app.routers.a.a", "app.workers.nightly.run"}


def test_a_function_used_as_a_callback_has_no_known_callers() -> None:
    files = {
        "app/services/tasks.py": SERVICE,
        "app/routers/a.py": """
            from ..services.tasks import complete_task

            async def a(db, tasks):
                await complete_task(db, 1)
                tasks.add_task(complete_task, db, 1)
        """,
    }
    assert callers_of(files, "app.services.tasks.complete_task") is None


def test_a_call_the_index_cannot_resolve_may_be_this_function() -> None:
    files = {
        "app/services/tasks.py": SERVICE,
        "app/routers/a.py": """
            async def a(db, service):
                await service.complete_task(db, 1)
        """,
    }
    assert callers_of(files, "app.services.tasks.complete_task") is None


def test_uncalled_function_has_no_callers_and_methods_are_not_answered() -> None:
    files = {
        "app/services/tasks.py": SERVICE + """
    class Service:
        async def run(self):
            pass
""",
    }
    assert callers_of(files, "app.services.tasks.archive") == []
    assert callers_of(files, "app.services.tasks.Service.run") is None
