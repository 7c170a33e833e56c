"""The shared `ast` walks: `descendants` is `ast.walk` without contexts and operators, and
the facts' function scanner, which reads call sites in the same walk as the rest of a
body's facts, finds the sites the site scanner finds alone."""

from __future__ import annotations

import ast
import importlib.util
import textwrap
from pathlib import Path

import pytest

from optimize.analyzers.annotations import dotted
from optimize.analyzers.calls import SiteScanner
from optimize.analyzers.facts import collect_file_facts
from optimize.analyzers.walk import descendants

_NOT_WALKED = (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)

MODULES = ["sqlalchemy.orm.session", "starlette.routing", "fastapi.routing", "ast", "asyncio.tasks"]

MODERN = textwrap.dedent(
    """
    def first(xs: list[int], *, default: int | None = None) -> int:
        match xs:
            case [x, *rest] if x > 0:
                return x
            case {"k": v, **others}:
                return v
            case _:
                return default or (lambda y: -y)(1)

    async def run(db, items):
        class Local:
            made = helper()
        try:
            async with db.begin():
                await db.execute(stmt)
        except* ValueError:
            pass
        async for row in db.stream(q):
            f"{row!r:>{width}}"
        await db.commit()
        return [await g(i) async for i in items]
    """
)


def _source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin
    return Path(spec.origin).read_text(encoding="utf-8")


@pytest.mark.parametrize("module", [*MODULES, "modern"])
def test_descendants_is_ast_walk_without_contexts_and_operators(module: str) -> None:
    tree = ast.parse(MODERN if module == "modern" else _source(module))
    expected = [n for n in ast.walk(tree) if not isinstance(n, _NOT_WALKED)]
    assert list(descendants(tree)) == expected


@pytest.mark.parametrize("module", [*MODULES, "modern"])
def test_function_facts_hold_the_sites_the_site_scanner_finds(module: str) -> None:
    tree = ast.parse(MODERN if module == "modern" else _source(module))
    facts = collect_file_facts("pkg/mod.py", tree)
    checked = 0
    # The last definition of a name is the one the facts keep (`@overload` stubs before it).
    last = {f"pkg.mod.{owner + '.' if owner else ''}{node.name}": node for owner, node in _functions(tree)}
    for qualname, node in last.items():
        info = facts.functions[qualname]
        # The facts name callees through the module's imports; where and how each call
        # sits is what the shared walk must not change.
        alone = [_where(site) for site in _sites_alone(node)]
        assert [_where(site) for site in info.sites] == alone, node.name
        checked += 1
    assert checked


def test_a_nested_class_body_calls_count_but_are_no_sites() -> None:
    facts = collect_file_facts("pkg/mod.py", ast.parse(MODERN))
    run = facts.functions["pkg.mod.run"]
    assert "helper" in run.calls
    assert "helper" not in {s.written for s in run.sites}
    commit = next(s for s in run.sites if s.written == "commit")
    assert commit.statement and commit.awaited and not commit.guarded
    execute = next(s for s in run.sites if s.written == "execute")
    assert execute.guarded and execute.commit_after


def _functions(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield "", node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    yield node.name, item


def _sites_alone(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list:
    scanner = SiteScanner(dotted)
    for statement in function.body:
        scanner.visit(statement)
    return scanner.sites()


def _where(site) -> tuple:
    return (site.written, site.line, site.statement, site.awaited, site.guarded, site.commit_after)


def test_each_scope_knows_the_scopes_around_it() -> None:
    from optimize.analyzers.walk import scopes_around, walk, with_enclosing

    tree = ast.parse(
        "def outer():\n"  # 1
        "    def inner():\n"  # 2
        "        return lambda: 1\n"  # 3
        "def one(): return lambda: 2\n"  # 4: a function and a lambda on one line
    )
    around = scopes_around(walk(tree))
    assert around == {1: {0}, 2: {1}, 3: {2}, 4: {0, 4}}
    assert with_enclosing({3}, around) == {3, 2, 1, 0}
    assert with_enclosing({4}, around) == {4, 0}
    assert with_enclosing((), around) == set()
