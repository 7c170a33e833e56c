"""`optimize.spans`: codemods that say where they edit see a reduced module, and the plan
is the same byte for byte as with the whole module."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimize import engine, spans
from optimize.analyzers.checks.base import Check, Report
from optimize.analyzers.checks.registry import CHECKS
from optimize.codemods.base import Rewrite
from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from tests.examples import EXAMPLE_PATH, Case, dedent, index_for

SOURCE = b'''import os


@decorated(os.sep)
def first(a,
          b):
    """Doc."""
    return a + b


class Holder:
    size = 5

    def kept(self):
        return make(1)

    def other(self):
        return 2


def single(): return 3
'''


def test_definitions_without_a_kept_line_keep_their_header_and_lose_their_body() -> None:
    reduced = spans.reduce(SOURCE, frozenset({15}))
    assert reduced is not None
    lines = reduced.source.split(b"\n")
    assert len(lines) == len(SOURCE.split(b"\n"))  # every kept line at its own number
    assert lines[3:7] == [b"@decorated(os.sep)", b"def first(a,", b"          b):", b"    ..."]
    assert lines[7] == b"" and lines[11] == b"    size = 5"
    assert lines[14] == b"        return make(1)"  # the method holding the line is kept
    assert lines[16:18] == [b"", b""]  # a method the class body does not name goes whole
    assert lines[20] == b"def single(): return 3"  # a body on the header's line stays
    compile(reduced.source, "reduced.py", "exec")
    assert reduced.emptied == frozenset({7, 8, 17, 18})


@pytest.mark.parametrize(
    "source",
    [
        b"def f():\n    global engine\n    engine = 1\n\n\ndef g():\n    return create_engine(u)\n",
        b"x = 1\r\ndef f():\r\n    return 2\r\n",
        b"def f(:\n",
    ],
    ids=["global", "crlf", "syntax"],
)
def test_nothing_is_reduced_when_a_body_may_bind_a_module_name_or_lines_are_not_plain(source: bytes) -> None:
    assert spans.reduce(source, frozenset({7})) is None


def test_a_definition_mentioning_a_splatted_name_is_kept() -> None:
    source = b"OPTS = {}\n\n\ndef tweak():\n    OPTS['a'] = 1\n\n\ndef make():\n    return create_engine(u, **OPTS)\n\n\ndef other():\n    return 1\n"
    reduced = spans.reduce(source, frozenset({9}))
    assert reduced is not None and reduced.emptied == frozenset({13})


@pytest.mark.parametrize(
    ("binding", "empties_other"),
    [
        ("def make(u, **kw):\n", True),  # a parameter: `kw` in `other` is another variable
        ("def make(u):\n    kw = {}\n", True),  # assigned in the function making the call
        ("def make(u):\n    from opts import kw\n", True),
        ("def make(u):\n    global kw\n    kw = {}\n", False),  # the module's `kw`
        ("def make(u):\n    def inner():\n        kw = {}\n", False),  # a local of `inner` only
        ("def make(u):\n    [kw for kw in u]\n", False),  # a comprehension's own variable
        ("async def make(u, *, kw):\n", True),
    ],
    ids=["parameter", "assigned", "imported", "global", "nested-scope", "comprehension", "async-keyword-only"],
)
def test_a_local_splatted_name_does_not_keep_other_definitions(binding: str, empties_other: bool) -> None:
    other = "def other(kw):\n    kw['pool_pre_ping'] = False\n    return kw\n\n\n"
    source = (other + binding + "    return create_engine(u, **kw)\n").encode()
    call = source.split(b"\n").index(b"    return create_engine(u, **kw)") + 1
    reduced = spans.reduce(source, frozenset({call}))
    assert (reduced.emptied if reduced is not None else set()) == ({2, 3} if empties_other else set())


CLASS_SOURCE = b'''from sqlalchemy import create_engine


class Database:
    timeout = 5

    @property
    def size(self):
        return 5

    @size.setter
    def size(self, value):
        self._size = value

    def __init__(self, url, options=DEFAULTS):
        self.engine = create_engine(url)

    @staticmethod
    def helper():
        return 1

    count = helper()
'''


def test_a_method_goes_whole_unless_the_class_body_names_it() -> None:
    keep = CLASS_SOURCE.split(b"\n").index(b"        self.engine = create_engine(url)") + 1
    reduced = spans.reduce(CLASS_SOURCE, frozenset({keep}))
    assert reduced is not None
    kept = reduced.source.decode()
    assert "def __init__(self, url, options=DEFAULTS):" in kept and "timeout = 5" in kept
    # `size` is read by `@size.setter` and `helper` by `count = helper()`: their headers stay.
    assert kept.count("def size(self") == 2 and "def helper():" in kept and "count = helper()" in kept
    assert "return 5" not in kept and "return 1" not in kept
    compile(reduced.source, "reduced.py", "exec")


def test_a_method_the_class_does_not_name_goes_whole_with_its_decorators() -> None:
    source = CLASS_SOURCE.replace(b"    count = helper()\n", b"")
    keep = source.split(b"\n").index(b"        self.engine = create_engine(url)") + 1
    reduced = spans.reduce(source, frozenset({keep}))
    assert reduced is not None and b"helper" not in reduced.source and b"staticmethod" not in reduced.source
    assert reduced.source.count(b"\n") == source.count(b"\n")  # every line at its own number
    compile(reduced.source, "reduced.py", "exec")


def test_a_candidate_on_the_class_line_keeps_its_methods_headers() -> None:
    # Nothing in the body holds a kept line: dropping every method would leave no body.
    source = b"@register(create_engine(url))\nclass Holder:\n    def a(self):\n        return 1\n\n    def b(self):\n        return 2\n"
    reduced = spans.reduce(source, frozenset({1}))
    assert reduced is not None and reduced.source.count(b"def ") == 2
    compile(reduced.source, "reduced.py", "exec")


def test_splice_copies_one_hunk_and_refuses_one_that_reaches_an_emptied_line() -> None:
    reduced = spans.reduce(SOURCE, frozenset({15}))
    out = reduced.source.replace(b"make(1)", b"make(1,\n            2)")
    spliced, emptied = spans.splice(SOURCE, reduced.source, out, reduced.emptied)
    assert spliced == SOURCE.replace(b"make(1)", b"make(1,\n            2)")
    assert emptied == frozenset({7, 8, 18, 19})  # after the hunk: one line further down
    touching = reduced.source.replace(b"    ...\n", b"    pass\n", 1)
    assert spans.splice(SOURCE, reduced.source, touching, reduced.emptied) is None


def test_splice_copies_each_hunk_and_the_emptied_bodies_between_them() -> None:
    reduced = spans.reduce(SOURCE, frozenset({15}))
    # An import added at the top and the call rewritten, with `first`'s emptied body between.
    out = reduced.source.replace(b"import os\n", b"import os\nimport sys\n").replace(b"make(1)", b"make(sys)")
    spliced, emptied = spans.splice(SOURCE, reduced.source, out, reduced.emptied)
    assert spliced == SOURCE.replace(b"import os\n", b"import os\nimport sys\n").replace(b"make(1)", b"make(sys)")
    assert emptied == frozenset({8, 9, 18, 19})  # every emptied line one further down
    removed = reduced.source.replace(b"import os\n", b"").replace(b"(os.sep)", b"(sep)")
    spliced, emptied = spans.splice(SOURCE, reduced.source, removed, reduced.emptied)
    assert spliced == SOURCE.replace(b"import os\n", b"").replace(b"(os.sep)", b"(sep)")
    assert emptied == frozenset({6, 7, 16, 17})


def test_splice_refuses_to_drop_an_import_the_file_still_reads() -> None:
    # `os` judged unused in the reduced module: `first`'s emptied body reads it.
    source = SOURCE.replace(b"@decorated(os.sep)\n", b"").replace(b"    return a + b", b"    return os.path.join(a, b)")
    reduced = spans.reduce(source, frozenset({13}))
    assert b"os.path" not in reduced.source
    assert spans.splice(source, reduced.source, reduced.source.replace(b"import os\n", b""), reduced.emptied) is None
    # Read in a string annotation of the emptied body: `ast` sees text, Python a name.
    annotated = SOURCE.replace(b"@decorated(os.sep)\n", b"").replace(b"    return a + b", b'    joined: "os.PathLike" = a\n    return joined')
    reduced = spans.reduce(annotated, frozenset({14}))
    assert b"PathLike" not in reduced.source
    assert spans.splice(annotated, reduced.source, reduced.source.replace(b"import os\n", b""), reduced.emptied) is None
    # A name only the rewritten lines read goes with them.
    unused = source.replace(b"import os\n", b"import os\nimport sys\n").replace(b"make(1)", b"make(sys)")
    reduced = spans.reduce(unused, frozenset({14}))
    out = reduced.source.replace(b"import sys\n", b"").replace(b"make(sys)", b"make(1)")
    assert spans.splice(unused, reduced.source, out, reduced.emptied)[0] == source


def test_splice_refuses_a_hunk_beside_an_emptied_body_wherever_it_is() -> None:
    reduced = spans.reduce(SOURCE, frozenset({15}))
    lines = reduced.source.split(b"\n")
    assert lines[6:8] == [b"    ...", b""]  # `first`'s emptied body: lines 7 and 8
    for at in (7, 8):  # right after `...`, right after the emptied body
        out = b"\n".join([*lines[:at], b"x = 1", *lines[at:]])
        assert spans.splice(SOURCE, reduced.source, out, reduced.emptied) is None


LOCAL = [c for c in REGISTRY if c.candidate_lines.__func__ is not engine.Codemod.candidate_lines.__func__]
TREE_CHECKS = [c for c in CHECKS if isinstance(c, type) and issubclass(c, Check)]
PADDING = (
    "\n\ndef unrelated_helper(value):\n    return value * 2\n\n\n"
    "class UnrelatedService:\n    def run(self, job):\n        return job.start()\n"
)
CASES = [Case(c, e) for c in LOCAL for e in c.EXAMPLES]


def _padded(code: str) -> str:
    """The example with unrelated definitions before its first one (between the imports
    and the code, so that an import added and a call rewritten are two hunks) and after."""
    lines = code.split("\n")
    first = next((n for n, line in enumerate(lines) if line.startswith(("def ", "async def ", "class ", "@"))), len(lines))
    return "\n".join([*lines[:first], PADDING.strip("\n"), "", "", *lines[first:]]) + PADDING


def _plan(case: Case, source: str, reduce: bool, monkeypatch, codemods=None, black=False, checks=()) -> engine._FilePlan:
    monkeypatch.setattr(engine, "REDUCE_MODULES", reduce)
    monkeypatch.setattr(engine, "DECIDE_WITHOUT_TREE", False)  # both plans read the tree
    index = index_for(case.example, source)
    config = Config(options={case.codemod.ID: dict(case.example.options)} if case.example.options else {}, uses_black=black)
    codemods = [case.codemod] if codemods is None else codemods
    run = engine._Run(Path("/nonexistent"), codemods, config, index, True, frozenset(index.facts), None, list(checks))
    return engine._plan_file(run, EXAMPLE_PATH, source.encode())


def test_the_codemods_that_say_where_they_edit_are_known() -> None:
    assert {c.ID for c in LOCAL} == {
        "pool-pre-ping", "pool-overflow", "fire-and-forget-broadcast", "dangling-task",
        "redundant-lazy-load", "get-by-primary-key", "in-memory-requery", "eager-load",
    }
    assert {c.ID for c in LOCAL_CHECKS} == {"n-plus-one"}


LOCAL_CHECKS = [c for c in TREE_CHECKS if c.candidate_lines.__func__ is not engine.Codemod.candidate_lines.__func__]
CHECK_CASES = [Case(c, e) for c in LOCAL_CHECKS for e in c.EXAMPLES]


@pytest.mark.parametrize("case", CHECK_CASES, ids=[c.id for c in CHECK_CASES])
def test_a_check_reads_the_same_in_a_reduced_module(case: Case, monkeypatch) -> None:
    """The check alone, then with every codemod that reduces (they share its tree)."""
    source = _padded(dedent(case.example.code))
    for codemods in ([], LOCAL):
        whole = _plan(case, source, False, monkeypatch, codemods=codemods, checks=[case.codemod])
        part = _plan(case, source, True, monkeypatch, codemods=codemods, checks=[case.codemod])
        assert part.findings == whole.findings and part.steps == whole.steps and part.skip == whole.skip
        assert whole.findings or not isinstance(case.example, Report)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_reduced_module_gives_the_same_plan(case: Case, monkeypatch) -> None:
    example = case.example
    source = _padded(dedent(getattr(example, "before", None) or example.code))
    reduced: list = []
    real = spans.reduce
    monkeypatch.setattr(spans, "reduce", lambda s, k: reduced.append(real(s, k)) or reduced[-1])
    whole = _plan(case, source, False, monkeypatch)
    part = _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps and part.skip == whole.skip
    assert any(r is not None for r in reduced) or not case.codemod.candidate_lines(EXAMPLE_PATH, index_for(example, source))


def test_a_dict_changed_in_another_function_is_still_seen(monkeypatch) -> None:
    source = dedent('''
        from sqlalchemy import create_engine

        ENGINE_OPTIONS = {"pool_size": 5}


        def tweak():
            ENGINE_OPTIONS["pool_pre_ping"] = False


        def make(url):
            return create_engine(url, **ENGINE_OPTIONS)


        def unrelated():
            return 1
    ''')
    from optimize.codemods.base import Keep

    case = Case(next(c for c in REGISTRY if c.ID == "pool-pre-ping"), Keep(source))
    whole, part = _plan(case, source, False, monkeypatch), _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps
    assert "changed or passed on" in whole.steps[0].refusals[0].reason


def test_a_local_options_dict_gives_the_same_plan_with_other_functions_emptied(monkeypatch) -> None:
    source = dedent('''
        from sqlalchemy import create_engine


        def tweak(kw):
            kw["pool_pre_ping"] = False
            return kw


        def make(url, **kw):
            kw.setdefault("pool_size", 5)
            return create_engine(url, **kw)


        def build(url):
            kw = {"pool_size": 5}
            return create_engine(url, **kw)
    ''')
    from optimize.codemods.base import Keep

    case = Case(next(c for c in REGISTRY if c.ID == "pool-pre-ping"), Keep(source))
    reduced: list = []
    real = spans.reduce
    monkeypatch.setattr(spans, "reduce", lambda s, k: reduced.append(real(s, k)) or reduced[-1])
    whole, part = _plan(case, source, False, monkeypatch), _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps
    assert any(r is not None and r.emptied for r in reduced)  # `tweak` was not read


@pytest.mark.parametrize("codemod", ["pool-pre-ping", "pool-overflow"])
def test_an_engine_made_in_a_method_gives_the_same_plan_with_its_siblings_gone(codemod: str, monkeypatch) -> None:
    source = CLASS_SOURCE.decode().replace("create_engine(url)", "create_engine(url, max_overflow=5)")
    from optimize.codemods.base import Keep

    case = Case(next(c for c in REGISTRY if c.ID == codemod), Keep(source))
    reduced: list = []
    real = spans.reduce
    monkeypatch.setattr(spans, "reduce", lambda s, k: reduced.append(real(s, k)) or reduced[-1])
    whole, part = _plan(case, source, False, monkeypatch), _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps and part.skip == whole.skip
    assert whole.steps[0] is not None and whole.steps[0].edit is not None  # a rewrite, not a refusal
    assert any(r is not None and b"return 1" not in r.source for r in reduced)


def test_a_rewrite_spliced_nowhere_falls_back_to_the_whole_module_and_its_errors(monkeypatch) -> None:
    # When the rewrite cannot be copied back, the codemod runs on the whole module; a
    # function too deep for LibCST there is a reported skip, never a traceback.
    deep = "def deep():\n    return " + "lambda: " * 2000 + "1\n"
    source = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n\n\n" + deep
    from optimize.codemods.base import Keep

    case = Case(next(c for c in REGISTRY if c.ID == "pool-pre-ping"), Keep(source))
    monkeypatch.setattr(spans, "splice", lambda *args: None)
    plan = _plan(case, source, True, monkeypatch)
    assert plan.skip is not None and "too deeply nested" in plan.skip[1].reason
    shallow = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n\n\ndef other():\n    return 1\n"
    case = Case(case.codemod, Keep(shallow))
    assert _plan(case, shallow, True, monkeypatch).steps == _plan(case, shallow, False, monkeypatch).steps


def test_a_loop_named_in_another_function_is_kept_for_dangling_task(monkeypatch) -> None:
    # `loop` is an event loop by the assignment in `setup`: the reduced module keeps that
    # function, so `loop.create_task` in `kick` is still seen as a spawn and rewritten.
    source = dedent('''
        import asyncio


        def setup():
            loop = asyncio.get_event_loop()
            return loop


        def unrelated():
            return 1


        def kick(loop, job):
            loop.create_task(job())
    ''')
    from optimize.codemods.base import Keep

    reduced: list = []
    real = spans.reduce
    monkeypatch.setattr(spans, "reduce", lambda s, k: reduced.append(real(s, k)) or reduced[-1])
    case = Case(next(c for c in REGISTRY if c.ID == "dangling-task"), Keep(source))
    whole, part = _plan(case, source, False, monkeypatch), _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps and whole.steps[0].changes
    assert reduced[-1] is not None and reduced[-1].emptied == frozenset({10})  # `unrelated` alone


POOLS = [c for c in LOCAL if c.ID in {"pool-pre-ping", "pool-overflow"}]


@pytest.mark.parametrize("black", [False, True], ids=["plain", "black"])
@pytest.mark.parametrize("case", [c for c in CASES if c.codemod in POOLS], ids=[c.id for c in CASES if c.codemod in POOLS])
def test_codemods_chained_on_a_reduced_module_give_the_same_plan(case: Case, black: bool, monkeypatch) -> None:
    # The second codemod reads the first one's output: reduced again when the rewrite was
    # spliced in unchanged, the whole module when black reformatted it.
    source = _padded(dedent(getattr(case.example, "before", None) or case.example.code))
    whole = _plan(case, source, False, monkeypatch, POOLS, black)
    part = _plan(case, source, True, monkeypatch, POOLS, black)
    assert part.steps == whole.steps and part.skip == whole.skip


@pytest.mark.parametrize("clean", [True, False], ids=["black-clean", "not black-clean"])
def test_a_file_two_codemods_rewrite_is_judged_by_black_once_as_committed(clean: bool, monkeypatch) -> None:
    """Whether the file was black-clean is asked of it as committed, once, however many
    codemods rewrite it; each rewrite is formatted when it was, none when it was not."""
    import black

    from optimize import formatting

    case = next(c for c in CASES if c.id == "pool-overflow:rewrite:engine keyword literal")
    formatted = black.format_str(dedent(case.example.before), mode=black.Mode())
    source = formatted if clean else formatted.replace("pool_size=10", "pool_size = 10")  # black would fix it
    asked: list[bytes] = []
    monkeypatch.setattr(engine, "black_clean", lambda root, data: asked.append(data) or formatting.black_clean(root, data))
    plan = _plan(case, source, False, monkeypatch, POOLS, black=True)
    assert [bool(step.edit) for step in plan.steps] == [True, True]
    assert asked == [source.encode()]
    after = plan.steps[-1].edit.after.decode()
    assert "pool_pre_ping=True" in after and "max_overflow=20" in after
    assert (black.format_str(after, mode=black.Mode()) == after) is clean


def test_an_import_another_function_still_reads_stays_when_the_rewrite_drops_its_use(monkeypatch) -> None:
    """`get-by-primary-key` drops `select` with the query it replaces; in the reduced module
    nothing else reads it, but the emptied `pending` does: the whole module decides."""
    codemod = next(c for c in REGISTRY if c.ID == "get-by-primary-key")
    example = next(e for e in codemod.EXAMPLES if isinstance(e, Rewrite) and "select(" in e.before and "import select" in e.before)
    pending = "\n\ndef pending(db):\n    return db.scalars(select(Task).where(Task.done.is_(False))).all()\n"
    case = Case(codemod, Rewrite(dedent(example.before) + pending, dedent(example.after) + pending, example.name, files=example.files))
    source = case.example.before
    whole = _plan(case, source, False, monkeypatch)
    part = _plan(case, source, True, monkeypatch)
    assert part.steps == whole.steps
    edit = part.steps[0].edit
    assert edit is not None and b"db.get(" in edit.after
    assert "select" in spans._imported_names(edit.after)
    # Without `pending` the import goes, reduced or not.
    alone = Case(codemod, example)
    assert _plan(alone, dedent(example.before), True, monkeypatch).steps == _plan(alone, dedent(example.before), False, monkeypatch).steps
