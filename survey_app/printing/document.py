"""Drawing primitives for one PDF, tuned for a thousand QR codes.

Speed (a 1,000-code batch within 2x the bare QR encoding, see docs/benchmarks.md) comes from:
each QR code is one path of row runs written in module units under one scaling ``cm``, so
the operators are small integers whose strings are cached across symbols; text blocks that
repeat on every label (unit, procedure, instructions) become PDF operators once per
document and are re-placed with a translation; and streams are saved without ASCII85.
Operators go in through reportlab's ``Canvas.addLiteral``.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from reportlab import rl_config
from reportlab.pdfbase.pdfmetrics import getAscent
from reportlab.pdfgen.canvas import Canvas

from .fonts import REGULAR, register_fonts, string_width
from .layout import Fitted
from .qr import DARK_RUN, QUIET_ZONE, Matrix

Align = Literal["left", "center"]

_save_lock = threading.Lock()
_RUN_CACHE: dict[int, dict[tuple[int, int], str]] = {}
_RUN_CACHE_LIMIT = 100_000


class Document:
    """One PDF being drawn, with operator strings cached for reuse inside it.

    Cached text operators name the document's font subsets, so they are valid only here.
    """

    def __init__(self, pagesize: tuple[float, float], *, title: str, lang: str) -> None:
        register_fonts()
        self._buffer = io.BytesIO()
        # initialFontName: otherwise reportlab references Helvetica (not embedded) on each page.
        self.canvas = Canvas(
            self._buffer, pagesize=pagesize, pageCompression=1, initialFontName=REGULAR,
            lang=lang,
        )
        self.canvas.setTitle(title)
        self.canvas.setAuthor("SIPAS")
        self.canvas.setCreator("SIPAS")
        self._text_cache: dict[tuple[Fitted, float, str], str] = {}

    def text(self, fitted: Fitted, x: float, top: float, width: float,
             align: Align = "left", *, cache: bool = True) -> None:
        """Draw ``fitted`` lines with the first line's ascent touching ``top``."""
        if not fitted.lines:
            return
        key = (fitted, width, align)
        ops = self._text_cache.get(key) if cache else None
        if ops is None:
            ops = self._text_ops(fitted, width, align)
            if cache:
                self._text_cache[key] = ops
        self.canvas.addLiteral(f"q 1 0 0 1 {x:.2f} {top:.2f} cm {ops} Q")

    def text_many(self, items: list[tuple[float, float, Fitted]]) -> None:
        """Left-aligned blocks that change on every label (the codes), in one text object:
        one ``BT ... ET`` per page instead of one per label.
        """
        block = self.canvas.beginText()
        face: tuple[str, float] | None = None
        for x, top, fitted in items:
            if face != (fitted.font, fitted.size):
                face = (fitted.font, fitted.size)
                block.setFont(fitted.font, fitted.size, fitted.leading)
                ascent = getAscent(fitted.font, fitted.size)
            for i, line in enumerate(fitted.lines):
                block.setTextOrigin(x, top - ascent - i * fitted.leading)
                block.textOut(line)
        self.canvas.drawText(block)

    def _text_ops(self, fitted: Fitted, width: float, align: Align) -> str:
        block = self.canvas.beginText()
        block.setFont(fitted.font, fitted.size, fitted.leading)
        ascent = getAscent(fitted.font, fitted.size)
        for i, line in enumerate(fitted.lines):
            dx = 0.0
            if align == "center":
                dx = (width - string_width(line, fitted.font, fitted.size)) / 2
            block.setTextOrigin(dx, -(ascent + i * fitted.leading))
            block.textOut(line)
        return block.getCode()

    def qr(self, matrix: Matrix, x: float, top: float, side: float) -> None:
        """Draw ``matrix`` in a ``side`` square (quiet zone included) whose top-left is x, top.

        Coordinates are in modules, y downwards, via one ``cm``: integers only, one path.
        """
        module = side / (len(matrix) + 2 * QUIET_ZONE)
        origin_x = x + QUIET_ZONE * module
        origin_y = top - QUIET_ZONE * module
        self.canvas.addLiteral(
            f"q 0 g {module:.4f} 0 0 {-module:.4f} {origin_x:.3f} {origin_y:.3f} cm "
            f"{run_ops(matrix)} f Q"
        )

    def finish(self) -> bytes:
        self.canvas.showPage()
        with _binary_streams():
            self.canvas.save()
        return self._buffer.getvalue()


@contextmanager
def _binary_streams() -> Iterator[None]:
    """Skip reportlab's ASCII85 layer on top of Flate while saving.

    ASCII85 only serves 7-bit channels, makes streams 25% larger and, without the optional C
    accelerator, is encoded in pure Python (a fifth of a 1,000-label batch). reportlab reads
    the switch from its global config when it writes the pages, hence the scoped override;
    other reportlab users in the process would still write valid PDFs with either value.
    """
    with _save_lock:  # two overlapping saves must not leave the switch at 0 for good
        previous = rl_config.useA85
        rl_config.useA85 = 0
        try:
            yield
        finally:
            rl_config.useA85 = previous


def run_ops(matrix: Matrix) -> str:
    """``x y w 1 re`` for every run of dark modules in a row.

    The hot loop of a batch. The rows are joined into one byte string (a 0 between rows so
    runs stop at the edge) and scanned by one regex; the operator for a run depends only on
    its span and the symbol size, and the same spans recur from symbol to symbol (finder
    patterns, short runs), so the formatted strings are cached: 1,000 symbols of one version
    need about a thousand distinct strings.
    """
    stride = len(matrix) + 1
    flat = b"\x00".join(map(bytes, matrix))
    cache = _RUN_CACHE.get(stride)
    if cache is None or len(cache) > _RUN_CACHE_LIMIT:  # only huge symbols fill it up
        cache = _RUN_CACHE[stride] = {}
    spans = list(map(re.Match.span, DARK_RUN.finditer(flat)))
    for start, end in set(spans).difference(cache):
        cache[start, end] = f"{start % stride} {start // stride} {end - start} 1 re"
    return " ".join(map(cache.__getitem__, spans))
