"""Property-based: on generated Python programs the engine never crashes, its output always
parses, and rewriting is idempotent."""

from __future__ import annotations

import hypothesmith
import libcst as cst
from hypothesis import HealthCheck, given, settings, strategies as st

from optimize.analyzers.index import RepoIndex
from optimize.codemods.registry import REGISTRY
from optimize.transform import run_codemod

SNIPPETS = st.sampled_from(
    [
        "from sqlalchemy import create_engine\nengine = create_engine(url)\n",
        "import asyncio\nasync def f(c):\n    asyncio.create_task(c())\n",
        "async def f(db, t):\n    await db.refresh(t, attribute_names=['a'])\n    _ = t.a\n",
        "",
    ]
)


def _run_all(source: str) -> str:
    index = RepoIndex.build({"app/m.py": source.encode()})
    tree = cst.parse_module(source)
    for codemod in REGISTRY:
        tree = run_codemod(codemod, tree, "app/m.py", index=index).tree
    return tree.code


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(program=hypothesmith.from_grammar(), snippet=SNIPPETS)
def test_engine_never_crashes_output_parses_and_is_idempotent(program: str, snippet: str) -> None:
    source = snippet + program
    try:
        cst.parse_module(source)
        compile(source, "m.py", "exec")
    except Exception:
        return  # hypothesmith can generate programs CPython rejects; not our input
    once = _run_all(source)
    compile(once, "m.py", "exec")
    assert _run_all(once) == once
