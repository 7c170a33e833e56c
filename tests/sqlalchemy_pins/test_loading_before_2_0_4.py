"""Why a named `lazy="select"` relationship needs SQLAlchemy 2.0.4: the same refresh on an
older release leaves it unloaded, while eager strategies load either way.

Runs on request against another SQLAlchemy: `OPTIMIZE_OLD_SQLALCHEMY=<dir>` where
`pip install --no-deps --target <dir> sqlalchemy==2.0.3` put it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

OLD = os.environ.get("OPTIMIZE_OLD_SQLALCHEMY")

SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    import sqlalchemy
    from sqlalchemy import ForeignKey, create_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

    class Base(DeclarativeBase):
        pass

    class Owner(Base):
        __tablename__ = "owners"
        id: Mapped[int] = mapped_column(primary_key=True)

    def item(lazy):
        return type(f"Item_{lazy}", (Base,), {
            "__tablename__": f"items_{lazy}",
            "id": mapped_column(primary_key=True),
            "owner_id": mapped_column(ForeignKey("owners.id")),
            "owner": relationship(Owner, lazy=lazy),
            "__annotations__": {"id": Mapped[int], "owner_id": Mapped[int], "owner": Mapped[Owner]},
        })

    items = {lazy: item(lazy) for lazy in ["select", "joined", "selectin", "subquery", "immediate"]}
    engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/old.db")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Owner(id=1))
        session.add_all([cls(id=1, owner_id=1) for cls in items.values()])
        session.commit()
    named = {}
    for lazy, cls in items.items():
        with Session(engine) as session:
            obj = session.get(cls, 1)
            session.expire(obj)
            session.refresh(obj, attribute_names=["owner"])
            named[lazy] = "owner" in obj.__dict__
    print(json.dumps({"version": sqlalchemy.__version__, "named": named}))
    """
)


@pytest.mark.skipif(not OLD, reason="set OPTIMIZE_OLD_SQLALCHEMY to a directory holding SQLAlchemy < 2.0.4")
def test_refresh_naming_a_lazy_select_relationship_before_2_0_4() -> None:
    env = {**os.environ, "PYTHONPATH": OLD}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    found = json.loads(out.stdout)
    assert tuple(int(p) for p in found["version"].split(".")[:3]) < (2, 0, 4)
    assert found["named"] == {
        "select": False, "joined": True, "selectin": True, "subquery": True, "immediate": True
    }
