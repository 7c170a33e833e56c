"""`analyzers.recording`: the questions a file's planning puts to the index, and whether
their answers still hold on another index."""

from __future__ import annotations

import pytest

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.recording import Answers, RecordingIndex, Unrecordable, canonical, digest

MODELS = (
    "from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column\n\n\n"
    "class Base(DeclarativeBase):\n    pass\n\n\n"
    "class Task(Base):\n    __tablename__ = 'task'\n    id: Mapped[int] = mapped_column(primary_key=True)\n"
)
ROUTE = b"def f(db, x):\n    return db.get(Task, x)\n"


def _index(models: str) -> tuple[RepoIndex, dict[str, str]]:
    files = {"app/__init__.py": b"", "app/models.py": models.encode(), "app/x.py": ROUTE}
    return RepoIndex.build(files), {p: RepoIndex.cache_key(p, d) for p, d in files.items()}


def _recorded(models: str):
    index, keys = _index(models)
    recorder = RecordingIndex(Answers(index, keys), ROUTE)
    recorder.may_name_model(ROUTE)
    recorder.model_for("app.models.Task", "app/x.py")
    recorder.facts.get("app/x.py")
    return recorder


def test_the_answers_hold_on_an_index_with_the_same_facts() -> None:
    recorder = _recorded(MODELS)
    assert [q.name for q, _ in recorder.questions] == ["may_name_model", "model_for", "facts[]"]
    index, keys = _index(MODELS + "\n# a comment\n")  # another file's bytes, the same answers
    assert Answers(index, keys).hold(recorder.questions, ROUTE)


def test_a_changed_answer_does_not_hold() -> None:
    recorder = _recorded(MODELS)
    index, keys = _index(MODELS.replace("primary_key=True", "primary_key=True, index=True").replace("Task", "Job"))
    assert not Answers(index, keys).hold(recorder.questions, ROUTE)


def test_listing_the_files_depends_on_which_exist_reading_them_on_their_bytes() -> None:
    index, keys = _index(MODELS)
    listing = RecordingIndex(Answers(index, keys), ROUTE)
    list(listing.facts)
    reading = RecordingIndex(Answers(index, keys), ROUTE)
    [facts.path for facts in reading.facts.values()]
    edited, edited_keys = _index(MODELS + "\n# a comment\n")
    assert Answers(edited, edited_keys).hold(listing.questions, ROUTE)
    assert not Answers(edited, edited_keys).hold(reading.questions, ROUTE)
    more = RepoIndex.build({**{p: b"" for p in keys}, "app/more.py": b""})
    assert not Answers(more, {p: RepoIndex.cache_key(p, b"") for p in more.facts}).hold(listing.questions, ROUTE)


def test_digests_do_not_depend_on_set_order_and_refuse_unknown_objects() -> None:
    assert digest({"b", "a", "c"}) == digest({"c", "b", "a"})
    assert digest({"x": {1, 2}}) == digest({"x": {2, 1}})
    assert canonical([1, (2, "3")]) != canonical([1, (2, 3)])
    assert canonical([..., 1j]) == canonical([..., 1j])  # literal defaults a settings field may have
    with pytest.raises(Unrecordable):
        canonical(object())


def test_an_argument_with_no_digest_makes_the_plan_unrecordable() -> None:
    index, keys = _index(MODELS)
    recorder = RecordingIndex(Answers(index, keys), ROUTE)
    recorder.model(object())  # an argument a later run could not ask about again
    assert recorder.unrecordable
