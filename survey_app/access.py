"""Who may do what: roles, unit scoping for staff, and API-key checks."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort
from flask_login import current_user, login_required

from .models import Role, Unit, User
from .services.catalog import descendant_ids


def roles_required(*roles: Role) -> Callable:
    """Login required (redirect to the login page), then one of ``roles`` (else 403)."""
    allowed = {r.value for r in roles}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any):
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def unit_scope(user: User) -> set[int] | None:
    """Unit ids a user may act on: None means every unit (admins; analysts read all).
    Staff act on their own unit and the units below it."""
    if user.role in (Role.ADMIN, Role.ANALYST):
        return None
    if user.unit_id is None:
        return set()
    return descendant_ids(user.unit_id)


def may_act_on(user: User, unit: Unit | int) -> bool:
    unit_id = unit if isinstance(unit, int) else unit.id
    scope = unit_scope(user)
    return scope is None or unit_id in scope


def require_unit(user: User, unit: Unit | int) -> None:
    """403 unless ``user`` may act on ``unit`` (staff of another unit)."""
    if not may_act_on(user, unit):
        abort(403)
