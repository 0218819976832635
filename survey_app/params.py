"""Values that come in URLs: ids in paths, page numbers and filter dates.

Each is checked here, once, against what the database and the calendar arithmetic can hold:
an absurd value is a 404 or a 400 with a sentence, never an overflow deep in a driver
("Python int too large to convert to SQLite INTEGER") or in ``date + timedelta``.
"""

from __future__ import annotations

import datetime as dt

from flask import Flask, render_template, request
from werkzeug.exceptions import BadRequest
from werkzeug.routing import IntegerConverter, Map, ValidationError

from .i18n import t

MAX_ID = 2**63 - 1  # the largest BIGINT (PostgreSQL) and SQLite INTEGER: no row has a larger id
MAX_PAGE = 1_000_000  # far past any list here; its offset stays far inside BIGINT
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)
DAY_OUT_OF_RANGE = f"Ngày phải trong khoảng {FIRST_DAY} đến {LAST_DAY} (date out of range)."


class IdConverter(IntegerConverter):
    """``<int:...>`` of every route: a number no row can have is a 404 (the driver would
    overflow on it), and a 5000-digit one is refused before ``int()`` refuses it with a 500."""

    def __init__(self, map: Map, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]

    def to_python(self, value: str) -> int:
        if len(value.lstrip("0")) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)  # type: ignore[no-any-return]


class BadParameter(BadRequest):
    """A query parameter with a value the page cannot use; ``description`` tells the person
    (or program, as JSON under /api/) what to send instead."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def page_number(name: str = "page") -> int:
    """The page of a paginated list: 1 when absent; BadParameter unless 1..MAX_PAGE."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return 1
    if not (raw.isdecimal() and len(raw) <= len(str(MAX_PAGE)) and 1 <= int(raw) <= MAX_PAGE):
        raise BadParameter(f"Số trang phải là số nguyên từ 1 đến {MAX_PAGE}: sửa số trang trong địa chỉ "
                           f"(page: a whole number from 1 to {MAX_PAGE}).", field=name)
    return int(raw)


def day_in_range(day: dt.date) -> dt.date:
    """``day`` if a filter may use it (ValueError with DAY_OUT_OF_RANGE otherwise): beyond it,
    ``day + 1 day`` and the conversion to UTC overflow, and no answer is that old or that new."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(DAY_OUT_OF_RANGE)
    return day


def parse_day(raw: str) -> dt.date:
    """A filter date typed as YYYY-MM-DD, within FIRST_DAY..LAST_DAY; ValueError with a
    sentence for a person otherwise."""
    try:
        day = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise ValueError(f"Ngày '{raw[:20]}' không hợp lệ: dùng dạng YYYY-MM-DD (invalid date).") from None
    return day_in_range(day)


def _bad_parameter(exc: BadParameter):
    if request.path.startswith("/api/"):
        from .api.auth import error_response

        return error_response(400, str(exc.description), field=exc.field)
    return render_template("public/error.html", title=t("err_bad_request_title"), body=exc.description,
                           show_code_box=False, status=400), 400


def install(app: Flask) -> None:
    """Before any blueprint: its rules take the converter when they are added."""
    app.url_map.converters["int"] = IdConverter
    app.register_error_handler(BadParameter, _bad_parameter)
