"""`Codemod.qualified_names` reads each node's names from its scope on demand: the same
names, made absolute the same way, as LibCST's `QualifiedNameProvider` gives for every node
of real modules (relative imports, nested functions, classes, comprehensions, builtins)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import libcst as cst
import pytest
from libcst.codemod import CodemodContext
from libcst.metadata import QualifiedNameProvider

from optimize.codemods.base import Codemod
from tests.fixture_app import FIXTURE

MODULES = ["starlette.websockets", "starlette.routing", "sqlalchemy.ext.asyncio.session"]


class _Probe(Codemod):
    ID = "probe"
    METADATA_DEPENDENCIES = (*Codemod.METADATA_DEPENDENCIES, QualifiedNameProvider)

    def __init__(self, context: CodemodContext) -> None:
        super().__init__(context)
        self.compared = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        provided = {self._absolute(q.name) for q in self.get_metadata(QualifiedNameProvider, node, set())}
        assert self.qualified_names(node) == provided, cst.Module([]).code_for_node(node)[:80]
        self.compared += bool(provided)
        return True


def _sources() -> dict[str, Path]:
    found = {}
    for module in MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin
        found[module.replace(".", "/") + ".py"] = Path(spec.origin)
    for path in sorted(FIXTURE.rglob("*.py")):
        found[path.relative_to(FIXTURE).as_posix()] = path
    return found


SOURCES = _sources()


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_qualified_names_are_the_providers(path: str) -> None:
    source = SOURCES[path].read_text(encoding="utf-8")
    probe = _Probe(CodemodContext(filename=path))
    probe.transform_module(cst.parse_module(source))
    assert probe.compared or len(source) < 200
