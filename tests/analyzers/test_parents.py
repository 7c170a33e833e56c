"""`analyzers.parents`: the parent of every node is the one LibCST's own provider gives."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import libcst as cst
import libcst.metadata as libcst_metadata
import pytest
from libcst.metadata import MetadataWrapper

from optimize.analyzers import parents
from tests.fixture_app import FIXTURE

# Real modules in the shapes codemods meet: the example app, and installed packages with
# decorators, comprehensions, f-strings, match statements, type annotations, long bodies.
_INSTALLED = [
    "sqlalchemy/engine/create.py", "starlette/websockets.py", "fastapi/params.py", "typer/params.py",
    "libcst/_nodes/op.py", "rich/progress.py",
]


def _installed(relative: str) -> Path:
    package, _, rest = relative.partition("/")
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations
    return Path(spec.submodule_search_locations[0]) / rest


MODULES = sorted(FIXTURE.rglob("*.py")) + [_installed(p) for p in _INSTALLED]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_the_parents_are_libcsts(path: Path) -> None:
    source = path.read_bytes()
    ours = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    theirs = MetadataWrapper(ours.module, unsafe_skip_copy=True)
    found, expected = ours.resolve(parents.ParentNodeProvider), theirs.resolve(libcst_metadata.ParentNodeProvider)
    assert len(found) == len(expected)
    assert all(found[node] is parent for node, parent in expected.items())


def test_a_module_nested_deeper_than_recursion_goes_is_read() -> None:
    # LibCST's own provider recurses; this one does not (the parse is the limit).
    module = cst.parse_module("x = " + "(" * 200 + "1" + ")" * 200 + "\n")
    found = MetadataWrapper(module, unsafe_skip_copy=True).resolve(parents.ParentNodeProvider)
    assert found[module.body[0]] is module
