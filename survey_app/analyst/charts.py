"""Dashboard charts: server-rendered SVG (matplotlib), colour-blind-safe (Okabe–Ito).
Each chart is shown with a table of its numbers beside it."""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from analysis.compare import Funnel  # noqa: E402
from analysis.priorities import Priorities  # noqa: E402
from analysis.report import charts as _report  # noqa: E402  (shared with the plan report)
from analysis.report.charts import _STYLE, OKABE_ITO, _pct_axis, _svg  # noqa: E402
from analysis.results import Estimate  # noqa: E402

__all__ = ["criteria_chart", "elements_chart", "funnel_chart", "ipa_chart", "trend_chart", "units_chart"]

# Drawing a chart takes 0.1-0.9 s, and a new response changes the indices of a large sample
# only in far decimals: a chart is drawn again only when what it draws changes in its first
# four significant digits (an index by a hundredth of a point: a tenth of a pixel). The
# table beside each chart always has the exact numbers.
_DRAWN_DIGITS = 4
_drawings: OrderedDict[tuple, str] = OrderedDict()
_drawings_lock = threading.Lock()


class _NotDrawable(Exception):
    """An argument of a kind whose drawn content this module does not know."""


def _drawn(value: Any) -> Any:
    """What a chart draws of ``value``: estimates as their index, interval and flag, numbers
    to ``_DRAWN_DIGITS`` significant digits."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return float(f"{value:.{_DRAWN_DIGITS}g}") if math.isfinite(value) else str(value)
    if isinstance(value, Estimate):
        return ("estimate", _drawn(value.value), _drawn(value.ci), value.flag)
    if isinstance(value, Funnel):  # what funnel_chart draws; its limits follow from the centre
        return ("funnel", value.method, _drawn(value.centre), _drawn(tuple(value.curve.get("n", ()))),
                tuple((p.label, _drawn(float(p.n)), _drawn(p.index), p.flag) for p in value.points))
    if isinstance(value, Priorities):  # what ipa_chart draws (not the counts)
        return ("priorities", value.measure, _drawn(value.importance_cut), _drawn(value.performance_cut),
                tuple((c.code, c.quadrant, _drawn(c.importance), _drawn(c.shapley), _drawn(c.performance))
                      for c in value.criteria))
    if isinstance(value, list | tuple):
        return tuple(_drawn(item) for item in value)
    raise _NotDrawable(type(value).__name__)


def _by_drawing(chart: Callable[..., str]) -> Callable[..., str]:
    @functools.wraps(chart)
    def drawn(**kwargs: Any) -> str:
        try:
            key = (chart.__name__, tuple(sorted((name, _drawn(value)) for name, value in kwargs.items())))
        except _NotDrawable:
            return chart(**kwargs)
        with _drawings_lock:
            if key in _drawings:
                _drawings.move_to_end(key)
                return _drawings[key]
        svg = chart(**kwargs)
        with _drawings_lock:
            _drawings[key] = svg
            while len(_drawings) > 64:
                _drawings.popitem(last=False)
        return svg

    return drawn


elements_chart = _by_drawing(_report.elements_chart)
units_chart = _by_drawing(_report.units_chart)
ipa_chart = _by_drawing(_report.ipa_chart)
funnel_chart = _by_drawing(_report.funnel_chart)


def criteria_chart(*, names: Sequence[str], estimates: Sequence[Any], title: str, lang: str = "vi") -> str:
    """Criteria sorted by index: a dot with its CI per criterion."""
    return units_chart(names=names, series=[("Chỉ số" if lang == "vi" else "Index", estimates)],
                       targets=[], lang=lang, title=title)


@_by_drawing
def trend_chart(*, periods: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]], target: float | None,
                title: str, lang: str = "vi") -> str:
    """Indices by period with a shaded CI band per series and the plan target as a line."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3.6))
        xs = list(range(len(periods)))
        colours = [OKABE_ITO["blue"], OKABE_ITO["orange"]]
        for k, (name, estimates) in enumerate(series):
            points = [(x, e) for x, e in zip(xs, estimates, strict=True) if e is not None and e.value is not None]
            if not points:
                continue
            px = [x for x, _ in points]
            values = [e.value for _, e in points]
            low = [e.ci[0] if e.ci and e.ci[0] is not None else e.value for _, e in points]
            high = [e.ci[1] if e.ci and e.ci[1] is not None else e.value for _, e in points]
            colour = colours[k % 2]
            ax.fill_between(px, low, high, color=colour, alpha=0.18, lw=0)
            ax.plot(px, values, "-o", color=colour, label=name, ms=5)
            for x, (_, e) in zip(px, points, strict=True):
                if e.flag:
                    ax.plot([x], [e.value], "o", color=colour, mfc="white", ms=7)
        if target is not None:
            ax.axhline(target, color=OKABE_ITO["vermillion"], ls="--", lw=1.2,
                       label=("Mục tiêu" if lang == "vi" else "Target") + f" {target:g} %")
        ax.set_xticks(xs, periods, rotation=30 if len(periods) > 6 else 0, ha="right" if len(periods) > 6 else "center")
        _pct_axis(ax, lang, axis="y")
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=3, frameon=False, fontsize=8)
        ax.set_title(title, loc="left", fontsize=10, pad=22)
        return _svg(fig, title)
