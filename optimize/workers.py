"""Planning files in worker processes: fresh `python -m optimize.workers` interpreters fed
pickled work over their standard input and output.

Why not `multiprocessing`: forked from the caller, a worker shares the caller's heap and
pays for copying every page its allocator touches (measured: more than the work itself
when the caller is a test runner); started with "spawn" or "forkserver", it re-runs the
caller's main script. A worker here imports `optimize` and nothing else.

The protocol: one frame with the pickled run, then frames of pickled lists of items, each
answered by a frame with the list of their answers. A frame is an 8-byte little-endian
length and that many bytes.
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

try:
    import fcntl
except ImportError:  # not on a POSIX system
    fcntl = None  # type: ignore[assignment]

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
    shared: bytes,
    items: Sequence[Any],
    jobs: int,
    task: str = "plan",
    on_done: Callable[[], None] | None = None,
    here: Callable[[Any], Any] | None = None,
    batch_bytes: int = 0,
    first: Callable[[], object] | None = None,
) -> list[Any | None]:
    """Each item's answer from `_serve` (None where no worker could give one: the caller
    does those itself). This process (with ``here``) takes the items in the order given,
    the workers from the other end: the callers put the biggest first, and a worker that
    reads only small files stays small (on the corpus of `benchmarks/scan.py`, 6 MB less
    at the run's peak than the other way round, for a tenth of a second more). ``task``
    is what the workers do: "plan" files (`engine.plan_one_file`) or read their "facts"
    (`analyzers.index.facts_of_file`, which imports no LibCST). ``on_done`` is called
    after each answer (from the threads that drive the workers).

    With ``here`` (the same work done in this process), this process is one of the
    ``jobs``: it takes items from the same queue instead of waiting, and one worker fewer
    is started (on two cores, two workers and a waiting caller are three processes).
    ``batch_bytes`` groups consecutive ``(path, bytes)`` items into one frame of about
    that much source: a file's facts take milliseconds, and a worker waiting for this
    process to hand it the next file (which needs the interpreter lock that the work
    done here holds) would sit idle between files. ``first`` is other work this process
    does, once the workers have started, before it takes items (`optimize.reading`)."""
    results: list[Any | None] = [None] * len(items)
    queue = deque(_batches(items, batch_bytes))
    lock = threading.Lock()
    processes: list[subprocess.Popen] = []
    stopping = threading.Event()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    def take(last: bool = False) -> list[int] | None:
        with lock:
            if not queue or stopping.is_set():
                return None
            return queue.pop() if last else queue.popleft()  # the smallest, or the biggest

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
        _widen_pipes(process)
        # Two batches in flight: the worker finds its next batch waiting when it finishes
        # one, instead of waiting for this thread, which needs the interpreter lock that
        # the work done here (`here`) holds, to read the answers and send more.
        inflight: deque[list[int]] = deque()
        slots = threading.Semaphore(_IN_FLIGHT)
        gone = threading.Event()

        def feed() -> None:
            try:
                _write_frame(process.stdin, shared)
                while True:
                    slots.acquire()
                    batch = None if gone.is_set() else take(last=True)
                    if batch is None:
                        break
                    inflight.append(batch)
                    _write_frame(process.stdin, pickle.dumps([items[i] for i in batch], protocol=pickle.HIGHEST_PROTOCOL))
            except Exception:  # noqa: BLE001 - the worker is gone: the reader sees it too
                pass
            finally:
                try:
                    process.stdin.close()  # the worker exits when it has answered the rest
                except OSError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        ended = False  # the worker closed its answers: done, or gone
        try:
            while True:
                try:
                    data = _read_frame(process.stdout)
                except EOFError:
                    ended = True
                    break
                batch = inflight.popleft()
                for i, answer in zip(batch, pickle.loads(data)):
                    results[i] = answer
                    if on_done is not None:
                        on_done()
                slots.release()
        except Exception:  # noqa: BLE001 - what the worker held unanswered is planned
            pass  # by the caller
        finally:
            gone.set()
            if not ended:
                process.kill()  # else a feeder blocked writing to it would wait forever
            slots.release()  # a feeder waiting for a slot stops
            feeder.join()
            _close(process)

    started = min(jobs - 1 if here is not None else jobs, len(queue))
    threads = [threading.Thread(target=drive, daemon=True) for _ in range(started)]
    # Unpickling the answers builds many objects and no garbage: the cyclic collector,
    # which would run over and over while they arrive, only costs time here.
    collecting = gc.isenabled()
    gc.disable()
    for thread in threads:
        thread.start()
    try:
        if first is not None:
            first()
        while here is not None and (batch := take()) is not None:
            for i in batch:
                results[i] = here(items[i])
                if on_done is not None:
                    on_done()
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


def default_jobs() -> int:
    """How many processes a run uses by default: one per CPU it may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_IN_FLIGHT = 2
# Pipes as large as Linux allows without privileges (`/proc/sys/fs/pipe-max-size`, 1 MiB by
# default): a frame then goes through in one write, without the writer waiting, with the
# interpreter lock, for each 64 KiB the reader takes.
_PIPE_BYTES = 1 << 20


def _widen_pipes(process: subprocess.Popen) -> None:
    setting = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if setting is None:
        return
    for stream in (process.stdin, process.stdout):
        try:
            fcntl.fcntl(stream.fileno(), setting, _PIPE_BYTES)
        except OSError:
            pass  # above this system's limit: the default size works, more slowly


def _batches(items: Sequence[Any], batch_bytes: int) -> list[list[int]]:
    """The positions of ``items`` in runs of about ``batch_bytes`` of source each (one
    item per run when 0)."""
    batches: list[list[int]] = []
    size = 0
    for i, item in enumerate(items):
        weight = len(item[1]) if batch_bytes and isinstance(item, tuple) and len(item) > 1 else 0
        if not batches or size + weight > batch_bytes or not batch_bytes:
            batches.append([])
            size = 0
        batches[-1].append(i)
        size += weight
    return batches


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
            batch = pickle.loads(_read_frame(requests))
        except EOFError:
            return
        _write_frame(answers, _pickled([_answer(plan_one, shared, item) for item in batch]))


def _answer(plan_one: Callable[[Any, Any], Any], shared: Any, item: Any) -> Any:
    """The answer for one item; None when planning or pickling it fails (e.g. a
    RecursionError on a deeply nested file): the caller plans that item itself and reports
    what went wrong, and this worker stays for the next item instead of dying with the
    items queued behind it."""
    try:
        return plan_one(shared, item)
    except Exception:  # noqa: BLE001 - whatever it is, the caller sees it again
        return None


def _pickled(answers: list[Any]) -> bytes:
    """``answers`` pickled, each one that cannot be pickled as None (its caller redoes it)."""
    try:
        return pickle.dumps(answers, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - e.g. a RecursionError on a deep answer
        kept = []
        for answer in answers:
            try:
                pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
                kept.append(answer)
            except Exception:  # noqa: BLE001
                kept.append(None)
        return pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL)


if __name__ == "__main__":
    if sys.argv[1:] == ["facts"]:
        from optimize.analyzers.index import facts_of_file

        _serve(facts_of_file)
    else:
        from optimize.engine import plan_one_file

        _serve(plan_one_file)
