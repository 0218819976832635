"""Dashboard charts are drawn again only when what they draw changes: a new response among
many moves the indices in far decimals, and drawing takes a tenth of a second or more."""

from __future__ import annotations

import pytest

from analysis.results import Estimate
from survey_app.analyst import charts
from tests.support import ORG, store_random_answers


@pytest.fixture
def drawings(monkeypatch) -> list[str]:
    """The report charts actually drawn (not served from the memory of drawings)."""
    drawn: list[str] = []
    monkeypatch.setattr(charts, "_drawings", type(charts._drawings)())
    for name in ("elements_chart", "units_chart", "criteria_chart", "trend_chart", "ipa_chart", "funnel_chart"):
        real = getattr(charts._charts, name)

        def recording(*, _real=real, _name=name, **kwargs):
            drawn.append(_name)
            return _real(**kwargs)

        recording.__name__ = name
        monkeypatch.setattr(charts, name, charts._by_drawing(recording))
    return drawn


def _estimate(value: float, width: float = 4.0, flag: str | None = None, n: int = 500) -> Estimate:
    return Estimate(value=value, se=width / 4, ci=(value - width / 2, value + width / 2), n=n, flag=flag)


def _elements(*values: float, **kwargs) -> str:
    return charts.elements_chart(names=["A", "B"], estimates=[_estimate(v, **kwargs) for v in values],
                                 targets=[80.0, None], lang="vi", title="Yếu tố")


def test_a_chart_is_drawn_once_for_what_it_draws(drawings):
    first = _elements(83.2, 74.5)
    assert _elements(83.2, 74.5, n=501) == first  # n and se are not drawn
    assert _elements(83.2004, 74.5) == first  # beyond the fourth significant digit
    assert drawings == ["elements_chart"]
    assert _elements(83.21, 74.5) != first
    assert _elements(83.2, 74.5, flag="insufficient data") != first  # drawn hollow
    assert _elements(83.2, 74.5, width=6.0) != first  # the interval
    assert drawings == ["elements_chart"] * 4


def test_the_criteria_chart_is_drawn_again_for_other_labels(drawings):
    estimates = [_estimate(90.0), _estimate(70.0)]
    for codes in (["TC1", "TC2"], ["TC1", "TC2"], ["TC2", "TC1"]):
        charts.criteria_chart(codes=codes, texts=["Một", "Hai"], estimates=estimates, lang="vi", title="Tiêu chí")
    assert drawings == ["criteria_chart", "criteria_chart"]


def test_arguments_it_cannot_read_are_drawn_every_time(drawings):
    class Opaque:
        value, ci, flag = 50.0, (45.0, 55.0), None

    charts.units_chart(names=["A"], series=[("x", [Opaque()])], targets=[], lang="vi", title="t")
    charts.units_chart(names=["A"], series=[("x", [Opaque()])], targets=[], lang="vi", title="t")
    assert drawings == ["units_chart", "units_chart"]


def test_pages_reuse_a_drawing_of_the_same_numbers(app, auth, drawings):
    """Another filter that selects the same answers (a date limit after the last answer) is
    computed again, and its chart is not drawn again; a new answer that moves the numbers is."""
    store_random_answers(app, count=40, seed=3)
    store_random_answers(app, unit=ORG.other_section, count=40, seed=4)
    auth.login("analyst")
    for path in ("/analyst/", "/analyst/priorities", "/analyst/units"):
        assert auth.client.get(path).status_code == 200
        assert auth.client.get(path + "?to=2099-12-31").status_code == 200
    assert sorted(drawings) == ["elements_chart", "funnel_chart", "ipa_chart", "units_chart"]
    drawings.clear()
    store_random_answers(app, count=40, seed=5)
    assert auth.client.get("/analyst/").status_code == 200
    assert drawings == ["elements_chart"]
