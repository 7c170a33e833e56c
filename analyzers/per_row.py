"""Loops that run a query per row: the question the `n-plus-one` check reports on and the
`eager-load` codemod fixes, answered once for both.

A loop is a `for` statement or a comprehension (`[... for t in rows]`) in a function; its
rows are what `holds` says iterating its iterable gives, with the query that fetched them.
For each loop this finds:
- the lazy relationships its body reads on the loop variable (`t.owner`, and one level
  further, `t.project.owner`) that the query's loader options do not load: their strategy
  is the default lazy `select` (`lazy_per_row`). Rows an `AsyncSession` fetched (the fetch
  is awaited) raise on a lazy read rather than query, so only `await
  t.awaitable_attrs.owner` counts for them; a sync session's rows lazy-load in an
  `async def` too (and block the event loop while they do);
- the queries its body runs with the loop variable (`db.get(User, t.owner_id)`, a fetch
  whose statement mentions it).

A route with no loop can run one too: it returns a query's rows and its response model
(`response_model=list[TaskOut]` or `-> list[TaskOut]`) has a field named like a lazy
relationship of the rows' model, so serialising each row loads it (`per_row_responses`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.holds import FunctionValues, Held
from optimize.analyzers.facts import FileFacts
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.models import ModelInfo, RelationshipInfo
from optimize.analyzers.values import NameReader, read_fetch
from optimize.analyzers.cst_find import findall


def may_run_per_row(index: RepoIndex, path: str) -> bool:
    """What the file's facts say without parsing it: it runs a query, and one of its
    functions that may fetch a query result (the rows a loop or a route's return is
    judged on come from a fetch of the same function, `FileFacts.fetch_scopes`) has a
    loop that reads an attribute named like a relationship of some model or queries with
    its variable, or is a sync route (its response model may serialise a relationship)."""
    facts = index.facts.get(path)
    return facts is not None and bool(facts.query_runs) and bool(_fetching(facts, _loops(index, facts) | facts.sync_routes))


def per_row_lines(index: RepoIndex, path: str) -> frozenset[int] | None:
    """The functions (their lines) that the readers below judge in a file that passed
    `may_run_per_row`: of those that may fetch a query result, those loops and every
    route, async ones too (an async route returning a sync query's rows is judged as a
    sync one is); None, the whole module, for a file without facts."""
    facts = index.facts.get(path)
    if facts is None:
        return None
    return _fetching(facts, _loops(index, facts) | facts.sync_routes | facts.async_routes)


def _fetching(facts: FileFacts, scopes: frozenset[int]) -> frozenset[int]:
    """Those of ``scopes`` that may fetch a query result: all of them when the module
    fetches one (its rows may reach any function)."""
    fetched = facts.fetch_scopes
    return scopes if 0 in fetched else scopes & fetched


def _loops(index: RepoIndex, facts: FileFacts) -> frozenset[int]:
    shapes = facts.queries
    relationships, models = index.relationship_names(), index.model_names()
    scopes = set(shapes.loop_queries)
    scopes.update(s for name, found in shapes.loop_gets.items() if name in models for s in found)
    scopes.update(s for name, found in shapes.loop_reads.items() if name in relationships for s in found)
    scopes.discard(0)  # both read functions only
    return frozenset(scopes)


def lazy_per_row(relationship: RelationshipInfo) -> bool:
    """Whether reading the relationship on each row runs a query per row: its strategy is
    the default lazy `select` (not written, `"select"`, `True`). Every other strategy loads
    with the parent query (`selectin`, `joined`, ...) or runs none on access (`raise`,
    `noload`, `dynamic`, `write_only`); one that is not a literal (None) is not known."""
    return relationship.lazy == "select"


@dataclass(frozen=True)
class LazyPath:
    """`Task.project` or `Task.project` then `Project.owner`: the relationships read, each
    with the model it is declared on."""

    steps: tuple[tuple[ModelInfo, str], ...]

    @property
    def written(self) -> str:
        return " -> ".join(f"{model.name}.{name}" for model, name in self.steps)


@dataclass
class PerRowLoop:
    loop: cst.CSTNode  # the `for`, the comprehension's `for`, or the route's `return`
    rows: Held  # what the loop variable holds, with the fetch
    lazy: list[LazyPath] = field(default_factory=list)
    queries: list[str] = field(default_factory=list)  # how each per-row query is written
    writes_rows: bool = False  # the body assigns an attribute of the loop variable


def per_row_loops(
    reader: NameReader,
    index: RepoIndex,
    function: cst.FunctionDef,
    path: str,
    parent: Callable[[cst.CSTNode], cst.CSTNode | None],
) -> list[PerRowLoop]:
    """The loops of ``function`` (not of functions nested in it) over a query's rows that
    run a query per row. ``parent`` is the module's parent-node lookup."""
    loops = findall(function.body, m.For() | m.CompFor())
    if not loops:
        return []
    flow = FunctionFlow.of(function)
    values = FunctionValues(reader, index, flow, path)
    found = []
    for loop in loops:
        if _nested(loop, function, parent) or not isinstance(loop.target, cst.Name):
            continue
        holder = loop if isinstance(loop, cst.For) else _statement(loop, parent)
        try:
            step = flow.step_of(holder)
        except KeyError:
            continue
        rows = values.element_of(step, loop.iter)
        if rows is None or rows.fetch is None:
            continue  # not the rows of a query this function ran
        body = loop.body if isinstance(loop, cst.For) else _comprehension_body(loop, parent)
        if body is None:
            continue
        name = loop.target.value
        result = PerRowLoop(loop, rows)
        statement = rows.fetch.source.statement
        if not statement.unread_options:
            awaited = rows.fetch.source.awaited  # an AsyncSession's rows
            result.lazy = _lazy_reads(index, rows.model, name, body, statement.loads, awaited)
        result.queries = _queries(reader, index, values, step, name, body)
        result.writes_rows = bool(
            findall(body, m.AssignTarget(target=m.Attribute(value=m.Name(name))))
            or findall(body, m.AugAssign(target=m.Attribute(value=m.Name(name))))
        )
        if result.lazy or result.queries:
            found.append(result)
    return found


def _nested(node: cst.CSTNode, function: cst.FunctionDef, parent) -> bool:
    current = parent(node)
    while current is not None and current is not function:
        if isinstance(current, (cst.FunctionDef, cst.Lambda)):
            return True
        current = parent(current)
    return False


def _statement(node: cst.CSTNode, parent) -> cst.CSTNode:
    current = node
    while current is not None and not isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
        current = parent(current)
    return current if current is not None else node


def _comprehension_body(loop: cst.CompFor, parent) -> cst.CSTNode | None:
    current = parent(loop)
    while current is not None and not isinstance(current, (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)):
        current = parent(current)
    if current is None:
        return None
    if isinstance(current, cst.DictComp):
        return cst.Tuple([cst.Element(current.key), cst.Element(current.value)])
    return current.elt


def _lazy_reads(
    index: RepoIndex, model: ModelInfo, name: str, body: cst.CSTNode, loaded: frozenset[str], asynchronous: bool
) -> list[LazyPath]:
    """Lazy relationships read on ``name`` in ``body``, one level further where the first
    one's target model is known: `t.project.owner` gives Task.project -> Project.owner."""
    if asynchronous:
        reads = [a.attr.value for a in findall(body, m.Attribute(value=m.Attribute(value=m.Name(name), attr=m.Name("awaitable_attrs"))))]
        nested: dict[str, set[str]] = {}
    else:
        reads = [a.attr.value for a in findall(body, m.Attribute(value=m.Name(name)))]
        nested = {}
        for outer in findall(body, m.Attribute(value=m.Attribute(value=m.Name(name)))):
            nested.setdefault(outer.value.attr.value, set()).add(outer.attr.value)  # type: ignore[union-attr]
    paths: list[LazyPath] = []
    for read in dict.fromkeys(reads):
        relationship = model.relationships.get(read)
        if relationship is None or read in loaded or not lazy_per_row(relationship):
            continue
        paths.append(LazyPath(((model, read),)))
        target = index.model(relationship.target) if relationship.target else None
        for further in sorted(nested.get(read, ())):
            deeper = target.relationships.get(further) if target is not None else None
            if deeper is not None and lazy_per_row(deeper):
                paths.append(LazyPath(((model, read), (target, further))))  # type: ignore[arg-type]
    return paths


def _queries(reader: NameReader, index: RepoIndex, values: FunctionValues, step: Step, name: str, body: cst.CSTNode) -> list[str]:
    found = []
    for call in findall(body, m.Call()):
        if not findall(call, m.Name(name)):
            continue
        fetch = read_fetch(reader, index, call)
        keyed = (
            isinstance(call.func, cst.Attribute)
            and call.func.attr.value in {"get", "get_one"}
            and len(call.args) >= 2
            and values.of(step, call) is not None
        )
        if fetch is not None:
            found.append(fetch.written)
        elif keyed:
            found.append(f"{call.func.attr.value}(...)")  # type: ignore[union-attr]
    return found


_SEQUENCES = {"list", "List", "Sequence", "Iterable", "tuple", "Tuple", "set", "Set"}


def _element_class(annotation: cst.BaseExpression | None) -> str | None:
    """`TaskOut` for `list[TaskOut]`, `Sequence[schemas.TaskOut]`."""
    if not isinstance(annotation, cst.Subscript) or len(annotation.slice) < 1:
        return None
    outer = annotation.value
    name = outer.attr.value if isinstance(outer, cst.Attribute) else outer.value if isinstance(outer, cst.Name) else None
    element = annotation.slice[0].slice
    if name not in _SEQUENCES or not isinstance(element, cst.Index):
        return None
    inner = element.value
    if isinstance(inner, cst.Attribute):
        return inner.attr.value
    return inner.value if isinstance(inner, cst.Name) else None


def _response_class(function: cst.FunctionDef, is_route: Callable[[cst.Decorator], bool]) -> str | None:
    for decorator in function.decorators:
        call = decorator.decorator
        if isinstance(call, cst.Call) and is_route(decorator):
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "response_model":
                    return _element_class(arg.value)
            returns = function.returns.annotation if function.returns is not None else None
            return _element_class(returns)
    return None


def per_row_responses(
    reader: NameReader,
    index: RepoIndex,
    function: cst.FunctionDef,
    path: str,
    parent: Callable[[cst.CSTNode], cst.CSTNode | None],
    is_route: Callable[[cst.Decorator], bool],
) -> list[PerRowLoop]:
    """The returns of a route that hand back a sync query's rows whose response model
    serialises a lazy relationship of each row (as `PerRowLoop`s whose ``loop`` is the
    `return` statement)."""
    response = _response_class(function, is_route)
    fields = index.class_fields(response) if response else {}
    if not fields:
        return []
    flow = FunctionFlow.of(function)
    values = FunctionValues(reader, index, flow, path)
    found = []
    for statement in findall(function.body, m.SimpleStatementLine(body=[m.Return()])):
        value = statement.body[0].value
        if value is None or _nested(statement, function, parent):
            continue
        try:
            step = flow.step_of(statement)
        except KeyError:
            continue
        rows = values.of(step, value)
        if rows is None or rows.fetch is None or rows.element() is None or rows.fetch.source.awaited:
            continue  # not a sync query's rows (an AsyncSession's would raise, not query)
        query = rows.fetch.source.statement
        if query.unread_options:
            continue
        lazy = [
            LazyPath(((rows.model, name),))
            for name in sorted(fields)
            if (relationship := rows.model.relationships.get(name)) is not None
            and name not in query.loads
            and lazy_per_row(relationship)
        ]
        if lazy:
            found.append(PerRowLoop(statement, rows.element(), lazy))
    return found
