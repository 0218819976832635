"""The append-only audit log: who did what, when."""

from __future__ import annotations

import json
from typing import Any

from ..extensions import db
from ..models import AuditEntry


def record(actor: str, action: str, target: str | None = None, **details: Any) -> AuditEntry:
    """Add an entry to the current transaction (the caller commits with its own change)."""
    entry = AuditEntry(
        actor=actor[:64], action=action, target=(target or None) and target[:200],
        details=json.dumps(details, ensure_ascii=False, default=str, sort_keys=True) if details else None,
    )
    db.session.add(entry)
    return entry
