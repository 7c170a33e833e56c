"""The order of a model's primary key as its mapper sees it, when the source proves it.

`Session.get(M, (a, b))` matches the tuple to `M.__mapper__.primary_key` by position. That
order is the table's column order, which is the order the class declares its key columns
only when nothing else decides it (pinned in
`tests/sqlalchemy_pins/test_get_by_primary_key_forms.py`):
- a key column a mixin or parent class contributes is placed after the class's own;
- `mapped_column(sort_order=...)` reorders the table's columns;
- `__table_args__ = (PrimaryKeyConstraint("b", "a"),)` names the key in its own order
  (a `__table_args__` of indexes, other constraints and a dict of options does not), and
  `__mapper_args__ = {"primary_key": [...]}` or `__table__` replace it.
"""

from __future__ import annotations

from optimize.analyzers.index import RepoIndex
from optimize.analyzers.models import ModelInfo

# Class attributes that can set the table's or the mapper's primary key.
KEY_DECLARATIONS = ("__table_args__", "__mapper_args__", "__table__")
_MAX_BASES = 10


def primary_key_order(index: RepoIndex, model: ModelInfo) -> tuple[str, ...] | str:
    """The key's attribute names in the mapper's order, or why that order is not proven.
    A single-column (or empty) key needs no proof."""
    key = model.primary_key
    if len(key) <= 1:
        return key
    own = _own_declaration(index, model)
    if own is None or own.primary_key != key:
        return f"part of {model.name}'s composite primary key is inherited, so its order is the mapper's, not the class's"
    sorted_columns = [c for c in key if model.columns[c].sort_order]
    if sorted_columns:
        return f"{model.name}.{sorted_columns[0]} sets sort_order, which reorders the table's key columns"
    declared = _key_declaration(index, model, 0)
    if declared:
        return f"{declared} may declare {model.name}'s primary key in another order"
    return key


def _own_declaration(index: RepoIndex, model: ModelInfo) -> ModelInfo | None:
    """What the class body itself declares, without its bases."""
    facts = index.facts.get(model.path)
    return None if facts is None else facts.classes.get(model.name)


def _key_declaration(index: RepoIndex, model: ModelInfo, depth: int) -> str | None:
    """`Class.__table_args__` (or another of KEY_DECLARATIONS) when the class or a base
    class of the repository sets one, or a base has a table of its own (joined-table
    inheritance: the key is that table's)."""
    facts = index.facts.get(model.path)
    if facts is not None:
        declared = facts.classes.get(model.name)
        for field in facts.class_fields:
            if field.cls == model.name and field.name in KEY_DECLARATIONS:
                if field.name == "__table_args__" and declared is not None and not declared.key_in_table_args:
                    continue  # indexes, constraints and options only: the key keeps the columns' order
                return f"{model.name}.{field.name}"
        for attribute in KEY_DECLARATIONS:  # `@declared_attr def __table_args__(cls)`
            if f"{facts.module}.{model.name}.{attribute}" in facts.functions:
                return f"{model.name}.{attribute}"
    if depth >= _MAX_BASES:
        return f"{model.name}'s class hierarchy"
    for base in model.bases:
        short = base.rsplit(".", 1)[-1]
        inherited = index.model_for(base)
        if inherited is not None and inherited.table:
            return f"the mapped base class {short} (its table holds the key)"
        # Every repository class of that name is read: one of them is the base.
        for declared in index.tables.classes.get(short, []):
            found = _key_declaration(index, declared, depth + 1)
            if found:
                return found
    return None
