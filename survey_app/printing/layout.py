"""Fit text into boxes: wrap, shrink, and only as a last resort cut with an ellipsis.

Unit and procedure names come from the national catalogue and can be very long ("Trung tâm
Phục vụ hành chính công tỉnh ..."); a label must never let them run over the cut line or
into the QR code's quiet zone, so every block is measured before it is drawn.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from .fonts import string_width

LEADING = 1.2  # DejaVu's ascent + descent is 1.164 em: stacked Vietnamese marks need > 1.16
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Fitted:
    """Lines of one text block at the size chosen for them."""

    lines: tuple[str, ...]
    font: str
    size: float
    truncated: bool = False

    @property
    def leading(self) -> float:
        return self.size * LEADING

    @property
    def height(self) -> float:
        return len(self.lines) * self.leading


@dataclass(frozen=True, slots=True)
class Block:
    """A text block to fit: preferred and smallest size, at most ``max_lines`` lines."""

    text: str
    font: str
    size: float
    min_size: float
    max_lines: int = 1
    gap_before: float = 0.0


_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_NUMBER_SPACE = re.compile(r"(?<=\d) (?=\S)")
NBSP = "\u00a0"


def clean(text: str) -> str:
    """NFC (precomposed Vietnamese letters, which DejaVu has), single spaces, and a number
    glued to the word after it ("30 ngày", "1 phút" never split across lines).

    Text typed on some systems arrives decomposed (e + combining marks); reportlab does not
    shape, so combining marks would be drawn beside their letter. The glue is a no-break
    space, which text extraction (pdftotext) gives back as a plain space.

    >>> clean("trong  30 nga\u0300y") == "trong 30" + NBSP + "ngày"
    True
    """
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return _NUMBER_SPACE.sub(NBSP, text)


def _split_word(word: str, font: str, size: float, width: float) -> list[str]:
    """Break a word wider than the line (a long code or address) into pieces that fit."""
    pieces = []
    while word and string_width(word, font, size) > width:
        cut = len(word) - 1
        while cut > 1 and string_width(word[:cut], font, size) > width:
            cut -= 1
        hyphen = word.rfind("-", 1, cut)
        if hyphen > 0:  # ABCD-EFGH-... breaks between groups
            cut = hyphen + 1
        pieces.append(word[:cut])
        word = word[cut:]
    if word:
        pieces.append(word)
    return pieces


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap of ``text`` into lines no wider than ``width`` points."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if string_width(candidate, font, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        *full, current = _split_word(word, font, size, width)
        lines.extend(full)
    if current:
        lines.append(current)
    return lines


def ellipsize(text: str, font: str, size: float, width: float) -> str:
    """``text`` cut so that it ends with an ellipsis and fits ``width``: at a space if it can."""
    words = text.split(" ")
    while len(words) > 1 and string_width(" ".join(words) + ELLIPSIS, font, size) > width:
        words.pop()
    text = " ".join(words)
    while text and string_width(text.rstrip() + ELLIPSIS, font, size) > width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


@lru_cache(maxsize=4096)
def fit_text(
    text: str,
    *,
    font: str,
    size: float,
    min_size: float,
    width: float,
    max_lines: int = 1,
    step: float = 0.5,
) -> Fitted:
    """The largest size from ``size`` down to ``min_size`` at which ``text`` wraps into at most
    ``max_lines`` lines of ``width`` points; below that, the last line ends with "…".
    """
    if width <= 0 or max_lines < 1 or not 0 < min_size <= size:
        raise ValueError(f"cannot fit text into width={width}, max_lines={max_lines}, "
                         f"size={size}, min_size={min_size}")
    text = clean(text)
    if not text:
        return Fitted((), font, size)
    current = size
    while True:
        lines = wrap(text, font, current, width)
        if len(lines) <= max_lines:
            return Fitted(tuple(lines), font, current)
        if current - step < min_size - 1e-9:
            break
        current -= step
    kept = lines[:max_lines]
    kept[-1] = ellipsize(f"{kept[-1]} {lines[max_lines]}", font, current, width)
    return Fitted(tuple(kept), font, current, truncated=True)


def fit_column(blocks: list[Block], *, width: float, height: float) -> list[Fitted]:
    """Fit ``blocks`` stacked in a column of ``height`` points.

    Each block first gets its own ``max_lines``; while the column is too tall, the tallest
    block that still has several lines gives one up (so it shrinks or gets an ellipsis).
    """
    limits = [block.max_lines for block in blocks]
    while True:
        fitted = [
            fit_text(b.text, font=b.font, size=b.size, min_size=b.min_size, width=width,
                     max_lines=limit)
            for b, limit in zip(blocks, limits, strict=True)
        ]
        if column_height(blocks, fitted) <= height + 1e-6:
            return fitted
        multi = [i for i, f in enumerate(fitted) if len(f.lines) > 1]
        if not multi:
            raise ValueError(f"text does not fit a {height:.0f} pt column even on single lines")
        tallest = max(multi, key=lambda i: fitted[i].height)
        limits[tallest] = len(fitted[tallest].lines) - 1


def column_height(blocks: list[Block], fitted: list[Fitted]) -> float:
    """Height of the stacked blocks, gaps counted only before blocks that have text."""
    return sum(f.height + (b.gap_before if f.lines else 0) for b, f in zip(blocks, fitted, strict=True))
