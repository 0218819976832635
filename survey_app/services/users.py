"""Staff accounts: scrypt password hashes (memory-hard), lockout after repeated failures."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import Role, StaffSession, User, random_id, utcnow
from . import audit
from .catalog import CatalogError, unit_by_code
from .timekeeping import local_time

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

    An unknown name, a wrong password and a locked account cost the same hash and give the
    caller the same outcome (no user), so the answer does not tell which names exist. A
    successful login opens a server-side session (:func:`open_session`). Failed and
    successful logins are audited either way."""
    username = (username or "").strip().lower()[:64]
    user = db.session.scalar(select(User).filter_by(username=username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        audit.record(username or "?", "login.failed", username, reason="unknown user")
        db.session.commit()
        return LoginOutcome(None)
    if is_locked(user):
        check_password_hash(_DUMMY_HASH, password)
        audit.record(username, "login.refused", username, reason="locked")
        db.session.commit()
        return LoginOutcome(None, user.locked_until)
    if not user.active or not check_password_hash(user.password_hash, password):
        locked = _count_failure(user, max_failures=max_failures, lock_minutes=lock_minutes)
        audit.record(username, "login.failed", username, reason="password" if user.active else "inactive",
                     locked=bool(locked))
        db.session.commit()
        return LoginOutcome(None, locked)
    user.failed_logins, user.locked_until = 0, None
    open_session(user)
    audit.record(username, "login", username)
    db.session.commit()
    return LoginOutcome(user)


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _count_failure(user: User, *, max_failures: int, lock_minutes: int) -> dt.datetime | None:
    """One more wrong password; at ``max_failures`` the account locks and its sessions end."""
    user.failed_logins += 1
    if user.failed_logins < max_failures:
        return None
    user.failed_logins = 0
    user.locked_until = utcnow() + dt.timedelta(minutes=lock_minutes)
    end_sessions(user)
    return user.locked_until


def open_session(user: User) -> StaffSession:
    """A new server-side session for ``user``; the cookie will carry its id."""
    staff_session = StaffSession(id=random_id(), user_id=user.id, created_at=utcnow())
    db.session.add(staff_session)
    user.staff_session_id = staff_session.id
    return staff_session


def session_user(session_id: str, *, hours: float) -> User | None:
    """The user of a live session: it exists (no logout ended it) and is younger than
    ``hours``, counted from the login; the account is active and not locked."""
    staff_session = db.session.get(StaffSession, session_id)
    if staff_session is None:
        return None
    user = staff_session.user
    if staff_session.created_at <= utcnow() - dt.timedelta(hours=hours) or not user.active or is_locked(user):
        return None
    user.staff_session_id = staff_session.id
    return user


def end_sessions(user: User, *, keep: str | None = None) -> None:
    """Log ``user`` out everywhere (but the session ``keep``)."""
    query = delete(StaffSession).where(StaffSession.user_id == user.id)
    if keep is not None:
        query = query.where(StaffSession.id != keep)
    db.session.execute(query)


def close_session(session_id: str | None) -> None:
    """Logout: the session ends for every copy of its cookie."""
    if session_id:
        db.session.execute(delete(StaffSession).where(StaffSession.id == session_id))


def change_password(user: User, current: str, new: str, *, max_failures: int, lock_minutes: int) -> None:
    """A wrong current password counts toward the lockout like a wrong login."""
    if not check_password_hash(user.password_hash, current):
        locked = _count_failure(user, max_failures=max_failures, lock_minutes=lock_minutes)
        audit.record(user.username, "password.failed", user.username, locked=bool(locked))
        db.session.commit()
        raise AccountError("Mật khẩu hiện tại không đúng (the current password is wrong).")
    user.failed_logins = 0
    set_password(user, new, actor=user.username)


def status(user: User) -> str:
    """The account's state as an admin reads it, in Vietnamese."""
    if not user.active:
        return "đã khóa (ngừng hoạt động)"
    if is_locked(user):
        return f"tạm khóa đăng nhập đến {local_time(user.locked_until)} (nhập sai mật khẩu nhiều lần)"
    return "đang hoạt động"


def find(username: str) -> User:
    user = db.session.scalar(select(User).filter_by(username=username.strip().lower()))
    if user is None:
        raise AccountError(f"Không có tài khoản '{username[:64]}' (no such user): xem `sipas user list`.")
    return user


def unlock(user: User, *, actor: str) -> None:
    """End a lockout after repeated wrong passwords now (the password stays)."""
    user.failed_logins, user.locked_until = 0, None
    audit.record(actor, "user.unlock", user.username)
    db.session.commit()


def reset_password(user: User, new: str, *, actor: str) -> None:
    """An administrator's reset: a new password, the lockout lifted, every session ended."""
    user.failed_logins, user.locked_until = 0, None
    set_password(user, new, actor=actor)


def set_password(user: User, new: str, *, actor: str) -> None:
    check_password_rules(new)
    user.password_hash = hash_password(new)
    end_sessions(user, keep=user.staff_session_id if actor == user.username else None)
    audit.record(actor, "user.password", user.username)
    db.session.commit()
