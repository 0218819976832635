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
from html import escape, unescape
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
    """The figure as an ``<svg>`` element with ids made unique within the report, styled by
    presentation attributes only (see :func:`svg_without_css`)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    text = svg_without_css(text[text.index("<svg"):])
    prefix = f"c{next(_counter)}-"
    ids = set(re.findall(r'\bid="([^"]+)"', text))
    for name in sorted(ids, key=len, reverse=True):
        text = text.replace(f'id="{name}"', f'id="{prefix}{name}"')
        text = text.replace(f"url(#{name})", f"url(#{prefix}{name})")
        text = text.replace(f'href="#{name}"', f'href="#{prefix}{name}"')
    return text.replace(
        "<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1
    )


# CSS properties that SVG also takes as presentation attributes (SVG 2 §6.6 and SVG 1.1's
# list). An attribute has the lowest precedence of all author styles, so nothing that the
# page's stylesheets do not already set on the chart changes.
PRESENTATION_ATTRIBUTES = frozenset({
    "alignment-baseline", "baseline-shift", "clip", "clip-path", "clip-rule", "color",
    "color-interpolation", "color-interpolation-filters", "color-rendering", "cursor", "direction",
    "display", "dominant-baseline", "fill", "fill-opacity", "fill-rule", "filter", "flood-color",
    "flood-opacity", "font-family", "font-size", "font-size-adjust", "font-stretch", "font-style",
    "font-variant", "font-weight", "glyph-orientation-horizontal", "glyph-orientation-vertical",
    "image-rendering", "letter-spacing", "lighting-color", "marker-end", "marker-mid", "marker-start",
    "mask", "opacity", "overflow", "paint-order", "pointer-events", "shape-rendering", "stop-color",
    "stop-opacity", "stroke", "stroke-dasharray", "stroke-dashoffset", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-opacity", "stroke-width", "text-anchor",
    "text-decoration", "text-overflow", "text-rendering", "unicode-bidi", "vector-effect",
    "visibility", "white-space", "word-spacing", "writing-mode",
})

_MARKUP = re.compile(
    r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[?!][^>]*>"  # comments, CDATA, declarations: kept as they are
    r"|<style\b[^>]*>(?P<css>.*?)</style\s*>"  # a style sheet: becomes attributes
    r"|</(?P<end>[^\s>]+)\s*>"
    r"|<(?P<name>[A-Za-z_][\w.:-]*)(?P<attrs>(?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(?P<empty>/?)>",
    re.S,
)
_ATTRIBUTE = re.compile(r"\s+([^\s=/>]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
_HREF = re.compile(r"""\bhref\s*=\s*["']#([^"']+)["']""")
_FONT_STYLES = {"normal", "italic", "oblique"}
_FONT_WEIGHTS = {"bold", "bolder", "lighter"}
_FONT_STRETCHES = {"ultra-condensed", "extra-condensed", "condensed", "semi-condensed", "semi-expanded",
                   "expanded", "extra-expanded", "ultra-expanded"}
_FONT_SIZE = re.compile(
    r"(?:xx-small|x-small|small|medium|large|x-large|xx-large|xxx-large|smaller|larger"
    r"|[+]?(?:\d+\.?\d*|\.\d+)(?:px|pt|pc|mm|cm|in|q|em|rem|ex|ch|%)|0)", re.I)


def _declarations(css: str, where: str) -> dict[str, str]:
    """``prop: value; ...`` as an ordered mapping (a later declaration wins, as in CSS)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(css):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == ";" and depth == 0:
            parts.append(css[start:i])
            start = i + 1
    parts.append(css[start:])
    found: dict[str, str] = {}
    for part in parts:
        if not part.strip():
            continue
        name, colon, value = part.partition(":")
        name, value = name.strip().lower(), value.strip()
        if not colon or not name or not value or "!important" in value.replace(" ", "").lower():
            raise ValueError(f"svg: cannot turn the declaration {part.strip()!r} of {where} into an attribute")
        if name == "font":
            found.update(_font_shorthand(value))
            continue
        if name not in PRESENTATION_ATTRIBUTES:
            raise ValueError(f"svg: the CSS property {name!r} of {where} has no SVG presentation attribute")
        found.pop(name, None)  # keep the order of the last declaration
        found[name] = value
    return found


def _font_shorthand(value: str) -> dict[str, str]:
    """CSS ``font: [style] [variant] [weight] [stretch] size[/line-height] family`` as longhands.

    The line height is left out: it does not move an SVG ``<text>`` (one line per element).
    """
    longhands = {"font-style": "normal", "font-weight": "normal"}
    for match in re.finditer(r"\S+", value):
        word = match.group().lower()
        if word == "normal":
            continue
        if word in _FONT_STYLES:
            longhands["font-style"] = word
        elif word == "small-caps":
            longhands["font-variant"] = word
        elif word in _FONT_WEIGHTS or (word.isdigit() and 1 <= int(word) <= 1000):
            longhands["font-weight"] = word
        elif word in _FONT_STRETCHES:
            longhands["font-stretch"] = word
        else:
            size, slash, _line_height = match.group().partition("/")
            rest = value[match.end():].lstrip()
            if not slash and rest.startswith("/"):  # "9px / 1.2 family"
                rest = rest[1:].lstrip().partition(" ")[2].lstrip()
            if not _FONT_SIZE.fullmatch(size) or not rest:
                raise ValueError(f"svg: cannot read the font shorthand {value!r}")
            return {**longhands, "font-size": size, "font-family": rest}
    raise ValueError(f"svg: the font shorthand {value!r} has no size and family")


def _attribute_value(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def svg_without_css(svg: str) -> str:
    """The SVG with its CSS turned into presentation attributes: no ``style`` attribute and no
    ``<style>`` element is left, so a page whose Content-Security-Policy forbids inline styles
    (``style-src 'self'``) draws it as before.

    matplotlib's SVG styles each element with ``style="prop: value; ..."`` and adds one style
    sheet, ``*{stroke-linejoin: round; stroke-linecap: butt}``.

    - Each declaration of a ``style`` attribute becomes the attribute of the same name, and
      replaces an attribute of that name (a ``style`` declaration wins over an attribute). The
      ``font`` shorthand is written out as font-style, font-weight (and font-variant,
      font-stretch when given), font-size and font-family.
    - The ``*`` rule of the style sheet becomes attributes on the root, which every element
      inherits. A ``*`` rule also wins over an ancestor's own value and over an element's
      presentation attribute, so where inheritance would give something else (below an
      element that sets the property itself, on an element that a ``<use>`` references, on an
      element with that presentation attribute) the element gets the rule's value explicitly.
      A ``<defs>`` that held only the style sheet is removed.

    Raises ``ValueError`` for what has no attribute form (a property that is not a
    presentation attribute such as ``mix-blend-mode``, ``!important``, a selector other than
    ``*``) instead of dropping it: nothing visible is lost silently.

    >>> svg_without_css('<svg xmlns="http://www.w3.org/2000/svg"><defs><style>*{stroke-linecap: butt}</style>'
    ...                 '</defs><text style="font: 700 9px \\'DejaVu Sans\\'; fill: #00f">A</text></svg>')
    '<svg xmlns="http://www.w3.org/2000/svg" stroke-linecap="butt"><text font-style="normal" \
font-weight="700" font-size="9px" font-family="\\'DejaVu Sans\\'" fill="#00f">A</text></svg>'
    """
    sheet: dict[str, str] = {}
    for match in _MARKUP.finditer(svg):
        css = match.group("css")
        if css is None:
            continue
        css = unescape(re.sub(r"/\*.*?\*/", "", css.replace("<![CDATA[", "").replace("]]>", "")))
        for selector, body in re.findall(r"([^{}]*)\{([^{}]*)\}", css):
            if selector.strip() != "*":
                raise ValueError(f"svg: the style sheet rule {selector.strip()!r} has no attribute form")
            sheet.update(_declarations(body, "the style sheet"))
        if re.sub(r"([^{}]*)\{([^{}]*)\}", "", css).strip():
            raise ValueError(f"svg: cannot read the style sheet {css!r}")
    referenced = set(_HREF.findall(svg))
    # Per open element: the properties of the sheet whose inherited value differs from it.
    differing: list[set[str]] = []
    out: list[str] = []
    position = 0
    root = True
    for match in _MARKUP.finditer(svg):
        out.append(svg[position:match.start()])
        position = match.end()
        if match.group("css") is not None:
            continue
        if match.group("end") is not None:
            if differing:
                differing.pop()
            out.append(match.group())
            continue
        name = match.group("name")
        if name is None:
            out.append(match.group())
            continue
        # Attribute -> its value as written (quoted); only what changes is written anew.
        attributes: dict[str, str] = {}
        style: dict[str, str] = {}
        for key, quoted in _ATTRIBUTE.findall(match.group("attrs")):
            if key == "style":
                style = _declarations(unescape(quoted[1:-1]), f"a <{name}>")
            else:
                attributes[key] = quoted
        inherited = differing[-1] if differing else set()
        written_before = dict(attributes)
        own_id = unescape(attributes.get("id", '""')[1:-1])
        for prop, value in sheet.items():
            if prop not in style and (root or prop in inherited or prop in attributes or own_id in referenced):
                attributes[prop] = f'"{_attribute_value(value)}"'
        for prop, value in style.items():
            attributes.pop(prop, None)
            attributes[prop] = f'"{_attribute_value(value)}"'
        if match.group("empty") != "/":
            differing.append({prop for prop in sheet
                              if prop in attributes and unescape(attributes[prop][1:-1]) != sheet[prop]})
        root = False
        if not style and attributes == written_before:
            out.append(match.group())  # nothing to change: the tag as it was
            continue
        written = "".join(f" {key}={quoted}" for key, quoted in attributes.items())
        out.append(f"<{name}{written}{match.group('empty')}>")
    out.append(svg[position:])
    return re.sub(r"<defs>\s*</defs>\s*", "", "".join(out))


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
