"""Searching text columns as people type: case-insensitive "contains"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_


def contains(column: Any, text: str) -> Any:
    """Case-insensitive "contains". SQLite's lower() folds ASCII only, so the text as typed
    also matches (``Đất`` finds ``Đất đai`` there; PostgreSQL folds Vietnamese too)."""
    return or_(column.contains(text, autoescape=True), func.lower(column).contains(text.lower(), autoescape=True))
