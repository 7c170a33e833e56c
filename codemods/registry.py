"""Every codemod, in the order `apply` runs them (each on the previous one's output).

Order matters only where codemods touch the same code: removals of redundant queries run
before the rewrites that move awaits into background tasks, and `sync-handler` judges a
handler before those add background tasks to it (which need the event loop's thread).
"""

from __future__ import annotations

from optimize.codemods.base import Codemod
from optimize.codemods.count_in_database import CountInDatabase
from optimize.codemods.dangling_task import DanglingTask
from optimize.codemods.debug_middleware import DebugMiddleware
from optimize.codemods.eager_load import EagerLoad
from optimize.codemods.fire_and_forget_broadcast import FireAndForgetBroadcast
from optimize.codemods.get_by_primary_key import GetByPrimaryKey
from optimize.codemods.in_memory_requery import InMemoryRequery
from optimize.codemods.pool_overflow import PoolOverflow
from optimize.codemods.pool_pre_ping import PoolPrePing
from optimize.codemods.redundant_lazy_load import RedundantLazyLoad
from optimize.codemods.sync_handler import SyncHandler

REGISTRY: tuple[type[Codemod], ...] = (
    PoolPrePing,
    PoolOverflow,
    DebugMiddleware,
    RedundantLazyLoad,
    InMemoryRequery,
    EagerLoad,
    CountInDatabase,
    GetByPrimaryKey,
    SyncHandler,
    FireAndForgetBroadcast,
    DanglingTask,
)


def by_id() -> dict[str, type[Codemod]]:
    return {c.ID: c for c in REGISTRY}
