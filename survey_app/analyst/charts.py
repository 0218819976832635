"""Dashboard charts: server-rendered SVG (matplotlib), colour-blind-safe (Okabe–Ito).
Each chart is shown with a table of its numbers beside it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from analysis.report.charts import (  # noqa: E402  (shared with the plan report)
    _STYLE,
    OKABE_ITO,
    _pct_axis,
    _svg,
    elements_chart,
    funnel_chart,
    ipa_chart,
    units_chart,
)

__all__ = ["criteria_chart", "elements_chart", "funnel_chart", "ipa_chart", "trend_chart", "units_chart"]


def criteria_chart(*, names: Sequence[str], estimates: Sequence[Any], title: str, lang: str = "vi") -> str:
    """Criteria sorted by index: a dot with its CI per criterion."""
    return units_chart(names=names, series=[("Chỉ số" if lang == "vi" else "Index", estimates)],
                       targets=[], lang=lang, title=title)


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
