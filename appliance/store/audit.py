"""The audit log: every change made through the CLI, the console or the API (ADM-2)."""

from __future__ import annotations

import getpass
import json
import time
from typing import Any

import sqlite_utils


def current_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record(
    db: sqlite_utils.Database,
    action: str,
    *,
    target: str = "",
    outcome: str = "ok",
    origin: str = "cli",
    actor: str | None = None,
    detail: dict[str, Any] | None = None,
    at: float | None = None,
) -> None:
    """Append one audit row; ``outcome`` is 'ok' or 'refused: <reason>'."""
    db.table("audit_log").insert(
        {
            "at": time.time() if at is None else at,
            "actor": actor or current_actor(),
            "origin": origin,
            "action": action,
            "target": target,
            "outcome": outcome,
            "detail": json.dumps(detail or {}, default=str),
        }
    )
