"""Numbers, percentages, intervals, dates and periods written the Vietnamese or English way.

Shared by the plan report and the web app so that a number looks the same everywhere.
Vietnamese: decimal comma, thousands dot, ``83,2 %``, ``14/03/2024``.
English: decimal point, thousands comma, ``83.2 %``, ``2024-03-14`` (or ``14 Mar 2024``).
Missing values (None, NaN) are written as an en dash.

>>> format_percent(83.24, lang="vi"), format_percent(83.24, lang="en")
('83,2 %', '83.2 %')
>>> import datetime
>>> format_date(datetime.date(2024, 3, 14), lang="vi")
'14/03/2024'
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Sequence
from typing import Any

__all__ = [
    "LANGS",
    "MISSING",
    "excel_formats",
    "format_ci",
    "format_date",
    "format_integer",
    "format_number",
    "format_percent",
    "format_period",
    "format_points",
    "format_pvalue",
    "is_period_label",
]

LANGS = ("vi", "en")
MISSING = "–"

_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def _swap(text: str, lang: str) -> str:
    """Turn Python's '1,234.5' into the language's separators."""
    if lang == "vi":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_number(value: float | None, *, lang: str = "vi", digits: int = 1) -> str:
    """A number with ``digits`` decimals and the language's separators.

    Parameters
    ----------
    value : float or None
        The number; None or NaN gives an en dash.
    lang : {"vi", "en"}
    digits : int
        Decimals to keep (rounded half to even, as Python's format does).

    Examples
    --------
    >>> format_number(12345.678, lang="vi"), format_number(12345.678, lang="en", digits=2)
    ('12.345,7', '12,345.68')
    >>> format_number(float("nan"))
    '–'
    """
    _check_lang(lang)
    if digits < 0:
        raise ValueError(f"digits: must be 0 or more, got {digits!r}")
    if _missing(value):
        return MISSING
    number = float(value)  # type: ignore[arg-type]
    if number == 0:
        number = 0.0  # no "-0,0"
    text = f"{number:,.{digits}f}"
    if text.lstrip("-").strip("0.,") == "":
        text = text.lstrip("-")
    return _swap(text, lang)


def format_integer(value: int | float | None, *, lang: str = "vi") -> str:
    """A whole number with thousands separators.

    >>> format_integer(1234567, lang="vi"), format_integer(1234567, lang="en")
    ('1.234.567', '1,234,567')
    """
    return format_number(value, lang=lang, digits=0)


def format_percent(value: float | None, *, lang: str = "vi", digits: int = 1) -> str:
    """A value already in percent (0–100) followed by a space and ``%``.

    >>> format_percent(83.25, lang="vi"), format_percent(None)
    ('83,2 %', '–')
    """
    text = format_number(value, lang=lang, digits=digits)
    return text if text == MISSING else f"{text} %"


def format_points(value: float | None, *, lang: str = "vi", digits: int = 1) -> str:
    """A difference in percentage points with an explicit sign.

    >>> format_points(3.14, lang="vi"), format_points(-2.0, lang="en")
    ('+3,1 điểm %', '−2.0 pp')
    """
    text = format_number(value, lang=lang, digits=digits)
    if text == MISSING:
        return text
    unit = "điểm %" if lang == "vi" else "pp"
    if text.startswith("-"):
        text = "−" + text[1:]
    elif text.strip("0.,") != "":
        text = "+" + text
    return f"{text} {unit}"


def format_ci(
    ci: Sequence[float | None] | None, *, lang: str = "vi", digits: int = 1, percent: bool = True
) -> str:
    """A confidence interval ``low–high`` (with ``%`` when ``percent``).

    Vietnamese writes ``78,9–86,7 %``; English ``78.9–86.7 %``. A negative bound keeps its
    minus sign, so the separator becomes `` to `` / `` đến `` to avoid ``−4,4–31,1``.

    >>> format_ci((78.94, 86.71), lang="vi"), format_ci((-4.36, 31.13), lang="en", percent=False)
    ('78,9–86,7 %', '−4.4 to 31.1')
    >>> format_ci(None)
    '–'
    """
    if ci is None or len(ci) != 2 or _missing(ci[0]) or _missing(ci[1]):
        return MISSING
    low = format_number(ci[0], lang=lang, digits=digits).replace("-", "−")
    high = format_number(ci[1], lang=lang, digits=digits).replace("-", "−")
    negative = low.startswith("−") or high.startswith("−")
    sep = (" đến " if lang == "vi" else " to ") if negative else "–"
    text = f"{low}{sep}{high}"
    return f"{text} %" if percent else text


def format_pvalue(p: float | None, *, lang: str = "vi") -> str:
    """A p-value with 3 decimals, or ``< 0,001``.

    >>> format_pvalue(0.0004, lang="vi"), format_pvalue(0.0312, lang="en")
    ('< 0,001', '0.031')
    """
    if _missing(p):
        return MISSING
    if float(p) < 0.001:  # type: ignore[arg-type]
        return "< " + format_number(0.001, lang=lang, digits=3)
    return format_number(p, lang=lang, digits=3)


def format_date(
    value: _dt.date | _dt.datetime | str | None, *, lang: str = "vi", style: str = "numeric"
) -> str:
    """A calendar date.

    Parameters
    ----------
    value : date, datetime or ISO string ``YYYY-MM-DD``
    lang : {"vi", "en"}
    style : {"numeric", "long"}
        vi: ``14/03/2024`` or ``14 tháng 3 năm 2024``;
        en: ``2024-03-14`` (ISO) or ``14 Mar 2024``.

    Examples
    --------
    >>> import datetime as dt
    >>> d = dt.date(2024, 3, 14)
    >>> format_date(d, lang="en"), format_date(d, lang="en", style="long")
    ('2024-03-14', '14 Mar 2024')
    >>> format_date("2024-03-14", lang="vi", style="long")
    '14 tháng 3 năm 2024'
    """
    _check_lang(lang)
    if style not in ("numeric", "long"):
        raise ValueError(f"style: must be 'numeric' or 'long', got {style!r}")
    if value is None:
        return MISSING
    if isinstance(value, str):
        try:
            value = _dt.date.fromisoformat(value[:10])
        except ValueError as exc:
            raise ValueError(f"value: {value!r} is not a date written YYYY-MM-DD") from exc
    if isinstance(value, _dt.datetime):
        value = value.date()
    if lang == "vi":
        if style == "numeric":
            return f"{value.day:02d}/{value.month:02d}/{value.year}"
        return f"{value.day} tháng {value.month} năm {value.year}"
    if style == "numeric":
        return value.isoformat()
    return f"{value.day} {_MONTHS_EN[value.month - 1]} {value.year}"


_PERIOD = re.compile(
    r"^(?P<year>\d{4})(?:-(?:(?P<month>0[1-9]|1[0-2])|Q(?P<quarter>[1-4])|H(?P<half>[12])"
    r"|PAR-(?P<par>Q1|6M|Q3|Y)))?$"
)
_PAR_NAMES = {
    "vi": {"Q1": "quý I", "6M": "6 tháng", "Q3": "quý III", "Y": "năm"},
    "en": {"Q1": "Q1", "6M": "6 months", "Q3": "Q3", "Y": "year"},
}
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def is_period_label(label: object) -> bool:
    """Whether ``label`` is a period label of methodology §5.

    >>> is_period_label("2024-PAR-6M"), is_period_label("2024-Q5")
    (True, False)
    """
    return isinstance(label, str) and _PERIOD.match(label) is not None


def format_period(label: str | None, *, lang: str = "vi") -> str:
    """A period label (methodology §5) in words; unknown labels are returned unchanged.

    >>> [format_period(p, lang="vi") for p in ("2024", "2024-Q1", "2024-H2", "2024-03")]
    ['Năm 2024', 'Quý I/2024', '6 tháng cuối năm 2024', 'Tháng 03/2024']
    >>> [format_period(p, lang="en") for p in ("2024-Q1", "2024-H1", "2024-03", "2024-PAR-6M")]
    ['2024 Q1', '2024 H1', 'Mar 2024', '2024 PAR 6 months']
    >>> format_period("2024-PAR-Q1", lang="vi")
    'Kỳ báo cáo CCHC quý I năm 2024'
    """
    _check_lang(lang)
    if label is None:
        return MISSING
    match = _PERIOD.match(str(label))
    if not match:
        return str(label)
    year = match["year"]
    if lang == "vi":
        if match["month"]:
            return f"Tháng {match['month']}/{year}"
        if match["quarter"]:
            return f"Quý {_ROMAN[int(match['quarter'])]}/{year}"
        if match["half"]:
            return f"6 tháng {'đầu' if match['half'] == '1' else 'cuối'} năm {year}"
        if match["par"]:
            return f"Kỳ báo cáo CCHC {_PAR_NAMES['vi'][match['par']]} năm {year}"
        return f"Năm {year}"
    if match["month"]:
        return f"{_MONTHS_EN[int(match['month']) - 1]} {year}"
    if match["quarter"]:
        return f"{year} Q{match['quarter']}"
    if match["half"]:
        return f"{year} H{match['half']}"
    if match["par"]:
        return f"{year} PAR {_PAR_NAMES['en'][match['par']]}"
    return year


def excel_formats(lang: str = "vi") -> dict[str, str]:
    """openpyxl number formats for the report's cells.

    Excel stores the number; the decimal separator on screen follows the reader's locale.
    Percent values are stored in percent units (83.2, as in the JSON) with a quoted
    ``" %"`` so Excel does not multiply them by 100.

    >>> excel_formats("vi")["date"], excel_formats("en")["percent"]
    ('dd/mm/yyyy', '0.0" %"')
    """
    _check_lang(lang)
    return {
        "percent": '0.0" %"',
        "points": '+0.0;-0.0;0.0',
        "number": "0.00",
        "integer": "#,##0",
        "pvalue": "0.000",
        "ratio": "0.00",
        "date": "dd/mm/yyyy" if lang == "vi" else "yyyy-mm-dd",
    }
