"""Staff accounts: scrypt password hashes (memory-hard), lockout after repeated failures."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, User, random_id, utcnow
from . import audit
from .catalog import CatalogError, unit_by_code

MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
# A hash to compare against when the user does not exist, so timing does not reveal names.
_DUMMY_HASH = generate_password_hash("not-a-real-password", method="scrypt")


class AccountError(ValueError):
    """A person-facing problem with an account operation."""


def hash_password(password: str) -> str:
    # werkzeug's scrypt defaults (N=32768, r=8, p=1: 32 MiB per hash); tests lower the cost.
    return generate_password_hash(password, method=current_app.config.get("SIPAS_PASSWORD_HASH", "scrypt"))


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(
            f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự (a password needs at least {MIN_PASSWORD} characters)."
        )
    if len(password) > 256:
        raise AccountError("Mật khẩu dài quá 256 ký tự (password longer than 256 characters).")


def add_user(username: str, password: str, role: str, *, unit: str | None = None,
             actor: str = "system") -> User:
    username = username.strip().lower()
    if not _USERNAME.match(username):
        raise AccountError(
            "Tên đăng nhập chỉ gồm chữ thường, số và . _ -, từ 2 đến 64 ký tự "
            "(username: lower-case letters, digits, . _ -; 2 to 64 characters)."
        )
    if role not in {r.value for r in Role}:
        raise AccountError(f"Vai trò '{role}' không hợp lệ (role: admin, staff or analyst).")
    if role == Role.STAFF and not unit:
        raise AccountError("Nhân viên cần một đơn vị: --unit CODE (staff need a unit).")
    check_password_rules(password)
    if db.session.scalar(select(User).filter_by(username=username)) is not None:
        raise AccountError(f"Tên đăng nhập '{username}' đã có (username already exists).")
    try:
        unit_obj = unit_by_code(unit) if unit else None
    except CatalogError as exc:
        raise AccountError(str(exc)) from None
    user = User(username=username, password_hash=hash_password(password), role=role, unit=unit_obj)
    db.session.add(user)
    audit.record(actor, "user.add", username, role=role, unit=unit)
    db.session.commit()
    return user


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    locked_until: dt.datetime | None = None


def authenticate(username: str, password: str, *, max_failures: int, lock_minutes: int) -> LoginOutcome:
    """Check a login; count failures per account and lock it for a while after too many.

    Failed and successful logins are audited either way."""
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).filter_by(username=username))
    now = utcnow()
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(username or "?", "login.failed", username, reason="unknown user")
        db.session.commit()
        return LoginOutcome(None)
    if user.locked_until and user.locked_until > now:
        audit.record(username, "login.refused", username, reason="locked")
        db.session.commit()
        return LoginOutcome(None, user.locked_until)
    if not user.active or not check_password_hash(user.password_hash, password):
        user.failed_logins += 1
        locked = None
        if user.failed_logins >= max_failures:
            locked = user.locked_until = now + dt.timedelta(minutes=lock_minutes)
            user.failed_logins = 0
        audit.record(username, "login.failed", username, reason="password" if user.active else "inactive",
                     locked=bool(locked))
        db.session.commit()
        return LoginOutcome(None, locked)
    user.failed_logins, user.locked_until = 0, None
    audit.record(username, "login", username)
    db.session.commit()
    return LoginOutcome(user)


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise AccountError("Mật khẩu hiện tại không đúng (the current password is wrong).")
    set_password(user, new, actor=user.username)


def set_password(user: User, new: str, *, actor: str) -> None:
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_token = random_id()  # ends every other session of this account
    audit.record(actor, "user.password", user.username)
    db.session.commit()
