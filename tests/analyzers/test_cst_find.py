"""`cst_find.findall` gives LibCST's `findall` answer, node for node and in its order, for
every statement of real modules and the matchers the codemods ask, and falls back to it
for a node outside the module being planned."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import libcst as cst
import libcst.matchers as m
import pytest

from optimize.analyzers import cst_find
from tests.fixture_app import FIXTURE

MODULES = ["starlette.websockets", "sqlalchemy.ext.asyncio.session"]

MATCHERS = [
    m.Call(),
    m.Name(),
    m.For() | m.CompFor(),
    m.NamedExpr(),
    m.Call(func=m.Attribute()),
    m.Attribute(value=m.Name("self")),
    m.Assign(targets=[m.AssignTarget(target=m.Name())], value=m.Call()),
    m.SimpleStatementLine(body=[m.Return()]),
    m.MatchAs() | m.MatchStar() | m.MatchMapping(),
    m.Await() | m.Yield(),
]

NEW_SYNTAX = '''
def first(xs):
    match xs:
        case [x, *rest] if (n := len(rest)):
            return [y async for y in g(x)]
        case {"k": v, **others}:
            return {k: f(v) for k in others}
    return lambda q: q.a.b(c=d)
'''


def _sources() -> dict[str, str]:
    found = {"new_syntax.py": NEW_SYNTAX}
    for module in MODULES:
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin
        found[module] = Path(spec.origin).read_text(encoding="utf-8")
    for path in sorted(FIXTURE.rglob("*.py"))[:12]:
        found[path.relative_to(FIXTURE).as_posix()] = path.read_text(encoding="utf-8")
    return found


SOURCES = _sources()


def _roots(module: cst.Module) -> list[cst.CSTNode]:
    """The nodes the codemods ask from: the module, its statements, blocks and cases."""
    roots: list[cst.CSTNode] = []
    todo: list[cst.CSTNode] = [module]
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.Module, cst.BaseStatement, cst.BaseSuite, cst.MatchCase)):
            roots.append(node)
            todo.extend(node.children)
    return roots


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_findall_is_libcsts_node_for_node(name: str) -> None:
    module = cst.parse_module(SOURCES[name])
    cst_find.planning(module)
    for root in _roots(module):
        for matcher in MATCHERS:
            found = cst_find.findall(root, matcher)
            expected = m.findall(root, matcher)
            assert len(found) == len(expected) and all(a is b for a, b in zip(found, expected)), (name, matcher)


def test_a_node_outside_the_module_is_answered_by_libcst() -> None:
    module = cst.parse_module(NEW_SYNTAX)
    cst_find.planning(module)
    other = cst.parse_module("f(g(x))\n")
    assert [cst.Module([]).code_for_node(n) for n in cst_find.findall(other, m.Call())] == ["f(g(x))", "g(x)"]
    built = cst.Call(func=cst.Name("h"), args=[cst.Arg(cst.Call(func=cst.Name("k")))])
    assert len(cst_find.findall(built, m.Call())) == 2


def test_a_matcher_it_cannot_place_is_answered_by_libcst() -> None:
    module = cst.parse_module("a = f(1)\nb = g(2)\n")
    cst_find.planning(module)
    called = m.MatchIfTrue(lambda node: isinstance(node, cst.Call))
    assert [n for n in cst_find.findall(module, called)] == list(m.findall(module, called))
    assert len(cst_find.findall(module, m.Call(func=m.Name("g")))) == 1


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_children_read_from_the_fields_are_libcsts(name: str) -> None:
    """The visiting order read from each class's `_visit_and_replace_children` is the
    order `node.children` gives, for every node of the module."""
    todo: list[cst.CSTNode] = [cst.parse_module(SOURCES[name])]
    while todo:
        node = todo.pop()
        expected = node.children
        found = cst_find._children(node)
        assert len(found) == len(expected) and all(a is b for a, b in zip(found, expected)), type(node).__name__
        todo.extend(expected)


def test_a_metadata_resolver_is_answered_by_libcst() -> None:
    from libcst.metadata import MetadataWrapper, PositionProvider

    wrapper = MetadataWrapper(cst.parse_module("f(1)\ng(2)\n"))
    cst_find.planning(wrapper.module)
    first_line = m.Call(metadata=m.MatchMetadataIfTrue(PositionProvider, lambda where: where.start.line == 1))
    found = cst_find.findall(wrapper.module, first_line, metadata_resolver=wrapper)
    assert [cst.Module([]).code_for_node(n) for n in found] == ["f(1)"]
