"""Remove what could identify a person from free text before it is stored."""

from __future__ import annotations

import re
import unicodedata

# Characters that hide inside a number or an address without showing: zero-width space,
# non-joiner and joiner, word joiner, BOM, soft hyphen; and C0 controls other than tab/newline.
_INVISIBLE = re.compile("[\u200b-\u200d\u2060\ufeff\u00ad\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# E-mail: "@" or a spelled-out "at" ((at), [at], " at ", Vietnamese "a còng"), and "dot"/"chấm"
# for the dots. Domain labels are ASCII, so ordinary Vietnamese words never make a domain.
# The name starts where a word starts: trying every position in a long word is quadratic.
_AT = r"\s*@\s*|\s*[(\[{<]\s*(?:at|@|a còng)\s*[)\]}>]\s*|\s+(?:at|a còng)\s+"
_DOT = r"\.|\s*[(\[{<]\s*(?:dot|chấm|\.)\s*[)\]}>]\s*|\s+(?:dot|chấm)\s+"
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_EMAIL = re.compile(rf"(?<![\w.+-])[\w.+-]+(?:{_AT}){_LABEL}(?:(?:{_DOT}){_LABEL})+(?!\w)", re.IGNORECASE)

# One kind of separator per number ("0912 345 678", "001-203-004-567"): a date followed by a
# number ("08/03/2026 08:30") mixes kinds and is left alone.
_KINDS = (r"\s{1,3}", r"\.", r" ?[-\u2010-\u2015\u2212] ?", r" ?/ ?", r"_")


def _digits(first: str, more: int) -> str:
    """`first` (digits written together), then `more` digits split by one kind of separator."""
    return "(?:" + "|".join(rf"{first}(?:(?:{kind})?\d){{{more}}}" for kind in _KINDS) + ")"


# Citizen ID (CCCD): 12 digits opening with a province code 001-096 written together (so an
# amount, which never opens with 0, is not one), and a last group of at least three digits,
# so in "0912 345 678 12 lần" the phone number is found and "12 lần" kept.
_ID = re.compile(r"(?<!\d)" + _digits(r"0\d\d", 9) + r"(?<=\d{3})(?!\d)")

# Phone: +84/0084/84 then 9 digits (mobile 3/5/7/8/9) or 10 (landline 2..., pre-2018 mobile
# 12/16/18/19); or the same after a trunk 0, its first three digits together so a number in
# front ("quầy 03 0912...") is not pulled in. A bare 84 in thousands ("84.912.345.678 đồng")
# is an amount.
_NATIONAL = "|".join((_digits("[35789]", 8), _digits("2", 9), _digits("1[2689]", 8)))
_COUNTRY = r"(?:(?:\+|00) ?84|\(\+?84\)|84(?!(?:[.,]\d{3}){3}(?!\d)))[ .\-\u2013]?(?:\(0\) ?|0)?"
_INTERNATIONAL = rf"{_COUNTRY}(?:{_NATIONAL})"
_DOMESTIC = "|".join((
    _digits(r"0[35789]\d", 7),
    _digits(r"0(?:2\d|1[2689])", 8),
    _digits(r"\(02\d\) ?\d", 7),  # (024) 3825 1234
    _digits(r"\(02\d\d\) ?\d", 6),  # (0236) 382 1234
))
_PHONE = re.compile(rf"(?<!\d)(?:{_INTERNATIONAL}|{_DOMESTIC})(?<=\d\d)(?!\d)")

# Order matters: e-mails may hold digits, and a 12-digit ID holds a 10-digit phone number.
_PATTERNS = ((_EMAIL, "[email]"), (_ID, "[số định danh]"), (_PHONE, "[số điện thoại]"))


def scrub(text: str) -> str:
    """Replace e-mail addresses, 12-digit citizen ID numbers and phone numbers.

    The text is normalised first (NFKC: full-width digits and "＠", no-break spaces; invisible
    characters removed), and the normalised text is returned.

    >>> scrub("Gọi 0912 345 678 hoặc a.b@x.vn, CCCD 001203004567")
    'Gọi [số điện thoại] hoặc [email], CCCD [số định danh]'
    """
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text.strip()
