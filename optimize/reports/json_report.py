"""Machine-readable scan results, from the same objects as the tables."""

from __future__ import annotations

import json
from dataclasses import asdict

from optimize import __version__


def scan_json(plan, prefix: str = "") -> str:
    def located(item) -> dict:
        data = asdict(item)
        data["path"] = prefix + data["path"]
        return data

    return json.dumps(
        {
            "version": __version__,
            "files_scanned": plan.files_scanned,
            "files_parsed": plan.files_parsed,
            "files_reused": plan.files_reused,
            "files_parsed_by": plan.parsed_by,
            "findings": [located(f) for f in plan.findings],
            "changes": [located(c) for o in plan.outcomes for c in o.changes],
            "refusals": [located(r) for r in plan.refusals],
            "skipped_files": [located(s) for s in plan.skips],
        },
        indent=2,
    )
