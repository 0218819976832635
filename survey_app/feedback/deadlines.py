"""Handling deadlines in working days: Monday to Friday, less the public holidays.

The fixed-date holidays of the Labour Code (Bộ luật Lao động 2019, điều 112) are known here;
the lunar ones (Tết, Giỗ Tổ Hùng Vương), the day next to 2 September and the days the
Government moves each year are not computable, so the operator lists them in
``SIPAS_HOLIDAYS`` (ISO dates, comma-separated) when the year's schedule is announced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

FIXED = ((1, 1), (4, 30), (5, 1), (9, 2))  # (month, day)


class HolidayError(ValueError):
    pass


def parse_holidays(raw: str | Iterable[str] | None) -> frozenset[dt.date]:
    """``SIPAS_HOLIDAYS`` as dates; a clear error naming the entry that is not a date."""
    if not raw:
        return frozenset()
    items = raw.replace(";", ",").split(",") if isinstance(raw, str) else list(raw)
    out = set()
    for item in (i.strip() for i in items):
        if not item:
            continue
        try:
            out.add(dt.date.fromisoformat(item))
        except ValueError:
            raise HolidayError(f"SIPAS_HOLIDAYS: {item!r} không phải ngày dạng NNNN-TT-NN, ví dụ 2027-02-06 "
                               f"(not a date like 2027-02-06)") from None
    return frozenset(out)


def is_working_day(day: dt.date, holidays: frozenset[dt.date]) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in FIXED and day not in holidays


def add_working_days(start: dt.date, days: int, holidays: frozenset[dt.date] = frozenset()) -> dt.date:
    """The ``days``-th working day after ``start`` (the day received does not count).

    >>> add_working_days(dt.date(2026, 4, 28), 3)  # Tue; 30/4 and 1/5 are holidays
    datetime.date(2026, 5, 5)
    """
    if days < 1:
        raise ValueError("days must be at least 1")
    day = start
    while days:
        day += dt.timedelta(days=1)
        days -= is_working_day(day, holidays)
    return day


def working_days_between(start: dt.date, end: dt.date, holidays: frozenset[dt.date] = frozenset()) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when ``end`` is earlier)."""
    if end < start:
        return -working_days_between(end, start, holidays)
    return sum(is_working_day(start + dt.timedelta(days=i), holidays) for i in range(1, (end - start).days + 1))
