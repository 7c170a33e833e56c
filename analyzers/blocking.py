"""Which calls block the thread they run on: the one rule the facts (`ast`, every function
of the repository) and the `blocking-in-async` check (LibCST, the handler itself) share.

A call blocks when it is
- a known blocking function: `time.sleep`, `requests.*`, `urllib.request.urlopen`,
  httpx's module-level functions and sync `Client` methods are not told apart from its
  async ones by name, so only the module-level functions count;
- a database round trip through a sync session or connection, not awaited: `execute`,
  `scalars`, `scalar`, `query(...)`, `commit`, `flush`, `refresh`, SQLModel's `exec`,
  `get`. On an `AsyncSession` those are coroutines and are awaited; an unawaited one in
  an `async def` is a sync session's. `add`, `add_all`, `expunge` do no I/O.
"""

from __future__ import annotations

from optimize.analyzers.session_types import is_sync

_HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")
BLOCKING_FUNCTIONS = frozenset({
    "time.sleep",
    "urllib.request.urlopen",
    "socket.create_connection",
    *(f"requests.{verb}" for verb in _HTTP_VERBS),
    *(f"requests.api.{verb}" for verb in _HTTP_VERBS),
    *(f"httpx.{verb}" for verb in _HTTP_VERBS),
})
# Methods of a sync `Session` / `Connection` that go to the database.
SESSION_IO_METHODS = frozenset({"execute", "scalars", "scalar", "query", "commit", "flush", "refresh", "exec", "get"})
# Receivers named like this are taken for sessions or connections in the facts (which
# see no types across functions): `db`, `session`, `self.session`, `conn`.
_SESSION_NAMES = ("db", "session", "conn", "connection")


def blocking_function(qualname: str | None) -> bool:
    return qualname in BLOCKING_FUNCTIONS


def blocking_session_call(method: str, receiver: str, receiver_type: str | None, awaited: bool) -> bool:
    """Whether ``receiver.method(...)`` is a database round trip on the calling thread: a
    session method not awaited, on a receiver typed as a sync session or connection, or
    with no known type but named like one."""
    if method not in SESSION_IO_METHODS or awaited:
        return False
    if receiver_type is not None:
        return is_sync(receiver_type)
    return looks_like_session(receiver)


def looks_like_session(receiver: str) -> bool:
    """`db`, `self.db`, `db_session`, `self.session`, `conn`: how sessions are named. Used
    only where no type is known (the facts of a sync callee), never to rewrite."""
    last = receiver.rsplit(".", 1)[-1].lower()
    return any(last == n or last.endswith("_" + n) or last.startswith(n + "_") for n in _SESSION_NAMES)
