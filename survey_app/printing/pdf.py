"""PDFs: A4 sheets of 3 x 8 labels, counter posters, one-dossier slips (layouts; the drawing
primitives and why they are fast are in document.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from reportlab.lib.pagesizes import A4, A5, A6
from reportlab.lib.units import mm

from .document import Document
from .fonts import BOLD, MONO_BOLD, REGULAR
from .label import Label
from .layout import Block, Fitted, fit_column, fit_text
from .qr import DEFAULT_ECC, Matrix, qr_matrix
from .texts import about, check_ttl_days, format_date, label_line, slip_wording, text

# --- Batch sheet geometry (points). Margins keep cut marks and the page header clear of the
# ~4 mm that office printers cannot reach.
COLUMNS, ROWS = 3, 8
LABELS_PER_PAGE = COLUMNS * ROWS
SHEET_W, SHEET_H = A4
MARGIN_X = 9 * mm
MARGIN_TOP = 16 * mm
MARGIN_BOTTOM = 10 * mm
CELL_W = (SHEET_W - 2 * MARGIN_X) / COLUMNS  # 64 mm
CELL_H = (SHEET_H - MARGIN_TOP - MARGIN_BOTTOM) / ROWS  # ~33.9 mm
CELL_PAD = 1.5 * mm
QR_SIDE = CELL_H - 2 * CELL_PAD  # the QR square includes its 4-module quiet zone
TEXT_X = CELL_PAD + QR_SIDE  # text starts where the quiet zone ends
TEXT_W = CELL_W - TEXT_X - 2.5 * mm
TEXT_TOP = 2.5 * mm
TEXT_H = CELL_H - 2 * 2.5 * mm
MARK_FROM, MARK_TO, MARK_ARM = 1.5 * mm, 5 * mm, 1.5 * mm


@dataclass(frozen=True, slots=True)
class _QrSlot:
    """A QR square in a vertical stack; ``side`` includes the quiet zone."""

    side: float
    gap_before: float = 0.0


_Entry = Block | _QrSlot


def _check_labels(labels: Sequence[Label]) -> list[Label]:
    labels = list(labels)
    if not labels:
        raise ValueError("labels is empty: give at least one Label to print")
    for i, label in enumerate(labels):
        if not isinstance(label, Label):
            raise TypeError(f"labels[{i}] must be a Label, not {type(label).__name__}")
    return labels


def _check_label(label: Label) -> Label:
    if not isinstance(label, Label):
        raise TypeError(f"label must be a Label, not {type(label).__name__}")
    return label


# --- Batch sheets ----------------------------------------------------------------------------


def _cut_marks() -> str:
    """Ticks outside the grid at every cut line, small crosses where inner lines meet."""
    left, right = MARGIN_X, SHEET_W - MARGIN_X
    top, bottom = SHEET_H - MARGIN_TOP, MARGIN_BOTTOM
    xs = [left + i * CELL_W for i in range(COLUMNS + 1)]
    ys = [bottom + i * CELL_H for i in range(ROWS + 1)]
    segments = []
    for x in xs:
        segments += [(x, top + MARK_FROM, x, top + MARK_TO),
                     (x, bottom - MARK_FROM, x, bottom - MARK_TO)]
    for y in ys:
        segments += [(left - MARK_FROM, y, left - MARK_TO, y),
                     (right + MARK_FROM, y, right + MARK_TO, y)]
    for x in xs[1:-1]:
        for y in ys[1:-1]:
            segments += [(x - MARK_ARM, y, x + MARK_ARM, y), (x, y - MARK_ARM, x, y + MARK_ARM)]
    path = " ".join(f"{a:.2f} {b:.2f} m {c:.2f} {d:.2f} l" for a, b, c, d in segments)
    return f"q 0.45 G 0.3 w {path} S Q"


def sheet_cells() -> list[tuple[float, float, float, float]]:
    """The 24 label cells of a sheet as (left, top, width, height) in points from the page's
    top-left corner, in printing order: where to cut, or to crop a rendered page.
    """
    return [
        (MARGIN_X + column * CELL_W, MARGIN_TOP + row * CELL_H, CELL_W, CELL_H)
        for row in range(ROWS)
        for column in range(COLUMNS)
    ]


def _label_blocks(label: Label) -> list[Block]:
    """Unit, procedure, instructions and expiry, sized for the text column of a label."""
    lang = label.lang
    blocks = [
        Block(label.unit, REGULAR, 7, 5.5, max_lines=3, gap_before=2),
        Block(label.procedure or "", REGULAR, 6.5, 5, max_lines=2, gap_before=1.5),
        Block(label_line(lang, label.minutes), REGULAR, 6, 5, max_lines=3, gap_before=2),
    ]
    if label.expires_on is not None:
        expiry = text(lang, "expires", date=format_date(label.expires_on, lang))
        blocks.append(Block(expiry, BOLD, 6, 5, gap_before=1))
    return blocks


def _fit_code(code: str, width: float, size: float, min_size: float) -> Fitted:
    """The code on one line if it fits at ``min_size`` or more, else wrapped on two."""
    fitted = fit_text(code, font=MONO_BOLD, size=size, min_size=min_size, width=width)
    if fitted.truncated:
        fitted = fit_text(code, font=MONO_BOLD, size=min_size, min_size=min_size * 0.8,
                          width=width, max_lines=2)
    return fitted


class _LabelText:
    """Per-document cache of label text layouts: one per (unit, procedure, lang, expiry)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], list[tuple[Block, Fitted]]] = {}

    def fit(self, label: Label, code_height: float) -> list[tuple[Block, Fitted]]:
        key = (label.unit, label.procedure, label.lang, label.expires_on, code_height)
        pairs = self._cache.get(key)
        if pairs is None:
            blocks = _label_blocks(label)
            fitted = fit_column(blocks, width=TEXT_W, height=TEXT_H - code_height)
            pairs = self._cache[key] = list(zip(blocks, fitted, strict=True))
        return pairs


def _draw_label(doc: Document, texts: _LabelText, label: Label, x: float, top: float,
                matrix: Matrix) -> tuple[float, float, Fitted]:
    """Draw a label but its code; return where the code goes (drawn per page, see text_many)."""
    doc.qr(matrix, x + CELL_PAD, top - CELL_PAD, QR_SIDE)
    code = _fit_code(label.code, TEXT_W, 11, 6)
    text_x, text_top = x + TEXT_X, top - TEXT_TOP
    pairs = texts.fit(label, code.height)
    # Unit and procedure follow the code; instructions (and expiry) sit at the bottom.
    top_group, bottom_group = pairs[:2], pairs[2:]
    y = text_top - code.height
    for block, fitted in top_group:
        if fitted.lines:
            y -= block.gap_before
            doc.text(fitted, text_x, y, TEXT_W)
            y -= fitted.height
    y = text_top - TEXT_H + sum(fitted.height + block.gap_before for block, fitted in bottom_group)
    for block, fitted in bottom_group:
        y -= block.gap_before
        doc.text(fitted, text_x, y, TEXT_W)
        y -= fitted.height
    return text_x, text_top, code


def batch_pdf(
    labels: Sequence[Label],
    *,
    title: str | None = None,
    cut_marks: bool = True,
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
) -> bytes:
    """A4 sheets of 3 x 8 labels (64 x 33.9 mm), in order left to right, top to bottom.

    Each label: the QR code, the code, the unit (and procedure), short instructions and the
    expiry date if any. ``title`` names the PDF and heads every page with the page number;
    ``cut_marks`` draws ticks in the margins and crosses at inner corners. ``uppercase`` and
    ``ecc`` are passed to :func:`survey_app.printing.qr_matrix`.
    """
    labels = _check_labels(labels)
    lang = labels[0].lang
    doc = Document(A4, title=title or "SIPAS", lang=lang)
    marks = _cut_marks()
    texts = _LabelText()
    pages = math.ceil(len(labels) / LABELS_PER_PAGE)
    cells = sheet_cells()
    for page in range(pages):
        if page:
            doc.canvas.showPage()
        if cut_marks:
            doc.canvas.addLiteral(marks)
        header = text(lang, "page", page=page + 1, pages=pages)
        if title:
            header = f"{title} · {header}"
        doc.text(fit_text(header, font=REGULAR, size=7, min_size=5, width=SHEET_W - 2 * MARGIN_X),
                 MARGIN_X, SHEET_H - 6.5 * mm, SHEET_W - 2 * MARGIN_X, cache=False)
        chunk = labels[page * LABELS_PER_PAGE:(page + 1) * LABELS_PER_PAGE]
        codes = []
        for label, (left, top, _, _) in zip(chunk, cells, strict=False):
            matrix = qr_matrix(label.url, uppercase=uppercase, ecc=ecc)
            codes.append(_draw_label(doc, texts, label, left, SHEET_H - top, matrix))
        doc.text_many(codes)
    return doc.finish()


# --- Posters and slips: one centred column -----------------------------------------------


def _fit_stack(entries: list[_Entry], width: float, height: float) -> list[Fitted | None]:
    """Fit the text blocks of ``entries`` into what the QR squares leave of ``height``."""
    fixed = sum(e.side + e.gap_before for e in entries if isinstance(e, _QrSlot))
    blocks = [e for e in entries if isinstance(e, Block)]
    fitted = iter(fit_column(blocks, width=width, height=height - fixed))
    return [next(fitted) if isinstance(e, Block) else None for e in entries]


def _stack_height(entries: list[_Entry], fitted: list[Fitted | None]) -> float:
    total = 0.0
    for entry, fit in zip(entries, fitted, strict=True):
        if isinstance(entry, _QrSlot):
            total += entry.gap_before + entry.side
        elif fit is not None and fit.lines:
            total += entry.gap_before + fit.height
    return total


def _draw_stack(doc: Document, entries: list[_Entry], fitted: list[Fitted | None],
                matrix: Matrix, x: float, top: float, width: float) -> None:
    y = top
    for entry, fit in zip(entries, fitted, strict=True):
        if isinstance(entry, _QrSlot):
            y -= entry.gap_before
            doc.qr(matrix, x + (width - entry.side) / 2, y, entry.side)
            y -= entry.side
        elif fit is not None and fit.lines:
            y -= entry.gap_before
            doc.text(fit, x, y, width, "center", cache=False)
            y -= fit.height


def _common_entries(label: Label, k: float, qr_side: float, *, title: str,
                    title_size: float) -> list[_Entry]:
    """Title, unit, procedure, QR, code: scaled by ``k`` (1 = A4 poster)."""
    return [
        Block(title, BOLD, title_size * k, 12 * k, max_lines=2),
        Block(label.unit, REGULAR, 15 * k, 10 * k, max_lines=3, gap_before=6 * k),
        Block(label.procedure or "", REGULAR, 12 * k, 7 * k, max_lines=2, gap_before=3 * k),
        _QrSlot(qr_side, gap_before=4 * k),
        Block(label.code, MONO_BOLD, 24 * k, 9 * k, max_lines=2, gap_before=2 * k),
    ]


def poster_pdf(
    label: Label,
    *,
    size: Literal["A4", "A5"] = "A4",
    title: str | None = None,
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
) -> bytes:
    """A portrait A4 or A5 poster for a counter code: title, unit, a large QR code (150 mm
    on A4), the code and address to type, and two steps. ``title`` replaces the default
    ("Đánh giá sự hài lòng").
    """
    label = _check_label(label)
    if size not in ("A4", "A5"):
        raise ValueError(f"size must be 'A4' or 'A5', not {size!r}")
    pagesize = A4 if size == "A4" else A5
    k = pagesize[0] / A4[0]  # A5 is A4 scaled by 1/sqrt(2)
    lang = label.lang
    margin = 15 * mm * k
    width, height = pagesize[0] - 2 * margin, pagesize[1] - 2 * margin
    title = title or text(lang, "poster_title")
    entries = _common_entries(label, k, 150 * mm * k, title=title, title_size=32)
    entries += [
        Block(text(lang, "or_visit", url=label.display_url), REGULAR, 11 * k, 7 * k,
              max_lines=2, gap_before=2 * k),
        Block(text(lang, "poster_step1"), REGULAR, 14 * k, 9 * k, max_lines=2, gap_before=14 * k),
        Block(text(lang, "poster_step2", **about(lang, label.minutes)), REGULAR, 14 * k, 9 * k, max_lines=2,
              gap_before=4 * k),
        Block(text(lang, "poster_step3"), BOLD, 13 * k, 8 * k, max_lines=2, gap_before=10 * k),
    ]
    if label.expires_on is not None:
        expiry = text(lang, "expires", date=format_date(label.expires_on, lang))
        entries.append(Block(expiry, REGULAR, 11 * k, 7 * k, gap_before=4 * k))
    fitted = _fit_stack(entries, width, height)
    used = _stack_height(entries, fitted)
    doc = Document(pagesize, title=f"{title} — {label.code}", lang=lang)
    matrix = qr_matrix(label.url, uppercase=uppercase, ecc=ecc)
    _draw_stack(doc, entries, fitted, matrix, margin, pagesize[1] - margin - (height - used) / 2,
                width)
    return doc.finish()


# Receipt printers print 72 mm of an 80 mm roll; A6 is a quarter of A4.
SLIP_WIDTH = {"80mm": 80 * mm, "A6": A6[0]}
SLIP_MARGIN = {"80mm": 4 * mm, "A6": 8 * mm}
SLIP_QR = {"80mm": 48 * mm, "A6": 64 * mm}  # quiet zone included


def slip_pdf(
    label: Label,
    *,
    size: Literal["80mm", "A6"] = "80mm",
    ttl_days: int | None = 30,
    uppercase: bool | None = None,
    ecc: str = DEFAULT_ECC,
) -> bytes:
    """One slip for one dossier: title, unit (and procedure), QR code, the code, the line
    "Quét mã để đánh giá sự hài lòng — ẩn danh, khoảng 1 phút; có thể trả lời sau tại nhà
    trong {ttl_days} ngày", the expiry date if any, and the address to type.

    ``size="80mm"``: a receipt-printer page 80 mm wide, as tall as its content (~115 mm).
    ``size="A6"``: 105 x 148 mm. ``ttl_days=None`` leaves out the "answer later" clause.
    """
    label = _check_label(label)
    if size not in SLIP_WIDTH:
        raise ValueError(f"size must be '80mm' or 'A6', not {size!r}")
    check_ttl_days(ttl_days)
    lang = label.lang
    page_w, margin = SLIP_WIDTH[size], SLIP_MARGIN[size]
    k = 1.0 if size == "80mm" else 1.15
    width = page_w - 2 * margin
    wording = slip_wording(lang, ttl_days=ttl_days, expires_on=label.expires_on, display_url=label.display_url,
                           minutes=label.minutes)
    title = wording.title
    entries = _common_entries(label, 0.6 * k, SLIP_QR[size], title=title, title_size=20)
    entries += [Block(wording.line, REGULAR, 8.5 * k, 6.5, max_lines=5, gap_before=4 * k)]
    if wording.expiry is not None:
        entries.append(Block(wording.expiry, BOLD, 8.5 * k, 6.5, gap_before=3 * k))
    entries.append(Block(wording.or_visit, REGULAR, 7.5 * k, 6, max_lines=2, gap_before=3 * k))
    if size == "A6":
        page_h = A6[1]
        fitted = _fit_stack(entries, width, page_h - 2 * margin)
    else:  # a roll: the page is as tall as its content
        fitted = _fit_stack(entries, width, 300 * mm)
        page_h = _stack_height(entries, fitted) + 2 * margin
    spare = page_h - 2 * margin - _stack_height(entries, fitted)
    doc = Document((page_w, page_h), title=f"{title} — {label.code}", lang=lang)
    matrix = qr_matrix(label.url, uppercase=uppercase, ecc=ecc)
    _draw_stack(doc, entries, fitted, matrix, margin, page_h - margin - spare / 2, width)
    return doc.finish()
