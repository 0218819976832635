"""The charts of the dashboard and the plan report, as inline SVG (matplotlib, Agg backend, no
external resources). Each takes its numbers and words and returns an ``<svg>`` element
(see figure.py for what they share: width, type size, palette, title and description)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adjustText import adjust_text

from ..format import format_ci, format_number, format_percent, format_points
from ..report.labels import label
from .figure import (
    OKABE_ITO,
    STYLE,
    ci_err,
    figure,
    legend_above,
    pct_axis,
    plt,
    row_height,
    said,
    to_svg,
    wrap,
)

_SERIES = [(OKABE_ITO["blue"], "o"), (OKABE_ITO["orange"], "s")]
_ROW_CHARS = 44  # a row's label wraps here: about a third of the chart's width
FONT_CODES = 9.5  # point labels (codes, short names) beside a marker
_FUNNEL_NAMED = 12  # up to this many units every point is named
# Beyond, at most this many: those outside the limits, farthest first, and the highest and the
# lowest. Placing 800 labels apart took adjustText 15-25 s, and nobody reads 800 names on a chart.
_FUNNEL_MOST_NAMED = 30
_SIGNAL_ORDER = {"above 99.8": 0, "below 99.8": 0, "above 95": 1, "below 95": 1}


def _rows(names: Sequence[str]) -> list[str]:
    return [wrap(name, _ROW_CHARS) for name in names]


def _row_axis(ax: Any, rows: Sequence[str]) -> list[float]:
    """Rows from the top, each as tall as its label's lines (at least two): the y of each row's
    centre, in lines. A long label never runs into its neighbour's."""
    ys, top = [], 0.0
    for row in rows:
        band = max(row.count("\n") + 1, 2)
        ys.append(top + band / 2)
        top += band
    ax.set_yticks(ys, rows)
    ax.set_ylim(top, 0)
    return ys


def units_chart(
    *, names: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]],
    targets: Sequence[tuple[str, float]], lang: str, title: str,
) -> str:
    """Dot plot: one row per unit (or criterion), each series (general, composite) as a dot
    with its CI; targets as dashed vertical lines. Flagged estimates are drawn hollow."""
    rows = _rows(names)
    with plt.rc_context(STYLE):
        fig, ax = figure(row_height(rows))
        ys = _row_axis(ax, rows)
        offsets = [-0.3, 0.3] if len(series) > 1 else [0.0]
        for k, (name, estimates) in enumerate(series):
            colour, marker = _SERIES[k % 2]
            for hollow in (False, True):  # one errorbar call each: one a row took 5 s at 800 rows
                shown = [(ys[i], e) for i, e in enumerate(estimates)
                         if e is not None and e.value is not None and bool(e.flag) == hollow]
                if shown:
                    values = [e.value for _, e in shown]
                    ax.errorbar(values, [y + offsets[k % len(offsets)] for y, _ in shown],
                                xerr=ci_err(values, [e.ci for _, e in shown]), fmt=marker, color=colour,
                                mfc="white" if hollow else colour, ms=7, capsize=3, lw=1.3)
            ax.plot([], [], marker, color=colour, label=name)
        for k, (name, value) in enumerate(targets):
            ax.axvline(value, color=OKABE_ITO["black"], ls=["--", ":"][k % 2], lw=1,
                       label=f"{label('target', lang)}: {name}")
        pct_axis(ax, lang)
        if len(series) > 1 or targets:
            legend_above(ax)
        lines = [f"{name}: " + "; ".join(f"{s} {said(est[i], lang)}" if len(series) > 1 else said(est[i], lang)
                                         for s, est in series) + "."
                 for i, name in enumerate(names)]
        lines += [f"{label('target', lang)} {s}: {format_percent(v, lang=lang)}." for s, v in targets]
        return to_svg(fig, title, lines)


def criteria_chart(*, codes: Sequence[str], texts: Sequence[str], estimates: Sequence[Any], lang: str,
                   title: str) -> str:
    """The criteria as rows named by code and words, with their index and CI."""
    return units_chart(names=[f"{code} · {text}" for code, text in zip(codes, texts, strict=True)],
                       series=[(label("index", lang), estimates)], targets=[], lang=lang, title=title)


def elements_chart(
    *, names: Sequence[str], estimates: Sequence[Any], targets: Sequence[float | None],
    lang: str, title: str,
) -> str:
    """Horizontal bars of the element indices with CI whiskers and target ticks."""
    rows = _rows(names)
    with plt.rc_context(STYLE):
        fig, ax = figure(row_height(rows))
        values = [getattr(e, "value", None) for e in estimates]
        ys = _row_axis(ax, rows)
        ax.barh(ys, [v or 0.0 for v in values], height=1.2, edgecolor=OKABE_ITO["blue"],
                color=["white" if getattr(e, "flag", None) else OKABE_ITO["sky"] for e in estimates])
        ax.errorbar([v or 0.0 for v in values], ys, xerr=ci_err(values, [getattr(e, "ci", None) for e in estimates]),
                    fmt="none", ecolor=OKABE_ITO["black"], capsize=3, lw=1)
        marked = [(y, t) for y, t in zip(ys, targets, strict=True) if t is not None]
        for k, (y, t) in enumerate(marked):
            ax.plot([t, t], [y - 0.8, y + 0.8], color=OKABE_ITO["vermillion"], lw=2.4,
                    label=label("target", lang) if k == 0 else None)
        ax.set_xlim(0, 100)
        pct_axis(ax, lang)
        if marked:
            legend_above(ax)
        lines = [f"{name}: {said(e, lang)}" + (f", {label('target', lang).lower()} {format_percent(t, lang=lang)}"
                                                if t is not None else "") + "."
                 for name, e, t in zip(names, estimates, targets, strict=True)]
        return to_svg(fig, title, lines)


def trend_chart(*, periods: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]], target: float | None,
                lang: str, title: str) -> str:
    """Indices by period (named in words) with a shaded CI band per series and the target."""
    with plt.rc_context(STYLE):
        fig, ax = figure(4.2)
        xs = list(range(len(periods)))
        for k, (name, estimates) in enumerate(series):
            colour, marker = _SERIES[k % 2]
            points = [(x, e) for x, e in zip(xs, estimates, strict=True) if e is not None and e.value is not None]
            if not points:
                continue
            px = [x for x, _ in points]
            ax.fill_between(px, [e.ci[0] if e.ci else e.value for _, e in points],
                            [e.ci[1] if e.ci else e.value for _, e in points], color=colour, alpha=0.18, lw=0)
            ax.plot(px, [e.value for _, e in points], "-" + marker, color=colour, label=name, ms=6)
            hollow = [(x, e.value) for x, e in points if e.flag]
            if hollow:
                ax.plot(*zip(*hollow, strict=True), marker, color=colour, mfc="white", ms=8, ls="none")
        if target is not None:
            ax.axhline(target, color=OKABE_ITO["vermillion"], ls="--", lw=1.2,
                       label=f"{label('target', lang)} {format_percent(target, lang=lang, digits=0)}")
        ax.margins(x=0.06)
        crowded = len(periods) > 6
        ax.set_xticks(xs, [wrap(p, 12) for p in periods], rotation=30 if crowded else 0,
                      ha="right" if crowded else "center")
        pct_axis(ax, lang, axis="y")
        legend_above(ax, columns=3)
        lines = [f"{period}: " + "; ".join(f"{name} {said(est[i], lang)}" for name, est in series) + "."
                 for i, period in enumerate(periods)]
        if target is not None:
            lines.append(f"{label('target', lang)}: {format_percent(target, lang=lang)}.")
        return to_svg(fig, title, lines)


_QUADRANT_CORNERS = {  # where each quadrant's name stands: (x, y, ha, va) in axes fractions
    "concentrate": (0.99, 0.02, "right", "bottom"),
    "keep_up": (0.99, 0.98, "right", "top"),
    "low_priority": (0.01, 0.02, "left", "bottom"),
    "overkill": (0.01, 0.98, "left", "top"),
}


def ipa_chart(*, priorities: Any, lang: str, title: str) -> str:
    """Importance (x) against performance (y), split at the means into four named quadrants;
    "concentrate here" criteria as filled vermillion triangles, the rest hollow circles."""
    with plt.rc_context(STYLE):
        fig, ax = figure(5.4)
        shapley = priorities.measure == "shapley"
        points = [c for c in priorities.criteria if c.quadrant is not None and c.importance == c.importance]
        texts = []
        for c in points:
            x = c.shapley if shapley else c.importance
            hot = c.quadrant == "concentrate"
            colour = OKABE_ITO["vermillion"] if hot else OKABE_ITO["blue"]
            ax.plot(x, c.performance, "^" if hot else "o", ms=8, color=colour, mfc=colour if hot else "white")
            texts.append(ax.text(x, c.performance, c.code, fontsize=FONT_CODES))
        ax.axvline(priorities.importance_cut, color=OKABE_ITO["grey"], ls="--", lw=1)
        ax.axhline(priorities.performance_cut, color=OKABE_ITO["grey"], ls="--", lw=1)
        for quadrant, (x, y, ha, va) in _QUADRANT_CORNERS.items():
            ax.text(x, y, label(quadrant, lang), transform=ax.transAxes, ha=ha, va=va,
                    color=OKABE_ITO["vermillion"] if quadrant == "concentrate" else OKABE_ITO["grey"])
        ax.set_xlabel(label("importance", lang))
        ax.set_ylabel(label("performance", lang))
        pct_axis(ax, lang, axis="y")
        ax.margins(0.12)
        _apart(ax, texts, [c.shapley if shapley else c.importance for c in points], [c.performance for c in points])
        lines = [f"{label(q, lang)}: " + "; ".join(
                     f"{c.code} ({label('performance', lang).lower()} {format_percent(c.performance, lang=lang)}, "
                     f"{label('importance_short', lang).lower()} "
                     f"{format_number(c.shapley if shapley else c.importance, lang=lang, digits=2)})"
                     for c in points if c.quadrant == q) + "."
                 for q in _QUADRANT_CORNERS if any(c.quadrant == q for c in points)]
        return to_svg(fig, title, lines)


def funnel_chart(*, fun: Any, lang: str, title: str, names: Mapping[str, str] | None = None) -> str:
    """Funnel plot: each unit's index against its n (from 0, so the limits visibly narrow),
    the centre line and the 95 % and 99.8 % limits; units named in words."""
    names = names or {}
    with plt.rc_context(STYLE):
        fig, ax = figure(4.8)
        curve = fun.curve
        for low, high, colour, style, key in (("low95", "high95", OKABE_ITO["blue"], "--", "limit95"),
                                              ("low998", "high998", OKABE_ITO["vermillion"], ":", "limit998")):
            ax.plot(curve["n"], curve[low], color=colour, ls=style, lw=1.2, label=label(key, lang))
            ax.plot(curve["n"], curve[high], color=colour, ls=style, lw=1.2)
        ax.axhline(fun.centre, color=OKABE_ITO["black"], lw=1, label=label("funnel_centre", lang))
        for hollow in (False, True):  # one line of markers each: 800 plot calls took seconds to draw
            shown = [p for p in fun.points if bool(p.flag) == hollow]
            if shown:
                ax.plot([p.n for p in shown], [p.index for p in shown], "o", ls="none", ms=7,
                        color=OKABE_ITO["black"], mfc="white" if hollow else OKABE_ITO["orange"])
        named = funnel_named(fun.points)
        texts = [ax.text(p.n, p.index, wrap(names.get(p.label, p.label), 24), fontsize=FONT_CODES) for p in named]
        ax.set_xlim(0, max(max(curve["n"], default=1.0), max((p.n for p in fun.points), default=1.0)) * 1.05)
        seen = [p.index for p in fun.points] + [fun.centre]
        low = min(seen + [min(curve["low998"], default=fun.centre)])
        high = max(seen + [max(curve["high998"], default=fun.centre)])
        ax.set_ylim(max(0.0, low - 3), min(100.0, high + 3))
        ax.set_xlabel(label("responses", lang) + " (n)")
        pct_axis(ax, lang, axis="y")
        legend_above(ax)
        # Labels keep off the named points' markers (all of a few): adjustText compares every
        # label with every marker to avoid, 8 s a chart with 800 markers.
        _apart(ax, texts, [p.n for p in named], [p.index for p in named])
        lines = [f"{label('funnel_centre', lang)}: {format_percent(fun.centre, lang=lang)}."]
        if len(named) < len(fun.points):
            outside = sum(1 for p in fun.points if p.signal)
            lines.append(label("funnel_named", lang, named=len(named), units=len(fun.points), outside=outside,
                               most=_FUNNEL_MOST_NAMED)
                         + " " + "; ".join(names.get(p.label, p.label) for p in named) + ".")
        lines += [f"{names.get(p.label, p.label)}: {format_percent(p.index, lang=lang)}, n = {int(p.n)}, "
                  f"{label('signal_' + (p.signal or 'none'), lang)}." for p in fun.points]
        return to_svg(fig, title, lines)


def funnel_named(points: Sequence[Any]) -> list[Any]:
    """The points named on a funnel plot (the units that matter at a province's size): all of
    a few; of many, those outside the limits
    (99.8 % before 95 %, then the farthest from their limit in widths of the 95 % band) and
    the highest and the lowest index (the larger n first among equals), at most
    ``_FUNNEL_MOST_NAMED``, in the order of the points."""
    if len(points) <= _FUNNEL_NAMED:
        return list(points)

    def beyond(p: Any) -> float:
        low, high = p.limits95
        return max(p.index - high, low - p.index) / max(high - low, 1e-9)

    outside = sorted((p for p in points if p.signal), key=lambda p: (_SIGNAL_ORDER.get(p.signal, 2), -beyond(p)))
    highest = max(points, key=lambda p: (p.index, p.n))
    lowest = min(points, key=lambda p: (p.index, -p.n))
    ends = [p for p in (highest, lowest) if p not in outside[:_FUNNEL_MOST_NAMED - 2]]
    chosen = {id(p) for p in outside[:_FUNNEL_MOST_NAMED - len(ends)] + ends}
    return [p for p in points if id(p) in chosen]


def change_chart(*, names: Sequence[str], differences: Sequence[Any], lang: str, title: str) -> str:
    """Differences (points) with their CIs against a zero line; significant ones filled."""
    rows = _rows(names)
    with plt.rc_context(STYLE):
        fig, ax = figure(row_height(rows))
        ys = _row_axis(ax, rows)
        for y, d in zip(ys, differences, strict=True):
            if d is None or d.estimate != d.estimate:
                continue
            ax.errorbar([d.estimate], [y], xerr=[[d.estimate - d.ci[0]], [d.ci[1] - d.estimate]],
                        fmt="D", ms=7, capsize=3, lw=1.3, color=OKABE_ITO["green"],
                        mfc=OKABE_ITO["green"] if d.significant else "white")
        ax.axvline(0, color=OKABE_ITO["black"], lw=1)
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: format_number(v, lang=lang, digits=0)))
        ax.set_xlabel(label("difference", lang))
        lines = [f"{name}: " + (label("no_data", lang).lower() if d is None or d.estimate != d.estimate else
                                f"{format_points(d.estimate, lang=lang)} "
                                f"({label('ci', lang)}: {format_ci(d.ci, lang=lang, percent=False)}; "
                                f"{label('significant', lang).lower()}: "
                                f"{label('yes' if d.significant else 'no', lang).lower()})") + "."
                 for name, d in zip(names, differences, strict=True)]
        return to_svg(fig, title, lines)


def _apart(ax: Any, texts: list[Any], xs: Sequence[float], ys: Sequence[float]) -> None:
    """Move point labels off each other and off the markers at (xs, ys) with adjustText, a thin
    line joining a label that moved far to its point."""
    if texts:
        ax.figure.canvas.draw()  # lay the figure out first: labels are moved in display space
        adjust_text(texts, x=list(xs), y=list(ys), ax=ax, expand=(1.2, 1.5), ensure_inside_axes=True,
                    arrowprops={"arrowstyle": "-", "color": OKABE_ITO["grey"], "lw": 0.6})
