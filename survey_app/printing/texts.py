"""Printed wording, Vietnamese first. Kept apart from the layout so translators touch one file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

LANGS = ("vi", "en")

_TEXTS: dict[str, dict[str, str]] = {
    "vi": {
        "scan": "Quét mã để đánh giá sự hài lòng",
        "anonymous": "ẩn danh, khoảng {minutes} phút",
        "later": "có thể trả lời sau tại nhà trong {days} ngày",
        "expires": "Hạn trả lời: {date}",
        "code": "Mã: {code}",
        "or_visit": "Hoặc mở: {url}",
        "poster_title": "Đánh giá sự hài lòng",
        "poster_step1": "1. Mở camera điện thoại, quét mã QR.",
        "poster_step2": "2. Trả lời vài câu hỏi — ẩn danh, khoảng {minutes} phút.",
        "poster_step3": "Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn.",
        "slip_title": "Đánh giá sự hài lòng",
        "page": "Trang {page}/{pages}",
    },
    "en": {
        "scan": "Scan the code to rate our service",
        "anonymous": "anonymous, about {minutes} {minute_word}",
        "later": "you can also answer later at home within {days} {day_word}",
        "expires": "Answer by: {date}",
        "code": "Code: {code}",
        "or_visit": "Or open: {url}",
        "poster_title": "Rate our service",
        "poster_step1": "1. Open your phone camera and scan the QR code.",
        "poster_step2": "2. Answer a few questions — anonymous, about {minutes} {minute_word}.",
        "poster_step3": "Your opinion helps us serve you better.",
        "slip_title": "Rate our service",
        "page": "Page {page}/{pages}",
    },
}


def text(lang: str, key: str, **values: object) -> str:
    """One printed string in ``lang`` with ``values`` filled in."""
    if lang not in _TEXTS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
    return _TEXTS[lang][key].format(**values)


def check_ttl_days(ttl_days: int | None) -> None:
    """Reject a nonsensical answer window early, before any drawing."""
    if ttl_days is None:
        return
    if isinstance(ttl_days, bool) or not isinstance(ttl_days, int) or ttl_days < 1:
        raise ValueError(f"ttl_days must be a positive whole number of days or None, not {ttl_days!r}")


def about(lang: str, minutes: int) -> dict[str, object]:
    """The values the time promise is written with."""
    return {"minutes": minutes, "minute_word": "minute" if minutes == 1 else "minutes"}


def slip_line(lang: str, ttl_days: int | None = 30, minutes: int = 1) -> str:
    """The slip sentence: scan, anonymous, about a minute, and (with ``ttl_days``) answer later.

    >>> slip_line("vi", 30)
    'Quét mã để đánh giá sự hài lòng — ẩn danh, khoảng 1 phút; có thể trả lời sau tại nhà trong 30 ngày'
    >>> slip_line("en", 1)
    'Scan the code to rate our service — anonymous, about 1 minute; you can also answer later at home within 1 day'
    """
    check_ttl_days(ttl_days)
    line = f"{text(lang, 'scan')} — {text(lang, 'anonymous', **about(lang, minutes))}"
    if ttl_days is None:
        return line
    later = text(lang, "later", days=ttl_days, day_word="day" if ttl_days == 1 else "days")
    return f"{line}; {later}"


def label_line(lang: str, minutes: int = 1) -> str:
    """Short instructions for a sheet label, where the full slip sentence does not fit."""
    return f"{text(lang, 'scan')} — {text(lang, 'anonymous', **about(lang, minutes))}."


def format_date(day: date, lang: str) -> str:
    """Day-first in Vietnamese (31/12/2025), ISO in English to avoid month/day confusion."""
    return day.strftime("%d/%m/%Y") if lang == "vi" else day.isoformat()


@dataclass(frozen=True)
class SlipWording:
    """What a slip says, in order, for the PDF slip and the HTML slip alike."""

    title: str
    line: str
    expiry: str | None
    or_visit: str


def slip_wording(lang: str, *, ttl_days: int | None, expires_on: date | None, display_url: str,
                 minutes: int = 1) -> SlipWording:
    """
    >>> slip_wording("vi", ttl_days=30, expires_on=date(2026, 12, 31), display_url="ks.vn/s/X").or_visit
    'Hoặc mở: ks.vn/s/X'
    """
    expiry = text(lang, "expires", date=format_date(expires_on, lang)) if expires_on is not None else None
    return SlipWording(title=text(lang, "slip_title"), line=slip_line(lang, ttl_days, minutes), expiry=expiry,
                       or_visit=text(lang, "or_visit", url=display_url))
