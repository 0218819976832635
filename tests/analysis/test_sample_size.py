"""analysis.sample_size: methodology §6 oracle and properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.sample_size import sample_size, yamane, z_value


def test_oracle():
    r = sample_size(margin=0.05)
    assert r.n0 == pytest.approx(384.15, abs=0.005)
    assert r.required == 385 and r.yamane is None
    assert sample_size(margin=0.05, population=2000).n_finite == pytest.approx(322.3, abs=0.05)
    r = sample_size(margin=0.05, population=2000, deff=1.5)
    assert r.n_design == pytest.approx(1.5 * 384.146, abs=0.01)
    assert r.n_finite == pytest.approx(447.3, abs=0.05)
    assert r.required == 448


def test_response_rate_divides():
    r = sample_size(margin=0.05, population=2000, deff=1.5, response_rate=0.3)
    assert r.n_invitations == pytest.approx(r.n_finite / 0.3)
    assert r.invitations == math.ceil(r.n_finite / 0.3)


def test_yamane():
    assert yamane(population=2000, margin=0.05) == pytest.approx(2000 / 6)
    assert sample_size(margin=0.05, population=2000).yamane == pytest.approx(333.33, abs=0.01)


def test_confidence_and_p():
    assert z_value(0.99) == pytest.approx(2.5758293, abs=1e-7)
    r = sample_size(margin=0.03, confidence=0.99, p=0.8)
    assert r.n0 == pytest.approx(2.5758293**2 * 0.16 / 0.0009, rel=1e-7)


@given(st.floats(0.01, 0.2), st.floats(0.05, 0.95), st.integers(10, 10**6))
def test_finite_population_never_exceeds_population(margin, p, population):
    r = sample_size(margin=margin, p=p, population=population)
    assert r.n_finite <= population
    assert r.n_finite <= r.n0 + 1e-9


@pytest.mark.parametrize(
    "kwargs,name",
    [({"margin": 5}, "margin"), ({"margin": 0}, "margin"),
     ({"margin": 0.05, "confidence": 95}, "confidence"), ({"margin": 0.05, "p": 1}, "p"),
     ({"margin": 0.05, "population": 0}, "population"),
     ({"margin": 0.05, "population": 12.5}, "population"),
     ({"margin": 0.05, "deff": 0}, "deff"), ({"margin": 0.05, "response_rate": 1.5}, "response_rate")],
)
def test_bad_input_names_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        sample_size(**kwargs)


def test_to_json():
    doc = sample_size(margin=0.05, population=2000).to_json()
    assert doc["required"] == 323 and doc["population"] == 2000
