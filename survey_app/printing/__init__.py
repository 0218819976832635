"""Printing survey codes: QR codes (matrix, SVG, PNG) and PDFs (label sheets, posters, slips).

Pure functions: no Flask, no database. Views and the CLI build :class:`Label` objects from
codes and call these. Call :func:`register_fonts` at start-up to keep the one-off font
parsing (~0.1 s) off the first printed slip.
"""

from __future__ import annotations

from .fonts import FontNotFoundError, register_fonts
from .label import Label
from .pdf import batch_pdf, poster_pdf, slip_pdf
from .qr import qr_matrix, qr_payload, qr_png, qr_svg
from .texts import SlipWording, slip_line, slip_wording

__all__ = [
    "FontNotFoundError",
    "Label",
    "SlipWording",
    "batch_pdf",
    "poster_pdf",
    "qr_matrix",
    "qr_payload",
    "qr_png",
    "qr_svg",
    "register_fonts",
    "slip_line",
    "slip_pdf",
    "slip_wording",
]
