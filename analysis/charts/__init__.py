"""Charts as inline SVG for the dashboard and the plan report (no JavaScript, no CSS)."""

from .draw import (
    change_chart,
    criteria_chart,
    elements_chart,
    funnel_chart,
    funnel_named,
    ipa_chart,
    trend_chart,
    units_chart,
)
from .figure import OKABE_ITO, WIDTH
from .svg import svg_without_css

__all__ = ["OKABE_ITO", "WIDTH", "change_chart", "criteria_chart", "elements_chart", "funnel_chart", "funnel_named",
           "ipa_chart",            "svg_without_css", "trend_chart", "units_chart"]
