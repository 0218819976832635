"""Find DejaVu Sans (full Vietnamese coverage) and register it with reportlab once per process.

reportlab's built-in Helvetica has no Vietnamese glyphs (ạ, ế, ữ ... come out as boxes), so
every PDF embeds a subset of a TrueType font. Parsing the fonts costs ~0.1 s, hence once.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

REGULAR = "SipasSans"
BOLD = "SipasSans-Bold"
MONO_BOLD = "SipasMono-Bold"  # codes: fixed width keeps groups aligned and 0/O, 1/I distinct
_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    MONO_BOLD: "DejaVuSansMono-Bold.ttf",
}

_lock = threading.Lock()
_registered = False


class FontNotFoundError(RuntimeError):
    """DejaVu Sans is nowhere to be found: PDFs would lose their Vietnamese diacritics."""


def font_dirs() -> list[Path]:
    """Where DejaVu Sans is looked for, in order.

    ``SIPAS_FONT_DIR`` first (an operator's override), then fonts shipped in the package
    (``survey_app/fonts``), then matplotlib's bundled copy (matplotlib is a dependency, so
    this one is always there), then the usual Debian location.
    """
    dirs = []
    if os.environ.get("SIPAS_FONT_DIR"):
        dirs.append(Path(os.environ["SIPAS_FONT_DIR"]))
    dirs.append(Path(__file__).resolve().parent.parent / "fonts")
    # find_spec locates mpl-data without importing matplotlib (slow, and it touches ~/.config).
    spec = importlib.util.find_spec("matplotlib")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            dirs.append(Path(location) / "mpl-data" / "fonts" / "ttf")
    dirs.append(Path("/usr/share/fonts/truetype/dejavu"))
    return dirs


def find_font(filename: str) -> Path:
    """The first ``filename`` found in :func:`font_dirs`."""
    searched = font_dirs()
    for directory in searched:
        candidate = directory / filename
        if candidate.is_file():
            return candidate
    raise FontNotFoundError(
        f"{filename} not found in: {', '.join(str(d) for d in searched)}. Install matplotlib "
        "or the fonts-dejavu-core package, or set SIPAS_FONT_DIR to a folder that holds it."
    )


def register_fonts() -> None:
    """Register the faces as :data:`REGULAR`, :data:`BOLD` and :data:`MONO_BOLD` (idempotent).

    Call it at app start-up to take the one-off parsing cost off the first printed slip.
    """
    global _registered
    if _registered:
        return
    with _lock:
        if _registered:
            return
        for name, filename in _FILES.items():
            pdfmetrics.registerFont(TTFont(name, str(find_font(filename))))
        _registered = True


def string_width(text: str, font: str, size: float) -> float:
    """Width of ``text`` in points (registers the fonts first if needed)."""
    if not _registered:
        register_fonts()
    return pdfmetrics.stringWidth(text, font, size)
