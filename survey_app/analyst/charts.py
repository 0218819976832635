"""The dashboard's charts (analysis.charts: server-rendered SVG, the same as the plan report's),
each drawn once for what it draws. Each is shown with a table of its numbers."""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from analysis import charts as _charts
from analysis.compare import Funnel
from analysis.priorities import Priorities
from analysis.results import Estimate

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
    if isinstance(value, Mapping):  # names by code
        return ("mapping", tuple(sorted((str(k), _drawn(v)) for k, v in value.items())))
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


elements_chart = _by_drawing(_charts.elements_chart)
units_chart = _by_drawing(_charts.units_chart)
criteria_chart = _by_drawing(_charts.criteria_chart)
trend_chart = _by_drawing(_charts.trend_chart)
ipa_chart = _by_drawing(_charts.ipa_chart)
funnel_chart = _by_drawing(_charts.funnel_chart)
