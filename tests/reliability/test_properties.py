"""Property-based: on generated Python programs the engine never crashes, its output always
parses and compiles, and rewriting is idempotent.

Programs come from hypothesmith (`from_grammar()`: any text the grammar accepts;
`from_node()`: LibCST trees), each prefixed with a snippet that some codemod rewrites, so the
codemods see their patterns next to arbitrary code.
"""

from __future__ import annotations

from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from optimize.analyzers.index import RepoIndex
from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from optimize.engine import plan
from optimize.transform import run_codemod

SNIPPETS = st.sampled_from(
    [
        "from sqlalchemy import create_engine\nengine = create_engine(url)\n",
        "from sqlalchemy import create_engine\nengine = create_engine(url, max_overflow=5)\n",
        "import asyncio\nasync def f(c):\n    asyncio.create_task(c())\n",
        "async def f(db, t):\n    await db.refresh(t, attribute_names=['a'])\n    _ = t.a\n",
        "from fastapi import FastAPI\napp = FastAPI()\napp.add_middleware(TimingMiddleware)\n",
        "",
    ]
)
COMMON = dict(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _valid(source: str) -> bool:
    try:
        cst.parse_module(source)
        compile(source, "m.py", "exec", dont_inherit=True)
    except Exception:
        return False  # hypothesmith can generate programs CPython rejects: not our input
    return True


def _run_all(source: str) -> str:
    """Every codemod in turn, as the engine chains them; a crash fails the test."""
    index = RepoIndex.build({"app/m.py": source.encode()})
    tree = cst.parse_module(source)
    for codemod in REGISTRY:
        tree = run_codemod(codemod, tree, "app/m.py", index=index, unsafe_allowed=True).tree
    return tree.code


def _check(source: str) -> None:
    if not _valid(source):
        return
    once = _run_all(source)
    compile(once, "m.py", "exec", dont_inherit=True)
    assert _run_all(once) == once


@settings(max_examples=40, **COMMON)
@given(program=hypothesmith.from_grammar(), snippet=SNIPPETS)
def test_grammar_programs_never_crash_compile_and_are_idempotent(program: str, snippet: str) -> None:
    _check(snippet + program)


@settings(max_examples=25, **COMMON)
@given(node=hypothesmith.from_node(), snippet=SNIPPETS)
def test_cst_programs_never_crash_compile_and_are_idempotent(node: str, snippet: str) -> None:
    _check(snippet + node)


@settings(max_examples=15, **COMMON)
@given(program=hypothesmith.from_grammar(), snippet=SNIPPETS)
def test_the_engine_plan_never_crashes_and_reports_instead(tmp_path_factory, program: str, snippet: str) -> None:
    """Through `plan` (discovery, index, prefilters, compile check), with any bytes the
    grammar allows, valid Python or not: no exception, no internal-error refusal, every edit
    compiles and a second plan over the edits changes nothing."""
    root = tmp_path_factory.mktemp("p")
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "m.py").write_bytes((snippet + program).encode("utf-8", "surrogatepass"))
    first = plan(root, list(REGISTRY), Config(), unsafe_allowed=True)
    assert not [r for r in first.refusals if "internal error" in r.reason]
    for outcome in first.outcomes:
        for edit in outcome.edits:
            compile(edit.after, edit.path, "exec", dont_inherit=True)
            (root / edit.path).write_bytes(edit.after)
    second = plan(root, list(REGISTRY), Config(), unsafe_allowed=True)
    assert not [e for o in second.outcomes for e in o.edits]


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import create_engine\nengine = create_engine(url)\n" + "x = 1\n" * 3,
        "from sqlalchemy import create_engine\nif x:\n    engine = create_engine(url)\nelse:\n    pass\n",
    ],
)
def test_the_checks_themselves_see_a_rewrite(source: str) -> None:
    """The properties are not vacuous: the snippets do get rewritten."""
    assert _run_all(source) != source
