"""SVG without CSS: matplotlib's SVG with its style sheet and ``style`` attributes turned into
presentation attributes, so a page whose Content-Security-Policy forbids inline styles
(``style-src 'self'``) draws it as before."""

from __future__ import annotations

import re
from html import unescape

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
