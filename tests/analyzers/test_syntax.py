"""Files written for Python 3.12-3.14 give their facts, on their own lines, whatever Python
optimize runs on; a file no parser accepts is reported with the line that is wrong."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap

import pytest

from optimize.analyzers.index import TOO_DEEP, RepoIndex
from optimize.analyzers.syntax import NOT_DECODABLE, Unparsable, parse_for_facts

MODELS_AFTER = '''
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(primary_key=True)
'''

# Each form the running Python may not know, as application code writes it.
FORMS = {
    "type alias": "type UserId = int\n",
    "generic type alias": "type Pair[T] = tuple[T, T]\n",
    "type alias continued on the next line": "type Handler = \\\n    Callable[[Request], Response]\n",
    "type alias in a class body": "class Registry:\n    type Key = str\n    size = 3\n",
    "type aliases after a semicolon": "x = 1; type Ids[T: int = int] = list[T]\n",
    "generic function with constraints": "def first[T: (int, str)](items: list[T]) -> T:\n    return items[0]\n",
    "ParamSpec and TypeVarTuple": (
        "def call[*Ts, **P](f: Callable[P, int], *args: *Ts) -> int:\n    return f(*args)\n"
    ),
    "generic class": (
        "class Repo[ModelT](Generic, metaclass=Meta):\n"
        "    def get(self, session, id: int) -> ModelT | None:\n"
        "        return session.get(self.model, id)\n"
    ),
    "type parameter default (PEP 696)": "class Page[T = dict[str, int]]:\n    items: list[T]\n",
    "type parameters over several lines, with a comment": (
        "def pick[\n    K,  # the key\n    V: (int, str),\n](mapping: dict[K, V], key: K) -> V:\n"
        "    return mapping[key]\n"
    ),
    "generic async method": (
        "class Service:\n    async def fetch[T](self, kind: type[T]) -> T:\n        return await load(kind)\n"
    ),
    "except without parentheses (PEP 758)": (
        "try:\n    import orjson\nexcept ImportError, ModuleNotFoundError:\n    orjson = None\n"
    ),
    "except* without parentheses": (
        "def run():\n    try:\n        go()\n    except* ValueError, TypeError:\n        log()\n"
    ),
    "f-string with the same quotes inside": 'label = f"{", ".join(names)}"\n',
    "parenthesised field with the same quotes inside": 'label = f"{ (", ".join(names)) :>{width}}"\n',
    "f-strings nested three deep": 'greeting = f"{f"{f"{name}"}"}"\n',
    "backslash in a replacement field": r"joined = f'{'\n'.join(lines)}'" + "\n",
    "comment in a replacement field": 'card = f"""{user.name  # the display name\n}"""\n',
    "replacement field over two lines": 'title = f"{user.first +\n    user.last}"\n',
    "replacement field over lines in an indented block": (
        "def render(order):\n"
        "    with tag.td():\n"
        "        text(\n"
        '            f"-{\n'
        "                currency(\n"
        "                    order.discount_amount,\n"
        "                    order.currency,\n"
        "                )\n"
        '            }"\n'
        "        )\n"
    ),
    "format spec with the same quotes": 'price = f"{amount:{"^10"}}"\n',
    "concatenation over lines, with a comment": (
        'message = (\n    "Hello "  # greeting\n    f"{", ".join(names)}"\n    "!"\n)\n'
    ),
    "t-string (PEP 750)": 'query = t"SELECT * FROM users WHERE id = {user_id}"\n',
    "t-string with conversion and spec": 'line = t"{user!r:>{width}}"\n',
    "non-ASCII text before a field": 'note = f"café {", ".join(names)} {count=}"\n',
}


def _models_after(form: str) -> str:
    return form + MODELS_AFTER


def _line_of(source: str, text: str) -> int:
    return source.splitlines().index(text) + 1


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_each_newer_form_is_read_and_the_models_after_it_keep_their_lines(form: str) -> None:
    source = _models_after(form)
    index = RepoIndex.build({"app/models.py": source.encode()})
    assert index.unparsable == {}
    task = index.model("Task")
    assert task is not None and task.line == _line_of(source, "class Task(Base):")
    assert index.model("Base") is None and index.model_for("app.models.Task") == task


@pytest.mark.parametrize("form", FORMS.values(), ids=list(FORMS))
def test_each_name_keeps_its_column(form: str) -> None:
    """Every name the tree holds sits where the source spells it (columns in UTF-8 bytes,
    as `ast` counts them); only a `type` alias's own name moves, to where its statement
    starts."""
    source = _models_after(form)
    tree = parse_for_facts("app/models.py", source.encode())
    assert isinstance(tree, ast.Module)
    lines = source.encode().splitlines()
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name)]
    assert names
    for node in names:
        line = lines[node.lineno - 1]
        spelled = line[node.col_offset : node.end_col_offset].decode()
        assert spelled == node.id or line[node.col_offset :].startswith(b"type "), (node.id, node.lineno, line)


def test_facts_of_a_models_module_in_newer_syntax_keep_their_lines() -> None:
    source = textwrap.dedent(
        '''
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

        type UserId = int
        type Rows[T] = list[T]


        class Base(DeclarativeBase):
            pass


        class User(Base):
            __tablename__ = "users"
            id: Mapped[UserId] = mapped_column(primary_key=True)
            tasks: Mapped[list["Task"]] = relationship(lazy="selectin")


        class Repo[ModelT: Base]:
            page_size: int = 50

            def __init__(self, model: type[ModelT]) -> None:
                self.model = model

            async def all(self, db) -> Rows[ModelT]:
                return list(await db.scalars(select(self.model)))


        class Task(Base):
            __tablename__ = "tasks"
            id: Mapped[int] = mapped_column(primary_key=True)
        '''
    ).lstrip()
    index = RepoIndex.build({"app/models.py": source.encode()})
    assert index.unparsable == {}
    assert index.model("User").line == _line_of(source, "class User(Base):")
    assert index.model("Task").line == _line_of(source, "class Task(Base):")
    assert index.relationship("User", "tasks").lazy == "selectin"
    method = index.function("app.models.Repo.all")
    assert method is not None and method.is_async
    assert method.line == _line_of(source, "    async def all(self, db) -> Rows[ModelT]:")
    (field,) = [f for f in index.settings_fields if f.name == "page_size"]
    assert (field.cls, field.value, field.line) == ("Repo", 50, _line_of(source, "    page_size: int = 50"))


def test_calls_inside_a_newer_f_string_are_still_seen() -> None:
    """A lowered f-string keeps its expressions: a broadcast made only inside one counts."""
    source = textwrap.dedent(
        '''
        from app.ws import manager

        async def announce(task):
            log(f"{await manager.broadcast(f"{task.id}")!r}")
        '''
    ).lstrip()
    ws = "class Manager:\n    async def broadcast(self, text):\n        await self.socket.send_text(text)\n\nmanager = Manager()\n"
    index = RepoIndex.build({"app/tasks.py": source.encode(), "app/ws.py": ws.encode()})
    assert index.unparsable == {}
    announce = index.function("app.tasks.announce")
    assert announce is not None and "app.ws.manager.broadcast" in announce.calls
    assert index.broadcast_reason("app.tasks.announce") is not None


def test_a_file_in_crlf_with_a_bom_is_read() -> None:
    source = ("\ufefftype UserId = int\r\n" + MODELS_AFTER.replace("\n", "\r\n")).encode("utf-8")
    index = RepoIndex.build({"app/models.py": source})
    assert index.unparsable == {}
    assert index.model("Task").line == _line_of(MODELS_AFTER, "class Task(Base):") + 1


# --- files no parser accepts --------------------------------------------------------------


def _reason(source: str | bytes) -> str:
    data = source.encode() if isinstance(source, str) else source
    return RepoIndex.build({"app/broken.py": data}).unparsable["app/broken.py"]


def test_an_error_after_newer_syntax_is_reported_on_its_own_line() -> None:
    source = "type UserId = int\n\n\ndef owner(task):\n    if task.owner_id\n        return task.owner_id\n"
    reason = _reason(source)
    assert reason.startswith("syntax error at line 5: "), reason
    failure = parse_for_facts("app/broken.py", source.encode())
    assert isinstance(failure, Unparsable) and failure.line == 5


def test_an_unterminated_string_after_newer_syntax_is_reported_on_its_line() -> None:
    source = "class Repo[T]:\n    pass\n\n\nNAME = 'tasks\nOTHER = 1\n"
    assert _reason(source).startswith("syntax error at line 5: unterminated string literal")


def test_an_error_the_host_sees_first_keeps_the_host_message() -> None:
    """Python 2 code: both parsers stop on line 1, and CPython says it better."""
    reason = _reason("print 'hello'\nexec 'x = 1'\n")
    assert reason.startswith("syntax error at line 1: Missing parentheses in call to 'print'"), reason


def test_an_error_in_plain_code_is_still_reported_with_its_line() -> None:
    reason = _reason("import os\n\ndef f(:\n    pass\n")
    assert reason.startswith("syntax error at line 3: "), reason


def test_an_undecodable_file_is_still_reported_as_such() -> None:
    assert _reason(b"type Name = str\nname = '\xe9t\xe9'\n") == NOT_DECODABLE


def test_a_statement_too_deep_to_lower_is_reported_too_deep() -> None:
    branches = "".join(f"    elif x == {i}:\n        y = {i}\n" for i in range(1, 1500))
    assert _reason(f"def pick[T](x: T) -> None:\n    if x == 0:\n        y = 0\n{branches}") == TOO_DEEP


def test_a_deep_statement_the_host_reads_is_not_lowered_for_a_newer_one_beside_it() -> None:
    branches = "".join(f"elif x == {i}:\n    y = {i}\n" for i in range(1, 1500))
    source = f"type X = int\nx = 0\nif x == 0:\n    y = 0\n{branches}"
    index = RepoIndex.build({"app/deep.py": source.encode()})
    assert index.unparsable == {} and "app/deep.py" in index.facts


_DEEP_BRACKETS = (
    "from optimize.analyzers.index import RepoIndex\n"
    "source = b'type X = int\\n\\nvalue = ' + b'(' * 3000 + b'1' + b')' * 3000 + b'\\n'\n"
    "print(RepoIndex.build({'deep.py': source}).unparsable['deep.py'])\n"
)


def test_brackets_nested_beyond_what_python_allows_never_reach_libcst() -> None:
    """LibCST's parser crashes the process on such a file: it is refused before (in a
    child process, so that a crash fails this test instead of the test run)."""
    done = subprocess.run([sys.executable, "-c", _DEEP_BRACKETS], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.startswith("syntax error at line 3: too many nested parentheses"), done.stdout


# --- a lost models file says so -------------------------------------------------------------


@pytest.mark.parametrize(
    "source, marker",
    [
        ("from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase)\n    pass\n", "DeclarativeBase"),
        ("Base = declarative_base(\n", "declarative_base"),
        ("class Hero(SQLModel, table=True):\n    id: int = Field(primary_key=True\n", "SQLModel with table=True"),
        ("class Task(Base):\n    owner: Mapped[User] = relationship(\n", "Mapped["),
        ("class Task(Base):\n    owner = relationship('User'\n", "relationship("),
        (b"from sqlalchemy.orm import DeclarativeBase\nname = '\xe9'\n", "DeclarativeBase"),
    ],
    ids=["DeclarativeBase", "declarative_base", "SQLModel table", "Mapped", "relationship", "undecodable"],
)
def test_an_unreadable_file_that_seems_to_define_models_says_they_may_be_missed(source, marker) -> None:
    reason = _reason(source)
    assert f"it mentions {marker}, so it may define models, which model-dependent codemods will not see" in reason


@pytest.mark.parametrize(
    "source",
    [
        "def f(:\n    pass\n",
        "class Hero(SQLModel):\n    name: str = (\n",  # an SQLModel without a table: a schema
    ],
    ids=["plain", "SQLModel schema"],
)
def test_an_unreadable_file_without_models_gets_no_models_note(source) -> None:
    assert "models" not in _reason(source)


NEWER_MODULE = '''\
"""A service module written for Python 3.14."""
from __future__ import annotations

import logging

type Rows[T] = list[T]


@dataclass(frozen=True)
class Page[T]:
    items: Rows[T]
    total: int


def banner(names: list[str]) -> str:
    return f"{", ".join(names)}"


@router.get(
    "/tasks",
)
async def list_tasks[T](db, kind: type[T]) -> Page[T]:
    try:
        rows = (await db.scalars(select(kind))).all()
    except ValueError, TypeError:
        rows = []
    else:
        logging.info(
            f"{
                len(rows)
            } rows"
        )
    return Page(rows, len(rows))


if TYPE_CHECKING:
    from app.models import Task
elif False:
    pass
x = 1; y = f"{x!r:>{10}}"
'''


ODD_LAYOUTS = [
    "type X = int\r\nclass A:\r\n    def f(self):\r\n        return f\"{\", \".join(a)}\"\r\n    y = 2\r\n",  # CRLF
    "class A[T]:\n\tdef f(self): return f\"{\"x\"}\"\n\tz = 1\n",  # tabs, one-line bodies
    "type X = int\n\x0cclass B:\n    pass\n",  # a form feed before a statement
    "type X = int\nclass F:\n    def g(self):\n        pass\n  # a comment out of line\n    h = f\"{\"w\"}\"\n",
    "type X = int\nclass G:\n    x = 1 \\\n        + 2\n    @p\n    def q(self): return f\"{\"w\"}\"\n",
    "type X = int\nx = \"\"\"\nclass E:\n  y\n\"\"\"\n",  # a class statement inside a string
]


@pytest.mark.parametrize(
    "source", [NEWER_MODULE, "SERVICE_CLASS", *ODD_LAYOUTS, *(_models_after(form) for form in FORMS.values())]
)
def test_a_file_read_statement_by_statement_gives_the_tree_of_the_whole_file_lowered(source: str, monkeypatch) -> None:
    from optimize.analyzers import syntax

    source = SERVICE_CLASS if source == "SERVICE_CLASS" else source
    by_statement = parse_for_facts("app/service.py", source.encode())
    monkeypatch.setattr(syntax, "BY_STATEMENT", False)
    whole = parse_for_facts("app/service.py", source.encode())
    assert isinstance(by_statement, ast.Module) and isinstance(whole, ast.Module)
    assert ast.dump(by_statement, include_attributes=True) == ast.dump(whole, include_attributes=True)


def test_only_the_statements_the_host_rejects_are_lowered(monkeypatch) -> None:
    from optimize.analyzers import lowering

    lowered: list[str] = []
    real = lowering.lower_for_host
    monkeypatch.setattr(lowering, "lower_for_host", lambda module: lowered.append(module.code) or real(module))
    assert isinstance(parse_for_facts("app/service.py", NEWER_MODULE.encode()), ast.Module)
    assert [code.split("\n", 1)[0] for code in lowered] == [
        "type Rows[T] = list[T]",
        "@dataclass(frozen=True)",  # a generic class: its header with each member
        "@dataclass(frozen=True)",
        "def banner(names: list[str]) -> str:",
        "@router.get(",
    ]


SERVICE_CLASS = '''\
import logging


@register
class CheckoutService(Service):
    """Checkouts."""

    # The states a checkout goes through.
    states = ("open", "confirmed")

    @property
    def name(self) -> str:
        return "checkout"

    async def confirm(self, checkout) -> None:
        logging.info(f"{checkout.customer["email"]} confirmed")
        if checkout.total > 0:
            await self.charge(
                checkout,
            )
        else:
            pass

    if DEBUG:
        def debug(self):
            return f"{", ".join(self.states)}"
    else:
        debug = None

    class Meta:
        table = "checkouts"
'''


def test_in_a_class_only_the_members_the_host_rejects_are_lowered(monkeypatch) -> None:
    from optimize.analyzers import lowering

    lowered: list[str] = []
    real = lowering.lower_for_host
    monkeypatch.setattr(lowering, "lower_for_host", lambda module: lowered.append(module.code) or real(module))
    assert isinstance(parse_for_facts("app/checkout.py", SERVICE_CLASS.encode()), ast.Module)
    assert [code.splitlines()[2].strip() for code in lowered] == ["async def confirm(self, checkout) -> None:", "if DEBUG:"]
