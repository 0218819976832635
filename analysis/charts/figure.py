"""What every chart shares: one width, one type size, the palette, the SVG with its words.

A chart is drawn WIDTH inches wide and shown at the full width of its page (CSS
``width: 100%``), so its type is at least FONT_PT points at the size a dashboard or a
report gives it; its title and a description in words (every number it draws) travel in
the SVG as ``<title>`` and ``<desc>``, which screen readers announce.

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies);
meaning never rests on colour alone: markers differ in shape and fill, and every chart has
its numbers in a table beside it.
"""

from __future__ import annotations

import io
import itertools
import re
import textwrap
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from ..format import format_ci, format_number, format_percent  # noqa: E402
from ..report.labels import label  # noqa: E402
from .svg import svg_without_css  # noqa: E402

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}

WIDTH = 9.0  # inches (864 px at 96 dpi): near a dashboard's width, so its type keeps its size
FONT_PT = 10.5
ROW = 0.2  # inches per line of a row label

STYLE: Any = {
    "svg.fonttype": "none",  # real text: selectable, searchable, small
    "svg.hashsalt": "sipas",  # stable ids across runs
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": FONT_PT,
    "legend.fontsize": FONT_PT,
    "axes.labelsize": FONT_PT,
    "xtick.labelsize": FONT_PT,
    "ytick.labelsize": FONT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
    "figure.constrained_layout.use": True,  # labels and legends inside the figure, never on each other
}

_counter = itertools.count(1)
# An id, or a reference to one: id="…", url(#…), href="#…".
_REFERENCE = re.compile(r'(id="|url\(#|href="#)([^")]+)([")])')


def figure(height: float) -> tuple[Any, Any]:
    """A figure of the common width and ``height`` inches with one axes."""
    return plt.subplots(figsize=(WIDTH, max(height, 2.4)))


def wrap(text: str, width: int) -> str:
    """``text`` on lines of at most ``width`` characters (a tick label of several lines)."""
    return "\n".join(textwrap.wrap(text, width)) or text


def row_height(labels: Sequence[str]) -> float:
    """Inches for a row chart whose rows carry ``labels`` (wrapped, one line or more)."""
    return sum(max(label.count("\n") + 1, 2) * ROW for label in labels) + 1.3


def pct_axis(ax: Any, lang: str, axis: str = "x") -> None:
    formatter = matplotlib.ticker.FuncFormatter(lambda v, _: f"{format_number(v, lang=lang, digits=0)} %")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def ci_err(values: Sequence[float | None], cis: Sequence[Any]) -> list[list[float]]:
    low, high = [], []
    for v, ci in zip(values, cis, strict=True):
        if v is None or ci is None or ci[0] is None:
            low.append(0.0)
            high.append(0.0)
        else:
            low.append(max(0.0, v - ci[0]))
            high.append(max(0.0, ci[1] - v))
    return [low, high]


def legend_above(ax: Any, columns: int = 4) -> None:
    """The legend in a row above the axes (the title is the page's caption, not in the chart)."""
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncols=columns, frameon=False, borderaxespad=0)


def said(estimate: Any, lang: str) -> str:
    """An estimate in words: ``35,6 % (KTC 95 %: 30,1–41,6 %; n = 261; không đủ dữ liệu)``."""
    if estimate is None or getattr(estimate, "value", None) is None:
        return label("no_data", lang).lower()
    parts = [f"{label('ci', lang)}: {format_ci(estimate.ci, lang=lang)}"] if estimate.ci else []
    if getattr(estimate, "n", None) is not None:
        parts.append(f"n = {int(estimate.n)}")
    if getattr(estimate, "flag", None):
        parts.append(label("insufficient data", lang).lower())
    return f"{format_percent(estimate.value, lang=lang)} ({'; '.join(parts)})"


def to_svg(fig: Any, title: str, description: Sequence[str]) -> str:
    """The figure as an ``<svg>`` element: ids unique within the page, styled by presentation
    attributes only (see :func:`svg_without_css`), named by ``title`` and described by the
    lines of ``description`` for screen readers."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = svg_without_css(text[text.index("<svg"):])
    prefix = f"c{next(_counter)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    # One pass over the text (a replace per id was quadratic: 24 s for a 2.9 MB funnel of 798 units).
    text = _REFERENCE.sub(lambda m: m[1] + (prefix if m[2] in ids else "") + m[2] + m[3], text)
    head, _, body = text.partition(">")
    words = (f'<title id="{prefix}title">{escape(title)}</title>'
             f'<desc id="{prefix}desc">{escape(" ".join(description))}</desc>')
    head = head.replace("<svg ", f'<svg role="img" aria-labelledby="{prefix}title" '
                                 f'aria-describedby="{prefix}desc" ', 1)
    return f"{head}>{words}{body}"
