"""Charts of the plan report as inline SVG (matplotlib, Agg backend, no external resources).

Colours are the Okabe–Ito palette (safe for the common colour-vision deficiencies);
meaning never rests on colour alone: markers differ in shape and fill, and every chart has
its numbers in a table of the report.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

from ..format import format_number  # noqa: E402
from .labels import label  # noqa: E402

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

_STYLE: Any = {
    "svg.fonttype": "none",  # real text: selectable, searchable, small
    "svg.hashsalt": "sipas",  # stable ids across runs
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#DDDDDD",
    "grid.linewidth": 0.6,
}

_counter = itertools.count(1)


def _svg(fig: Any, title: str) -> str:
    """The figure as an ``<svg>`` element with ids made unique within the report."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    prefix = f"c{next(_counter)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    for name in sorted(ids, key=len, reverse=True):
        text = text.replace(f'id="{name}"', f'id="{prefix}{name}"')
        text = text.replace(f"url(#{name})", f"url(#{prefix}{name})")
        text = text.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    return text.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1
    )


def _pct_axis(ax: Any, lang: str, axis: str = "x") -> None:
    formatter = matplotlib.ticker.FuncFormatter(
        lambda v, _: f"{format_number(v, lang=lang, digits=0)} %"
    )
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def _ci_err(values: Sequence[float | None], cis: Sequence[Any]) -> list[list[float]]:
    low, high = [], []
    for v, ci in zip(values, cis, strict=True):
        if v is None or ci is None or ci[0] is None:
            low.append(0.0)
            high.append(0.0)
        else:
            low.append(max(0.0, v - ci[0]))
            high.append(max(0.0, ci[1] - v))
    return [low, high]


def units_chart(
    *, names: Sequence[str], series: Sequence[tuple[str, Sequence[Any]]],
    targets: Sequence[tuple[str, float]], lang: str, title: str,
) -> str:
    """Dot plot: one row per unit, each series (general, composite) as a dot with its CI;
    targets as dashed vertical lines. Flagged estimates are drawn hollow."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.4))
        colours = [OKABE_ITO["blue"], OKABE_ITO["orange"]]
        markers = ["o", "s"]
        offsets = [-0.15, 0.15]
        for k, (name, ests) in enumerate(series):
            ys = [i + offsets[k % 2] for i in range(len(names))]
            values = [getattr(e, "value", None) if e is not None else None for e in ests]
            cis = [getattr(e, "ci", None) if e is not None else None for e in ests]
            flagged = [bool(getattr(e, "flag", None)) if e is not None else True for e in ests]
            for y, v, ci, f in zip(ys, values, cis, flagged, strict=True):
                if v is None:
                    continue
                err = _ci_err([v], [ci])
                ax.errorbar([v], [y], xerr=err, fmt=markers[k % 2], color=colours[k % 2],
                            mfc="white" if f else colours[k % 2], ms=6, capsize=3, lw=1.2)
            ax.plot([], [], markers[k % 2], color=colours[k % 2], label=name)
        styles = ["--", ":"]
        for k, (name, value) in enumerate(targets):
            ax.axvline(value, color=OKABE_ITO["black"], ls=styles[k % 2], lw=1,
                       label=f"{label('target', lang)}: {name}")
        ax.set_yticks(range(len(names)), names)
        ax.invert_yaxis()
        _pct_axis(ax, lang)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=4, frameon=False,
                  fontsize=8)
        ax.set_title(title, loc="left", fontsize=10, pad=24)
        return _svg(fig, title)


def elements_chart(
    *, names: Sequence[str], estimates: Sequence[Any], targets: Sequence[float | None],
    lang: str, title: str,
) -> str:
    """Horizontal bars of the element indices with CI whiskers and target ticks."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
        values = [getattr(e, "value", None) for e in estimates]
        cis = [getattr(e, "ci", None) for e in estimates]
        flagged = [bool(getattr(e, "flag", None)) for e in estimates]
        ys = list(range(len(names)))
        ax.barh(ys, [v or 0.0 for v in values], color=[
            "white" if f else OKABE_ITO["sky"] for f in flagged
        ], edgecolor=OKABE_ITO["blue"], height=0.6)
        ax.errorbar([v or 0.0 for v in values], ys, xerr=_ci_err(values, cis), fmt="none",
                    ecolor=OKABE_ITO["black"], capsize=3, lw=1)
        first = True
        for y, t in zip(ys, targets, strict=True):
            if t is not None:
                ax.plot([t, t], [y - 0.4, y + 0.4], color=OKABE_ITO["vermillion"], lw=2.2,
                        label=label("target", lang) if first else None)
                first = False
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        _pct_axis(ax, lang)
        if not first:
            ax.legend(loc="lower right", frameon=True, fontsize=8)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, title)


def ipa_chart(*, priorities: Any, lang: str, title: str) -> str:
    """Importance (x) against performance (y), split at the cuts; "concentrate here"
    criteria as filled vermillion triangles, the rest as hollow circles."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4.8))
        pts = [c for c in priorities.criteria
               if c.quadrant is not None and c.importance == c.importance]
        measure = "shapley" if priorities.measure == "shapley" else "importance"
        for c in pts:
            x = c.shapley if measure == "shapley" else c.importance
            hot = c.quadrant == "concentrate"
            ax.plot(x, c.performance, "^" if hot else "o", ms=7,
                    color=OKABE_ITO["vermillion"] if hot else OKABE_ITO["blue"],
                    mfc=(OKABE_ITO["vermillion"] if hot else "white"))
            ax.annotate(c.code, (x, c.performance), textcoords="offset points", xytext=(4, 3),
                        fontsize=7.5)
        ax.axvline(priorities.importance_cut, color=OKABE_ITO["grey"], ls="--", lw=1)
        ax.axhline(priorities.performance_cut, color=OKABE_ITO["grey"], ls="--", lw=1)
        ax.set_xlabel(label("importance", lang))
        ax.set_ylabel(label("performance", lang))
        _pct_axis(ax, lang, axis="y")
        ax.text(0.99, 0.02, label("concentrate", lang), transform=ax.transAxes, ha="right",
                va="bottom", color=OKABE_ITO["vermillion"], fontsize=8)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, title)


def funnel_chart(*, fun: Any, lang: str, title: str) -> str:
    """Funnel plot: each unit's index against n, centre line and 95 % / 99.8 % limits."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        curve = fun.curve
        ax.plot(curve["n"], curve["low95"], color=OKABE_ITO["blue"], ls="--", lw=1,
                label=label("limit95", lang))
        ax.plot(curve["n"], curve["high95"], color=OKABE_ITO["blue"], ls="--", lw=1)
        ax.plot(curve["n"], curve["low998"], color=OKABE_ITO["vermillion"], ls=":", lw=1.2,
                label=label("limit998", lang))
        ax.plot(curve["n"], curve["high998"], color=OKABE_ITO["vermillion"], ls=":", lw=1.2)
        ax.axhline(fun.centre, color=OKABE_ITO["black"], lw=1, label=label("funnel_centre", lang))
        for p in fun.points:
            ax.plot(p.n, p.index, "o", ms=6, color=OKABE_ITO["black"],
                    mfc="white" if p.flag else OKABE_ITO["orange"])
            ax.annotate(p.label, (p.n, p.index), textcoords="offset points", xytext=(4, 3),
                        fontsize=8)
        ax.set_xlabel("n")
        _pct_axis(ax, lang, axis="y")
        ax.legend(loc="lower right", fontsize=8)
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, title)


def change_chart(*, names: Sequence[str], differences: Sequence[Any], lang: str,
                 title: str) -> str:
    """Differences (points) with their CIs against a zero line."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
        ys = list(range(len(names)))
        for y, d in zip(ys, differences, strict=True):
            if d is None or d.estimate != d.estimate:
                continue
            significant = d.significant
            ax.errorbar([d.estimate], [y], xerr=[[d.estimate - d.ci[0]], [d.ci[1] - d.estimate]],
                        fmt="D", ms=6, capsize=3, lw=1.2, color=OKABE_ITO["green"],
                        mfc=OKABE_ITO["green"] if significant else "white")
        ax.axvline(0, color=OKABE_ITO["black"], lw=1)
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: format_number(v, lang=lang, digits=0)))
        ax.set_title(title, loc="left", fontsize=10)
        return _svg(fig, title)
