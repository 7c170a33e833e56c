"""Repositories written for Python 3.12-3.14 are read and rewritten by the real engine on
the Python optimize runs on: a models module in newer syntax still feeds the ORM codemods,
and a file in newer syntax is rewritten (and its rewrite checked) like any other."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from optimize import engine
from optimize.codemods import redundant_lazy_load
from optimize.codemods.registry import by_id
from optimize.config import Config
from tests.gitrepo import git, make_repo, run_cli

# The models of redundant-lazy-load's examples, as written for Python 3.11 ...
MODELS = redundant_lazy_load.MODELS
# ... and the same models in a module that uses PEP 695 aliases and a generic repository
# class, which Python 3.11 cannot parse.
MODELS_NEW_SYNTAX = redundant_lazy_load.MODELS_NEW_SYNTAX
# redundant-lazy-load's example "plain refresh loads a selectin relationship; block left
# empty gets pass".
BEFORE = """
    from app.models import Task

    def touch(session, task: Task, flag):
        session.refresh(task)
        if flag:
            task.reporter
"""
AFTER = """
    from app.models import Task

    def touch(session, task: Task, flag):
        session.refresh(task)
        if flag:
            pass
"""


def _dedent(code: str) -> str:
    return textwrap.dedent(code).lstrip("\n")


def _plan(root: Path, files: dict[str, str], codemod: str) -> engine.Plan:
    repo = make_repo(root, {path: _dedent(code) for path, code in files.items()})
    return engine.plan(repo, [by_id()[codemod]], Config(), jobs=1)


def _edits(result: engine.Plan) -> dict[str, str]:
    return {edit.path: edit.after.decode() for outcome in result.outcomes for edit in outcome.edits}


@pytest.mark.parametrize(
    "example_path, import_line",
    [("app/example.py", "from app.models import Task"), ("app/example.py", "from .models import Task")],
    ids=["absolute import", "relative import"],
)
def test_models_in_newer_syntax_feed_the_orm_codemods_as_before(tmp_path, example_path, import_line) -> None:
    before = _dedent(BEFORE).replace("from app.models import Task", import_line)
    after = _dedent(AFTER).replace("from app.models import Task", import_line)
    results = {}
    for name, models in {"3.11": MODELS, "3.12": MODELS_NEW_SYNTAX}.items():
        files = {"app/__init__.py": "", "app/models.py": models, example_path: before}
        result = _plan(tmp_path / name, files, "redundant-lazy-load")
        assert result.skips == [], result.skips
        results[name] = (_edits(result), [o.changes for o in result.outcomes])
    assert results["3.12"][0] == results["3.11"][0] == {example_path: after}
    assert [[c.line for c in changes] for changes in results["3.12"][1]] == [
        [c.line for c in changes] for changes in results["3.11"][1]
    ]


EXAMPLE_NEW_SYNTAX = """
    from sqlalchemy import create_engine

    try:
        import orjson
    except ImportError, ModuleNotFoundError:
        orjson = None

    type Url = str

    class Settings[T]:
        def __init__(self, url: Url, extra: T) -> None:
            self.url, self.extra = url, extra

    engine = create_engine(url)
    label = f"{", ".join(engine.url.database or [])}"
"""


def test_a_file_in_newer_syntax_is_rewritten(tmp_path) -> None:
    result = _plan(tmp_path / "r", {"app/__init__.py": "", "app/example.py": EXAMPLE_NEW_SYNTAX}, "pool-pre-ping")
    assert result.skips == []
    expected = _dedent(EXAMPLE_NEW_SYNTAX).replace(
        "create_engine(url)\n", "create_engine(url, pool_pre_ping=True)\n"
    )
    assert expected.count("pool_pre_ping=True") == 1
    assert _edits(result) == {"app/example.py": expected}
    assert not [r for o in result.outcomes for r in o.refusals if "compile" in r.reason]


# --- the compile check of a rewrite ----------------------------------------------------------


NEW_SYNTAX = b"type Url = str\nengine = create_engine(url)\n"


def test_a_valid_rewrite_of_a_file_in_newer_syntax_passes_the_compile_check() -> None:
    after = NEW_SYNTAX.replace(b"(url)", b"(url, pool_pre_ping=True)")
    assert engine._compiles(after, "db.py", NEW_SYNTAX) is None


@pytest.mark.parametrize(
    "broken",
    [
        b"type Url = str\nengine = create_engine(url, pool_pre_ping=True\n",  # LibCST rejects it
        b"type Url = str\ndef f():\n    nonlocal engine\n",  # parses, but does not compile
    ],
    ids=["syntax", "compile"],
)
def test_an_invalid_rewrite_of_a_file_in_newer_syntax_is_caught(broken: bytes) -> None:
    assert engine._compiles(broken, "db.py", NEW_SYNTAX) is not None


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="this Python compiles `type` aliases")
def test_a_rewrite_of_a_file_the_host_compiles_is_checked_by_the_host() -> None:
    """A rewrite that brings in syntax the running Python lacks is refused as before."""
    before = b"engine = create_engine(url)\n"
    problem = engine._compiles(b"type Url = str\nengine = create_engine(url)\n", "db.py", before)
    assert problem is not None and problem.startswith("SyntaxError")


def test_part_of_a_rewrite_of_a_file_in_newer_syntax_can_be_accepted_interactively(tmp_path) -> None:
    """The check that a file built from the accepted hunks still compiles knows newer syntax."""
    source = (
        "from sqlalchemy import create_engine\n\ntype Url = str\n\n"
        "first = create_engine(A)\n\n\n\nsecond = create_engine(B)\n"
    )
    repo = make_repo(tmp_path / "r", {"app/__init__.py": "", "app/db.py": source})
    result = run_cli("apply", str(repo), "--only", "pool-pre-ping", "--interactive", input="a\ns\n")
    assert result.exit_code == 0, result.output
    assert "would not compile" not in result.output
    assert (repo / "app/db.py").read_text() == source.replace("(A)", "(A, pool_pre_ping=True)")
    assert git(repo, "log", "-1", "--format=%s").startswith("perf(pool-pre-ping)")
