"""`analyzers.bound_reads` through the facts: `x = obj.attr` is a candidate for
`redundant-lazy-load` only where the function may load `obj` (refreshes, or binds it and
fetches a query result)."""

from __future__ import annotations

import textwrap

import pytest

from optimize.analyzers.index import analyse_file


def reads(source: str) -> dict[str, frozenset[int]]:
    facts = analyse_file("app/service.py", textwrap.dedent(source).lstrip().encode())
    return facts.statement_reads


KEPT = {
    "bound by a query result": """
        async def f(db, task_id):
            task = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()
            owner = task.assignee
        """,
    "refreshed": """
        async def f(db, task):
            await db.refresh(task, ["assignee"])
            owner = task.assignee
        """,
    "a refresh of something else (the codemod judges which)": """
        async def f(db, task, other):
            await db.refresh(other)
            owner = task.assignee
        """,
    "a loop target": """
        def f(db):
            for task in db.scalars(select(Task)):
                owner = task.assignee
        """,
    "a with target, and a fetch": """
        def f(db):
            rows = db.scalars(select(Task)).all()
            with open_task(db) as task:
                owner = task.assignee
        """,
    "an except name, and a fetch": """
        def f(db):
            try:
                db.execute(select(Task))
            except TaskError as task:
                owner = task.assignee
        """,
    "a match capture, and a fetch": """
        def f(db, value):
            match db.scalar(select(Task)):
                case Task() as task:
                    owner = task.assignee
        """,
    "a walrus in a comprehension, and a fetch": """
        def f(db, rows):
            found = [task := db.query(Task).get(r) for r in rows]
            owner = task.assignee
        """,
    "a binding and a fetch in a nested function count for the one around it": """
        def f(db, task):
            def again():
                task = db.exec(select(Task)).first()
            owner = task.assignee
        """,
    "a refresh in a nested function counts for the one around it": """
        def f(db, task):
            def again():
                db.refresh(task)
            owner = task.assignee
        """,
    "a query run at module level may hand its rows to any function": """
        ROWS = session.scalars(select(Task)).all()

        def f(db):
            task = ROWS[0]
            owner = task.assignee
        """,
}


@pytest.mark.parametrize("source", list(KEPT.values()), ids=list(KEPT))
def test_a_read_the_function_may_have_loaded_is_kept(source: str) -> None:
    assert "assignee" in reads(source)


DROPPED = {
    "a parameter only": """
        async def f(db, task):
            owner = task.assignee
        """,
    "bound in the function around it, read in a nested one": """
        def f(db, task_id):
            task = db.get(Task, task_id)
            def notify():
                owner = task.assignee
        """,
    "another name bound": """
        def f(db, task):
            other = db.execute(select(Task)).scalar_one()
            owner = task.assignee
        """,
    "bound by session.get, which fetches no query result": """
        async def f(db, task_id):
            task = await db.get(Task, task_id)
            owner = task.assignee
        """,
    "bound by a helper, the query run in another function": """
        async def load(db, task_id):
            return (await db.execute(select(Task).where(Task.id == task_id))).scalar_one()

        async def f(db, task_id):
            task = await load(db, task_id)
            owner = task.assignee
        """,
}


@pytest.mark.parametrize("source", list(DROPPED.values()), ids=list(DROPPED))
def test_a_read_no_load_can_reach_is_not_a_candidate(source: str) -> None:
    assert "assignee" not in reads(source)


def test_a_trigger_statement_is_kept_without_a_load() -> None:
    # `_ = task.assignee` and a bare `task.assignee` are reported either way.
    assert reads("def f(task):\n    _ = task.assignee\n    task.reporter\n").keys() == {"assignee", "reporter"}


def test_the_scope_of_a_kept_read_is_its_function() -> None:
    found = reads("""
        def first(task):
            owner = task.assignee

        def second(db):
            task = db.scalars(select(Task)).first()
            owner = task.assignee
        """)
    assert found == {"assignee": frozenset({4})}


def test_the_scopes_that_may_fetch_a_query_result() -> None:
    facts = analyse_file("app/service.py", textwrap.dedent("""
        def outer(db):  # 1
            def inner():  # 2
                return db.scalar(select(Task))
            return inner

        def plain(db):  # 6
            return db.get(Task, 1)
        """).lstrip().encode())
    # A function around one that fetches may too; the module only when it fetches itself.
    assert facts.fetch_scopes == frozenset({1, 2})
    module = analyse_file("app/rows.py", b"ROWS = session.scalars(select(Task)).all()\n")
    assert module.fetch_scopes == frozenset({0})
