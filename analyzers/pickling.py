"""Pickling the facts' dataclasses field by field.

A `@dataclass(slots=True)` is pickled by `dataclasses`' own `__getstate__`/`__setstate__`,
which call `dataclasses.fields()` for every object: a thousand files hold a few hundred
thousand such objects (call sites, functions, fields), and those calls were most of the
time spent writing and reading the facts cache and the workers' answers. Here an object is
pickled as a call of its class with the tuple of its fields' values, read with one
`attrgetter`: unpickling runs the dataclass's own `__init__`, one call per object, where a
`__setstate__` setting the fields one by one took a third longer (the corpus of
`benchmarks/scan.py`: 137,000 objects, 83,000 of them call sites).
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
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
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
    if all(f.init and not f.kw_only for f in fields):  # `__init__` takes every field, in order
        def __reduce__(self) -> tuple:
            return cls, __getstate__(self)

        cls.__reduce__ = __reduce__  # type: ignore[method-assign]
    return cls


def _rebuilt(cls: type, state: tuple) -> object:
    """An object of ``cls`` given ``state`` by its `__setstate__` (see `interning_keys`)."""
    made = cls.__new__(cls)
    made.__setstate__(state)
    return made


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

        def __reduce__(self) -> tuple:
            return _rebuilt, (cls, self.__getstate__())

        cls.__reduce__ = __reduce__  # type: ignore[method-assign]
        return cls

    return decorate
