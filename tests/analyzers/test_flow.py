"""The control-flow graph of one function: what can run between two points."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from optimize.analyzers.flow import FunctionFlow, Step


class Graph:
    """A function's flow, with steps looked up by the code they run."""

    def __init__(self, source: str) -> None:
        self.module = cst.parse_module(textwrap.dedent(source).lstrip("\n"))
        function = next(s for s in self.module.body if isinstance(s, cst.FunctionDef))
        self.flow = FunctionFlow.of(function)

    def code(self, step: Step) -> str:
        if step.kind in {"start", "end", "with", "with-exit", "with-error-exit", "finally"}:
            return step.kind
        if step.kind == "def":
            return f"def {step.statement.name.value}"
        if step.kind == "case":
            return " if ".join(self.module.code_for_node(p).strip() for p in step.parts)
        if step.kind in {"if", "while", "match"}:
            return f"{step.kind} {self.module.code_for_node(step.parts[0])}"
        if step.kind == "for":
            return f"for {self.module.code_for_node(step.parts[1])}"
        if step.kind == "except":
            return f"except {self.module.code_for_node(step.parts[0])}" if step.parts else "except"
        return self.module.code_for_node(step.parts[0]).strip().rstrip(";")

    def __getitem__(self, code: str) -> Step:
        found = [s for s in self.flow.steps if self.code(s) == code]
        assert len(found) == 1, f"{code!r}: {[self.code(s) for s in self.flow.steps]}"
        return found[0]

    def between(self, a: str, b: str, avoiding: set[str] | None = None) -> list[str]:
        avoid = None if avoiding is None else (lambda s: self.code(s) in avoiding)
        return [self.code(s) for s in self.flow.between(self[a], self[b], avoid)]

    def reaches(self, a: str, b: str) -> bool:
        return self.flow.reaches(self[a], self[b])

    def dominates(self, a: str, b: str) -> bool:
        return self.flow.dominates(self[a], self[b])

    def next(self, code: str) -> list[str]:
        """Where control goes when a step finishes."""
        return [self.code(s) for s in self.flow.after(self[code])]


def test_straight_line_code() -> None:
    g = Graph(
        """
        async def f(db):
            a = 1
            x = 2
            b = 3
            y = 4
        """
    )
    assert g.between("a = 1", "b = 3") == ["x = 2"]
    assert g.between("b = 3", "a = 1") == []
    assert g.reaches("a = 1", "y = 4") and not g.reaches("y = 4", "a = 1")


def test_each_part_of_a_line_is_a_step() -> None:
    g = Graph(
        """
        async def f(db):
            a = 1; await db.commit(); b = 2
        """
    )
    assert g.between("a = 1", "b = 2") == ["await db.commit()"]


def test_both_branches_lie_between() -> None:
    g = Graph(
        """
        def f(c, d):
            a = 1
            if c:
                x = 2
            elif d:
                y = 3
            else:
                z = 4
            b = 5
        """
    )
    assert g.between("a = 1", "b = 5") == ["if c", "x = 2", "if d", "y = 3", "z = 4"]
    assert not g.reaches("x = 2", "y = 3")
    assert g.dominates("a = 1", "b = 5") and not g.dominates("x = 2", "b = 5")


def test_a_for_loop_runs_again_before_a_statement_of_its_body() -> None:
    """The loop's back edge: what ends the body runs before the body's next iteration."""
    g = Graph(
        """
        async def f(db, items):
            a = 1
            for item in items:
                b = 2
                await db.commit()
            c = 3
        """
    )
    assert g.between("a = 1", "b = 2") == ["for item", "b = 2", "await db.commit()"]
    assert g.between("a = 1", "c = 3") == ["for item", "b = 2", "await db.commit()"]
    assert g.reaches("await db.commit()", "b = 2")
    assert not g.dominates("b = 2", "c = 3")  # the loop may run no time


def test_two_statements_of_one_loop_body() -> None:
    """After ``a`` in the body and before ``b`` in the next iteration counts."""
    g = Graph(
        """
        async def f(db, items):
            for item in items:
                a = 1
                b = 2
                await db.commit()
        """
    )
    assert "await db.commit()" in g.between("a = 1", "b = 2")
    # unless the caller says a new ``a`` makes the earlier one irrelevant
    assert g.between("a = 1", "b = 2", avoiding={"a = 1"}) == []


def test_a_while_loop_has_the_same_back_edge() -> None:
    g = Graph(
        """
        async def f(db, queue):
            a = 1
            while queue:
                b = queue.pop()
                await db.commit()
        """
    )
    assert g.between("a = 1", "b = queue.pop()") == ["while queue", "b = queue.pop()", "await db.commit()"]


def test_while_true_is_left_only_by_break() -> None:
    g = Graph(
        """
        def f(stream):
            while True:
                x = stream.read()
                if not x:
                    break
                y = 1
            else:
                never = 1
            after = 2
        """
    )
    assert not g.reaches("while True", "never = 1")
    assert g.dominates("x = stream.read()", "after = 2")  # only the break leaves the loop
    assert g.reaches("break", "after = 2") and not g.reaches("break", "y = 1")


def test_break_skips_the_loop_else_and_continue_goes_round() -> None:
    g = Graph(
        """
        def f(items):
            for item in items:
                if item:
                    continue
                if item is None:
                    break
                x = 1
            else:
                done = 1
            after = 2
        """
    )
    assert g.next("continue") == ["for item"]
    assert g.next("break") == ["after = 2"]
    assert g.between("break", "after = 2") == []
    assert g.between("continue", "x = 1") == ["for item", "if item", "continue", "if item is None", "x = 1"]
    assert g.reaches("for item", "done = 1")


def test_early_return_and_raise_end_their_paths() -> None:
    g = Graph(
        """
        def f(c, d):
            a = 1
            if c:
                return a
            if d:
                raise ValueError(a)
            b = 2
        """
    )
    assert not g.reaches("return a", "b = 2")
    assert not g.reaches("raise ValueError(a)", "b = 2")
    assert g.between("a = 1", "b = 2") == ["if c", "if d"]
    assert g.flow.successors(g["return a"]) == [g.flow.end]


def test_a_handler_can_start_after_any_statement_of_the_try_body() -> None:
    g = Graph(
        """
        async def f(db):
            a = 1
            try:
                x = await work()
                y = 2
            except ValueError:
                await db.commit()
            else:
                e = 3
            b = 4
        """
    )
    assert g.between("a = 1", "b = 4") == [
        "x = await work()", "y = 2", "except ValueError", "await db.commit()", "e = 3"
    ]
    assert g.reaches("x = await work()", "except ValueError")
    assert not g.reaches("e = 3", "except ValueError")  # `else` is outside the handlers' reach


def test_a_commit_in_finally_runs_between_iterations() -> None:
    g = Graph(
        """
        async def f(db, items):
            a = 1
            for item in items:
                try:
                    b = 2
                finally:
                    await db.commit()
        """
    )
    assert "await db.commit()" in g.between("a = 1", "b = 2")
    assert "await db.commit()" in g.between("b = 2", "b = 2")


def test_return_break_and_continue_go_through_finally() -> None:
    g = Graph(
        """
        async def f(db, items):
            for item in items:
                try:
                    if item:
                        return item
                    if item is None:
                        break
                    continue
                finally:
                    await db.rollback()
            after = 1
        """
    )
    for jump in ("return item", "break", "continue"):
        assert g.next(jump) == ["finally"]
    # the finally block goes on to wherever one of its entries was going
    assert {"for item", "after = 1"} <= set(g.next("await db.rollback()"))
    assert g.flow.end in g.flow.successors(g["await db.rollback()"])


def test_leaving_a_with_block_is_a_step() -> None:
    g = Graph(
        """
        async def f(db, items):
            a = 1
            async with db.begin():
                x = 2
                if items:
                    return x
            b = 3
        """
    )
    # one exit step serves every way out, so the return's path is counted too (cautious)
    assert g.between("a = 1", "b = 3") == ["with", "x = 2", "if items", "return x", "with-exit"]
    assert g.next("return x") == ["with-exit"]
    assert g.reaches("with-exit", "end")
    # an exception leaves the body through the error exit, which `begin()` does not swallow
    assert g.reaches("x = 2", "with-error-exit") and not g.reaches("with-error-exit", "b = 3")


def test_an_unknown_context_manager_may_swallow_the_exception() -> None:
    g = Graph(
        """
        def f(path):
            with suppress(OSError):
                x = open(path).read()
            b = 1
        """
    )
    assert g.reaches("with-error-exit", "b = 1")
    assert not g.dominates("x = open(path).read()", "b = 1")


def test_an_exception_inside_a_with_in_a_try_reaches_the_handler_through_the_exit() -> None:
    g = Graph(
        """
        async def f(db):
            try:
                async with db.begin():
                    x = await work()
            except RuntimeError:
                h = 1
        """
    )
    # by the error exit, or by the normal exit whose commit failed
    assert g.between("x = await work()", "h = 1") == ["with-exit", "with-error-exit", "except RuntimeError"]


def test_a_step_left_by_an_exception_did_not_finish() -> None:
    """`dominates` and `last_before` do not count a statement an exception stopped."""
    g = Graph(
        """
        async def f(db, project, status):
            try:
                project.fk = status.id
                await db.flush()
            except AttributeError:
                pass
            b = 1
        """
    )
    assert not g.dominates("project.fk = status.id", "b = 1")
    reaching = g.flow.last_before(g["b = 1"], lambda s: s is g["project.fk = status.id"])
    assert reaching.steps == [g["project.fk = status.id"]]  # it finished, then flush raised
    assert reaching.interrupted == [g["project.fk = status.id"]]
    assert reaching.from_start


def test_last_before_finds_the_last_of_a_kind_on_each_path() -> None:
    g = Graph(
        """
        def f(session, task, c):
            session.refresh(task)
            if c:
                session.refresh(task)
            else:
                x = 1
            b = task.owner
        """
    )
    refreshes = [s for s in g.flow.steps if s.kind == "simple" and "refresh" in g.code(s)]
    reaching = g.flow.last_before(g["b = task.owner"], lambda s: s in refreshes)
    assert reaching.steps == refreshes and not reaching.from_start and not reaching.interrupted
    after_branch = g.flow.last_before(g["b = task.owner"], lambda s: s is refreshes[1])
    assert after_branch.steps == [refreshes[1]] and after_branch.from_start


def test_match_cases_are_tried_in_turn() -> None:
    g = Graph(
        """
        def f(command):
            match command:
                case ["go", direction] if direction:
                    a = 1
                case {"stop": when, **rest}:
                    b = 2
                case _:
                    c = 3
            after = 4
        """
    )
    assert g.reaches("a = 1", "after = 4") and not g.reaches("a = 1", "b = 2")
    assert g.between("match command", "c = 3") == ['["go", direction] if direction', '{"stop": when, **rest}', "_"]
    assert g.next("match command") == ['["go", direction] if direction']


def test_python_3_12_syntax_and_nested_definitions() -> None:
    """A nested function's body is not part of the outer graph: its def is one step."""
    g = Graph(
        """
        async def outer[T](db, items: list[T]) -> None:
            type Row = tuple[T, int]
            a = 1

            async def save() -> None:
                await db.commit()

            b = 2
        """
    )
    assert g.between("a = 1", "b = 2") == ["def save"]
    assert not any("await db.commit()" == g.code(s) for s in g.flow.steps)


def test_step_of_finds_the_step_of_any_node_inside() -> None:
    g = Graph(
        """
        async def f(db, project, status):
            if project.fk:
                found = await db.get(Status, project.fk)
        """
    )
    function = next(s for s in g.module.body if isinstance(s, cst.FunctionDef))
    if_statement = function.body.body[0]
    assert isinstance(if_statement, cst.If)
    line = if_statement.body.body[0]
    assert g.flow.step_of(if_statement) is g["if project.fk"]
    assert g.flow.step_of(if_statement.test) is g["if project.fk"]
    assert g.flow.step_of(line) is g["found = await db.get(Status, project.fk)"]
    call = line.body[0].value
    assert g.flow.step_of(call) is g["found = await db.get(Status, project.fk)"]
    with pytest.raises(KeyError):
        g.flow.step_of(cst.Name("elsewhere"))
