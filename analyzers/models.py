"""SQLAlchemy and SQLModel model classes: table, columns, relationships and how they load.

Both declarative styles are read: `x: Mapped[T] = mapped_column(...)` /
`relationship(...)` and the classic `x = Column(...)` / `relationship(...)`, plus SQLModel's
`Field(primary_key=True)` and `Relationship(sa_relationship_kwargs={"lazy": ...})`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import replace, dataclass, field
from typing import Callable

from optimize.analyzers.pickling import pickled_by_fields

COLUMN_FACTORIES = {"mapped_column", "Column", "column_property"}
RELATIONSHIP_FACTORIES = {"relationship", "relation", "Relationship"}
DEFAULT_LAZY = "select"
# Strategies that load a relationship together with its object (a query or a plain refresh).
EAGER_STRATEGIES = frozenset({"joined", "selectin", "subquery", "immediate"})
SQL_PACKAGES = {"sqlalchemy", "sqlmodel"}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class ColumnInfo:
    name: str
    primary_key: bool = False
    index: bool = False
    unique: bool = False
    foreign_key: str | None = None
    sort_order: bool = False  # `sort_order=` given: the table's column order is not the class's
    line: int = 0  # where the class declares it
    boolean: bool = False  # `Mapped[bool]`, `Column(Boolean)`: two values, an index rarely helps
    no_index: bool = False  # `index=False` written: the maintainers chose no index


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class IndexInfo:
    """An index over columns of the model's table, in their order: `Index(...)` or a
    `UniqueConstraint(...)` in `__table_args__`, or `Index("ix", M.a, M.b)` beside the class."""

    columns: tuple[str, ...]
    unique: bool = False
    name: str | None = None
    trigram: frozenset[str] = frozenset()  # columns it indexes with `gin_trgm_ops` / `gist_trgm_ops`


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RelationshipInfo:
    name: str
    target: str | None
    lazy: str | None  # the literal strategy; None when not a literal
    # One object (`Mapped[User]`, `uselist=False`), a collection (`Mapped[list[Task]]`,
    # `uselist=True`), or not written (None).
    scalar: bool | None = None


@pickled_by_fields
@dataclass(slots=True)
class ModelInfo:
    name: str
    path: str
    line: int
    table: str | None = None
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    relationships: dict[str, RelationshipInfo] = field(default_factory=dict)
    bases: tuple[str, ...] = ()  # base classes, qualified through the module's imports
    mapped: bool = True  # False: a plain class (kept for subclasses that are models)
    indexes: list[IndexInfo] = field(default_factory=list)  # multi-column and named ones
    # `__table_args__` may name the primary key (a PrimaryKeyConstraint, or a value not read here)
    key_in_table_args: bool = False

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns.values() if c.primary_key)


def _short(name: str | None) -> str:
    return (name or "").rsplit(".", 1)[-1]


def _call_name(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name):
            return func.id
        if isinstance(func, ast.Attribute):
            return func.attr
    return ""


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _annotation_target(annotation: ast.AST | None) -> str | None:
    """`Mapped[list["Task"]]`, `Mapped[Optional[User]]`, `Mapped[User | None]` -> the class."""
    if annotation is None:
        return None
    node = annotation
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None
    if isinstance(node, ast.Subscript):
        outer = _short(ast.unparse(node.value))
        inner = node.slice
        if outer in {"Mapped", "list", "List", "set", "Set", "Optional", "DynamicMapped", "WriteOnlyMapped"}:
            return _annotation_target(inner)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        for side in (node.left, node.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return _annotation_target(side)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _relationship(name: str, call: ast.Call, annotation: ast.AST | None) -> RelationshipInfo:
    target = None
    if call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            target = _short(first.value)
        elif isinstance(first, (ast.Name, ast.Attribute)):
            target = _short(ast.unparse(first))
    target = target or _annotation_target(annotation)
    lazy_node = _kw(call, "lazy")
    kwargs = _kw(call, "sa_relationship_kwargs")  # SQLModel
    if lazy_node is None and isinstance(kwargs, ast.Dict):
        for key, value in zip(kwargs.keys, kwargs.values):
            if isinstance(key, ast.Constant) and key.value == "lazy":
                lazy_node = value
    if lazy_node is None:
        lazy = DEFAULT_LAZY
        if annotation is not None and "DynamicMapped" in ast.unparse(annotation):
            lazy = "dynamic"
        if annotation is not None and "WriteOnlyMapped" in ast.unparse(annotation):
            lazy = "write_only"
    elif isinstance(lazy_node, ast.Constant) and isinstance(lazy_node.value, str):
        lazy = lazy_node.value
    elif isinstance(lazy_node, ast.Constant) and lazy_node.value is True:
        lazy = "select"
    elif isinstance(lazy_node, ast.Constant) and lazy_node.value is False:
        lazy = "joined"
    elif isinstance(lazy_node, ast.Constant) and lazy_node.value is None:
        lazy = "noload"
    else:
        lazy = None
    return RelationshipInfo(name, target, lazy, _scalar(call, annotation))


_COLLECTIONS = re.compile(r"\b(?:list|List|set|Set|Sequence|Collection|DynamicMapped|WriteOnlyMapped)\b")


def _scalar(call: ast.Call, annotation: ast.AST | None) -> bool | None:
    uselist = _kw(call, "uselist")
    if isinstance(uselist, ast.Constant) and isinstance(uselist.value, bool):
        return not uselist.value
    if annotation is None:
        return None
    written = ast.unparse(annotation)
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        written = annotation.value
    return _COLLECTIONS.search(written) is None


def _column(name: str, call: ast.Call | None, annotation: ast.AST | None) -> ColumnInfo:
    if call is None:
        return ColumnInfo(name)
    foreign_key = None
    for arg in call.args:
        if isinstance(arg, ast.Call) and _call_name(arg) == "ForeignKey" and arg.args:
            first = arg.args[0]
            foreign_key = first.value if isinstance(first, ast.Constant) else ast.unparse(first)
    fk_kw = _kw(call, "foreign_key")  # SQLModel
    if isinstance(fk_kw, ast.Constant):
        foreign_key = fk_kw.value
    boolean = (annotation is not None and re.search(r"\bbool\b", ast.unparse(annotation)) is not None) or any(
        _call_name(a) == "Boolean" or (isinstance(a, (ast.Name, ast.Attribute)) and ast.unparse(a).endswith("Boolean"))
        for a in call.args
    )
    return ColumnInfo(
        name,
        boolean=boolean,
        no_index=isinstance(_kw(call, "index"), ast.Constant) and _kw(call, "index").value is False,
        primary_key=_true(_kw(call, "primary_key")),
        index=_true(_kw(call, "index")),
        unique=_true(_kw(call, "unique")),
        foreign_key=foreign_key,
        sort_order=_kw(call, "sort_order") is not None,
    )


def _factory(value: ast.AST | None, resolve: Callable[[str], str | None]) -> str:
    """`relationship` for `relationship(...)`, `rel(...)` after `relationship as rel`, or
    `sa.orm.relationship(...)`; "" when the callee is imported from anywhere else (an
    application's own `relationship` helper is not SQLAlchemy's)."""
    if not isinstance(value, ast.Call):
        return ""
    written = ast.unparse(value.func)
    resolved = resolve(written) or written
    if resolved != written or "." in written:
        if resolved.split(".", 1)[0] not in SQL_PACKAGES:
            return ""
    return _short(resolved)


def model_info(path: str, node: ast.ClassDef, resolve: Callable[[str], str | None]) -> ModelInfo:
    """What a class declares; ``mapped`` False when nothing in it makes it a model by itself
    (a subclass of a model or of a mixin is resolved by the index)."""
    sqlmodel_table = any(k.arg == "table" and _true(k.value) for k in node.keywords)
    table = None
    bases = tuple(
        resolve(ast.unparse(b)) or ast.unparse(b) for b in node.bases if isinstance(b, (ast.Name, ast.Attribute))
    )
    info = ModelInfo(node.name, path, node.lineno, bases=bases)
    mapped = sqlmodel_table
    for stmt in node.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "__table_args__":
            # `@declared_attr.directive def __table_args__(cls): return (Index(..., cls.a), ...)`
            returned = [r.value for r in ast.walk(stmt) if isinstance(r, ast.Return) and r.value is not None]
            for value in returned:
                info.indexes.extend(table_indexes(value, "cls"))
            info.key_in_table_args = not returned or any(_may_name_key(v) for v in returned)
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, annotation, value = stmt.targets[0].id, None, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            name, annotation, value = stmt.target.id, stmt.annotation, stmt.value
        else:
            continue
        if name == "__tablename__" and isinstance(value, ast.Constant):
            table = value.value
            mapped = True
            continue
        if name == "__table_args__":
            info.indexes.extend(table_indexes(value, None))
            info.key_in_table_args = _may_name_key(value)
            continue
        kind = _factory(value, resolve)
        if kind in RELATIONSHIP_FACTORIES and isinstance(value, ast.Call):
            info.relationships[name] = _relationship(name, value, annotation)
            mapped = True
        elif kind in COLUMN_FACTORIES and isinstance(value, ast.Call):
            info.columns[name] = _column(name, value, annotation)
            mapped = True
        elif kind == "Field" and isinstance(value, ast.Call) and sqlmodel_table:
            info.columns[name] = _column(name, value, annotation)
        elif annotation is not None and _is_mapped_annotation(annotation) and value is None:
            info.columns[name] = ColumnInfo(name)
            mapped = True
        elif sqlmodel_table and annotation is not None and value is None and not name.startswith("_"):
            info.columns[name] = ColumnInfo(name)
        if name in info.columns and not info.columns[name].line:
            info.columns[name] = replace(info.columns[name], line=stmt.lineno)
    info.mapped = mapped
    info.table = table
    return info


INDEX_FACTORIES = {"Index": False, "UniqueConstraint": True}


def table_indexes(value: ast.AST | None, owner: str | None) -> list[IndexInfo]:
    """The indexes of a `__table_args__` value (a tuple, a dict, a tuple ending with a dict)
    or of one `Index(...)` call; with ``owner``, columns are written `Owner.column`,
    otherwise as strings or bare names."""
    calls = list(value.elts) if isinstance(value, (ast.Tuple, ast.List)) else [value]
    found = []
    for call in calls:
        while isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "ddl_if":
            call = call.func.value  # `Index(...).ddl_if(dialect=...)`: the index, on some dialects
        if not isinstance(call, ast.Call):
            continue
        kind = _short(ast.unparse(call.func))
        if kind not in INDEX_FACTORIES:
            continue
        args = list(call.args)
        name = None
        if kind == "Index" and args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            name = args.pop(0).value
        name_kw = _kw(call, "name")
        if isinstance(name_kw, ast.Constant) and isinstance(name_kw.value, str):
            name = name_kw.value
        columns = [_index_column(arg, owner) for arg in args]
        if not columns or any(c is None for c in columns):
            continue  # an expression index (`func.lower(...)`) or a column not read here
        unique = INDEX_FACTORIES[kind] or _true(_kw(call, "unique"))
        found.append(IndexInfo(tuple(c for c in columns if c), unique, name, trigram_columns(call)))
    return found


_TRIGRAM_OPS = {"gin_trgm_ops", "gist_trgm_ops"}


def trigram_columns(call: ast.Call) -> frozenset[str]:
    """The columns an `Index(...)` / `op.create_index(...)` indexes by trigrams:
    `postgresql_using="gin", postgresql_ops={"name": "gin_trgm_ops"}`. Such an index serves
    `LIKE '%q%'` on them."""
    ops = _kw(call, "postgresql_ops")
    if not isinstance(ops, ast.Dict):
        return frozenset()
    return frozenset(
        k.value
        for k, v in zip(ops.keys, ops.values)
        if isinstance(k, ast.Constant) and isinstance(k.value, str) and isinstance(v, ast.Constant) and v.value in _TRIGRAM_OPS
    )


_MAPPED_HEAD = re.compile(r"^(?:[\w.]+\.)?Mapped\[")


def _is_mapped_annotation(annotation: ast.AST) -> bool:
    """`Mapped[int]`, `orm.Mapped["User"]`, `"Mapped[int]"`: a mapped attribute. Not an
    annotation that only mentions it (`Optional[Type[Mapped[Any]]]` in a NamedTuple)."""
    written = annotation.value if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str) else ast.unparse(annotation)
    return _MAPPED_HEAD.match(written.strip()) is not None


def _may_name_key(value: ast.AST | None) -> bool:
    """Whether a `__table_args__` value may declare the primary key: it holds a
    `PrimaryKeyConstraint(...)`, or it is not a literal tuple / dict read here."""
    if isinstance(value, ast.Dict):
        return False
    if not isinstance(value, (ast.Tuple, ast.List)):
        return True
    for element in value.elts:
        if isinstance(element, ast.Dict):
            continue
        if not isinstance(element, ast.Call):
            return True
        kind = _short(ast.unparse(element.func))
        if kind == "PrimaryKeyConstraint" or kind not in {"Index", "UniqueConstraint", "CheckConstraint", "ForeignKeyConstraint"}:
            return True
    return False


def _index_column(arg: ast.AST, owner: str | None) -> str | None:
    while isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr in {"desc", "asc"}:
        arg = arg.func.value  # `Index("ix", M.created.desc())` serves `M.created` both ways
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if owner is None and isinstance(arg, ast.Name):
        return arg.id
    if isinstance(arg, ast.Attribute) and (owner is None or ast.unparse(arg.value) in {owner, f"{owner}.__table__.c"}):
        return arg.attr
    return None


def merged(info: ModelInfo, bases: list[ModelInfo]) -> ModelInfo:
    """``info`` with what its (already merged) base classes declare; its own names win."""
    out = ModelInfo(info.name, info.path, info.line, info.table, bases=info.bases, mapped=info.mapped)
    for base in reversed(bases):  # the first base wins over later ones, as in the MRO
        out.columns.update(base.columns)
        out.relationships.update(base.relationships)
        out.mapped = out.mapped or base.mapped
        out.table = out.table or base.table
    out.columns.update(info.columns)
    out.relationships.update(info.relationships)
    out.indexes = [*info.indexes, *(i for base in bases for i in base.indexes)]
    return out


def table_names(model: ModelInfo) -> tuple[str, ...]:
    """The model's table; when a `@declared_attr` function names it (not read here), the
    names such functions derive from the class name (`FlowRun` -> `flow_run`, `flowrun`).
    A wrong guess can only make an index look present, so a finding is lost, never made."""
    if model.table is not None:
        return (model.table,)
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model.name).lower()
    return (snake, model.name.lower())
