"""What one step of a function does to what the ORM codemods rely on: the session's state
(commits, rollbacks, expiry, expunging, deleting, closing, handing the session to other
code) and the names it (re)binds.

The codemods ask `FunctionFlow.between(a, b)` which steps can run between the point that
proved something and the point that relies on it, and `SessionEffects` what those steps
may undo; the rules of what undoes what live here, once.

A method is judged by its name on any receiver (`x.expire()` counts even when `x` is not
known to be a session); a commit counts where the session's factory may expire objects on
commit; a session handed to other code counts always (that code may commit, roll back,
expire or delete).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum

import libcst as cst
import libcst.matchers as m
from libcst.helpers import get_full_name_for_node

from optimize.analyzers.flow import FunctionFlow, Step
from optimize.analyzers.index import RepoIndex
from optimize.analyzers.cst_find import findall


class EffectKind(Enum):
    COMMIT = "commit"  # expires every object when the session expires on commit
    ROLLBACK = "rollback"  # expires every object, expunges the ones added since the last commit
    EXPIRE = "expire"  # `expire(obj)` / `expire_all()`
    CLOSE = "close"  # `close()`, `invalidate()`, `reset()`: every object leaves the session
    EXPUNGE = "expunge"  # `expunge(obj)` / `expunge_all()`
    DELETE = "delete"  # `delete(obj)`: the identity map stops returning it after the flush
    HAND_OFF = "hand-off"  # other code gets the session and may do any of the above


# Session methods and what they do (on any receiver, see the module docstring).
_METHOD_EFFECTS = {
    "commit": EffectKind.COMMIT,
    "rollback": EffectKind.ROLLBACK,
    "expire": EffectKind.EXPIRE,
    "expire_all": EffectKind.EXPIRE,
    "close": EffectKind.CLOSE,
    "invalidate": EffectKind.CLOSE,
    "reset": EffectKind.CLOSE,
    "expunge": EffectKind.EXPUNGE,
    "expunge_all": EffectKind.EXPUNGE,
    "delete": EffectKind.DELETE,
}
# Session methods that run a function the caller gives them with the session.
_RUNS_CALLBACK = {"run_sync"}
_EXECUTES = {"execute", "exec"}
_EXPIRING = {EffectKind.ROLLBACK, EffectKind.EXPIRE, EffectKind.CLOSE, EffectKind.HAND_OFF}
_DETACHING = {EffectKind.ROLLBACK, EffectKind.CLOSE, EffectKind.EXPUNGE, EffectKind.DELETE, EffectKind.HAND_OFF}


@dataclass(frozen=True)
class Effect:
    """One thing a step does to a session. ``session`` is the session as the code names
    it (None when any session may be touched); ``what`` says it for a refusal."""

    kind: EffectKind
    session: str | None
    what: str
    step: Step


class SessionEffects:
    """The effects of the steps of one function on its sessions.

    ``sessions`` maps each name the function uses as a session (`db`, `self.session`) to
    the dependency or factory it comes from, None when not known; the index answers
    whether that factory expires objects on commit.
    """

    def __init__(
        self, flow: FunctionFlow, sessions: Mapping[str, str | None], index: RepoIndex, path: str | None = None
    ) -> None:
        self.flow = flow
        self.path = path  # the function's file: where dependencies are looked up from
        self.sessions = dict(sessions)
        self.index = index
        self._closures = self._session_closures()
        self._effects: dict[Step, list[Effect]] = {}
        self._bound: dict[Step, set[str]] = {}

    # --- what one step does ---------------------------------------------------------------------

    def of(self, step: Step) -> list[Effect]:
        if step not in self._effects:
            self._effects[step] = self._compute(step)
        return self._effects[step]

    def binds(self, step: Step) -> set[str]:
        """The names ``step`` (re)binds or deletes."""
        if step not in self._bound:
            self._bound[step] = bound_names(step)
        return self._bound[step]

    # --- the questions the codemods ask ----------------------------------------------------------

    def expiring(self, steps: Iterable[Step]) -> Effect | None:
        """The first effect among ``steps`` after which an object loaded before them may
        be expired (reading an attribute would load it again)."""
        for step in steps:
            for effect in self.of(step):
                if effect.kind in _EXPIRING or (effect.kind is EffectKind.COMMIT and self.commit_expires(effect)):
                    return effect
        return None

    def detaching(self, steps: Iterable[Step]) -> Effect | None:
        """The first effect among ``steps`` after which the session's identity map may no
        longer return an object it held before them (deleted, expunged, closed, rolled
        back, or the session handed to code that may do so)."""
        for step in steps:
            for effect in self.of(step):
                if effect.kind in _DETACHING:
                    return effect
        return None

    def rebinding(self, steps: Iterable[Step], names: Collection[str]) -> tuple[str, Step] | None:
        """(the name, the step) of the first of ``steps`` that rebinds one of ``names``."""
        for step in steps:
            hit = self.binds(step) & set(names)
            if hit:
                return min(hit), step
        return None

    def bindings(self, name: str) -> list[Step]:
        """Every step that binds ``name`` (the start, for a parameter)."""
        return [step for step in self.flow.steps if name in self.binds(step)]

    def commit_expires(self, effect: Effect) -> bool:
        return self.index.expires_on_commit(self.sessions.get(effect.session or ""), self.path)

    def why(self, effect: Effect) -> str:
        """``effect`` as the reason a fact proven before it may not hold after it."""
        if effect.kind is EffectKind.COMMIT:
            dependency = self.sessions.get(effect.session or "")
            known = dependency is not None and self.index.session_factory_for(dependency, self.path) is not None
            factory = "the session factory expires on commit" if known else "the session may expire on commit"
            return f"{effect.what} in between expires it ({factory})"
        if effect.kind is EffectKind.HAND_OFF:
            return f"{effect.what} in between, which may commit, roll back, expire or delete"
        return f"{effect.what} in between"

    # --- the rules ------------------------------------------------------------------------------

    def _compute(self, step: Step) -> list[Effect]:
        if step.kind in {"start", "end", "finally"}:
            return []
        if step.kind in {"with-exit", "with-error-exit"}:
            assert isinstance(step.statement, cst.With)
            return [e for item in step.statement.items for e in self._exit(step, item)]
        found: list[Effect] = []
        for part in step.parts:
            for call in findall(part, m.Call()):
                found.extend(self._call(step, call))
            if findall(part, m.Yield()):
                found.append(Effect(EffectKind.HAND_OFF, None, "yield (the caller runs and may use the session)", step))
        return found

    def _call(self, step: Step, call: cst.Call) -> list[Effect]:
        found = []
        func = call.func
        if isinstance(func, cst.Attribute):
            receiver = name_of(func.value) or "?"
            method = func.attr.value
            kind = _METHOD_EFFECTS.get(method)
            if kind is not None:
                found.append(Effect(kind, receiver, f"{receiver}.{method}()", step))
            elif method in _RUNS_CALLBACK and receiver in self.sessions:
                found.append(Effect(EffectKind.HAND_OFF, receiver, f"{receiver}.{method}() runs a function with the session", step))
            elif method in _EXECUTES and call.args and _root_call_name(call.args[0].value) == "delete":
                # An ORM-enabled `delete(M)` removes the matching objects from the session.
                found.append(Effect(EffectKind.DELETE, receiver, f"{receiver}.{method}(delete(...))", step))
            holder = self._held_session(receiver)
            if holder is not None:  # `self.audit()` while `self.db` is the session
                found.append(Effect(EffectKind.HAND_OFF, holder, f"{receiver}.{method}() may use {holder}", step))
        callee = name_of(func) or "a call"
        if isinstance(func, cst.Name) and func.value in self._closures:
            session = self._closures[func.value]
            found.append(Effect(EffectKind.HAND_OFF, session, f"{callee}() uses the session", step))
        for arg in call.args:
            session = self._session_in(arg.value)
            if session is not None:
                found.append(Effect(EffectKind.HAND_OFF, session, f"the session is passed to {callee}()", step))
                break
        return found

    def _exit(self, step: Step, item: cst.WithItem) -> list[Effect]:
        """What leaving a `with` does for one of its items."""
        expr = item.item.expression if isinstance(item.item, cst.Await) else item.item
        error = step.kind == "with-error-exit"
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            receiver = name_of(expr.func.value) or "?"
            method = expr.func.attr.value
            if method == "begin":
                if error:
                    return [Effect(EffectKind.ROLLBACK, receiver, f"the {receiver}.begin() block (it rolls back on an exception)", step)]
                return [Effect(EffectKind.COMMIT, receiver, f"the {receiver}.begin() block (it commits on exit)", step)]
            if method == "begin_nested":
                if error:
                    return [Effect(EffectKind.ROLLBACK, receiver, f"the {receiver}.begin_nested() block (it rolls back on an exception)", step)]
                return []
        spelled = name_of(expr)
        target = name_of(item.asname.name) if item.asname is not None else None
        for session in (spelled, target):
            if session is not None and session in self.sessions:
                return [Effect(EffectKind.CLOSE, session, f"leaving `with {session}` (it closes the session)", step)]
        # A context manager built from the session may commit or roll back when it exits.
        for call in [expr, *findall(expr, m.Call())] if isinstance(expr, cst.Call) else []:
            if isinstance(call, cst.Call):
                for arg in call.args:
                    session = self._session_in(arg.value)
                    if session is not None:
                        callee = name_of(call.func) or "a context manager"
                        what = f"the {callee}(...) block (its context manager was given the session)"
                        return [Effect(EffectKind.HAND_OFF, session, what, step)]
        return []

    def _held_session(self, receiver: str) -> str | None:
        """The session an object holds (`self` holds `self.db`), when ``receiver`` is one."""
        for session in self.sessions:
            if session.startswith(receiver + "."):
                return session
        return None

    def _session_in(self, expr: cst.BaseExpression) -> str | None:
        """The session ``expr`` hands over: the session itself, an object holding it
        (`self` for `self.db`) or a local function that uses it."""
        passed = name_of(expr)
        if passed is None:
            return None
        if passed in self.sessions:
            return passed
        return self._held_session(passed) or self._closures.get(passed)

    def _session_closures(self) -> dict[str, str]:
        """Local functions (and lambdas bound to names) whose body uses a session:
        calling one, or handing it over, hands over the session."""
        roots = {s.split(".", 1)[0]: s for s in self.sessions}
        closures: dict[str, str] = {}
        for step in self.flow.steps:
            statement = step.statement
            bodies: list[tuple[str, cst.CSTNode]] = []
            if step.kind in {"def", "class"} and isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
                bodies.append((statement.name.value, statement.body))
            elif step.kind == "simple" and step.parts and isinstance(step.parts[0], cst.Assign):
                assign = step.parts[0]
                if isinstance(assign.value, cst.Lambda):
                    for target in assign.targets:
                        if isinstance(target.target, cst.Name):
                            bodies.append((target.target.value, assign.value.body))
            for name, body in bodies:
                used = {n.value for n in findall(body, m.Name()) if isinstance(n, cst.Name)} & roots.keys()
                if used:
                    closures[name] = roots[min(used)]
        return closures


def name_of(node: cst.CSTNode) -> str | None:
    return get_full_name_for_node(node)


def _root_call_name(expr: cst.BaseExpression) -> str | None:
    """`delete` for `delete(M).where(...)`: the name of the call a method chain starts from."""
    node = expr
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        node = node.func.value
    if isinstance(node, cst.Call):
        spelled = name_of(node.func)
        return None if spelled is None else spelled.rsplit(".", 1)[-1]
    return None


def bound_names(step: Step) -> set[str]:
    """The names ``step`` binds (or deletes) in the function's scope."""
    names: set[str] = set()
    statement = step.statement
    if step.kind == "start":
        assert isinstance(statement, cst.FunctionDef)
        params = statement.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        return {p.name.value for p in every}
    if step.kind in {"def", "class"} and isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        names.add(statement.name.value)
    elif step.kind == "for" and isinstance(statement, cst.For):
        names |= target_names(statement.target)
    elif step.kind == "with" and isinstance(statement, cst.With):
        for item in statement.items:
            if item.asname is not None:
                names |= target_names(item.asname.name)
    elif step.kind == "except" and isinstance(statement, (cst.ExceptHandler, cst.ExceptStarHandler)):
        if statement.name is not None:
            names |= target_names(statement.name.name)
    elif step.kind == "case" and isinstance(statement, cst.MatchCase):
        for pattern in findall(statement.pattern, m.MatchAs() | m.MatchStar() | m.MatchMapping()):
            bound = getattr(pattern, "rest" if isinstance(pattern, cst.MatchMapping) else "name")
            if isinstance(bound, cst.Name):
                names.add(bound.value)
    elif step.kind == "simple" and step.parts:
        names |= _small_binds(step.parts[0])
    for part in step.parts:
        for walrus in findall(part, m.NamedExpr()):
            if isinstance(walrus, cst.NamedExpr):
                names |= target_names(walrus.target)
    return names


def _small_binds(small: cst.CSTNode) -> set[str]:
    if isinstance(small, cst.Assign):
        return {n for t in small.targets for n in target_names(t.target)}
    if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
        return target_names(small.target)
    if isinstance(small, cst.Del):
        return target_names(small.target)
    if isinstance(small, cst.TypeAlias):
        return {small.name.value}
    if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
        names = set()
        for alias in small.names:
            if alias.asname is not None:
                names |= target_names(alias.asname.name)
            else:
                full = name_of(alias.name) or ""
                names.add(full.split(".", 1)[0])
        return names
    return set()


def target_names(target: cst.BaseExpression) -> set[str]:
    """Plain names an assignment target binds (`a`, `a, *b`, `[a, (b, c)]`; not `x.y`)."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for element in target.elements for n in target_names(element.value)}
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()


def calls_receiving(step: Step, names: Collection[str]) -> list[cst.Call]:
    """Calls in ``step`` that are given one of ``names`` (or an object holding one:
    `self` for `self.db`) as an argument."""
    hits = []
    for part in step.parts:
        for call in findall(part, m.Call()):
            assert isinstance(call, cst.Call)
            for arg in call.args:
                passed = name_of(arg.value)
                if passed is not None and any(n == passed or n.startswith(passed + ".") for n in names):
                    hits.append(call)
                    break
    return hits
