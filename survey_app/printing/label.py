"""What is printed for one survey code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .texts import LANGS


@dataclass(frozen=True, slots=True)
class Label:
    """One survey code to print.

    ``code`` is shown as given (already grouped for reading, e.g. ``ABCD-EFGH-JK``); ``url``
    is what the QR code opens (``SIPAS_PUBLIC_URL + /s/<code>``); ``unit`` and ``procedure``
    are display names; ``expires_on`` is printed as the last day to answer; ``lang`` picks
    the wording ("vi" or "en").
    """

    code: str
    url: str
    unit: str
    procedure: str | None = None
    expires_on: date | None = None
    lang: str = "vi"
    minutes: int = 1  # the questionnaire's time promise (Questionnaire.minutes)

    def __post_init__(self) -> None:
        for name in ("code", "url", "unit"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Label.{name} must be a non-empty string, not {value!r}")
        if self.procedure is not None and not isinstance(self.procedure, str):
            raise ValueError(f"Label.procedure must be a string or None, not {self.procedure!r}")
        if self.expires_on is not None and not isinstance(self.expires_on, date):
            raise ValueError(f"Label.expires_on must be a date or None, not {self.expires_on!r}")
        if self.lang not in LANGS:
            raise ValueError(f"Label.lang must be one of {', '.join(LANGS)}, not {self.lang!r}")

    @property
    def display_url(self) -> str:
        """The URL to type by hand: without the scheme, which browsers add themselves."""
        return self.url.split("://", 1)[-1]
