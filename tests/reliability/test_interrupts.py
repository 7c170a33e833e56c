"""Ctrl-C while code loads ends the run with its one line and exit code 130.

Loading the CLI and the engine spends most of its time in code that `dataclasses` builds
from strings with `exec`; CPython marks a KeyboardInterrupt that escapes such code as
never handled, even once it is caught, and the process then ends killed by SIGINT. The
loads hold Ctrl-C until they are done (`optimize.interrupts`)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from optimize import interrupts, runner

EXEC_INTERRUPTED = """
import os, signal, sys
from optimize import interrupts
try:
    with interrupts.deferred():
        exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(100_000): pass")
except KeyboardInterrupt:
    sys.stderr.write("interrupted\\n")
    sys.exit(130)
"""


def test_ctrl_c_inside_code_run_from_a_string_ends_with_130(tmp_path: Path) -> None:
    # Run as `python -m`, as `python -m optimize` is: without the deferral, CPython 3.11
    # ends this one killed by SIGINT (a script run by path exits with 130 either way).
    (tmp_path / "interrupted_exec.py").write_text(EXEC_INTERRUPTED)
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_exec"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert (done.returncode, done.stderr) == (130, "interrupted\n")


def test_the_engine_loads_with_ctrl_c_held(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []

    def interrupted_import(name: str) -> object:
        signal.raise_signal(signal.SIGINT)  # handled at once: the held handler records it
        seen.append(name)
        return object()

    monkeypatch.setattr(runner.importlib, "import_module", interrupted_import)
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        runner._load_engine()
    assert seen == ["optimize.engine"]  # the import ran to its end
    assert signal.getsignal(signal.SIGINT) is before


def test_a_block_without_ctrl_c_raises_nothing() -> None:
    before = signal.getsignal(signal.SIGINT)
    with interrupts.deferred():
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_the_block_runs_as_it_is() -> None:
    import threading

    found = []

    def block() -> None:
        with interrupts.deferred():
            found.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=block)
    thread.start()
    thread.join()
    assert found == [signal.getsignal(signal.SIGINT)]


CAUGHT_INSIDE_EXEC = """
import os, signal, sys
from optimize import interrupts
try:
    exec("os.kill(os.getpid(), signal.SIGINT)\\nfor _ in range(100_000): pass")
except KeyboardInterrupt:
    if sys.argv[1:] == ["answer"]:
        interrupts.handled()
    sys.exit(130)
"""


def test_an_interrupt_caught_after_it_escaped_code_run_from_a_string_ends_with_130(tmp_path: Path) -> None:
    # What the CLI's handlers do for a Ctrl-C that no held block caught (typer's eval of an
    # annotation, a dataclass built at run time): they mark it handled.
    (tmp_path / "caught_inside_exec.py").write_text(CAUGHT_INSIDE_EXEC)

    def run(*args: str) -> int:
        return subprocess.run(
            [sys.executable, "-m", "caught_inside_exec", *args], capture_output=True, timeout=60, cwd=tmp_path
        ).returncode

    assert run("answer") == 130
    if (3, 11) <= sys.version_info < (3, 14):  # the CPython behaviour `optimize.interrupts` answers
        assert run() == -signal.SIGINT
