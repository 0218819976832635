"""Charts carry no CSS: matplotlib's ``style`` attributes and ``<style>`` sheet become SVG
presentation attributes (the pages' Content-Security-Policy forbids inline styles), and
every element keeps the values its CSS gave it."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis import charts  # noqa: E402
from analysis.charts import svg_without_css  # noqa: E402
from analysis.charts.figure import STYLE  # noqa: E402
from analysis.compare import funnel  # noqa: E402
from analysis.results import Estimate  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
STYLE_ATTRIBUTE = re.compile(r"(?<![\w-])style\s*=")  # not font-style=


def assert_no_css(svg: str) -> ET.Element:
    """No ``style`` attribute, no ``<style>`` element; and the SVG still parses."""
    assert not STYLE_ATTRIBUTE.search(svg) and "<style" not in svg
    root = ET.fromstring(svg)
    assert not [e.tag for e in root.iter() if "style" in e.attrib or e.tag == f"{SVG}style"]
    return root


def _estimate(value: float, flag: str | None = None) -> Estimate:
    return Estimate(value=value, se=1.0, ci=(value - 2.0, value + 2.0), n=120, flag=flag)


def _declarations(style: str) -> dict[str, str]:
    return {name.strip(): value.strip() for name, _, value in
            (part.partition(":") for part in style.split(";") if part.strip())}


def _raw_svg(fig) -> str:
    """What matplotlib writes, before any rewriting."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def _busy_chart() -> str:
    """matplotlib's SVG of a figure with what the dashboard draws and more: dashes, alpha,
    hatches, markers, a filled band, bold and italic text."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, 1, 2], [1, 3, 2], "-o", color="#0072B2", ms=5, label="a")
        ax.plot([0, 2], [2, 2], ls="--", lw=1.2, color="#D55E00", alpha=0.5)
        ax.fill_between([0, 1, 2], [0, 1, 1], [1, 2, 2], color="#E69F00", alpha=0.2, lw=0)
        ax.bar([0.5], [1], hatch="//", edgecolor="#000000", fill=False)
        ax.errorbar([1], [1], xerr=[[0.2], [0.3]], fmt="s", capsize=3, mfc="white")
        ax.set_title("Tiêu đề <&>", fontweight="bold", fontstyle="italic")
        ax.legend()
        return _raw_svg(fig)


def test_the_svg_of_a_real_chart_has_no_css_and_still_parses():
    report_charts = [
        charts.units_chart(names=["Phòng A", "Phòng B"], series=[("Chung", [_estimate(82), _estimate(71, "ít")]),
                                                                ("Tổng hợp", [_estimate(79), None])],
                           targets=[("2026", 80.0), ("2027", 85.0)], lang="vi", title="Đơn vị"),
        charts.elements_chart(names=["TC", "TT"], estimates=[_estimate(83), _estimate(70, "ít")],
                              targets=[80.0, None], lang="vi", title="Yếu tố"),
        charts.funnel_chart(fun=funnel(x=[40, 180, 290], n=[50, 200, 400], labels=["A", "B", "C"],
                                       flags=[None, None, "ít"]), lang="vi", title="Phễu"),
    ]
    for svg in report_charts:
        root = assert_no_css(svg)
        assert root.get("stroke-linejoin") == "round" and root.get("stroke-linecap") == "butt"
        texts = list(root.iter(f"{SVG}text"))
        assert texts and all(t.get("font-family") and t.get("font-size") for t in texts)
        assert any(e.get("fill") for e in root.iter(f"{SVG}path"))


def _walk(original: ET.Element, rewritten: ET.Element):
    assert original.tag == rewritten.tag
    yield original, rewritten
    assert len(original) == len(rewritten), original.tag
    for a, b in zip(original, rewritten, strict=True):
        yield from _walk(a, b)


def test_every_declaration_becomes_the_attribute_of_the_same_name():
    raw = _busy_chart()
    assert STYLE_ATTRIBUTE.search(raw) and "<style" in raw  # what there is to rewrite
    original_root, new_root = ET.fromstring(raw), assert_no_css(svg_without_css(raw))
    # The style sheet's <defs> is gone; everything else is element for element the same.
    original_root.remove(next(d for d in original_root.findall(f"{SVG}defs") if d.find(f"{SVG}style") is not None))
    checked = set()
    for before, after in _walk(original_root, new_root):
        for name, value in _declarations(before.get("style", "")).items():
            assert after.get(name) == value, (before.tag, name)
            checked.add(name)
        for name, value in before.attrib.items():
            if name != "style" and name not in _declarations(before.get("style", "")):
                assert after.get(name) == value, (before.tag, name)
    assert {"fill", "fill-opacity", "stroke", "stroke-width", "stroke-dasharray", "stroke-dashoffset",
            "font-size", "font-family", "font-weight", "font-style", "text-anchor"} <= checked
    title = next(t for t in new_root.iter(f"{SVG}text") if t.text == "Tiêu đề <&>")
    assert (title.get("font-weight"), title.get("font-style")) == ("700", "italic")


def test_the_star_rule_reaches_every_element_it_reached_before():
    raw = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           '<defs><style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style></defs>'
           '<defs><path id="m" d="M0 0L1 1"/></defs>'
           '<g style="stroke-linejoin: miter"><path id="inner" d="M0 0"/><use xlink:href="#m" style="stroke: red"/></g>'
           '<path id="own" d="M0 0" stroke-linecap="square"/>'
           '<path id="plain" d="M0 0"/></svg>')
    root = ET.fromstring(svg_without_css(raw))
    by_id = {e.get("id"): e for e in root.iter() if e.get("id")}
    assert (root.get("stroke-linejoin"), root.get("stroke-linecap")) == ("round", "butt")
    # Below an element that sets its own value, the rule (not inheritance) decides.
    assert by_id["inner"].get("stroke-linejoin") == "round"
    # A <use>'s referenced element took the rule's value, not the <use>'s.
    assert by_id["m"].get("stroke-linejoin") == "round"
    # The rule won over a presentation attribute.
    assert by_id["own"].get("stroke-linecap") == "butt"
    # Elsewhere inheritance from the root gives the same value: nothing written.
    assert by_id["plain"].get("stroke-linejoin") is None
    assert next(root.iter(f"{SVG}g")).get("stroke-linejoin") == "miter"


def test_the_font_shorthand_is_written_out():
    out = svg_without_css('<svg xmlns="http://www.w3.org/2000/svg"><text style="font: italic 700 9.5px '
                          '&quot;DejaVu Sans&quot;, sans-serif; text-anchor: end">x</text>'
                          '<text style="font: 8px/1.2 serif">y</text></svg>')
    first, second = ET.fromstring(out).iter(f"{SVG}text")
    assert first.attrib == {"font-style": "italic", "font-weight": "700", "font-size": "9.5px",
                            "font-family": '"DejaVu Sans", sans-serif', "text-anchor": "end"}
    assert second.attrib == {"font-style": "normal", "font-weight": "normal", "font-size": "8px",
                             "font-family": "serif"}


@pytest.mark.parametrize("css, named", [
    ('<path style="mix-blend-mode: multiply"/>', "mix-blend-mode"),
    ('<path style="fill: red !important"/>', "!important"),
    ('<defs><style>path{fill: red}</style></defs>', "'path'"),
    ('<text style="font: caption">x</text>', "caption"),
])
def test_what_has_no_attribute_form_is_refused_not_dropped(css, named):
    with pytest.raises(ValueError, match=re.escape(named)):
        svg_without_css(f'<svg xmlns="http://www.w3.org/2000/svg">{css}</svg>')
