"""Pickling the facts' dataclasses field by field.

A `@dataclass(slots=True)` is pickled by `dataclasses`' own `__getstate__`/`__setstate__`,
which call `dataclasses.fields()` for every object: a thousand files hold a few hundred
thousand such objects (call sites, functions, fields), and those calls were most of the
time spent writing and reading the facts cache and the workers' answers. Here the state
is the tuple of the fields' values, read with one `attrgetter`.
"""

from __future__ import annotations

import dataclasses
import sys
from operator import attrgetter
from typing import TypeVar

T = TypeVar("T", bound=type)


def pickled_by_fields(cls: T) -> T:
    """Give the slots dataclass ``cls`` a state that is the tuple of its fields' values
    (apply it above `@dataclass(slots=True)`, which makes a new class)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    read = attrgetter(*names)
    assign = object.__setattr__  # a frozen dataclass refuses its own

    if len(names) == 1:
        def __getstate__(self) -> tuple:
            return (read(self),)
    else:
        def __getstate__(self) -> tuple:
            return read(self)

    def __setstate__(self, state: tuple) -> None:
        for name, value in zip(names, state):
            assign(self, name, value)

    cls.__getstate__ = __getstate__  # type: ignore[attr-defined]
    cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
    return cls


def interning_keys(*names: str):
    """After unpickling, the string keys of the dict fields ``names`` interned: an
    unpickled string is a new object for each frame or file it came in, and a thousand
    files' identifier counts repeat the same names (apply it above `pickled_by_fields`)."""

    def decorate(cls: T) -> T:
        set_fields = cls.__setstate__  # type: ignore[attr-defined]

        def __setstate__(self, state: tuple) -> None:
            set_fields(self, state)
            intern = sys.intern
            for name in names:
                setattr(self, name, {intern(k): v for k, v in getattr(self, name).items()})

        cls.__setstate__ = __setstate__  # type: ignore[attr-defined]
        return cls

    return decorate
