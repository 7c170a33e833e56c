"""Inputs at the edges: a run started inside a package, files nested deeper than Python's
recursion limit, configuration values out of range. Each ends in a result or one clear
line, never a hang, a traceback or a value written into code unchecked."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest

from optimize import engine, workers
from optimize.analyzers.index import RepoIndex
from optimize.codemods.pool_pre_ping import PoolPrePing
from optimize.codemods.registry import REGISTRY
from optimize.config import Config
from optimize.files import Skip
from tests.gitrepo import git, make_repo, run_cli, snapshot

ENGINE = "from sqlalchemy import create_engine\nengine = create_engine(url)\n"
DROPPED_TASK = "import asyncio\n\n\nasync def {name}(coro):\n    asyncio.create_task(coro)\n"

# --- a run started inside a package directory --------------------------------------------

# The CLI in a fresh interpreter, so that a run that never ends fails on the timeout
# instead of hanging the test session.
_CLI = [sys.executable, "-c", "from optimize.cli import main; main()"]
_TIMEOUT = 60


def _cli_in(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    done = subprocess.run([*_CLI, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=_TIMEOUT, check=False)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _package_repo(root: Path) -> Path:
    return make_repo(
        root,
        {
            "app/__init__.py": "",
            "app/ws.py": DROPPED_TASK.format(name="notify"),
            "app/sub/__init__.py": "",
            "app/sub/jobs.py": DROPPED_TASK.format(name="start"),
        },
    )


@pytest.mark.parametrize(
    "target, from_inside, helper",
    [
        ("app", True, "app/background_tasks.py"),
        ("app", False, "app/background_tasks.py"),
        ("app/sub", True, "app/sub/background_tasks.py"),
    ],
    ids=["cd-app", "path-app", "cd-app-sub"],
)
def test_a_run_inside_a_package_ends_and_its_helper_import_resolves(tmp_path, target, from_inside, helper) -> None:
    """The target directory holds `__init__.py`: its import name lies outside the run, so
    the helper goes in the target directory and is imported relatively."""
    repo = _package_repo(tmp_path / "r")
    cwd, args = (repo / target, []) if from_inside else (tmp_path, [str(repo / target)])
    before = snapshot(repo)
    assert "dangling-task" in _cli_in(cwd, "scan", *args).stdout
    dry = _cli_in(cwd, "apply", "--dry-run", *args).stdout
    assert "+from .background_tasks import spawn_background" in dry
    assert snapshot(repo) == before
    _cli_in(cwd, "apply", *args)
    assert (repo / helper).is_file()
    assert git(repo, "status", "--porcelain") == ""
    module = target.replace("/", ".")
    rewritten = "app.sub.jobs" if target == "app/sub" else "app.ws"
    check = (
        f"import importlib; m = importlib.import_module({rewritten!r}); "
        f"h = importlib.import_module({module!r} + '.background_tasks'); "
        "assert m.spawn_background is h.spawn_background"
    )
    done = subprocess.run([sys.executable, "-c", check], cwd=repo, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr


# --- files nested deeper than the recursion limit ---------------------------------------


def _elif_chain(n: int = 900) -> str:
    branches = "".join(f"elif x == {i}:\n    y = {i}\n" for i in range(1, n))
    return f"x = 0\nif x == 0:\n    y = 0\n{branches}"


def _chained_calls(n: int = 900) -> str:
    return "y = x" + ".a()" * n + "\n"


def _nested_lambdas(n: int = 2000) -> str:
    return "f = " + "lambda: " * n + "1\n"


SHAPES = {"elif-chain": _elif_chain, "chained-calls": _chained_calls, "nested-lambdas": _nested_lambdas}
TOO_DEEP = "too deeply nested to analyse: skipped"


def _in_function(code: str) -> str:
    # The engine call in the same function: the codemods must read the deep code too (a
    # function without a candidate is not parsed by them at all, see `optimize.spans`).
    return "def deep(x):\n    engine = create_engine(URL)\n" + "".join(f"    {line}\n" for line in code.splitlines())


def _deep_file(shape: str, placement: str) -> str:
    code = SHAPES[shape]()
    if placement == "in-function":
        code = _in_function(code)
    # A candidate (an engine call) and trigger words, so that codemods parse the file too.
    source = "import asyncio\nfrom sqlalchemy import create_engine\n\nengine = create_engine(URL)\n" + code
    compile(source, "deep.py", "exec", dont_inherit=True)  # valid Python: CPython compiles it
    return source


def _deep_repo(root: Path, deep: str, **extra: str) -> Path:
    files = {"app/__init__.py": "", "app/db.py": ENGINE, "app/deep.py": deep, **extra}
    return make_repo(root, files)


def _assert_deep_file_skipped_and_the_rest_rewritten(repo: Path) -> None:
    before = snapshot(repo)
    for command in (["scan"], ["apply", "--dry-run"]):
        result = run_cli(*command, str(repo))
        output = " ".join(result.output.split())
        assert result.exit_code == 0, result.output
        assert "internal error" not in output and "Traceback" not in output
        assert f"app/deep.py: {TOO_DEEP}" in output, output
        assert "pool_pre_ping=True" in output
    assert snapshot(repo) == before
    result = run_cli("apply", str(repo))
    output = " ".join(result.output.split())
    assert result.exit_code == 0, result.output
    assert "internal error" not in output and f"app/deep.py: {TOO_DEEP}" in output
    assert "pool_pre_ping=True" in (repo / "app/db.py").read_text()
    assert (repo / "app/deep.py").read_bytes() == before["files"]["app/deep.py"]
    assert "perf(pool-pre-ping)" in git(repo, "log", "--format=%s")
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.parametrize("placement", ["module-level", "in-function"])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_deeply_nested_file_is_skipped_and_the_rest_rewritten(tmp_path, shape, placement) -> None:
    deep = _deep_file(shape, placement)
    repo = _deep_repo(tmp_path / "r", deep, **{"pyproject.toml": "[tool.optimize]\njobs = 1\n"})
    _assert_deep_file_skipped_and_the_rest_rewritten(repo)




@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_a_deeply_nested_file_is_skipped_by_the_worker_processes(tmp_path, monkeypatch, shape) -> None:
    """Every file is answered by a worker: planning one in the caller fails the run."""
    def not_here(run, path, *args):
        raise AssertionError(f"{path} was planned by the caller, not by a worker")

    monkeypatch.setattr(engine, "_plan_file", not_here)
    monkeypatch.setattr(engine, "PLAN_HERE", False)  # this process plans none beside them
    # Any amount of source goes to the workers (the threshold is read in this process).
    monkeypatch.setattr(engine, "_PARALLEL_MIN_BYTES", 1)
    files = {"pyproject.toml": "[tool.optimize]\njobs = 2\n", "app/db2.py": ENGINE}  # two items: workers start
    repo = _deep_repo(tmp_path / "r", _deep_file(shape, "module-level"), **files)
    _assert_deep_file_skipped_and_the_rest_rewritten(repo)


def _runs_out(*args, **kwargs):
    """What LibCST's position provider does when the recursion limit is hit inside it:
    a KeyError raised while handling the RecursionError."""
    try:
        raise RecursionError("maximum recursion depth exceeded")
    except RecursionError:
        raise KeyError("node")  # chained implicitly, as LibCST's is


def _too_deep_to_parse(source):
    raise RecursionError("maximum recursion depth exceeded")


@pytest.mark.parametrize("where", ["parse", "metadata-or-transform"])
def test_recursion_in_libcst_skips_the_file_whichever_step_runs_out(tmp_path, monkeypatch, where) -> None:
    if where == "parse":
        monkeypatch.setattr(engine.cst, "parse_module", _too_deep_to_parse)
    else:
        monkeypatch.setattr(engine, "run_codemod", _runs_out)
    source = ENGINE.encode()
    run = engine._Run(
        root=tmp_path, codemods=[PoolPrePing], config=Config(), index=RepoIndex.build({"db.py": source}),
        unsafe_allowed=True, known=frozenset({"db.py"}),
    )
    planned = engine._plan_file(run, "db.py", source)
    assert planned.skip == (0, Skip("db.py", TOO_DEEP))
    assert planned.steps == [None]


def _frames(*payloads: bytes) -> BytesIO:
    return BytesIO(b"".join(workers._HEADER.pack(len(p)) + p for p in payloads))


def test_a_worker_answers_none_for_an_item_it_cannot_plan_and_carries_on(monkeypatch) -> None:
    """The caller plans that item itself; the worker stays for the next one."""
    def plan_one(shared, item):
        if item == "deep":
            raise RecursionError("maximum recursion depth exceeded")
        return (shared, item)

    dump = lambda value: pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    requests, answers = _frames(dump("run"), dump(["deep"]), dump(["flat", "deep", "flat"])), BytesIO()
    monkeypatch.setattr(workers.signal, "signal", lambda *args: None)
    monkeypatch.setattr(sys, "stdin", type("In", (), {"buffer": requests})())
    monkeypatch.setattr(sys, "stdout", type("Out", (), {"buffer": answers})())
    workers._serve(plan_one)
    answers.seek(0)
    assert [pickle.loads(workers._read_frame(answers)) for _ in range(2)] == [
        [None], [("run", "flat"), None, ("run", "flat")]
    ]


# --- configuration values out of range ---------------------------------------------------

POOL_ENGINE = 'from sqlalchemy import create_engine\nengine = create_engine("postgresql://db/x", max_overflow=5)\n'


@pytest.mark.parametrize(
    "config, message",
    [
        ("[tool.optimize.pool-overflow]\ntarget = 9223372036854775807\n", "[tool.optimize.pool-overflow] target: "),
        ("[tool.optimize.pool-overflow]\ntarget = -3\n", "[tool.optimize.pool-overflow] target: "),
        ("[tool.optimize.pool-overflow]\ntarget = 0\n", "[tool.optimize.pool-overflow] target: "),
        # At or below SQLAlchemy's default (10), adding the argument would lower it.
        ("[tool.optimize.pool-overflow]\ntarget = 10\n", "[tool.optimize.pool-overflow] target: "),
        ('[tool.optimize.dangling-task]\nstyle = "create-task"\n', "[tool.optimize.dangling-task] style: "),
        ('[tool.optimize.fire-and-forget-broadcast]\nstyle = "thread"\n', "[tool.optimize.fire-and-forget-broadcast] style: "),
        ('[tool.optimize.fire-and-forget-broadcast]\npatterns = ["broadcast*", ""]\n', "[tool.optimize.fire-and-forget-broadcast] patterns: "),
        ('[tool.optimize.debug-middleware]\ndebug_flag = "settings..DEBUG"\n', "[tool.optimize.debug-middleware] debug_flag: "),
        ('[tool.optimize.debug-middleware]\ndebug_flag = "1 +"\n', "[tool.optimize.debug-middleware] debug_flag: "),
        ('[tool.optimize.debug-middleware]\nmiddleware_patterns = [""]\n', "[tool.optimize.debug-middleware] middleware_patterns: "),
        ("[tool.optimize]\njobs = 257\n", "[tool.optimize] jobs: "),
        ("[tool.optimize]\njobs = 9223372036854775807\n", "[tool.optimize] jobs: "),
    ],
    ids=[
        "target-max-int", "target-negative", "target-zero", "target-not-above-default",
        "dangling-style-misspelt", "broadcast-style-unknown", "broadcast-empty-pattern",
        "debug-flag-double-dot", "debug-flag-incomplete", "middleware-empty-pattern",
        "jobs-too-many", "jobs-max-int",
    ],
)
def test_an_out_of_range_option_is_one_config_error(tmp_path, config, message) -> None:
    app = "from fastapi import FastAPI\n\napp = FastAPI()\napp.add_middleware(TimingMiddleware)\n"
    files = {"db.py": POOL_ENGINE, "main.py": app, "ws.py": DROPPED_TASK.format(name="f"), "pyproject.toml": config}
    repo = make_repo(tmp_path / "r", files)
    before = snapshot(repo)
    for command in (["scan"], ["apply", "--unsafe-fixes"], ["apply", "--dry-run", "--unsafe-fixes"]):
        result = run_cli(*command, str(repo))
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"error: {message}"), result.stderr
        assert "internal error" not in result.output and "Traceback" not in result.output
    assert snapshot(repo) == before


@pytest.mark.parametrize("target", [11, 10_000])
def test_the_pool_overflow_target_bounds_are_accepted(tmp_path, target) -> None:
    config = f"[tool.optimize]\njobs = 256\n\n[tool.optimize.pool-overflow]\ntarget = {target}\n"
    repo = make_repo(tmp_path / "r", {"db.py": POOL_ENGINE, "pyproject.toml": config})
    result = run_cli("apply", str(repo), "--only", "pool-overflow")
    assert result.exit_code == 0, result.output
    assert f"max_overflow={target})" in (repo / "db.py").read_text()


@pytest.mark.parametrize(
    "config",
    [
        '[tool.optimize.dangling-task]\nstyle = "create_task"\n',
        '[tool.optimize.fire-and-forget-broadcast]\nstyle = "create_task"\npatterns = []\n',
        '[tool.optimize.debug-middleware]\ndebug_flag = "settings.api.DEBUG"\n',
        "[tool.optimize.debug-middleware]\ndebug_flag = \"os.environ.get('APP_DEBUG') == '1'\"\n",
        '[tool.optimize.debug-middleware]\ndebug_flag = ""\nmiddleware_patterns = ["*Timing*"]\n',
    ],
    ids=["dangling-create-task", "broadcast-create-task", "debug-flag-dotted", "debug-flag-expression", "debug-flag-unset"],
)
def test_valid_option_values_are_accepted(tmp_path, config) -> None:
    repo = make_repo(tmp_path / "r", {"ws.py": DROPPED_TASK.format(name="f"), "pyproject.toml": config})
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    assert "internal error" not in result.output


def test_every_option_declares_its_check_and_its_default_passes() -> None:
    for codemod in REGISTRY:
        assert set(codemod.OPTION_CHECKS) == set(codemod.OPTIONS), codemod.ID
        for option, check in codemod.OPTION_CHECKS.items():
            assert check(codemod.OPTIONS[option]) is None, (codemod.ID, option)


def test_a_deep_function_beside_an_engine_call_is_kept_as_it_is(tmp_path: Path) -> None:
    # The engine codemods parse only the statements they edit (`optimize.spans`): a
    # function nested too deeply for LibCST, elsewhere in the file, is left byte for byte.
    deep = "def deep():\n    return " + "lambda: " * 2000 + "1\n"
    source = "from sqlalchemy import create_engine\n\nengine = create_engine(URL)\n\n\n" + deep
    repo = _deep_repo(tmp_path / "app", source)
    result = run_cli("apply", str(repo))
    assert result.exit_code == 0, result.output
    rewritten = (repo / "app/deep.py").read_text()
    assert "create_engine(URL, pool_pre_ping=True)" in rewritten
    assert rewritten.endswith(deep)

