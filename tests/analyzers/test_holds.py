"""What a name holds at a point of a function (`optimize.analyzers.holds`), on small
multi-module repositories: annotations in every spelling, constructors, every query form,
return annotations of helpers, services and classmethods in other modules, elements of
collections, and the flow (a binding on one branch only holds nothing known)."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from optimize.analyzers.annotations import Shape, read_annotation_text
from optimize.analyzers.flow import FunctionFlow
from optimize.analyzers.holds import FunctionValues
from tests.analyzers.test_values import ModuleReader

MODELS = """
    from __future__ import annotations

    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class TaskStatus(Base):
        __tablename__ = "task_statuses"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]

        @classmethod
        def create_default_statuses(cls, project_id: int) -> list["TaskStatus"]:
            return [cls(name="Todo"), cls(name="Done")]

    class Task(Base):
        __tablename__ = "tasks"
        id: Mapped[int] = mapped_column(primary_key=True)
"""
SERVICES = """
    from typing import Optional

    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import AsyncSession

    from ..models import Task

    async def get_task(db: AsyncSession, task_id: int) -> Task | None:
        return await db.get(Task, task_id)

    def find_task(db, task_id) -> Optional["Task"]:
        return db.get(Task, task_id)

    class TaskService:
        def __init__(self, db):
            self.db = db

        async def load(self, task_id: int) -> "Task":
            return (await self.db.execute(select(Task).where(Task.id == task_id))).scalar_one()

    task_service = TaskService(None)
"""
SCHEMAS = """
    class Task:
        id: int
"""
FILES = {"app/models.py": MODELS, "app/services/tasks.py": SERVICES, "app/schemas.py": SCHEMAS}


def held(source: str, name: str, *, files: dict[str, str] = FILES, path: str = "app/routers/tasks.py"):
    """What ``name`` holds at the last statement of the module's only function."""
    reader = ModuleReader(path, source, files)
    function = m.findall(reader.wrapper.module, m.FunctionDef())[0]
    assert isinstance(function, cst.FunctionDef)
    flow = FunctionFlow.of(function)
    values = FunctionValues(reader, reader.index, flow, path)
    last = function.body.body[-1]
    return values.at(flow.step_of(last), name), values, flow


def shape_and_model(found) -> tuple[str, str] | None:
    return None if found is None else (found.model.name, found.shape.name)


# --- annotations ------------------------------------------------------------------------------


def test_annotations_in_every_spelling() -> None:
    resolve = {"Task": "app.models.Task", "models.Task": "app.models.Task"}.get
    cases = {
        "Task": Shape.ONE,
        "'Task'": Shape.ONE,
        "models.Task": Shape.ONE,
        "Task | None": Shape.OPTIONAL,
        "None | Task": Shape.OPTIONAL,
        "Optional[Task]": Shape.OPTIONAL,
        "typing.Optional['Task']": Shape.OPTIONAL,
        "Union[Task, None]": Shape.OPTIONAL,
        "'Task | None'": Shape.OPTIONAL,
        "list[Task]": Shape.MANY,
        "List['Task']": Shape.MANY,
        "Sequence[Task]": Shape.MANY,
        "tuple[Task, ...]": Shape.MANY,
        "Annotated[Task, Depends(x)]": Shape.ONE,
    }
    for text, shape in cases.items():
        ref = read_annotation_text(text, resolve)
        assert ref is not None and ref.shape is shape and ref.qualname == "app.models.Task", text
    for text in ["dict[str, Task]", "Task | User", "list[Task | None]", "Other", "tuple[Task, Task]", "Optional[list[Task]]"]:
        assert read_annotation_text(text, resolve) is None, text


def test_parameter_and_variable_annotations_resolve_through_relative_imports() -> None:
    source = """
        from typing import Optional
        from ..models import Task

        async def handler(a: Task, b: "Task | None", c: Optional[Task], d: list["Task"]):
            e: Task = await make()
            return a, b, c, d, e
    """
    for name, shape in {"a": "ONE", "b": "OPTIONAL", "c": "OPTIONAL", "d": "MANY", "e": "ONE"}.items():
        found, _, _ = held(source, name)
        assert shape_and_model(found) == ("Task", shape), name


def test_a_plain_class_sharing_a_models_name_holds_nothing() -> None:
    source = """
        from app.schemas import Task

        def f(a: Task):
            b = Task()
            return a, b
    """
    assert held(source, "a")[0] is None
    assert held(source, "b")[0] is None


# --- queries and constructors -----------------------------------------------------------------


def test_every_query_form() -> None:
    source = """
        from sqlalchemy import select
        from app.models import Task

        async def f(db, task_id):
            a = Task(id=1)
            b = await db.get(Task, task_id)
            c = (await db.execute(select(Task).where(Task.id == task_id))).scalar_one_or_none()
            result = await db.execute(select(Task))
            d = result.scalars().first()
            e = await db.scalar(select(Task).where(Task.id == task_id))
            f = (await db.scalars(select(Task))).all()
            g = db.query(Task).filter(Task.id == task_id).one()
            h = result.first()
            return a, b, c, d, e, f, g, h
    """
    expected = {
        "a": ("Task", "ONE"), "b": ("Task", "OPTIONAL"), "c": ("Task", "OPTIONAL"), "d": ("Task", "OPTIONAL"),
        "e": ("Task", "OPTIONAL"), "f": ("Task", "MANY"), "g": ("Task", "ONE"), "h": None,
    }
    for name, want in expected.items():
        found, _, _ = held(source, name)
        assert shape_and_model(found) == want, name
    d, _, _ = held(source, "d")
    assert d is not None and d.fetch is not None and d.result is not None and d.result[1] == "result"


# --- return annotations in other modules ------------------------------------------------------


def test_return_annotations_of_helpers_services_and_classmethods() -> None:
    source = """
        from app.models import TaskStatus
        from app.services.tasks import TaskService, find_task, get_task, task_service

        async def f(db, project, task_id):
            a = await get_task(db, task_id)
            b = find_task(db, task_id)
            c = await TaskService(db).load(task_id)
            service = TaskService(db)
            d = await service.load(task_id)
            e = await task_service.load(task_id)
            statuses = TaskStatus.create_default_statuses(project.id)
            g = get_task(db, task_id)
            return a, b, c, d, e, statuses, g
    """
    expected = {
        "a": ("Task", "OPTIONAL"), "b": ("Task", "OPTIONAL"), "c": ("Task", "ONE"), "d": ("Task", "ONE"),
        "e": ("Task", "ONE"), "statuses": ("TaskStatus", "MANY"),
        "g": None,  # an async function called without await holds a coroutine
    }
    for name, want in expected.items():
        found, _, _ = held(source, name)
        assert shape_and_model(found) == want, name


# --- elements ---------------------------------------------------------------------------------


def test_elements_of_a_collection() -> None:
    source = """
        from sqlalchemy import select
        from app.models import Task, TaskStatus

        async def f(db, project):
            statuses = TaskStatus.create_default_statuses(project.id)
            todo = next((s for s in statuses if s.name == "Todo"), None)
            first = next(s for s in statuses)
            top = statuses[0]
            kept = [s for s in statuses if s.name]
            ordered = sorted(statuses, key=lambda s: s.name)
            for each in statuses:
                pass
            for task in (await db.scalars(select(Task))):
                pass
            for legacy in db.query(Task).filter(Task.id > 1):
                pass
            return todo, first, top, kept, ordered, each, task, legacy
    """
    expected = {
        "todo": ("TaskStatus", "OPTIONAL"), "first": ("TaskStatus", "ONE"), "top": ("TaskStatus", "ONE"),
        "kept": ("TaskStatus", "MANY"), "ordered": ("TaskStatus", "MANY"), "each": ("TaskStatus", "ONE"),
        "task": ("Task", "ONE"), "legacy": ("Task", "ONE"),
    }
    for name, want in expected.items():
        found, _, _ = held(source, name)
        assert shape_and_model(found) == want, name


# --- the flow ---------------------------------------------------------------------------------


def test_bindings_on_every_path_must_agree() -> None:
    both = """
        from app.models import Task

        def f(db, flag, task_id):
            if flag:
                task = Task()
            else:
                task = db.get(Task, task_id)
            return task
    """
    assert shape_and_model(held(both, "task")[0]) == ("Task", "OPTIONAL")
    one_branch = """
        from app.models import Task

        def f(db, flag, task):
            if flag:
                task = Task()
            return task
    """
    assert held(one_branch, "task")[0] is None
    rebound_in_loop = """
        from app.models import Task, TaskStatus

        def f(items):
            task = Task()
            for item in items:
                task
                task = TaskStatus()
            return task
    """
    reader_found, values, flow = held(rebound_in_loop, "task")
    loop_body_read = flow.step_of(m.findall(flow.function, m.Expr(value=m.Name("task")))[0])
    assert values.at(loop_body_read, "task") is None  # Task on entry, TaskStatus round the loop


def test_not_none_after_a_dereference_or_a_guard() -> None:
    source = """
        from app.models import Task

        async def f(db, task_id, flag):
            task = await db.get(Task, task_id)
            if not task:
                raise LookupError(task_id)
            task
    """
    found, values, flow = held(source, "task")
    last = flow.step_of(flow.function.body.body[-1])
    assert found is not None and found.shape is Shape.OPTIONAL
    assert values.not_none(last, "task")
    unguarded = """
        from app.models import Task

        async def f(db, task_id, flag):
            task = await db.get(Task, task_id)
            if flag:
                print(task.id)
            task
    """
    _, values, flow = held(unguarded, "task")
    assert not values.not_none(flow.step_of(flow.function.body.body[-1]), "task")
    dereferenced = """
        from app.models import Task

        async def f(db, task_id):
            task = await db.get(Task, task_id)
            await db.refresh(task)
            task
    """
    _, values, flow = held(dereferenced, "task")
    assert values.not_none(flow.step_of(flow.function.body.body[-1]), "task")
    inside = """
        from app.models import Task

        async def f(db, task_id):
            task = await db.get(Task, task_id)
            if task is not None:
                task
    """
    _, values, flow = held(inside, "task")
    read = m.findall(flow.function, m.Expr(value=m.Name("task")))[0]
    assert values.not_none(flow.step_of(read), "task")


def test_a_long_chain_of_names_ends_in_nothing_known_not_a_recursion_error() -> None:
    chain = "\n".join(f"    n{i + 1} = n{i}" for i in range(400))
    source = f"from app.models import Task\n\ndef f():\n    n0 = Task()\n{chain}\n    return n400\n"
    found, _, _ = held(source, "n400")
    assert found is None
    short, _, _ = held("from app.models import Task\n\ndef f():\n    a = Task()\n    b = a\n    return b\n", "b")
    assert shape_and_model(short) == ("Task", "ONE")
