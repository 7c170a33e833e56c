"""debug-middleware beyond its examples: the rewritten example app factory still builds the
app with debug on and off, relative grouped imports, a middleware registered twice, and a
`debug_flag` option that is parsed, never evaluated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import libcst as cst
from optimize.analyzers.index import RepoIndex
from optimize.codemods.debug_middleware import DebugMiddleware

from optimize.transform import run_codemod
from tests.fixture_app import copy_fixture

BUILD = """
import json, sys
sys.path.insert(0, ".")
import taskboard.factory as factory
app = factory.create_app()
print(json.dumps([m.cls.__name__ for m in app.user_middleware]))
print(json.dumps(hasattr(factory, "RequestTimingMiddleware")))
"""


def _build(app_dir: Path, debug: str) -> tuple[list[str], bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKBOARD_")}
    env.update({"TASKBOARD_API__DEBUG": debug, "PYTHONDONTWRITEBYTECODE": "1"})
    done = subprocess.run(
        [sys.executable, "-c", BUILD], cwd=app_dir, capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    middlewares, module_level = done.stdout.splitlines()
    return json.loads(middlewares), json.loads(module_level)


def _rewrite_fixture_factory(app_dir: Path):
    files = {str(p.relative_to(app_dir)): p.read_bytes() for p in app_dir.rglob("*.py")}
    index = RepoIndex.build(files)
    path = "taskboard/factory.py"
    result = run_codemod(DebugMiddleware, cst.parse_module(files[path].decode()), path, index=index)
    (app_dir / path).write_text(result.tree.code)
    return result


def test_rewritten_factory_builds_the_app_with_debug_on_and_off(tmp_path) -> None:
    app_dir = copy_fixture(tmp_path / "app")
    assert _build(app_dir, "false") == (["RequestTimingMiddleware", "RequestIDMiddleware"], True)
    result = _rewrite_fixture_factory(app_dir)
    assert [c.rationale for c in result.changes] == [
        "RequestTimingMiddleware registered only when settings.api.debug and imported lazily"
    ]
    code = result.tree.code
    assert "from taskboard.middleware import (\n    RequestIDMiddleware,\n)\n" in code
    assert "    if settings.api.debug:\n        from taskboard.middleware import RequestTimingMiddleware\n" in code
    # Off: one middleware fewer, and the factory module no longer holds the debug class.
    assert _build(app_dir, "false") == (["RequestIDMiddleware"], False)
    assert _build(app_dir, "true") == (["RequestTimingMiddleware", "RequestIDMiddleware"], False)
    # A second pass leaves the rewritten factory alone.
    again = _rewrite_fixture_factory(app_dir)
    assert again.tree.code == code and not again.changes


CONFIG = """
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        debug: bool = False

    settings = Settings()
"""


def run(source: str, path: str = "app/factory.py", **options):
    files = {path: textwrap.dedent(source).lstrip(), "app/config.py": textwrap.dedent(CONFIG).lstrip()}
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    return run_codemod(DebugMiddleware, cst.parse_module(files[path]), path, index=index, options=options)


def test_relative_grouped_import_keeps_its_layout() -> None:
    result = run("""
        from fastapi import FastAPI
        from .config import settings
        from .middleware import (
            RequestIDMiddleware,
            TimerMiddleware,
        )

        def create_app() -> FastAPI:
            app = FastAPI(debug=settings.debug)
            app.add_middleware(RequestIDMiddleware)
            app.add_middleware(TimerMiddleware)
            return app
    """)
    assert "from .middleware import (\n    RequestIDMiddleware,\n)\n" in result.tree.code
    assert "    if settings.debug:\n        from .middleware import TimerMiddleware\n" in result.tree.code


def test_middleware_registered_twice_keeps_its_module_import() -> None:
    result = run("""
        from fastapi import FastAPI
        from app.config import settings
        from app.middleware import TimingMiddleware

        def create_app() -> FastAPI:
            app = FastAPI(debug=settings.debug)
            app.add_middleware(TimingMiddleware, header="X-A")
            app.add_middleware(TimingMiddleware, header="X-B")
            return app
    """)
    code = result.tree.code
    assert "from app.middleware import TimingMiddleware\n" in code.split("def ")[0]
    assert code.count("if settings.debug:") == 2 and code.count("import TimingMiddleware") == 1
    compile(code, "factory.py", "exec")


def test_two_different_debug_settings_are_not_chosen_between() -> None:
    source = """
        from fastapi import FastAPI
        from app.config import settings
        from app.other import other_settings
        from app.middleware import TimingMiddleware

        def create_app() -> FastAPI:
            app = FastAPI()
            app.add_middleware(TimingMiddleware)
            app.state.flags = (settings.debug, other_settings.debug)
            return app
    """
    files = {
        "app/factory.py": textwrap.dedent(source).lstrip(),
        "app/config.py": textwrap.dedent(CONFIG).lstrip(),
        "app/other.py": textwrap.dedent(CONFIG).lstrip().replace("settings = ", "other_settings = "),
    }
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    result = run_codemod(DebugMiddleware, cst.parse_module(files["app/factory.py"]), "app/factory.py", index=index)
    assert result.tree.code == files["app/factory.py"]
    assert "two debug settings are read in the function (other_settings.debug, settings.debug)" in result.refusals[0].reason


def test_debug_flag_option_is_parsed_not_evaluated() -> None:
    result = run("""
        from fastapi import FastAPI
        from app.middleware import ProcessTimeMiddleware

        app = FastAPI()
        app.add_middleware(ProcessTimeMiddleware)
    """, debug_flag="would_explode_if_called()")
    assert "if would_explode_if_called():\n" in result.tree.code
    assert result.changes


SETTINGS_WITH_DEBUG = """
    from pydantic_settings import BaseSettings

    class Settings(BaseSettings):
        DEBUG: bool = False

    settings = Settings()
"""


def run_with(files: dict[str, str], path: str, **options):
    files = {p: textwrap.dedent(s).lstrip() for p, s in files.items()}
    index = RepoIndex.build({p: s.encode() for p, s in files.items()})
    return run_codemod(DebugMiddleware, cst.parse_module(files[path]), path, index=index, options=options)


def test_the_line_after_the_lazy_import_is_empty_not_indented() -> None:
    result = run("""
        from fastapi import FastAPI
        from app.config import settings
        from app.middleware import TimingMiddleware

        def create_app() -> FastAPI:
            app = FastAPI(debug=settings.debug)
            app.add_middleware(TimingMiddleware)
            return app
    """)
    assert "        from app.middleware import TimingMiddleware\n\n        app.add_middleware(" in result.tree.code
    assert not any(line != line.rstrip() for line in result.tree.code.splitlines())


def test_the_flag_found_from_the_settings_in_scope_is_named_in_the_rationale() -> None:
    result = run_with({
        "backend/app/core/config.py": SETTINGS_WITH_DEBUG,
        "backend/app/main.py": """
            from fastapi import FastAPI
            from app.core.config import settings
            from app.middleware import TimingMiddleware

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                return app
        """,
    }, "backend/app/main.py")
    assert [c.rationale for c in result.changes] == [
        (
            "TimingMiddleware registered only when settings.DEBUG and imported lazily; settings.DEBUG is "
            "Settings.DEBUG (backend/app/core/config.py:4), the one bool debug field of the settings in scope"
        )
    ]
    compile(result.tree.code, "main.py", "exec")


def test_a_module_level_registration_before_the_settings_name_is_bound_is_refused() -> None:
    source = """
        from fastapi import FastAPI
        from app.middleware import TimingMiddleware

        app = FastAPI()
        app.add_middleware(TimingMiddleware)

        from app.core.config import settings
    """
    result = run_with({"app/core/config.py": SETTINGS_WITH_DEBUG, "app/main.py": source}, "app/main.py")
    assert result.tree.code == textwrap.dedent(source).lstrip()
    assert "no debug setting found" in result.refusals[0].reason


def test_a_settings_name_rebound_in_the_module_is_not_used() -> None:
    source = """
        from fastapi import FastAPI
        from app.core.config import settings
        from app.middleware import TimingMiddleware

        if TESTING:
            settings = make_test_settings()

        def create_app() -> FastAPI:
            app = FastAPI()
            app.add_middleware(TimingMiddleware)
            return app
    """
    result = run_with({"app/core/config.py": SETTINGS_WITH_DEBUG, "app/main.py": source}, "app/main.py")
    assert result.tree.code == textwrap.dedent(source).lstrip()
    assert "no debug setting found" in result.refusals[0].reason


def test_the_flag_from_the_settings_in_scope_gates_the_middleware_when_run(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/core/__init__.py": "",
        "app/core/config.py": SETTINGS_WITH_DEBUG,
        "app/middleware.py": """
            from starlette.middleware.base import BaseHTTPMiddleware

            class TimingMiddleware(BaseHTTPMiddleware):
                async def dispatch(self, request, call_next):
                    return await call_next(request)
        """,
        "app/main.py": """
            from fastapi import FastAPI
            from .core.config import settings
            from .middleware import TimingMiddleware

            def create_app() -> FastAPI:
                app = FastAPI()
                app.add_middleware(TimingMiddleware)
                return app
        """,
    }
    result = run_with(files, "app/main.py")
    assert result.changes
    for path, text in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(textwrap.dedent(text).lstrip())
    (tmp_path / "app/main.py").write_text(result.tree.code)
    script = "import json; from app.main import create_app; print(json.dumps([m.cls.__name__ for m in create_app().user_middleware]))"
    for debug, expected in (("false", []), ("true", ["TimingMiddleware"])):
        env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
        env.update({"DEBUG": debug, "PYTHONDONTWRITEBYTECODE": "1"})
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == expected
