"""`analyzers.pickling`: the facts come back from a pickle (the cache, a worker's answer)
equal to what was pickled, frozen ones with the same hash."""

from __future__ import annotations

import pickle

from optimize.analyzers.calls import CallSite
from optimize.analyzers.index import analyse_file
from optimize.analyzers.pickling import pickled_by_fields
from tests.fixture_app import FIXTURE


def test_the_example_apps_facts_round_trip() -> None:
    for path in sorted(FIXTURE.rglob("*.py")):
        facts = analyse_file(path.relative_to(FIXTURE).as_posix(), path.read_bytes())
        assert pickle.loads(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL)) == facts, path


def test_a_frozen_value_keeps_its_fields_and_hash() -> None:
    site = CallSite("app.tasks.update", "update", 3, True, False, True, False)
    back = pickle.loads(pickle.dumps(site))
    assert back == site and hash(back) == hash(site) and back.line == 3


def test_a_one_field_class_round_trips() -> None:
    from dataclasses import dataclass

    @pickled_by_fields
    @dataclass(frozen=True, slots=True)
    class One:
        value: int

    globals()["One"] = One  # pickle finds classes by module and name
    One.__qualname__ = "One"
    assert pickle.loads(pickle.dumps(One(5))) == One(5)


def test_identifiers_come_back_as_the_shared_strings() -> None:
    path = next(p for p in sorted(FIXTURE.rglob("*.py")) if p.stat().st_size > 1000)
    facts = analyse_file(path.relative_to(FIXTURE).as_posix(), path.read_bytes())
    first = pickle.loads(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
    second = pickle.loads(pickle.dumps(facts, protocol=pickle.HIGHEST_PROTOCOL))
    assert first == second == facts
    name = next(iter(first.name_uses))
    # Two pickles give two objects for each string, but the identifiers are interned.
    assert next(k for k in second.name_uses if k == name) is name


def test_an_object_comes_back_through_its_class_in_one_call() -> None:
    from dataclasses import dataclass

    calls: list[tuple] = []

    @pickled_by_fields
    @dataclass(frozen=True, slots=True)
    class Pair:
        left: int
        right: tuple = ()

    original_init = Pair.__init__

    def counted(self, *args, **kwargs) -> None:
        calls.append(args)
        original_init(self, *args, **kwargs)

    globals()["Pair"] = Pair
    Pair.__qualname__ = "Pair"
    made = Pair(1, (2, 3))
    data = pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL)
    Pair.__init__ = counted  # type: ignore[method-assign]
    back = pickle.loads(data)
    assert back == made and calls == [(1, (2, 3))]  # one call, positional, every field in order


def test_a_class_whose_init_does_not_take_every_field_is_set_field_by_field() -> None:
    from dataclasses import dataclass, field

    @pickled_by_fields
    @dataclass(slots=True)
    class Counted:
        name: str
        seen: int = field(default=0, init=False)
        extra: str = field(default="", kw_only=True)

    globals()["Counted"] = Counted
    Counted.__qualname__ = "Counted"
    made = Counted("a", extra="x")
    made.seen = 4
    back = pickle.loads(pickle.dumps(made, protocol=pickle.HIGHEST_PROTOCOL))
    assert (back.name, back.seen, back.extra) == ("a", 4, "x")
