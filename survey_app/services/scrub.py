"""Remove what could identify a person from free text before it is stored."""

from __future__ import annotations

import re

# Order matters: a 12-digit citizen ID must not be read as a phone number first.
_PATTERNS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), "[email]"),
    (re.compile(r"(?<!\d)\d{3}[ .-]?\d{3}[ .-]?\d{6}(?!\d)"), "[số định danh]"),
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "[số định danh]"),
    # Vietnamese phone numbers: 0 or +84/84 then 9 digits, in any grouping.
    (re.compile(r"(?<![\d+])(?:\+?84|0)(?:[ .()-]*\d){9,10}(?!\d)"), "[số điện thoại]"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def scrub(text: str) -> str:
    """Replace e-mail addresses, 12-digit citizen ID numbers and phone numbers.

    >>> scrub("Gọi 0912 345 678 hoặc a.b@x.vn, CCCD 001203004567")
    'Gọi [số điện thoại] hoặc [email], CCCD [số định danh]'
    """
    text = _CONTROL.sub("", text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text.strip()
