"""Configuration: defaults, then ``SIPAS_*`` environment variables, then the test mapping.

No secret is a constant here: without ``SIPAS_SECRET_KEY`` a random key is made once and
kept in the data directory (mode 0600).
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .feedback.deadlines import HolidayError, parse_holidays

DEFAULTS: dict[str, Any] = {
    "SIPAS_DATA_DIR": "sipas-data",
    "SIPAS_DATABASE_URL": None,  # default: SQLite file in the data directory
    "SIPAS_SECRET_KEY": None,
    "SIPAS_PUBLIC_URL": "http://localhost:5000",
    "SIPAS_CODE_TTL_DAYS": 30,
    "SIPAS_TIMEZONE": "Asia/Ho_Chi_Minh",
    # Counter (poster) codes: answers per client address and window, kept in memory only.
    "SIPAS_COUNTER_RATE_LIMIT": "5 per 10 minutes",
    # Responses from one counter code within this many seconds of each other are flagged
    # as a burst for the analysts to review.
    "SIPAS_BURST_WINDOW_SECONDS": 60,
    "SIPAS_BURST_THRESHOLD": 10,
    "SIPAS_CODE_LOOKUP_LIMIT": "30 per minute",
    "SIPAS_LOGIN_MAX_FAILURES": 5,
    "SIPAS_LOGIN_LOCK_MINUTES": 15,
    "SIPAS_MAX_BODY_BYTES": 64 * 1024,
    "SIPAS_MAX_UPLOAD_BYTES": 5 * 1024 * 1024,
    "SIPAS_PLAN_FILE": None,
    # Reverse proxies in front of sipas whose X-Forwarded-For may be trusted (0: none).
    # Without it, behind a proxy every citizen shares the proxy's address in rate limits.
    "SIPAS_TRUSTED_PROXIES": 0,
    # Staff sessions end after this many hours, whatever happens to the cookie.
    "SIPAS_SESSION_HOURS": 12,
    # PostgreSQL: the bound (seconds) within which a stored answer's transaction stamp is
    # rewritten, so that none links a response to its code (services/unlink.py).
    "SIPAS_UNLINK_SECONDS": 60,
    # The local hour (0-23) in which the server rewrites its tables in key order once a
    # night (services/seal.py); -1: never (run `sipas seal` from cron instead).
    "SIPAS_SEAL_HOUR": 3,
    # Dashboard: keep a signed snapshot of the response frame in DATA_DIR/cache so that a
    # restarted server need not re-read every answer, and fill each worker's cache at start.
    "SIPAS_DASHBOARD_SNAPSHOTS": True,
    "SIPAS_WARM_DASHBOARD": True,
    # Database connections each process keeps open (0: `sipas serve --threads` + 2, else 10).
    # Fewer than the server's threads and the rest are opened and closed per request.
    "SIPAS_DB_POOL_SIZE": 0,
    # Codes whose QR points at this machine (localhost, 127.x) are refused: no citizen's
    # phone could open them. `sipas demo` allows them; so do tests of a local server.
    "SIPAS_ALLOW_LOCAL_PUBLIC_URL": False,
    # Complaints and requests (feedback cases): the handling deadline in working days, and
    # the public holidays not fixed by date (Tết, Giỗ Tổ...), ISO dates comma-separated.
    "SIPAS_FEEDBACK_WORKING_DAYS": 10,
    "SIPAS_HOLIDAYS": "",
}

# Parse an environment string according to the default's type.
_BOOLS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class ConfigError(RuntimeError):
    """A configuration value that cannot be used; the message says which and why."""


def _coerce(name: str, raw: str, default: Any) -> Any:
    if isinstance(default, bool):
        if raw.lower() not in _BOOLS:
            raise ConfigError(f"{name}={raw!r}: use true or false")
        return _BOOLS[raw.lower()]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: must be a whole number") from None
    return raw


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overlaid with the ``SIPAS_*`` variables that are set."""
    environ = os.environ if environ is None else environ
    values = dict(DEFAULTS)
    for name, default in DEFAULTS.items():
        if name in environ and environ[name] != "":
            values[name] = _coerce(name, environ[name], default)
    return values


_LOCAL_HOSTS = {"localhost", "0.0.0.0", "::1", "::"}


def public_url_problem(url: str, *, allow_local: bool = False) -> str | None:
    """Why codes printed for ``url`` would not open on a citizen's phone, or None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return (f"SIPAS_PUBLIC_URL={url!r} không phải địa chỉ web: đặt nó thành địa chỉ công khai của máy chủ, "
                "ví dụ https://khaosat.example.gov.vn (SIPAS_PUBLIC_URL is not a web address).")
    if allow_local or not (host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".localhost")):
        return None
    return (f"SIPAS_PUBLIC_URL chưa được đặt hoặc trỏ về chính máy này ({url}): mã QR in ra sẽ không mở được "
            "trên điện thoại của người dân. Đặt SIPAS_PUBLIC_URL thành địa chỉ công khai của máy chủ, ví dụ "
            "https://khaosat.example.gov.vn, rồi khởi động lại (SIPAS_PUBLIC_URL is unset or points at this "
            "machine; set it to the server's public address).")


def configured_public_url_problem(config: Mapping[str, Any]) -> str | None:
    """:func:`public_url_problem` of an app's settings (its URL and whether local is allowed)."""
    return public_url_problem(config["SIPAS_PUBLIC_URL"], allow_local=config["SIPAS_ALLOW_LOCAL_PUBLIC_URL"])


def engine_options(url: str, pool_size: int) -> dict[str, Any]:
    if pool_size < 0:
        raise ConfigError(f"SIPAS_DB_POOL_SIZE={pool_size}: must be 0 (automatic) or more")
    pool_size = pool_size or 10
    # Server connections that sat idle are tested at checkout (database.ping_idle_connections),
    # not every checkout: the round trip cost a fifth of the survey throughput.
    options: dict[str, Any] = {"pool_pre_ping": False}
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        return options  # one in-memory database: SQLAlchemy's own single-connection pool
    # Each thread holds at most one connection at a time; kept open, not reopened: a new
    # PostgreSQL connection costs a process on the server, a new SQLite one its pragmas.
    return {**options, "pool_size": pool_size, "max_overflow": pool_size}


def private_directory(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), whatever the umask: the data
    directory holds the database, its logs, the key and snapshots."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def secret_key(data_dir: Path) -> str:
    """The key kept in the data directory, made on first use."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_directory(data_dir)
    key = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start at once, the second reads the first one's key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def build(test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The final mapping for ``app.config``."""
    values = from_environment()
    if test_config:
        values.update(test_config)
    data_dir = Path(values["SIPAS_DATA_DIR"]).expanduser().resolve()
    values["SIPAS_DATA_DIR"] = str(data_dir)
    url = values.get("SIPAS_DATABASE_URL") or f"sqlite:///{data_dir / 'sipas.sqlite'}"
    values["SIPAS_DATABASE_URL"] = values["SQLALCHEMY_DATABASE_URI"] = url
    if not values.get("SECRET_KEY"):
        values["SECRET_KEY"] = values.get("SIPAS_SECRET_KEY") or secret_key(data_dir)
    values["SIPAS_PUBLIC_URL"] = str(values["SIPAS_PUBLIC_URL"]).rstrip("/")
    if not -1 <= int(values["SIPAS_SEAL_HOUR"]) <= 23:
        raise ConfigError(f"SIPAS_SEAL_HOUR={values['SIPAS_SEAL_HOUR']}: an hour from 0 to 23, or -1 for never")
    if not 1 <= int(values["SIPAS_FEEDBACK_WORKING_DAYS"]) <= 90:
        raise ConfigError(f"SIPAS_FEEDBACK_WORKING_DAYS={values['SIPAS_FEEDBACK_WORKING_DAYS']}: "
                          "working days from 1 to 90")
    try:
        values["SIPAS_HOLIDAY_DATES"] = parse_holidays(values["SIPAS_HOLIDAYS"])
    except HolidayError as exc:
        raise ConfigError(str(exc)) from None
    values["MAX_CONTENT_LENGTH"] = max(values["SIPAS_MAX_BODY_BYTES"], values["SIPAS_MAX_UPLOAD_BYTES"])
    values.setdefault("WTF_CSRF_TIME_LIMIT", None)  # a form may stay open while people read
    # Over HTTPS Flask-WTF would also demand a same-origin Referer, which browsers never send
    # under our "Referrer-Policy: no-referrer": every form would fail. The token and
    # SameSite=Lax cookies are the CSRF defence.
    values.setdefault("WTF_CSRF_SSL_STRICT", False)
    values.setdefault("PERMANENT_SESSION_LIFETIME", dt.timedelta(hours=values["SIPAS_SESSION_HOURS"]))
    values.setdefault("SESSION_COOKIE_HTTPONLY", True)
    values.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    values.setdefault(
        "SESSION_COOKIE_SECURE", values["SIPAS_PUBLIC_URL"].startswith("https://")
    )
    values.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(url, values["SIPAS_DB_POOL_SIZE"]))
    return values
