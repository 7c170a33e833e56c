"""Planning files in worker processes: fresh `python -m optimize.workers` interpreters fed
pickled work over their standard input and output.

Why not `multiprocessing`: forked from the caller, a worker shares the caller's heap and
pays for copying every page its allocator touches (measured: more than the work itself
when the caller is a test runner); started with "spawn" or "forkserver", it re-runs the
caller's main script. A worker here imports `optimize` and nothing else.

The protocol: one frame with the pickled run, then one frame per file and one answer
frame per file. A frame is an 8-byte little-endian length and that many bytes.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from typing import Any, BinaryIO, Callable, Sequence

_HEADER = struct.Struct("<Q")


def _write_frame(stream: BinaryIO, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_frame(stream: BinaryIO) -> bytes:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return data


def map_in_workers(
    shared: bytes, items: Sequence[Any], jobs: int, task: str = "plan", on_done: Callable[[], None] | None = None
) -> list[Any | None]:
    """Each item's answer from `_serve` (None where no worker could give one: the caller
    does those itself). Items are handed out in the order given, one at a time. ``task``
    is what the workers do: "plan" files (`engine.plan_one_file`) or read their "facts"
    (`analyzers.index.facts_of_file`, which imports no LibCST). ``on_done`` is called
    after each answer (from the threads that drive the workers)."""
    results: list[Any | None] = [None] * len(items)
    queue = deque(range(len(items)))
    lock = threading.Lock()
    processes: list[subprocess.Popen] = []
    stopping = threading.Event()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    def drive() -> None:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "optimize.workers", task],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
            )
        except OSError:
            return
        with lock:
            processes.append(process)
        try:
            _write_frame(process.stdin, shared)
            while not stopping.is_set():
                with lock:
                    if not queue:
                        break
                    i = queue.popleft()
                _write_frame(process.stdin, pickle.dumps(items[i], protocol=pickle.HIGHEST_PROTOCOL))
                results[i] = pickle.loads(_read_frame(process.stdout))
                if on_done is not None:
                    on_done()
        except Exception:  # noqa: BLE001 - any failure here means the worker is gone
            pass  # whatever it held is planned by the caller
        finally:
            _close(process)

    threads = [threading.Thread(target=drive, daemon=True) for _ in range(min(jobs, len(items)))]
    # Unpickling the answers builds many objects and no garbage: the cyclic collector,
    # which would run over and over while they arrive, only costs time here.
    collecting = gc.isenabled()
    gc.disable()
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            thread.join()
    except BaseException:  # Ctrl-C: stop the workers before giving up
        stopping.set()
        with lock:
            for process in processes:
                process.kill()
        raise
    finally:
        if collecting:
            gc.enable()
    return results


def _close(process: subprocess.Popen) -> None:
    try:
        process.stdin.close()
    except OSError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


def _serve(plan_one: Callable[[Any, Any], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the caller's to handle
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # the pipe carries answers only
    gc.disable()  # the shared run is large and long-lived: no garbage to look for in it
    shared = pickle.loads(_read_frame(requests))
    gc.enable()
    while True:
        try:
            item = pickle.loads(_read_frame(requests))
        except EOFError:
            return
        _write_frame(answers, _answer(plan_one, shared, item))


def _answer(plan_one: Callable[[Any, Any], Any], shared: Any, item: Any) -> bytes:
    """The pickled answer for one item; None when planning or pickling it fails (e.g. a
    RecursionError on a deeply nested file): the caller plans that item itself and reports
    what went wrong, and this worker stays for the next item instead of dying with the
    items queued behind it."""
    try:
        return pickle.dumps(plan_one(shared, item), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - whatever it is, the caller sees it again
        return pickle.dumps(None, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    if sys.argv[1:] == ["facts"]:
        from optimize.analyzers.index import facts_of_file

        _serve(facts_of_file)
    else:
        from optimize.engine import plan_one_file

        _serve(plan_one_file)
