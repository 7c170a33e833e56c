"""The questions one file's planning asks the repository index, and their answers.

A file's plan depends on its own bytes and on answers about other files: which classes
are models, who calls a function, which settings exist. `RecordingIndex` stands in for the
index while one file is planned and notes each question (a method and its arguments, an
attribute, a file's facts) with a digest of its answer. A later run reuses that plan only
when every question, asked again of its own index, gets an answer with the same digest:
editing a models file re-plans exactly the files whose answers it changes, whatever order
the questions come in (the index's answers depend on its facts alone).

A question whose arguments or answer cannot be digested (a LibCST node, an object with no
stable form) makes the file's plan unrecordable: it is planned again on every run.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import re
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any, Iterator

_MAX_DEPTH = 64


class Unrecordable(Exception):
    """A value with no stable digest."""


def canonical(value: Any, depth: int = 0) -> Any:
    """``value`` as nested tuples of plain values, equal for equal values in any run
    (sets and dicts in sorted order, dataclasses field by field)."""
    if depth > _MAX_DEPTH:
        raise Unrecordable("too deep")
    if value is None or value is Ellipsis or isinstance(value, (bool, int, float, complex, str, bytes)):
        return value  # literals a field may default to (`x: int = ...`) included
    if isinstance(value, enum.Enum):
        return ("E", type(value).__qualname__, value.name)
    if isinstance(value, (list, tuple)):
        return ("L", tuple(canonical(v, depth + 1) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("S", tuple(sorted((canonical(v, depth + 1) for v in value), key=repr)))
    if isinstance(value, Mapping):
        items = ((canonical(k, depth + 1), canonical(v, depth + 1)) for k, v in value.items())
        return ("D", tuple(sorted(items, key=repr)))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__qualname__, tuple(canonical(getattr(value, f.name), depth + 1) for f in fields if f.compare))
    if isinstance(value, re.Pattern):
        return ("R", value.pattern, value.flags)
    if isinstance(value, PurePath):
        return ("P", value.as_posix())
    raise Unrecordable(type(value).__qualname__)


def digest(value: Any) -> str:
    return hashlib.sha1(repr(canonical(value)).encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Question:
    """A method call (``args`` given) or an attribute read (``args`` None) on the index;
    ``FACTS`` asks for one file's facts (answered by its path and content hash: an edit of
    a file, even of a comment, re-plans the files that read its facts), ``ALL_FACTS`` for
    the set of files."""

    name: str
    args: tuple | None = None
    kwargs: tuple = ()


FACTS = "facts[]"
ALL_FACTS = "facts*"


@dataclasses.dataclass(frozen=True)
class OwnSource:
    """In a recorded question, the planned file's own bytes (`may_name_model(source)`),
    kept by hash: asked again, it is the file again, whose bytes the plan's key holds."""

    sha1: str


class Answers:
    """Digests of the answers one index gives, shared by every file planned with it (an
    answer is computed once per run, then compared)."""

    def __init__(self, index: Any, keys: Mapping[str, str]) -> None:
        self.index = index
        self.keys = keys  # path -> its facts' cache key (path and content hash)
        self._digests: dict[Any, str] = {}

    def digest_of(self, question: Question, answer: Any = dataclasses.MISSING) -> str:
        # Arguments with no digest (a LibCST node) raise Unrecordable: a later run could
        # not ask the same question again.
        memo = (question.name, canonical(question.args), canonical(question.kwargs))
        if memo in self._digests:
            return self._digests[memo]
        if question.name == FACTS:
            found = self.keys.get(question.args[0], "")
        elif question.name == ALL_FACTS:
            found = digest(sorted(self.keys))  # which files: their facts, once read, are noted one by one
        else:
            if answer is dataclasses.MISSING:
                answer = self.ask(question)
            found = digest(answer)
        self._digests[memo] = found
        return found

    def ask(self, question: Question, source: bytes | None = None) -> Any:
        value = getattr(self.index, question.name)
        if question.args is None:
            return value
        args = tuple(source if isinstance(a, OwnSource) else a for a in question.args)
        return value(*args, **dict(question.kwargs))

    def hold(self, recorded: list[tuple[Question, str]], source: bytes) -> bool:
        """Whether every recorded question about the file ``source`` gets the recorded
        answer from this index."""
        try:
            for question, recorded_digest in recorded:
                if question.name in (FACTS, ALL_FACTS):
                    found = self.digest_of(question)
                else:
                    found = self._memo(question) or self.digest_of(question, self.ask(question, source))
                if found != recorded_digest:
                    return False
            return True
        except Exception:  # noqa: BLE001 - a question this index cannot answer: plan anew
            return False

    def _memo(self, question: Question) -> str | None:
        """The digest of ``question``'s answer when this run already has it."""
        try:
            return self._digests.get((question.name, canonical(question.args), canonical(question.kwargs)))
        except Unrecordable:
            return None


class RecordingIndex:
    """The index, noting every question put to it (see the module's docstring)."""

    def __init__(self, answers: Answers, source: bytes) -> None:
        self._answers = answers
        self._index = answers.index
        self._source = source
        self._own = OwnSource(hashlib.sha1(source).hexdigest())
        self.questions: list[tuple[Question, str]] = []
        self.unrecordable = False
        self.facts = _RecordedFacts(self)

    def note(self, question: Question, answer: Any = dataclasses.MISSING) -> None:
        if self.unrecordable:
            return
        try:
            self.questions.append((question, self._answers.digest_of(question, answer)))
        except Unrecordable:
            self.unrecordable = True

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._index, name)
        if callable(value) and not isinstance(value, type):

            def asked(*args: Any, **kwargs: Any) -> Any:
                answer = value(*args, **kwargs)
                spelled = tuple(self._own if a is self._source else a for a in args)
                self.note(Question(name, spelled, tuple(sorted(kwargs.items()))), answer)
                return answer

            return asked
        self.note(Question(name), value)
        return value


class _RecordedFacts(Mapping):
    """`RepoIndex.facts` noting which files' facts were read: one file by its content
    hash, the whole set when it is iterated."""

    def __init__(self, recorder: RecordingIndex) -> None:
        self._recorder = recorder
        self._facts = recorder._index.facts

    def __getitem__(self, path: str) -> Any:
        self._recorder.note(Question(FACTS, (path,)))
        return self._facts[path]

    def get(self, path: str, default: Any = None) -> Any:
        self._recorder.note(Question(FACTS, (path,)))
        return self._facts.get(path, default)

    def __contains__(self, path: object) -> bool:
        self._recorder.note(Question(FACTS, (path,)))
        return path in self._facts

    def __iter__(self) -> Iterator[str]:
        self._recorder.note(Question(ALL_FACTS))
        return iter(self._facts)

    def __len__(self) -> int:
        self._recorder.note(Question(ALL_FACTS))
        return len(self._facts)
