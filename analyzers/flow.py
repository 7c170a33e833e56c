"""The control-flow graph of one function, and the one question the codemods ask of it:
what can run between two points.

A step is one thing that runs on its own: a small statement (`x = 1`, `await db.commit()`,
`return x`; each part of `a; b` is its own step), the test of an `if`/`while`, the header
of a `for` (its iterable and its target), entering a `with` (its items), leaving it normally
and leaving it on an exception (where `session.begin()` commits or rolls back), an `except`
clause, a `match` subject and each `case`, a nested `def`/`class` statement. Edges follow
Python: branches and `elif`/`else`, loops with their back edges and `else` blocks,
`break`/`continue`, `return`, `raise`, and `finally` blocks and `with` exits run by every
way out of their body.

The graph over-approximates the paths: every step may raise (so every step of a `try` body
has an edge to each handler and to the `finally` block; a step left by such an edge may not
have finished, which `dominates` and `last_before` take into account), a `finally` block continues to
every place any of its entries was going, a `with` block whose context manager is not known
may swallow the exception, and every loop may run again. More paths make every answer more
cautious: more steps lie between two points, fewer steps dominate.

Built from the LibCST tree, not from `ast`: the codemods hold LibCST nodes (the statement
they will rewrite, the assignment that proves it) and ask about exactly those nodes, so the
answer needs no mapping of positions between two parsers, and the graph is built only for
functions of files already parsed for rewriting.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

StepKind = Literal[
    "start",  # the call: binds the parameters
    "end",  # the function has returned or raised
    "simple",  # one small statement
    "if",  # the test of an `if` or `elif`
    "for",  # a `for` header: the iterable and, on each iteration, the target
    "while",  # a `while` test
    "with",  # entering a `with`: its items and their `as` targets
    "with-exit",  # leaving a `with` body normally or by break/continue/return
    "with-error-exit",  # leaving a `with` body by an exception
    "except",  # an `except` clause: its type and its `as` name
    "finally",  # the start of a `finally` block
    "match",  # the subject of a `match`
    "case",  # one `case` pattern and its guard
    "def",  # a nested `def` (decorators, defaults, annotations; not its body)
    "class",  # a nested `class` statement (its body runs here)
]
# Context managers known not to swallow an exception raised in their body.
_NON_SUPPRESSING_METHODS = {"begin", "begin_nested"}


@dataclass(frozen=True, eq=False)
class Step:
    """One node of the graph. ``statement`` is the statement it belongs to (for a simple
    step, its line); ``parts`` is the code it evaluates, where effects are looked for."""

    kind: StepKind
    statement: cst.CSTNode
    parts: tuple[cst.CSTNode, ...] = ()

    def __repr__(self) -> str:
        return f"Step({self.kind}, {type(self.statement).__name__})"


@dataclass(frozen=True)
class Reaching:
    """What `FunctionFlow.last_before` finds: the steps of a kind that can be the last of
    their kind to finish before a point, the ones an exception can leave part-way on a path
    to it after the last finished one, and whether the point can be reached from the
    function's start with none of them finished."""

    steps: list[Step]
    interrupted: list[Step]
    from_start: bool


@dataclass
class _Loop:
    header: Step
    breaks: list[Step] = field(default_factory=list)


@dataclass
class _Cleanup:
    """A `finally` block or a `with` exit that break/continue/return must pass through."""

    entry: Step
    jumps: set[str] = field(default_factory=set)  # "break", "continue", "return"


class FunctionFlow:
    """The control-flow graph of one function (its nested functions are steps, not part
    of the graph: build their own)."""

    def __init__(self, function: cst.FunctionDef) -> None:
        self.function = function
        builder = _Builder(function)
        self.start: Step = builder.start
        self.end: Step = builder.end
        self.steps: tuple[Step, ...] = tuple(builder.steps)  # source order
        self._order = {step: i for i, step in enumerate(self.steps)}
        self._successors = builder.successors
        self._normal = builder.normal  # (a, b): b can run after a finished
        self._exceptional = builder.exceptional  # (a, b): b can run after an exception left a
        self._predecessors: dict[Step, list[Step]] = {step: [] for step in self.steps}
        for step, targets in self._successors.items():
            for target in targets:
                self._predecessors[target].append(step)
        self._by_node: dict[int, Step] = builder.by_node
        self._descendants_indexed = False

    @classmethod
    def of(cls, function: cst.FunctionDef) -> FunctionFlow:
        return cls(function)

    # --- the graph --------------------------------------------------------------------------

    def successors(self, step: Step) -> Sequence[Step]:
        return self._successors.get(step, ())

    def after(self, step: Step) -> list[Step]:
        """The steps that can run right after ``step`` finished (no exception left it)."""
        return [t for t in self.successors(step) if (step, t) in self._normal]

    def predecessors(self, step: Step) -> Sequence[Step]:
        return self._predecessors.get(step, ())

    def step_of(self, node: cst.CSTNode | Step) -> Step:
        """The step that runs ``node``: a small statement, a compound statement (its
        header step; for `try`, the first step of its body), a line (its first small
        statement) or any expression inside them. KeyError for a node outside the graph
        (in a nested function's body, or in another function)."""
        if isinstance(node, Step):
            return node
        step = self._by_node.get(id(node))
        if step is None and not self._descendants_indexed:
            self._index_descendants()
            step = self._by_node.get(id(node))
        if step is None:
            raise KeyError(f"{type(node).__name__} is not part of this function's flow")
        return step

    def ordered(self, steps: Iterable[Step]) -> list[Step]:
        """``steps`` in source order."""
        return sorted(steps, key=self._order.__getitem__)

    # --- the questions ------------------------------------------------------------------------

    def between(
        self,
        a: cst.CSTNode | Step,
        b: cst.CSTNode | Step,
        avoiding: Callable[[Step], bool] | None = None,
    ) -> list[Step]:
        """The steps that can run after ``a`` and before ``b`` on some path from ``a`` to
        ``b``, in source order. Paths may go round a loop: when both are in a loop body,
        what runs after ``a`` and before ``b`` in a later iteration counts (``a`` and ``b``
        themselves included when they can run again in between).

        ``avoiding``: steps no path may pass through (a step that re-establishes what the
        caller relies on, such as a second load of the same object); ``a`` may still be
        the path's start."""
        start, goal = self.step_of(a), self.step_of(b)
        after = self._closure(self.successors(start), self.successors, avoiding)
        before = self._closure(self.predecessors(goal), self.predecessors, avoiding)
        return self.ordered(after & before)

    def reaches(self, a: cst.CSTNode | Step, b: cst.CSTNode | Step) -> bool:
        """Whether ``b`` can run after ``a``."""
        return self.step_of(b) in self._closure(self.successors(self.step_of(a)), self.successors, None)

    def dominates(self, a: cst.CSTNode | Step, b: cst.CSTNode | Step) -> bool:
        """Whether ``a`` runs to its end before ``b`` on every path from the function's
        start (leaving ``a`` by an exception does not count as having run it)."""
        first, second = self.step_of(a), self.step_of(b)
        if first is second or first is self.start:
            return True
        seen: set[Step] = set()
        queue = deque(self.successors(self.start))
        while queue:
            step = queue.popleft()
            if step in seen:
                continue
            seen.add(step)
            if step is second:
                return False
            if step is first:  # only an exception leaving it part-way gets past it
                queue.extend(t for t in self.successors(step) if self._raises_to(step, t))
                continue
            queue.extend(self.successors(step))
        return True

    def last_before(self, b: cst.CSTNode | Step, where: Callable[[Step], bool]) -> Reaching:
        """The ``where`` steps that can be the last of their kind to finish before ``b``
        (see `Reaching`)."""
        goal = self.step_of(b)
        finished: set[Step] = set()
        interrupted: set[Step] = set()
        seen: set[tuple[Step, bool]] = set()
        queue = deque((step, goal) for step in self.predecessors(goal))
        from_start = False
        while queue:
            step, towards = queue.popleft()
            for ended in self._ways(step, towards):
                if (step, ended) in seen:
                    continue
                seen.add((step, ended))
                if where(step):
                    if ended:
                        finished.add(step)
                        continue
                    interrupted.add(step)  # and what came before it still counts
                if step is self.start:
                    from_start = True
                    continue
                queue.extend((before, step) for before in self.predecessors(step))
        return Reaching(self.ordered(finished), self.ordered(interrupted), from_start)

    # --- helpers --------------------------------------------------------------------------------

    def _ways(self, step: Step, towards: Step) -> list[bool]:
        """How ``towards`` can follow ``step``: True after ``step`` finished, False when
        an exception left it."""
        ways = []
        if (step, towards) in self._normal:
            ways.append(True)
        if self._raises_to(step, towards):
            ways.append(False)
        return ways

    def _raises_to(self, step: Step, towards: Step) -> bool:
        return (step, towards) in self._exceptional

    def _closure(
        self,
        first: Iterable[Step],
        follow: Callable[[Step], Sequence[Step]],
        avoiding: Callable[[Step], bool] | None,
    ) -> set[Step]:
        seen: set[Step] = set()
        queue = deque(first)
        while queue:
            step = queue.popleft()
            if step in seen or (avoiding is not None and avoiding(step)):
                continue
            seen.add(step)
            queue.extend(follow(step))
        return seen

    def _index_descendants(self) -> None:
        """Map every node inside a step's parts to the step (for `step_of(expression)`)."""
        self._descendants_indexed = True
        for step in self.steps:
            for part in step.parts:
                stack: list[cst.CSTNode] = [part]
                while stack:
                    node = stack.pop()
                    self._by_node.setdefault(id(node), step)
                    stack.extend(node.children)


class _Builder:
    """Wires the steps of one function body (see `FunctionFlow`)."""

    def __init__(self, function: cst.FunctionDef) -> None:
        self.steps: list[Step] = []
        self.successors: dict[Step, list[Step]] = {}
        self.normal: set[tuple[Step, Step]] = set()
        self.exceptional: set[tuple[Step, Step]] = set()
        self.by_node: dict[int, Step] = {}
        self.frames: list[_Loop | _Cleanup] = []
        self.start = self._register(Step("start", function, (function.params,)))
        self.end = Step("end", function)
        self.raise_to: list[Step] = [self.end]
        ends = self._suite(function.body, [self.start])
        self._link(ends, self.end)
        self._register(self.end)

    # --- steps and edges ------------------------------------------------------------------------

    def _register(self, step: Step, node: cst.CSTNode | None = None) -> Step:
        self.steps.append(step)
        self.successors.setdefault(step, [])
        if node is not None:
            self.by_node.setdefault(id(node), step)
        return step

    def _new(
        self, kind: StepKind, statement: cst.CSTNode, parts: tuple[cst.CSTNode, ...], preds: list[Step]
    ) -> Step:
        """A step that runs after ``preds`` and may raise to the current handlers."""
        step = self._register(Step(kind, statement, parts), statement)
        for part in parts:
            self.by_node.setdefault(id(part), step)
        self._link(preds, step)
        self._raises(step, self.raise_to)
        return step

    def _raises(self, step: Step, targets: Iterable[Step]) -> None:
        """An exception may leave ``step`` part-way for each of ``targets``."""
        for target in targets:
            self._edge(step, target, exceptional=True)

    def _edge(self, a: Step, b: Step, exceptional: bool = False) -> None:
        targets = self.successors.setdefault(a, [])
        if b not in targets:
            targets.append(b)
        (self.exceptional if exceptional else self.normal).add((a, b))

    def _link(self, preds: Iterable[Step], step: Step) -> None:
        for pred in preds:
            self._edge(pred, step)

    # --- statements -------------------------------------------------------------------------------

    def _suite(self, suite: cst.BaseSuite, preds: list[Step]) -> list[Step]:
        """Wire a block after ``preds``; the steps that fall through at its end."""
        if isinstance(suite, cst.SimpleStatementSuite):
            return self._smalls(suite, suite.body, preds)
        for statement in suite.body:
            preds = self._statement(statement, preds)
        return preds

    def _statement(self, statement: cst.BaseStatement, preds: list[Step]) -> list[Step]:
        if isinstance(statement, cst.SimpleStatementLine):
            return self._smalls(statement, statement.body, preds)
        if isinstance(statement, cst.If):
            return self._if(statement, preds)
        if isinstance(statement, (cst.For, cst.While)):
            return self._loop(statement, preds)
        if isinstance(statement, cst.With):
            return self._with(statement, preds)
        if isinstance(statement, (cst.Try, cst.TryStar)):
            return self._try(statement, preds)
        if isinstance(statement, cst.Match):
            return self._match(statement, preds)
        if isinstance(statement, cst.FunctionDef):
            parts = (*statement.decorators, statement.params, *([statement.returns] if statement.returns else []))
            return [self._new("def", statement, parts, preds)]
        if isinstance(statement, cst.ClassDef):
            return [self._new("class", statement, (statement,), preds)]
        # A statement this graph does not know: one step that runs all of it.
        return [self._new("simple", statement, (statement,), preds)]

    def _smalls(
        self, line: cst.CSTNode, smalls: Sequence[cst.BaseSmallStatement], preds: list[Step]
    ) -> list[Step]:
        first = True
        for small in smalls:
            step = self._new("simple", line, (small,), preds)
            if first:
                self.by_node.setdefault(id(line), step)
                first = False
            if isinstance(small, cst.Return):
                self._jump([step], "return")
                preds = []
            elif isinstance(small, cst.Raise):
                preds = []  # its exception edges are all it has
            elif isinstance(small, cst.Break):
                self._jump([step], "break")
                preds = []
            elif isinstance(small, cst.Continue):
                self._jump([step], "continue")
                preds = []
            else:
                preds = [step]
        return preds

    def _if(self, statement: cst.If, preds: list[Step]) -> list[Step]:
        ends: list[Step] = []
        branch, incoming = statement, preds
        while True:  # an `elif` chain, without recursion however long it is
            test = self._new("if", branch, (branch.test,), incoming)
            ends += self._suite(branch.body, [test])
            if isinstance(branch.orelse, cst.If):
                branch, incoming = branch.orelse, [test]
            elif isinstance(branch.orelse, cst.Else):
                return ends + self._suite(branch.orelse.body, [test])
            else:
                return ends + [test]

    def _loop(self, statement: cst.For | cst.While, preds: list[Step]) -> list[Step]:
        if isinstance(statement, cst.For):
            header = self._new("for", statement, (statement.iter, statement.target), preds)
        else:
            header = self._new("while", statement, (statement.test,), preds)
        loop = _Loop(header)
        self.frames.append(loop)
        ends = self._suite(statement.body, [header])
        self.frames.pop()
        self._link(ends, header)  # the back edge: every loop may run again
        # A `while True:` loop is left only by break, return or raise.
        exhausted = [] if isinstance(statement, cst.While) and _always_true(statement.test) else [header]
        if statement.orelse is not None:
            exhausted = self._suite(statement.orelse.body, exhausted)
        return exhausted + loop.breaks

    def _with(self, statement: cst.With, preds: list[Step]) -> list[Step]:
        enter = self._new("with", statement, tuple(statement.items), preds)
        # Leaving the body: both exits may raise (a commit on exit can fail) to the
        # handlers around the `with`.
        exit_ = Step("with-exit", statement)
        error_exit = Step("with-error-exit", statement)
        outer = self.raise_to
        self._raises(exit_, outer)
        self._raises(error_exit, outer)
        cleanup = _Cleanup(exit_)
        self.frames.append(cleanup)
        self.raise_to = [error_exit]
        ends = self._suite(statement.body, [enter])
        self.raise_to = outer
        self.frames.pop()
        self._register(exit_)
        self._register(error_exit)
        self._link(ends, exit_)
        for jump in sorted(cleanup.jumps):
            self._jump([exit_], jump)
        falls = [exit_] if ends else []
        if not all(_does_not_suppress(item) for item in statement.items):
            falls.append(error_exit)  # the context manager may swallow the exception
        return falls

    def _try(self, statement: cst.Try | cst.TryStar, preds: list[Step]) -> list[Step]:
        outer = self.raise_to
        final = Step("finally", statement.finalbody) if statement.finalbody is not None else None
        after_handlers = [final] if final is not None else outer
        handlers = [
            Step("except", handler, tuple(p for p in (handler.type, handler.name) if p is not None))
            for handler in statement.handlers
        ]
        cleanup = _Cleanup(final) if final is not None else None
        if cleanup is not None:
            self.frames.append(cleanup)
        # An exception in the body goes to any handler, or on (none may match).
        self.raise_to = [*handlers, *after_handlers]
        first_body_step = len(self.steps)
        body_ends = self._suite(statement.body, preds)
        if first_body_step < len(self.steps):  # `step_of(try_statement)`: where it starts
            self.by_node.setdefault(id(statement), self.steps[first_body_step])
        self.raise_to = after_handlers
        handler_ends: list[Step] = []
        for handler, step in zip(statement.handlers, handlers):
            self._register(step, handler)
            for part in step.parts:
                self.by_node.setdefault(id(part), step)
            self._raises(step, after_handlers)
            handler_ends += self._suite(handler.body, [step])
        else_ends = self._suite(statement.orelse.body, body_ends) if statement.orelse is not None else body_ends
        self.raise_to = outer
        normal = else_ends + handler_ends
        if final is None or cleanup is None:
            return normal
        self.frames.pop()
        self._register(final, statement.finalbody)
        self._link(normal, final)
        final_ends = self._suite(statement.finalbody.body, [final])
        for jump in sorted(cleanup.jumps):
            self._jump(final_ends, jump)
        for end in final_ends:  # re-raising what came in by an exception, once finished
            for target in outer:
                self._edge(end, target)
        return final_ends if normal else []

    def _match(self, statement: cst.Match, preds: list[Step]) -> list[Step]:
        subject = self._new("match", statement, (statement.subject,), preds)
        previous = [subject]
        ends: list[Step] = []
        for case in statement.cases:
            parts = (case.pattern, *([case.guard] if case.guard is not None else []))
            step = self._new("case", case, parts, previous)
            ends += self._suite(case.body, [step])
            previous = [step]  # no match: try the next case
        return ends + previous

    def _jump(self, froms: list[Step], kind: str) -> None:
        """break/continue/return from ``froms``: through the innermost `finally` or `with`
        exit in the way (which goes on with the jump), or to its target."""
        for frame in reversed(self.frames):
            if isinstance(frame, _Cleanup):
                self._link(froms, frame.entry)
                frame.jumps.add(kind)
                return
            if kind == "break":
                frame.breaks.extend(froms)
                return
            if kind == "continue":
                self._link(froms, frame.header)
                return
        if kind == "return":
            self._link(froms, self.end)


def _always_true(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.Name):
        return test.value == "True"
    return isinstance(test, cst.Integer) and test.evaluated_value != 0


def _does_not_suppress(item: cst.WithItem) -> bool:
    """`session.begin()` / `begin_nested()` never swallow an exception of their body."""
    expr = item.item.expression if isinstance(item.item, cst.Await) else item.item
    return (
        isinstance(expr, cst.Call)
        and isinstance(expr.func, cst.Attribute)
        and expr.func.attr.value in _NON_SUPPRESSING_METHODS
    )
