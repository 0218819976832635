"""API keys for other software (the one-stop-shop systems): create, check, revoke.

A key reads ``sipas_<prefix>_<secret>``: the prefix (8 random lower-case letters and digits)
is stored to find the key and to show which key is which; the secret is 32 random bytes
(written in base62). The database keeps only the SHA-256 of the whole key. A keyed hash
would add nothing here: 256 random bits cannot be guessed from their hash, and a plain hash
keeps every key working when the secret key of the app is rotated.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string

from sqlalchemy import select

from ..extensions import db
from ..models import ApiKey, Unit, User, utcnow
from . import audit
from .catalog import CatalogError, descendant_ids, unit_by_code

SCOPE_ISSUE = "codes:issue"
SCOPE_INDICES = "indices:read"
SCOPES: dict[str, str] = {
    SCOPE_ISSUE: "Phát mã khảo sát cho hồ sơ (issue survey codes)",
    SCOPE_INDICES: "Đọc các chỉ số hài lòng (read satisfaction indices)",
}
PREFIX_LENGTH = 8
SECRET_BYTES = 32
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_BASE62 = string.digits + string.ascii_letters
_SECRET_LENGTH = 43  # 62**43 > 2**256: every 32-byte value fits
_KEY = re.compile(r"^sipas_([a-z0-9]{8})_([0-9A-Za-z]{43})$")
# Last-used times are kept to the minute: no write on every request of a busy client.
_TOUCH_EVERY = dt.timedelta(seconds=60)
# Compared against when the prefix is unknown, so timing does not tell prefixes apart.
_DUMMY_HASH = hashlib.sha256(b"sipas-no-such-key").hexdigest()


class ApiKeyError(ValueError):
    """A person-facing problem with a key operation; the message says what to do."""


def _base62(data: bytes) -> str:
    number, out = int.from_bytes(data, "big"), []
    while number:
        number, digit = divmod(number, 62)
        out.append(_BASE62[digit])
    return "".join(reversed(out)).rjust(_SECRET_LENGTH, "0")


def hash_key(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


def _new_prefix() -> str:
    while True:
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        if db.session.scalar(select(ApiKey.id).filter_by(prefix=prefix)) is None:
            return prefix


def normalise_scopes(scopes: list[str] | tuple[str, ...] | set[str]) -> list[str]:
    """The scopes in a fixed order; ApiKeyError for an unknown or missing scope."""
    chosen = {s.strip() for s in scopes if s and s.strip()}
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise ApiKeyError(
            f"Quyền '{unknown[0]}' không có; chọn {' hoặc '.join(SCOPES)} (unknown scope '{unknown[0]}')."
        )
    if not chosen:
        raise ApiKeyError(f"Chọn ít nhất một quyền: {', '.join(SCOPES)} (choose at least one scope).")
    return [s for s in SCOPES if s in chosen]


def create(name: str, scopes: list[str] | tuple[str, ...], *, unit: str | None = None, actor: str,
           created_by: User | None = None) -> tuple[ApiKey, str]:
    """A new key and its full text, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ApiKeyError("Đặt tên cho khóa, ví dụ tên phần mềm một cửa dùng nó (a key needs a name).")
    if len(name) > 100:
        raise ApiKeyError("Tên khóa dài quá 100 ký tự (name longer than 100 characters).")
    chosen = normalise_scopes(scopes)
    unit_obj: Unit | None = None
    if unit:
        try:
            unit_obj = unit_by_code(unit.strip())
        except CatalogError as exc:
            raise ApiKeyError(str(exc)) from None
    if SCOPE_ISSUE in chosen and unit_obj is None:
        raise ApiKeyError(
            "Khóa có quyền phát mã cần một đơn vị: chọn đơn vị mà phần mềm được phát mã cho "
            "(a codes:issue key needs a unit)."
        )
    prefix = _new_prefix()
    full_key = f"sipas_{prefix}_{_base62(secrets.token_bytes(SECRET_BYTES))}"
    key = ApiKey(name=name, prefix=prefix, key_hash=hash_key(full_key), scopes=" ".join(chosen),
                 unit=unit_obj, created_by_id=created_by.id if created_by else None, created_at=utcnow())
    db.session.add(key)
    audit.record(actor, "apikey.add", prefix, name=name, scopes=" ".join(chosen),
                 unit=unit_obj.code if unit_obj else None)
    db.session.commit()
    return key, full_key


def authenticate(full_key: str | None) -> ApiKey | None:
    """The live key for ``full_key``; None when malformed, unknown, wrong or revoked.

    The hash is compared in constant time; a match updates ``last_used_at``."""
    match = _KEY.match(full_key or "")
    key = db.session.scalar(select(ApiKey).filter_by(prefix=match.group(1))) if match else None
    expected = key.key_hash if key is not None else _DUMMY_HASH
    presented = hash_key(full_key or "")
    if not hmac.compare_digest(expected, presented) or key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= _TOUCH_EVERY:
        key.last_used_at = now
        db.session.commit()
    return key


def has_scope(key: ApiKey, scope: str) -> bool:
    return scope in key.scope_set


def unit_ids(key: ApiKey) -> set[int]:
    """Units the key may act on: its unit and every unit below it (none without a unit)."""
    return descendant_ids(key.unit_id) if key.unit_id is not None else set()


def may_act_on(key: ApiKey, unit_id: int) -> bool:
    return unit_id in unit_ids(key)


def by_prefix(prefix: str) -> ApiKey:
    key = db.session.scalar(select(ApiKey).filter_by(prefix=(prefix or "").strip().lower()))
    if key is None:
        raise ApiKeyError(f"Không có khóa với tiền tố '{prefix}' (no key with prefix '{prefix}'); "
                          "xem 'sipas apikey list'.")
    return key


def revoke(key: ApiKey, *, actor: str) -> bool:
    """Revoke ``key`` at once; False when it was revoked already (nothing changes)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    audit.record(actor, "apikey.revoke", key.prefix, name=key.name)
    db.session.commit()
    return True


def all_keys() -> list[ApiKey]:
    """Every key, newest first (revoked ones too: the list is also a record)."""
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))
