"""What lets a run scale to thousands of files without changing its answer: planning in
worker processes, and the repository index's model-name gate for the ORM codemods."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from optimize import engine
from optimize.analyzers.facts import FileFacts
from optimize.analyzers.index import RepoIndex
from optimize.codemods.registry import REGISTRY, by_id
from optimize.config import Config, load_config
from optimize.errors import ConfigError
from optimize.workers import map_in_workers
from tests.fixture_app import copy_fixture


def _summary(result: engine.Plan) -> tuple:
    return (
        [
            (o.codemod.ID, [(e.path, e.before, e.after) for e in o.edits], o.changes, o.refusals)
            for o in result.outcomes
        ],
        result.skips,
        result.files_scanned,
        result.files_parsed,
    )


@pytest.fixture
def app(tmp_path: Path) -> Path:
    root = copy_fixture(tmp_path / "app")
    # A file no codemod can parse and one that is not reproduced byte for byte: their skips
    # must come out the same from the workers.
    (root / "broken.py").write_bytes(b"def f(:\n    create_engine('x')\n")
    (root / "old_mac.py").write_bytes(b"from sqlalchemy import create_engine\rengine = create_engine('x')\r")
    return root


def test_workers_give_the_same_plan(app: Path, monkeypatch) -> None:
    codemods = list(REGISTRY)
    alone = engine.plan(app, codemods, Config(), unsafe_allowed=True, jobs=1)
    monkeypatch.setattr(engine, "_PARALLEL_MIN_BYTES", 0)
    answered: list = []

    def recorded(*args, **kwargs):
        answers = map_in_workers(*args, **kwargs)
        answered.extend(answers)
        return answers

    monkeypatch.setattr(engine, "map_in_workers", recorded)
    together = engine.plan(app, codemods, Config(), unsafe_allowed=True, jobs=2)
    assert _summary(together) == _summary(alone)
    assert len(answered) > 5 and None not in answered  # the workers did the planning
    # The example app makes every codemod rewrite something, the helper module included.
    assert all(o.edits for o in alone.outcomes)
    assert any(e.before is None for o in alone.outcomes for e in o.edits)


def test_a_worker_that_dies_leaves_its_files_to_the_caller() -> None:
    # Nothing a worker can unpickle: every worker exits at once.
    assert map_in_workers(b"not a pickle", [("a.py", b"x = 1\n")] * 3, 2) == [None, None, None]


class _ExitsTheWorker:
    """An item whose unpickling ends the worker process that receives it."""

    def __reduce__(self):
        return (os._exit, (3,))


def test_a_worker_that_dies_mid_run_keeps_its_answers_and_leaves_the_rest() -> None:
    """With batches in flight, a worker that dies after answering some keeps those
    answers, leaves the batch it died on and the one sent after it unanswered, and
    nothing waits for it."""
    items = [("a.py", b"x = 1\n")] * 3 + [_ExitsTheWorker()] + [("b.py", b"y = 2\n")] * 3
    answers = map_in_workers(pickle.dumps(None), items, 1, task="facts")
    # The worker takes the items from one end: the three on that side of the one it dies
    # on are answered; it, the one sent after it and the rest are not.
    assert answers[3] is None
    answered = [i for i, a in enumerate(answers) if isinstance(a, FileFacts)]
    assert answered in ([0, 1, 2], [4, 5, 6])
    assert all(a is None for i, a in enumerate(answers) if i not in answered)


def test_a_failure_reading_the_answers_stops_the_worker_and_returns() -> None:
    """When the thread driving a worker fails on an answer, the call still returns: the
    worker is stopped and the items it did not answer are the caller's."""
    import threading

    def failing() -> None:
        raise RuntimeError("progress display gone")

    items = [("a.py", b"x = 1\n" * 20_000)] * 6
    done: list = []
    runner = threading.Thread(
        target=lambda: done.append(map_in_workers(pickle.dumps(None), items, 1, task="facts", on_done=failing))
    )
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "map_in_workers did not return"
    assert len(done[0]) == 6 and done[0].count(None) >= 5


def test_a_script_without_a_main_guard_runs_once(app: Path, tmp_path: Path) -> None:
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        from pathlib import Path
        from optimize import engine
        from optimize.codemods.registry import REGISTRY
        from optimize.config import Config
        engine._PARALLEL_MIN_BYTES = 0
        print("started", flush=True)
        result = engine.plan(Path({str(app)!r}), list(REGISTRY), Config(), jobs=2, unsafe_allowed=True)
        print("edits", sum(len(o.edits) for o in result.outcomes), flush=True)
    """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("started") == 1
    assert "Traceback" not in done.stderr


def test_only_paths_limits_the_files_planned(app: Path) -> None:
    result = engine.plan(app, [by_id()["pool-pre-ping"]], Config(), only_paths=["taskboard/routers/tasks.py"])
    assert not [e for o in result.outcomes for e in o.edits]
    everything = engine.plan(app, [by_id()["pool-pre-ping"]], Config())
    assert [e for o in everything.outcomes for e in o.edits]


def _index(models: str) -> RepoIndex:
    return RepoIndex.build({"app/models.py": models.encode()})


MODELS = """
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

class Base(DeclarativeBase):
    pass

class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
"""


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (b"task = await db.get(Task, 1)\n", True),
        (b"from app import models\nx = models.Task\n", True),
        (b"# Task in a comment is enough to parse\n", True),
        (b"task = await db.get(TaskList, 1)\n", False),  # another word
        (b"x = my_Task\n", False),
        (b"x = d.get(1)\n", False),
        ("t\u00e2che = 1\n".encode(), False),  # non-ASCII text without the name
        ("t\u00e2che = db.get(Task, 1)\n".encode(), True),
        ("t = db.get(\uff34ask, 1)\n".encode(), True),  # fullwidth T: Python reads `Task`
    ],
)
def test_model_name_gate(source: bytes, expected: bool) -> None:
    assert _index(MODELS).may_name_model(source) is expected


@pytest.mark.parametrize("count", [1, 40])  # few models are looked for one by one first
def test_a_file_names_a_model_whatever_the_number_of_models(count: int) -> None:
    names = [f"Model{i}" for i in range(count)]
    models = "from sqlalchemy.orm import DeclarativeBase\n\nclass Base(DeclarativeBase):\n    pass\n" + "".join(
        f"\nclass {name}(Base):\n    __tablename__ = {name.lower()!r}\n" for name in names
    )
    index = _index(models)
    assert sorted(index.models) == sorted(names)
    last = f"x = db.get({names[-1]}, 1)\n".encode()
    for _ in range(2):  # asked again of the same bytes: the same answer
        assert index.may_name_model(last) is True
        assert index.may_name_model(b"x = db.get(Model, 1)\n") is False
        assert index.may_name_model(f"x = my{names[-1]}\n".encode()) is False


def test_answers_about_an_object_are_neither_pickled_nor_given_to_another_object() -> None:
    import pickle

    index = _index(MODELS)
    source = b"x = db.get(Task, 1)\n"
    assert index.may_name_model(source) is True and index._by_object
    assert pickle.loads(pickle.dumps(index))._by_object == {}  # ids mean nothing in a worker
    other = b"x = 1\n"
    index._keep_object_answer("names-model", source, True)
    index._by_object[("names-model", id(other))] = (source, True)  # as if `other` reused an id
    assert index._object_answer("names-model", other) == (False, None)
    assert index.may_name_model(other) is False


def test_no_models_no_orm_codemod_parses() -> None:
    index = _index("x = 1\n")
    source = b"async def f(db, t):\n    q = await db.get(Task, t.task_id)\n    _ = q.owner\n"
    orm = [c for c in REGISTRY if c.NEEDS_MODEL or c.ID == "redundant-lazy-load"]
    assert {c.ID for c in orm} == {"redundant-lazy-load", "in-memory-requery", "get-by-primary-key", "eager-load"}
    assert not [c for c in orm if c.applies_to("app/x.py", source, index)]


@pytest.mark.parametrize("value", ["0", "-1", "true", '"2"'])
def test_jobs_must_be_a_positive_integer(tmp_path: Path, value: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.optimize]\njobs = {value}\n")
    with pytest.raises(ConfigError, match=r"jobs: expected a positive integer"):
        load_config(tmp_path)


def test_jobs_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.optimize]\njobs = 3\n")
    assert load_config(tmp_path).jobs == 3


def _processes_with(marker: str) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_during_planning_stops_the_workers(tmp_path: Path) -> None:
    import os
    import shutil
    import signal
    import time
    import uuid

    import sqlalchemy

    from tests.pausing_git import default_sigint

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(sqlalchemy.__file__).parent, corpus / "sqlalchemy",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    marker = f"OPTIMIZE_TEST_RUN={uuid.uuid4()}"
    env = {**os.environ, marker.split("=")[0]: marker.split("=")[1]}
    process = subprocess.Popen(
        [sys.executable, "-m", "optimize.cli", "scan", str(corpus), "--no-cache"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=default_sigint,
    )
    deadline = time.monotonic() + 60
    # The run and a worker (on two cores the run reads files too: one worker beside it).
    while len(_processes_with(marker)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_processes_with(marker)) >= 2, "no workers started"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.strip() == "interrupted: nothing was changed"
    time.sleep(0.5)
    assert _processes_with(marker) == []


# Files whose bytes hold a codemod's trigger words but whose facts hold no candidate: the
# codemod must not parse them (and files with a candidate, in the shapes apps write, must).
FACTS_SCREEN = [
    ("pool-pre-ping", '"""Call create_engine(url) to get an engine."""\n', False),
    ("pool-pre-ping", "import sqlalchemy as sa\nengine = sa.create_engine(URL)\n", True),
    ("pool-pre-ping", "from sqlmodel import create_engine as make\nengine = make(URL)\n", True),
    ("pool-pre-ping", "from .db import create_engine\nengine = create_engine(URL)\n", False),  # not SQLAlchemy's
    ("pool-pre-ping", "def create_engine(url):\n    return url\nengine = create_engine(URL)\n", False),  # the module's own
    ("pool-pre-ping", "import sqlalchemy as sa\ncreate_engine = sa.create_engine\nengine = create_engine(URL)\n", False),  # read as the local name
    ("pool-overflow", "# max_overflow is tuned elsewhere\nx = 1\n", False),
    ("pool-overflow", "class Settings:\n    DB_MAX_OVERFLOW = 5\n", True),
    ("in-memory-requery", "def f(db, t):\n    self.x = t.name\n    return db.get(Task, 1)\n", False),
    ("in-memory-requery", "def f(db, t, p):\n    t.project_id = p.id\n    return db.get(Task, t.project_id)\n", True),
    ("get-by-primary-key", "def f(db, x):\n    return db.scalars(select(Task).where(Task.title != x)).first()\n", False),
    ("get-by-primary-key", "def f(db, x):\n    return db.scalars(select(Task).where(Task.id == x)).first()\n", True),
    ("get-by-primary-key", "def f(db, x):\n    return db.query(Task).get(x)\n", True),
    ("get-by-primary-key", "def f(db, x):\n    return db.query(Task).options(o).get(x)\n", True),
    ("get-by-primary-key", "def f(db, x):\n    db.query(Task).all()\n    return cache(x).get(x)\n", False),
    ("eager-load", "def f(db, rows, d):\n    return [d.get(r, Task) for r in rows]\n", False),
    ("eager-load", "def f(db, rows):\n    return [db.get(Task, r.task_id) for r in rows]\n", False),  # rows of no query
    ("eager-load", "def f(db):\n    rows = db.scalars(select(Task))\n    return [db.get(Task, r.task_id) for r in rows]\n", True),
    ("dangling-task", "async def f(job):\n    task = asyncio.create_task(job())\n    await task\n", False),
    ("dangling-task", "async def f(tasks, job):\n    tasks.add(asyncio.ensure_future(job()))\n", False),
    ("dangling-task", "import asyncio\nasync def f(job):\n    asyncio.create_task(job())\n", True),
    ("dangling-task", "from asyncio import create_task as spawn\nasync def f(job):\n    spawn(job())\n", True),
    ("dangling-task", "def f(job):\n    loop = asyncio.get_running_loop()\n    loop.call_later(1, lambda: loop.create_task(job()))\n", True),
    ("dangling-task", "def f(job):\n    asyncio.get_running_loop().create_task(job())\n", True),
    ("dangling-task", "def f(loop, job):\n    loop.call_later(1, lambda: loop.create_task(job()))\n", False),  # not known to be a loop
    ("dangling-task", "async def f(manager, job):\n    manager.create_task(job())\n", False),  # a task manager's own method
    ("debug-middleware", "def f(app):\n    app.add_middleware(CORSMiddleware)\n", False),
    ("debug-middleware", "def f(app):\n    app.add_middleware(mw.RequestTimingMiddleware)\n", True),
    ("debug-middleware", "from .mw import Profiler as P\ndef f(app):\n    app.add_middleware(P)\n", False),  # spelled P: no pattern matches it
]


@pytest.mark.parametrize(("codemod", "source", "parsed"), FACTS_SCREEN)
def test_codemods_parse_only_files_whose_facts_hold_a_candidate(codemod: str, source: str, parsed: bool) -> None:
    files = {"app/__init__.py": b"", "app/models.py": MODELS.encode(), "app/x.py": source.encode()}
    index = RepoIndex.build(files)
    assert by_id()[codemod].applies_to("app/x.py", source.encode(), index) is parsed


def test_work_of_its_own_runs_while_the_workers_read() -> None:
    """``first`` runs after the workers start and before this process takes items: the
    workers answer while it runs (`optimize.reading` imports the codemods then)."""
    import threading
    import time

    answered = threading.Event()
    seen_during_first: list[bool] = []

    def first() -> None:
        seen_during_first.append(answered.wait(60))  # a worker answers while this runs

    items = [(f"m{i}.py", b"x = 1\n" * 2_000) for i in range(8)]
    answers = map_in_workers(
        pickle.dumps(None), items, 2, task="facts", on_done=answered.set, here=_facts,
        batch_bytes=1, first=first,
    )
    assert seen_during_first == [True]
    assert all(isinstance(a, FileFacts) for a in answers)


def _facts(item):
    from optimize.analyzers.index import analyse_file

    return analyse_file(*item)


def test_an_error_in_the_work_of_its_own_stops_the_workers() -> None:
    def first() -> None:
        raise KeyboardInterrupt

    items = [(f"m{i}.py", b"x = 1\n" * 2_000) for i in range(4)]
    with pytest.raises(KeyboardInterrupt):
        map_in_workers(pickle.dumps(None), items, 2, task="facts", here=_facts, first=first)


@pytest.mark.parametrize("size", [10, 100_000])  # 400 kB: read in workers only with work meanwhile
def test_a_reading_calls_its_work_once_and_reads_the_same_facts(tmp_path: Path, size: int) -> None:
    """Whether or not workers read the facts (a small repository is read here), the
    work given to do meanwhile runs once, and the facts are those `plan` reads alone."""
    from optimize.reading import Reading

    root = tmp_path / "r"
    root.mkdir()
    for i in range(4):
        (root / f"m{i}.py").write_text(f"def f{i}(db):\n    return db.get(Task, {i})\n" + "x = 1\n" * (size // 6))
    config = load_config(root)
    calls: list[int] = []
    reading = Reading.discover(root, config)
    facts = reading.read_facts(None, 2, meanwhile=lambda: calls.append(1))
    assert calls == [1]
    assert bool(facts) == (size > 10)  # a small repository's are read with the index
    engine.plan(root, [], config, reading=reading, jobs=2)
    assert reading.read_facts(None, 2) is facts  # read once
    alone: dict = {}
    engine.plan(root, [], config, index_cache=alone, jobs=1)
    assert facts == alone


def test_a_reading_is_used_only_for_the_arguments_it_was_made_with(tmp_path: Path) -> None:
    from optimize.reading import Reading

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    reading = Reading.discover(tmp_path / "a", load_config(tmp_path / "a"))
    with pytest.raises(ValueError, match="another root"):
        engine.plan(tmp_path / "b", [], load_config(tmp_path / "b"), reading=reading)
    with pytest.raises(ValueError, match="another root"):
        engine.plan(tmp_path / "a", [], load_config(tmp_path / "a"), reading=reading, tracked_only=True)


def test_facts_read_before_are_handed_to_the_cache_a_later_caller_keeps(tmp_path: Path) -> None:
    """`plan(index_cache=...)` fills the caller's cache (an interactive review plans again
    with it) with the facts the reading it is given read into another dict, without
    reading them again."""
    from optimize.reading import Reading

    root = tmp_path / "r"
    root.mkdir()
    for i in range(4):
        (root / f"m{i}.py").write_text(f"def f{i}(db):\n    return db.get(Task, {i})\n" + "x = 1\n" * 20_000)
    reading = Reading.discover(root, load_config(root))
    first = reading.read_facts(None, 2, meanwhile=lambda: None)  # read by workers
    assert len(first) == 4
    kept: dict = {"other": object()}
    engine.plan(root, [], load_config(root), reading=reading, index_cache=kept, jobs=2)
    assert all(kept[key] is found for key, found in first.items()) and "other" in kept  # not read again
    assert reading.read_facts(None, 2) is kept
