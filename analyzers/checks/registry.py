"""Every check, in the order their findings are listed."""

from __future__ import annotations

from optimize.analyzers.checks.base import Check, IndexCheck
from optimize.analyzers.checks.blocking_in_async import BlockingInAsync
from optimize.analyzers.checks.n_plus_one import NPlusOne

CHECKS: tuple[type[Check] | type[IndexCheck], ...] = (
    NPlusOne,
    BlockingInAsync,
)


def by_id() -> dict[str, type[Check] | type[IndexCheck]]:
    return {c.ID: c for c in CHECKS}
