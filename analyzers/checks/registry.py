"""Every check, in the order their findings are listed."""

from __future__ import annotations

from optimize.analyzers.checks.base import Check, IndexCheck
from optimize.analyzers.checks.blocking_in_async import BlockingInAsync
from optimize.analyzers.checks.count_via_len import CountViaLen
from optimize.analyzers.checks.leading_wildcard import LeadingWildcard
from optimize.analyzers.checks.missing_index import MissingIndex
from optimize.analyzers.checks.n_plus_one import NPlusOne
from optimize.analyzers.checks.not_in_subquery import NotInSubquery
from optimize.analyzers.checks.offset_pagination import OffsetPagination
from optimize.analyzers.checks.select_star import SelectStar
from optimize.analyzers.checks.sql_syntax import SqlSyntax
from optimize.analyzers.checks.unbounded_write import UnboundedWrite

CHECKS: tuple[type[Check] | type[IndexCheck], ...] = (
    NPlusOne,
    BlockingInAsync,
    OffsetPagination,
    LeadingWildcard,
    CountViaLen,
    SelectStar,
    UnboundedWrite,
    NotInSubquery,
    SqlSyntax,
    MissingIndex,
)


def by_id() -> dict[str, type[Check] | type[IndexCheck]]:
    return {c.ID: c for c in CHECKS}
