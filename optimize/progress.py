"""Progress of a long run on stderr (`rich.progress`), for a person at a terminal.

A command opens a display with `shown(console)`; the engine reports its phases with
`phase(description, total)` and `advance()` on what that returns, from any thread. Nothing
is drawn when stderr is not a terminal (a pipe, a CI log, pre-commit) or before a run has
lasted `DELAY` seconds: a quick scan prints what it always printed, and the bar is erased
when the command ends.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Any, Iterator

DELAY = 2.0  # seconds before anything is drawn


class _Phase:
    def __init__(self, display: "_Display | None", description: str, total: int) -> None:
        self._display = display
        self.description = description
        self.total = total
        self.completed = 0
        self.task: Any = None

    def advance(self, n: int = 1) -> None:
        if self._display is not None:
            self._display.advance(self, n)


class _Display:
    def __init__(self, console: Any, delay: float) -> None:
        self.console = console
        self.delay = delay
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.phases: list[_Phase] = []
        self.progress: Any = None

    def phase(self, description: str, total: int) -> _Phase:
        found = _Phase(self, description, total)
        with self.lock:
            self.phases.append(found)
            self._draw(found)
        return found

    def advance(self, phase: _Phase, n: int) -> None:
        with self.lock:
            phase.completed += n
            self._draw(phase)

    def _draw(self, phase: _Phase) -> None:
        if self.progress is None:
            if time.monotonic() - self.started < self.delay:
                return
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=self.console, transient=True,
            )
            self.progress.start()
        if phase.task is None:
            phase.task = self.progress.add_task(phase.description, total=phase.total)
        self.progress.update(phase.task, completed=min(phase.completed, phase.total))

    def close(self) -> None:
        with self.lock:
            if self.progress is not None:
                self.progress.stop()


_current: _Display | None = None


@contextmanager
def shown(console: Any, delay: float = DELAY) -> Iterator[None]:
    """Progress on ``console`` (stderr) while the block runs, if it is a terminal."""
    global _current
    if not getattr(console, "is_terminal", False) or _current is not None:
        yield
        return
    _current = _Display(console, delay)
    try:
        yield
    finally:
        display, _current = _current, None
        display.close()


def phase(description: str, total: int) -> _Phase:
    """A phase of ``total`` steps ("reading files", 1131); a no-op without a display."""
    display = _current
    return display.phase(description, total) if display is not None else _Phase(None, description, total)
