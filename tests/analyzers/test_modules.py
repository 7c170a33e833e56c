"""Module names, import resolution and the index's lookups through them, on small
repositories in the layouts real backends use."""

from __future__ import annotations

import ast
import textwrap

import pytest

from optimize.analyzers.facts import collect_file_facts
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.modules import ModuleMap


def build(files: dict[str, str], project: dict[str, str] | None = None) -> RepoIndex:
    return RepoIndex.build(
        {p: textwrap.dedent(s).encode() for p, s in files.items()},
        {p: textwrap.dedent(s).encode() for p, s in (project or {}).items()},
    )


def imports_of(path: str, source: str) -> dict[str, str]:
    return collect_file_facts(path, ast.parse(textwrap.dedent(source))).imports


BASE_WITH_KEY = """
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Model(Base):
        __abstract__ = True
        id: Mapped[int] = mapped_column(primary_key=True)
"""
TASK_ON_MODEL = """
    class Task(Model):
        __tablename__ = "tasks"
"""


# --- 1. module names and roots ---------------------------------------------------------------


def test_a_package_at_the_repository_root() -> None:
    modules = ModuleMap.of(["app/__init__.py", "app/models.py", "app/api/__init__.py", "app/api/routes.py"])
    assert modules.names("app/models.py") == ("app.models",)
    assert modules.names("app/api/__init__.py") == ("app.api",)
    assert modules.name("app/api/routes.py") == "app.api.routes"
    assert modules.roots == {()}
    assert modules.files("app.api") == ("app/api/__init__.py",)


def test_a_src_layout() -> None:
    modules = ModuleMap.of(["src/app/__init__.py", "src/app/models.py", "tests/test_models.py"])
    # `src/` holds the top-level package; `src` itself is only a namespace package.
    assert modules.names("src/app/models.py") == ("app.models", "src.app.models")
    assert modules.name("tests/test_models.py") == "test_models"
    assert modules.roots == {("src",), ("tests",)}
    assert modules.files("app.models", near="tests/test_models.py") == ("src/app/models.py",)


def test_a_backend_app_layout_next_to_other_top_level_code() -> None:
    modules = ModuleMap.of(["backend/app/__init__.py", "backend/app/db.py", "manage.py"])
    assert modules.names("backend/app/db.py") == ("app.db", "backend.app.db")
    assert modules.names("manage.py") == ("manage",)
    assert modules.roots == {("backend",), ()}


def test_two_service_roots_each_see_their_own_app() -> None:
    paths = [
        "services/users/app/__init__.py",
        "services/users/app/models.py",
        "services/users/app/routes.py",
        "services/billing/app/__init__.py",
        "services/billing/app/models.py",
    ]
    modules = ModuleMap.of(paths)
    assert modules.name("services/users/app/models.py") == "app.models"
    assert modules.name("services/billing/app/models.py") == "app.models"
    assert modules.roots == {("services", "users"), ("services", "billing")}
    # Ambiguous on its own; from a file of one service, that service's module.
    assert modules.files("app.models") == ("services/billing/app/models.py", "services/users/app/models.py")
    assert modules.files("app.models", near="services/users/app/routes.py") == ("services/users/app/models.py",)


def test_a_directory_without_init_inside_a_package_is_part_of_it() -> None:
    modules = ModuleMap.of(["app/__init__.py", "app/api/v1/routes.py", "app/plugins/audit/__init__.py"])
    # `app/api/` and `app/api/v1/` are namespace portions of `app`, not roots.
    assert modules.names("app/api/v1/routes.py") == ("app.api.v1.routes",)
    assert modules.files("routes") == () and modules.files("v1.routes") == ()
    # A package inside such a directory is top-level too when that directory is on the
    # path, so it has both names; the one through the outer package comes first.
    assert modules.names("app/plugins/audit/__init__.py") == ("app.plugins.audit", "audit")


def test_modules_outside_any_package() -> None:
    modules = ModuleMap.of(["app/main.py", "app/models.py", "scripts/seed.py"])
    assert modules.names("app/models.py") == ("models", "app.models")
    assert modules.files("app.models") == ("app/models.py",)
    assert modules.files("models", near="scripts/seed.py") == ("app/models.py",)


def test_a_package_wins_over_a_module_of_the_same_name() -> None:
    modules = ModuleMap.of(["app/__init__.py", "app/models.py", "app/models/__init__.py"])
    assert modules.files("app.models") == ("app/models/__init__.py",)


def test_only_identifiers_below_a_root_make_a_name() -> None:
    modules = ModuleMap.of(["services/user-api/app/__init__.py", "services/user-api/app/models.py", "migrations/0001_init.py"])
    assert modules.names("services/user-api/app/models.py") == ("app.models",)
    assert modules.names("migrations/0001_init.py") == ()
    # The path name still finds the file (the per-file facts use it).
    assert modules.files("services.user-api.app.models") == ("services/user-api/app/models.py",)


def test_a_repository_that_is_itself_a_package_falls_back_to_suffixes() -> None:
    modules = ModuleMap.of(["__init__.py", "models.py", "api/__init__.py", "api/routes.py"])
    assert modules.name("models.py") is None  # its package's name lies outside the repository
    assert modules.locate("myproject.models.Task") == [("models.py", "Task")]
    assert modules.locate("myproject.api.routes.router") == [("api/routes.py", "router")]
    assert modules.locate("other.thing") == []


def test_locate_takes_the_longest_module() -> None:
    modules = ModuleMap.of(["app/__init__.py", "app/models/__init__.py", "app/models/task.py"])
    assert modules.locate("app.models.task.Task") == [("app/models/task.py", "Task")]
    assert modules.locate("app.models.Task") == [("app/models/__init__.py", "Task")]
    assert modules.locate("app.models") == [("app/models/__init__.py", "")]
    assert modules.locate("sqlalchemy.orm.Session") == []


# --- 2. imports resolved to absolute names --------------------------------------------------


@pytest.mark.parametrize(
    "paths, path, relative, expected",
    [
        (["app/models.py"], "app/example.py", ".models.Task", "app.models.Task"),
        (["app/__init__.py"], "app/example.py", ".x", "app.x"),
        (["src/app/__init__.py", "src/app/api/__init__.py"], "src/app/api/routes.py", "..models.Task", "app.models.Task"),
        (
            ["backend/app/__init__.py", "backend/app/api/__init__.py", "backend/app/api/v1/__init__.py"],
            "backend/app/api/v1/routes.py",
            "...db.Base",
            "app.db.Base",
        ),
        (["app/__init__.py", "app/models/__init__.py"], "app/models/__init__.py", ".task.Task", "app.models.task.Task"),
        (["app/__init__.py"], "app/example.py", "sqlalchemy.select", "sqlalchemy.select"),
        (["app/__init__.py"], "app/example.py", "..beyond.x", None),
        (["app/__init__.py"], "app/example.py", "...beyond.x", None),
        (["__init__.py", "api/__init__.py"], "api/routes.py", ".deps.x", "api.deps.x"),
    ],
    ids=[
        "level 1, no __init__",
        "from . import x",
        "level 2, src",
        "level 3, backend/app",
        "in __init__",
        "absolute",
        "above the top-level package",
        "above the repository",
        "no root: the path name",
    ],
)
def test_relative_names_made_absolute(paths: list[str], path: str, relative: str, expected: str | None) -> None:
    assert ModuleMap.of([*paths, path]).absolute(path, relative) == expected


def test_a_relative_import_needs_a_package_so_the_name_counts_from_a_root_above() -> None:
    # `app/` holds modules outside any package, so `app/example.py` may be `example`;
    # its relative import shows it is imported as `app.example`.
    modules = ModuleMap.of(["app/example.py", "app/models.py"])
    assert modules.name("app/example.py") == "example"
    assert modules.absolute("app/example.py", ".models.Task") == "app.models.Task"


def test_import_forms_in_the_facts() -> None:
    imports = imports_of(
        "src/app/api/v1/routes.py",
        """
        import app.core.config
        import app.core.security as security
        from typing import TYPE_CHECKING
        from . import deps
        from .. import schemas as s
        from ..crud.task import get_task as fetch_task
        from ...models import Task

        if TYPE_CHECKING:
            from ....db import Session
        from ......beyond import nothing
        """,
    )
    assert imports["app"] == "app"  # `import app.core.config` binds `app`
    assert imports["security"] == "app.core.security"
    assert imports["deps"] == "src.app.api.v1.deps"
    assert imports["s"] == "src.app.api.schemas"
    assert imports["fetch_task"] == "src.app.api.crud.task.get_task"
    assert imports["Task"] == "src.app.models.Task"
    assert imports["Session"] == "src.db.Session"
    assert imports["nothing"] == "......beyond.nothing"


def test_a_package_init_imports_relative_to_its_own_package() -> None:
    imports = imports_of("app/models/__init__.py", "from .task import Task\nfrom . import base\n")
    assert imports == {"Task": "app.models.task.Task", "base": "app.models.base"}


# --- 3. the index looks up through them ------------------------------------------------------


def test_a_model_re_exported_by_a_package_init() -> None:
    index = build(
        {
            "app/__init__.py": "",
            "app/db.py": BASE_WITH_KEY,
            "app/models/__init__.py": "from .task import Task\n",
            "app/models/task.py": "from ..db import Model\n" + textwrap.dedent(TASK_ON_MODEL),
        }
    )
    task = index.model_for("app.models.Task")
    assert task is not None and task.path == "app/models/task.py"
    assert task.primary_key == ("id",)  # from the base, through `..db`


def test_a_base_class_re_exported_by_the_package_init_the_model_sits_in() -> None:
    index = build(
        {
            "backend/app/__init__.py": "",
            "backend/app/models/__init__.py": "from .base import Model\n",
            "backend/app/models/base.py": BASE_WITH_KEY,
            "backend/app/models/task.py": "from . import Model\n" + textwrap.dedent(TASK_ON_MODEL),
        }
    )
    assert index.model("Task").primary_key == ("id",)
    assert index.model_for("app.models.task.Task").primary_key == ("id",)


def test_base_classes_resolve_within_their_own_service() -> None:
    users_db = BASE_WITH_KEY
    billing_db = BASE_WITH_KEY.replace("id: Mapped[int]", "code: Mapped[str]")
    index = build(
        {
            "services/users/app/__init__.py": "",
            "services/users/app/db.py": users_db,
            "services/users/app/models.py": "from app.db import Model\n" + textwrap.dedent(TASK_ON_MODEL),
            "services/billing/app/__init__.py": "",
            "services/billing/app/db.py": billing_db,
        }
    )
    assert index.model_for("app.models.Task").primary_key == ("id",)


def test_a_model_name_in_two_services_answers_only_from_one_of_them() -> None:
    model = "from app.db import Model\n" + textwrap.dedent(TASK_ON_MODEL)
    index = build(
        {
            "services/users/app/__init__.py": "",
            "services/users/app/db.py": BASE_WITH_KEY,
            "services/users/app/models.py": model,
            "services/billing/app/__init__.py": "",
            "services/billing/app/db.py": BASE_WITH_KEY,
            "services/billing/app/models.py": model.replace("tasks", "invoices"),
        }
    )
    assert index.model_for("app.models.Task") is None  # either service's: not told
    users = index.model_for("app.models.Task", near="services/users/app/routes.py")
    billing = index.model_for("app.models.Task", near="services/billing/app/routes.py")
    assert users.path == "services/users/app/models.py" and users.table == "tasks"
    assert billing.path == "services/billing/app/models.py" and billing.table == "invoices"


def test_a_relative_import_of_a_missing_module_names_nothing() -> None:
    index = build(
        {
            "app/__init__.py": "",
            "app/db.py": BASE_WITH_KEY,
            "app/models.py": "from .db import Model\n" + textwrap.dedent(TASK_ON_MODEL),
            "app/api/__init__.py": "",
            "app/api/routes.py": "from .models import Task\n",  # app/api/models.py does not exist
        }
    )
    assert index.model_for("app.models.Task") is not None
    assert index.model_for("app.api.models.Task") is None
    assert index.model_for("app.api.routes.Task") is None  # the import there leads nowhere
    assert index.model_for("models.Task") is None  # `app/` is a package, not a root


def test_a_function_re_exported_by_a_package_init() -> None:
    index = build(
        {
            "src/app/__init__.py": "",
            "src/app/services/__init__.py": "from .notify import broadcast_task as announce\n",
            "src/app/services/notify.py": "async def broadcast_task(ws, task):\n    await ws.send_json(task)\n",
        }
    )
    function = index.function("app.services.announce")
    assert function is not None and function.qualname == "src.app.services.notify.broadcast_task"
    assert index.is_broadcast("app.services.announce")


def test_calls_resolve_within_their_own_service() -> None:
    index = build(
        {
            "services/users/app/__init__.py": "",
            "services/users/app/ws.py": "async def send_all(ws, msg):\n    await ws.send_json(msg)\n",
            "services/users/app/events.py": (
                "from app.ws import send_all\n\nasync def notify(ws, msg):\n    await send_all(ws, msg)\n"
            ),
            "services/billing/app/__init__.py": "",
            "services/billing/app/ws.py": "async def send_all(db, msg):\n    db.add(msg)\n    await db.commit()\n",
        }
    )
    assert index.is_broadcast("app.events.notify")
    assert "send_all sends with ws.send_json" in index.broadcast_reason("app.events.notify")


def test_a_session_dependency_re_exported_by_a_package_init() -> None:
    index = build(
        {
            "app/__init__.py": "",
            "app/db/__init__.py": "from .session import get_db, SessionLocal\n",
            "app/db/session.py": """
                from sqlalchemy.ext.asyncio import async_sessionmaker
                SessionLocal = async_sessionmaker(engine, expire_on_commit=False)

                async def get_db():
                    async with SessionLocal() as session:
                        yield session
            """,
            "app/audit.py": """
                from sqlalchemy.orm import sessionmaker
                AuditSession = sessionmaker(engine)
            """,
        }
    )
    assert index.session_factory_for("app.db.get_db").name == "SessionLocal"
    assert index.session_factory_for("app.db.SessionLocal").name == "SessionLocal"
    assert index.expires_on_commit("app.db.get_db") is False


def test_a_name_no_root_gives_does_not_answer() -> None:
    index = build(
        {
            "app/__init__.py": "",
            "app/api/deps.py": "async def get_items(ws):\n    await ws.send_json([])\n",
        }
    )
    assert index.function("app.api.deps.get_items") is not None
    # `app/api/` is a namespace portion of `app`, not a root: `api.deps` names nothing.
    assert index.function("api.deps.get_items") is None
    assert index.function("deps.get_items") is None


def test_relative_names_through_the_index() -> None:
    index = build({"src/app/__init__.py": "", "src/app/api/__init__.py": "", "src/app/models.py": ""})
    assert index.absolute("src/app/api/routes.py", "..models.Task") == "app.models.Task"
    assert index.absolute("src/app/api/routes.py", ".deps.get_db") == "app.api.deps.get_db"
