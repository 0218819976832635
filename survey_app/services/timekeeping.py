"""Dates as the department sees them (local calendar days), from UTC timestamps."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def zone() -> ZoneInfo:
    name = DEFAULT_TIMEZONE
    if has_app_context():
        name = current_app.config.get("SIPAS_TIMEZONE", DEFAULT_TIMEZONE)
    return ZoneInfo(name)


def local_date(moment_utc: dt.datetime) -> dt.date:
    """The local calendar date of a naive-UTC timestamp."""
    return moment_utc.replace(tzinfo=dt.UTC).astimezone(zone()).date()


def local_time(moment_utc: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """A naive-UTC timestamp as the department's clock shows it (SIPAS_TIMEZONE); every
    time a page shows goes through here."""
    if moment_utc is None:
        return "—"
    return moment_utc.replace(tzinfo=dt.UTC).astimezone(zone()).strftime(fmt)


def today() -> dt.date:
    return dt.datetime.now(zone()).date()
