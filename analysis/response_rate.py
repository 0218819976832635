"""Response rate of single-use codes (methodology §2.6), counted where the answer can still come.

A code handed out today may be answered for ``SIPAS_CODE_TTL_DAYS`` more days: counting it as
a non-response would understate the rate of every recent period (a month that has just begun
shows a few percent). So the rate is taken over the codes whose window has **closed**
(``expires_at`` has passed), answered or not; the codes still **open** are reported apart,
with how many of them have been answered so far. Voided codes were never handed to anyone and
count nowhere; counter (poster) codes have no denominator.

>>> CodeCounts(handed_out=100, answered=40, open=62, open_answered=6).rate
89.47368421052632
>>> CodeCounts(handed_out=62, answered=6, open=62, open_answered=6).rate is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CodeCounts"]


@dataclass(frozen=True)
class CodeCounts:
    """Single-use codes of one unit and period (voided ones excluded).

    ``handed_out`` codes, of which ``answered`` were used; ``open`` have a window that has not
    closed yet, ``open_answered`` of those were answered already.
    """

    handed_out: int
    answered: int
    open: int = 0
    open_answered: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.open_answered <= self.open <= self.handed_out:
            raise ValueError(f"open: need 0 ≤ open_answered ≤ open ≤ handed_out, got {self}")
        if not 0 <= self.answered - self.open_answered <= self.handed_out - self.open:
            raise ValueError(f"answered: more answered codes than codes, got {self}")

    @property
    def closed(self) -> int:
        """Codes whose window has closed: the denominator."""
        return self.handed_out - self.open

    @property
    def closed_answered(self) -> int:
        return self.answered - self.open_answered

    @property
    def rate(self) -> float | None:
        """Percent of the closed codes that were answered; None before any window closed."""
        return 100.0 * self.closed_answered / self.closed if self.closed else None
