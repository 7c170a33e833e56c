"""What a name holds at a point of a function: an object of a mapped model, one or None,
or a collection of them, and the query that fetched it.

Flow-sensitive: the bindings of the name that can be the last before the point
(`FunctionFlow.last_before`) must all give the same model, so a name rebound on one
branch to something else holds nothing known. A binding gives a model through:

- an annotation: `task: Task`, `Task | None`, `Optional["Task"]`, `list[Task]`, on a
  parameter or an assignment (read by `analyzers.annotations`, names resolved through the
  module's imports);
- a constructor `Task(...)`; `session.get(Task, key)` (`M | None`), `session.get_one(...)`;
- every query form `analyzers.values` reads (`scalar_one_or_none()`, `scalars().first()`,
  `await session.scalar(...)`, SQLModel `exec(...).first()`, the legacy
  `query(M)....first()`), directly or through a `result = await session.execute(...)` name;
- the return annotation of the function, method or classmethod called, in any module of
  the repository (`TaskStatus.create_default_statuses(...) -> list["TaskStatus"]`,
  `await get_task(db, id) -> Task | None`, `TaskService(db).get(...)`, a module-level
  service instance's method), awaited exactly when it is `async def`;
- an element of a collection it holds: `for s in statuses`, `[s for s in statuses if ...]`,
  `next((s for s in statuses if ...), None)`, `statuses[0]`, `list(...)`/`sorted(...)`,
  and iterating a query (`for t in session.scalars(stmt)`);
- another name (`a = b`) and `x if cond else None`.

`not_none` answers whether a name that may hold None cannot hold it at a point: every path
there passes a step that would have raised on None (`name.attr`, `session.refresh(name)`)
or an `if not name: return/raise` guard, or runs inside `if name:`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.annotations import Shape, read_annotation_text
from optimize.analyzers.effects import bound_names
from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.models import ModelInfo
from optimize.analyzers.values import (
    Fetch,
    Holds,
    NameReader,
    Source,
    absolute_names,
    read_fetch,
    read_objects,
    read_source,
    resolve_entity,
)

_SHAPES = {Holds.OBJECT: Shape.ONE, Holds.OBJECT_OR_NONE: Shape.OPTIONAL, Holds.OBJECTS: Shape.MANY}
_ELEMENT_BUILTINS = {"builtins.list", "builtins.sorted", "builtins.tuple", "builtins.reversed"}
_EMPTY = cst.Module([])
_MAX_CHAIN = 40  # names followed through other names before giving up (the stack is finite)


@dataclass(frozen=True)
class Held:
    """What a name or expression holds: objects of ``model`` in ``shape``."""

    model: ModelInfo
    shape: Shape
    fetch: Fetch | None = None  # the query that fetched it, when one did
    result: tuple[Step, str] | None = None  # `result = await session.execute(...)` it came through

    def same_model(self, other: Held) -> bool:
        return (self.model.path, self.model.name) == (other.model.path, other.model.name)

    def element(self) -> Held | None:
        return replace(self, shape=Shape.ONE) if self.shape is Shape.MANY else None


def join(helds: list[Held | None]) -> Held | None:
    """What every one of ``helds`` holds (one per binding that can reach a point)."""
    if not helds or any(h is None for h in helds):
        return None
    first = helds[0]
    assert first is not None
    if not all(h.same_model(first) for h in helds if h is not None):
        return None
    shapes = {h.shape for h in helds if h is not None}
    if Shape.MANY in shapes and shapes != {Shape.MANY}:
        return None
    shape = Shape.OPTIONAL if Shape.OPTIONAL in shapes else shapes.pop()
    same_fetch = all(h is not None and h.fetch is first.fetch and h.result == first.result for h in helds)
    return Held(first.model, shape, first.fetch if same_fetch else None, first.result if same_fetch else None)


class FunctionValues:
    """What the names of one function hold, asked at its steps. ``reader`` is the codemod
    reading the module (its imports resolve the names), ``path`` the module's file."""

    def __init__(
        self,
        reader: NameReader,
        index: RepoIndex,
        flow: FunctionFlow,
        path: str,
        binds: Callable[[Step], set[str]] = bound_names,
    ) -> None:
        self.reader = reader
        self.index = index
        self.flow = flow
        self.path = path
        self.binds = binds
        self._at: dict[tuple[Step, str], Held | None] = {}
        self._sources: dict[tuple[Step, str], tuple[Source, Step] | None] = {}
        self._depth = 0  # names being followed through other names

    # --- names --------------------------------------------------------------------------------

    def at(self, step: Step, name: str) -> Held | None:
        """What ``name`` holds when ``step`` starts."""
        key = (step, name)
        if key not in self._at:
            self._at[key] = None  # a cycle (`x = f(x)` in a loop) holds nothing known
            if self._depth >= _MAX_CHAIN:
                return None  # `a = b; b = c; ...` followed this far: not known
            self._depth += 1
            try:
                reaching = self.flow.last_before(step, lambda s: name in self.binds(s))
                if not reaching.from_start and reaching.steps:
                    self._at[key] = join([self.bound_by(s, name) for s in reaching.steps])
            finally:
                self._depth -= 1
        return self._at[key]

    def bound_by(self, step: Step, name: str) -> Held | None:
        """What ``step`` binds to ``name``."""
        statement = step.statement
        if step is self.flow.start:
            assert isinstance(statement, cst.FunctionDef)
            params = statement.params
            for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
                if param.name.value == name and param.annotation is not None:
                    return self.annotated(param.annotation.annotation)
            return None
        if step.kind == "for" and isinstance(statement, cst.For):
            if isinstance(statement.target, cst.Name) and statement.target.value == name:
                return self.element_of(step, statement.iter)
            return None
        if step.kind != "simple" or not step.parts:
            return None
        small = step.parts[0]
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
            held = self.of(step, small.value) if small.value is not None else None
            return held or self.annotated(small.annotation.annotation)
        if (
            isinstance(small, cst.Assign)
            and len(small.targets) == 1
            and isinstance(small.targets[0].target, cst.Name)
            and small.targets[0].target.value == name
        ):
            return self.of(step, small.value)
        return None

    def source_at(self, step: Step, name: str) -> tuple[Source, Step] | None:
        """The statement a name holds the unfetched result of (`result = await
        session.execute(select(M))`), and the step that ran it; one binding only."""
        key = (step, name)
        if key not in self._sources:
            reaching = self.flow.last_before(step, lambda s: name in self.binds(s))
            found = None
            if not reaching.from_start and len(reaching.steps) == 1:
                binding = reaching.steps[0]
                small = binding.parts[0] if binding.kind == "simple" and binding.parts else None
                value = _assigned(small, name)
                source = None if value is None else read_source(self.reader, self.index, value)
                if source is not None:
                    found = (source, binding)
            self._sources[key] = found
        return self._sources[key]

    # --- expressions ------------------------------------------------------------------------

    def of(self, step: Step, expr: cst.BaseExpression) -> Held | None:
        """What ``expr``, evaluated at ``step``, holds."""
        awaited = isinstance(expr, cst.Await)
        inner = expr.expression if isinstance(expr, cst.Await) else expr
        if isinstance(inner, cst.Name):
            return None if awaited else self.at(step, inner.value)
        if isinstance(inner, cst.IfExp):
            sides = [side for side in (inner.body, inner.orelse) if not m.matches(side, m.Name("None"))]
            held = join([self.of(step, side) for side in sides])
            if held is None or held.shape is Shape.MANY:
                return None
            return held if len(sides) == 2 else replace(held, shape=Shape.OPTIONAL)
        if isinstance(inner, cst.Subscript) and not awaited:
            if len(inner.slice) == 1 and isinstance(inner.slice[0].slice, cst.Index):
                held = self.of(step, inner.value)
                return None if held is None else held.element()
            return None
        if isinstance(inner, (cst.ListComp, cst.SetComp)) and not awaited:
            element = self._comprehension_element(step, inner)
            return None if element is None else replace(element, shape=Shape.MANY)
        if isinstance(inner, cst.Call):
            return self._call(step, inner, awaited)
        return None

    def element_of(self, step: Step, expr: cst.BaseExpression) -> Held | None:
        """What iterating ``expr`` at ``step`` gives."""
        if isinstance(expr, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            return self._comprehension_element(step, expr)
        objects = read_objects(self.reader, self.index, expr, self.source_of(step))
        if objects is not None:
            held = self._fetched(step, objects, expr)
            return None if held is None else held.element()
        held = self.of(step, expr)
        return None if held is None else held.element()

    def annotated(self, annotation: cst.BaseExpression) -> Held | None:
        """What an annotation written in this module says."""
        ref = read_annotation_text(_EMPTY.code_for_node(annotation), self._resolve)
        if ref is None:
            return None
        model = self.index.model_for(ref.qualname, self.path)
        return None if model is None else Held(model, ref.shape)

    def _resolve(self, written: str) -> str | None:
        return self.index.resolve_name(self.path, written)

    def _call(self, step: Step, call: cst.Call, awaited: bool) -> Held | None:
        fetch = read_fetch(self.reader, self.index, call, self.source_of(step))
        if fetch is not None:
            return self._fetched(step, fetch, call)
        func = call.func
        names = self.reader.qualified_names(func)
        if not awaited and names & {"builtins.next"} and call.args and not any(a.star or a.keyword for a in call.args):
            if len(call.args) > 2 or (len(call.args) == 2 and not m.matches(call.args[1].value, m.Name("None"))):
                return None
            element = self.element_of(step, call.args[0].value)
            if element is None:
                return None
            return replace(element, shape=Shape.OPTIONAL) if len(call.args) == 2 else element
        positional = [a for a in call.args if a.keyword is None]
        if (
            not awaited
            and names & _ELEMENT_BUILTINS
            and len(positional) == 1
            and not positional[0].star
            and all(a.keyword.value in {"key", "reverse"} for a in call.args if a.keyword is not None)
        ):
            element = self.element_of(step, positional[0].value)
            return None if element is None else replace(element, shape=Shape.MANY)
        if isinstance(func, cst.Attribute) and func.attr.value in {"get", "get_one"}:
            positional = [a for a in call.args if a.keyword is None and not a.star]
            if len(positional) >= 2:
                entity = resolve_entity(self.reader, self.index, positional[0].value)
                if entity is not None and entity.model is not None:
                    return Held(entity.model, Shape.OPTIONAL if func.attr.value == "get" else Shape.ONE)
        entity = resolve_entity(self.reader, self.index, func)
        if entity is not None and entity.model is not None:
            return None if awaited else Held(entity.model, Shape.ONE)  # Task(...)
        return self._returned(step, call, awaited)

    def _returned(self, step: Step, call: cst.Call, awaited: bool) -> Held | None:
        """What the called function's return annotation says, when every function the
        callee may be is known and agrees."""
        qualnames = {n for n in absolute_names(self.reader, call.func) if "<locals>" not in n}
        func = call.func
        if isinstance(func, cst.Attribute):
            owner = self._class_of(step, func.value)  # TaskService(db).get(...), service.get(...)
            if owner is not None:
                qualnames = {f"{owner}.{func.attr.value}"}
        if not qualnames:
            return None
        helds = []
        for qualname in sorted(qualnames):
            function = self.index.function(qualname, self.path)
            if function is None or function.returns is None or function.is_async != awaited:
                return None
            model = self.index.model_for(function.returns.qualname, function.path)
            helds.append(None if model is None else Held(model, function.returns.shape))
        return join(helds)

    def _class_of(self, step: Step, expr: cst.BaseExpression) -> str | None:
        """The class (qualified) of an instance made here: `TaskService(db)` or a local
        name every reaching binding of which is such a call."""
        if isinstance(expr, cst.Call):
            names = {n for n in absolute_names(self.reader, expr.func) if "<locals>" not in n}
            return names.pop() if len(names) == 1 else None
        if isinstance(expr, cst.Name):
            reaching = self.flow.last_before(step, lambda s: expr.value in self.binds(s))
            if reaching.from_start or len(reaching.steps) != 1:
                return None
            binding = reaching.steps[0]
            small = binding.parts[0] if binding.kind == "simple" and binding.parts else None
            value = _assigned(small, expr.value)
            if isinstance(value, cst.Call):
                return self._class_of(binding, value)
        return None

    def _comprehension_element(
        self, step: Step, comprehension: cst.GeneratorExp | cst.ListComp | cst.SetComp
    ) -> Held | None:
        """`(s for s in statuses if ...)`: one `for`, whose target is the element."""
        loop = comprehension.for_in
        if loop.inner_for_in is not None or loop.asynchronous is not None:
            return None
        if not (isinstance(loop.target, cst.Name) and m.matches(comprehension.elt, m.Name(loop.target.value))):
            return None
        return self.element_of(step, loop.iter)

    def result_of(self, step: Step, expr: cst.BaseExpression) -> tuple[Step, str] | None:
        """(the step that ran it, the name) when ``expr`` fetches from a name holding an
        unfetched result (`result.scalar_one()` after `result = await db.execute(...)`)."""
        name = _root_name(expr)
        found = None if name is None else self.source_at(step, name)
        return None if found is None or name is None else (found[1], name)

    def collection_of(self, step: Step, name: str) -> str | None:
        """The name of the collection ``name``'s one reaching binding took it from:
        `for name in statuses`, `next((s for s in statuses ...), None)`, `statuses[0]`."""
        reaching = self.flow.last_before(step, lambda s: name in self.binds(s))
        if reaching.from_start or len(reaching.steps) != 1:
            return None
        binding = reaching.steps[0]
        if binding.kind == "for" and isinstance(binding.statement, cst.For):
            source: cst.BaseExpression | None = binding.statement.iter
        else:
            small = binding.parts[0] if binding.kind == "simple" and binding.parts else None
            value = _assigned(small, name)
            source = None
            if isinstance(value, cst.Subscript):
                source = value.value
            elif isinstance(value, cst.Call) and value.args and isinstance(value.args[0].value, cst.GeneratorExp):
                if self.reader.qualified_names(value.func) & {"builtins.next"}:
                    source = value.args[0].value.for_in.iter
        return source.value if isinstance(source, cst.Name) else None

    def source_of(self, step: Step) -> Callable[[str], Source | None]:
        """A lookup for `values.read_fetch`: the unfetched result a name holds at ``step``."""

        def source_of(name: str) -> Source | None:
            found = self.source_at(step, name)
            return None if found is None else found[0]

        return source_of

    def _fetched(self, step: Step, fetch: Fetch, expr: cst.BaseExpression) -> Held | None:
        shape = _SHAPES.get(fetch.holds)
        model = fetch.source.statement.entity.model
        if shape is None or model is None:
            return None
        result = None
        receiver = _root_name(expr)
        if receiver is not None:
            found = self.source_at(step, receiver)
            if found is not None and found[0] is fetch.source:
                result = (found[1], receiver)
        return Held(model, shape, fetch, result)

    # --- None ---------------------------------------------------------------------------------

    def not_none(self, at: Step, name: str) -> bool:
        """Whether ``name`` cannot hold None when ``at`` starts (see the module's doc)."""

        def event(s: Step) -> bool:
            return s is not at and (name in self.binds(s) or self._excludes_none(s, name, at))

        reaching = self.flow.last_before(at, event)
        if reaching.from_start or not reaching.steps or reaching.interrupted:
            return False
        for step in reaching.steps:
            if name in self.binds(step):
                held = self.bound_by(step, name)
                if held is None or held.shape is not Shape.ONE:
                    return False
        return True

    def _excludes_none(self, step: Step, name: str, at: Step) -> bool:
        if step.kind == "if" and isinstance(step.statement, cst.If):
            return _guards(self.flow, step.statement, name, at)
        return any(_dereferences(part, name) for part in step.parts)


def _assigned(small: cst.CSTNode | None, name: str) -> cst.BaseExpression | None:
    """The value of `name = value` / `name: T = value`."""
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        if isinstance(target, cst.Name) and target.value == name:
            return small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.target.value == name:
        return small.value
    return None


def _root_name(expr: cst.BaseExpression) -> str | None:
    """`result` in `result.scalars().first()`: the name a method chain starts from."""
    node = expr.expression if isinstance(expr, cst.Await) else expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        node = node.func.value
    return node.value if isinstance(node, cst.Name) else None


def _dereferences(node: cst.CSTNode, name: str) -> bool:
    """Whether evaluating ``node`` always reads an attribute of ``name`` (which raises on
    None): not inside a short-circuit, a conditional, a lambda or a comprehension."""
    if isinstance(node, cst.Attribute):
        if isinstance(node.value, cst.Name) and node.value.value == name:
            return True
        return _dereferences(node.value, name)
    if isinstance(node, (cst.Lambda, cst.GeneratorExp, cst.ListComp, cst.SetComp, cst.DictComp)):
        return False
    if isinstance(node, cst.BooleanOperation):
        return _dereferences(node.left, name)
    if isinstance(node, cst.IfExp):
        return _dereferences(node.test, name)
    if isinstance(node, cst.Call):
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "refresh":
            first = next((a for a in node.args if a.keyword is None), None)
            if first is not None and m.matches(first.value, m.Name(name)):
                return True  # refresh(None) raises
        return _dereferences(node.func, name) or any(_dereferences(a.value, name) for a in node.args)
    return any(_dereferences(child, name) for child in node.children if isinstance(child, cst.CSTNode))


def _guards(flow: FunctionFlow, statement: cst.If, name: str, at: Step) -> bool:
    """`if not name: return` (the point not reachable through the body), or `if name:` /
    `if name is not None:` with the point inside the body."""
    test = statement.test
    negative = (isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not) and m.matches(
        test.expression, m.Name(name)
    )) or _compares_none(test, name, cst.Is)
    positive = m.matches(test, m.Name(name)) or _compares_none(test, name, cst.IsNot)
    body = statement.body
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return False
    if negative:
        try:
            first = flow.step_of(body.body[0])
        except KeyError:
            return False
        return not flow.reaches(first, at) and first is not at
    if positive:
        return _inside(at.statement, body)
    return False


def _compares_none(test: cst.BaseExpression, name: str, operator: type) -> bool:
    return (
        isinstance(test, cst.Comparison)
        and len(test.comparisons) == 1
        and isinstance(test.comparisons[0].operator, operator)
        and m.matches(test.left, m.Name(name))
        and m.matches(test.comparisons[0].comparator, m.Name("None"))
    )


def _inside(node: cst.CSTNode, block: cst.CSTNode) -> bool:
    """Whether ``node`` is ``block`` or one of its descendants."""
    pending = [block]
    while pending:
        current = pending.pop()
        if current is node:
            return True
        pending.extend(current.children)
    return False
