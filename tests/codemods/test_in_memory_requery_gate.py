"""`in-memory-requery` reads only the functions that fetch one object and assign an
attribute (`X.fk = ...`, nested functions included): in any other function the codemod
finds no key assignment and says nothing, so the facts leave it out."""

from __future__ import annotations

import textwrap

import libcst as cst

from optimize.analyzers.index import RepoIndex
from optimize.codemods.in_memory_requery import InMemoryRequery
from optimize.transform import run_codemod

MODELS = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Status(Base):
    __tablename__ = "statuses"
    id: Mapped[int] = mapped_column(primary_key=True)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
"""
SERVICE = """
from sqlalchemy import select

from app.models import Project, Status


async def copies(db, project: Project, status: Status):  # line 6
    project.status_id = status.id
    if project.status_id:
        found = await db.get(Status, project.status_id)


async def fetches_only(db, project: Project):  # line 12
    if project.status_id:
        found = await db.get(Status, project.status_id)


async def assigns_in_a_nested_function(db, project: Project, status: Status):  # line 17
    def later():
        project.status_id = status.id
    if project.status_id:
        found = await db.get(Status, project.status_id)


async def assigns_something_else(db, project: Project):  # line 24
    project.status_id = 5
    if project.status_id:
        found = await db.get(Status, project.status_id)
"""


def _index() -> RepoIndex:
    return RepoIndex.build({
        "app/__init__.py": b"", "app/models.py": MODELS.encode(), "app/service.py": textwrap.dedent(SERVICE).lstrip().encode(),
    })


def test_the_functions_read_are_those_that_fetch_and_assign_an_attribute() -> None:
    assert InMemoryRequery.candidate_lines("app/service.py", _index()) == frozenset({6, 17, 24})


def test_the_function_left_out_is_one_the_codemod_has_nothing_to_say_about() -> None:
    index = _index()
    source = textwrap.dedent(SERVICE).lstrip()
    done = run_codemod(InMemoryRequery, cst.parse_module(source), "app/service.py", index=index)
    lines = {c.line for c in done.changes} | {r.line for r in done.refusals}
    said = {line: next(n for n in (24, 17, 12, 6) if n <= line) for line in lines}
    assert set(said.values()) <= {6, 17, 24} and 12 not in said.values()
    # The nested assignment and the other value are reported; the copy is rewritten.
    assert len({*said.values()}) == 3
