"""Ctrl-C: held until a block is done, and marked handled once the run has answered it.

CPython (3.11 to 3.13) marks a KeyboardInterrupt that escapes code run from a string
(`exec`, `eval`: what `dataclasses` builds at import, what typer evaluates of an
annotation) as never handled, even once it is caught; under `python -m` the process then
ends killed by SIGINT instead of with exit code 130 after its one line. Code loads spend
most of their time in such code: the CLI and the engine load with Ctrl-C held
(`deferred`), and the handlers that answer Ctrl-C clear the mark (`handled`).
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def deferred() -> Iterator[None]:
    """Run the block with Ctrl-C held; raise KeyboardInterrupt after it if one came.
    Only the main thread receives signals: elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


def handled() -> None:
    """The KeyboardInterrupt being answered is handled: code run from a string that ends
    normally clears CPython's mark of an unhandled one."""
    exec("pass")  # noqa: S102 - a constant: the point is running code from a string
