"""Fixtures shared by the analysis tests: the questionnaire, small frames, R reference data."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import questionnaires
from analysis import read_responses

REFERENCE = Path(__file__).resolve().parent / "reference"


@pytest.fixture(scope="session")
def sipas() -> questionnaires.Questionnaire:
    return questionnaires.load("sipas-2023")


@pytest.fixture(scope="session")
def counter() -> questionnaires.Questionnaire:
    return questionnaires.load("tt01-counter")


@pytest.fixture(scope="session")
def criteria(sipas: questionnaires.Questionnaire) -> list[str]:
    return [c.code for c in sipas.criteria]


@pytest.fixture
def make_frame(sipas: questionnaires.Questionnaire) -> Callable[..., pd.DataFrame]:
    """``make_frame(scores, **columns)``: every criterion gets ``scores`` (a list, one per
    respondent) unless a column of the same name is given; extra keyword arguments become
    columns."""

    def make(scores: Sequence[Any], **columns: Sequence[Any]) -> pd.DataFrame:
        data: dict[str, Any] = {c.code: list(scores) for c in sipas.criteria}
        data.update({k: list(v) for k, v in columns.items()})
        return pd.DataFrame(data)

    return make


@pytest.fixture(scope="session")
def random_frame(sipas: questionnaires.Questionnaire) -> pd.DataFrame:
    """600 correlated synthetic responses with blanks, PA only after feedback, HL, MD items,
    two units, dates over 2024 and a two-stage design."""
    rng = np.random.default_rng(7)
    n = 600
    latent = rng.normal(0.4, 1.0, size=n)
    feedback = rng.random(n) < 0.4
    data: dict[str, Any] = {
        "questionnaire": sipas.id,
        "unit": rng.choice(["A", "B"], size=n),
        "submitted_on": (np.datetime64("2024-01-01") + rng.integers(0, 366, size=n)).astype(str),
        "feedback_given": np.where(feedback, "co", "khong"),
        "stratum": rng.choice(["h1", "h2", "h3"], size=n),
        "psu": rng.integers(1, 6, size=n),
        "w": rng.uniform(5, 50, size=n),
    }
    for c in sipas.criteria:
        score = np.clip(np.rint(3.5 + latent + rng.normal(0, 1.0, size=n)), 1, 5)
        score[rng.random(n) < 0.05] = np.nan
        if c.asked_if:
            score[~feedback] = np.nan
        data[c.code] = score
    data["HL"] = np.clip(np.rint(3.6 + latent + rng.normal(0, 0.8, size=n)), 1, 5)
    for item in sipas.expectations:
        data[item.code] = rng.integers(1, 4, size=n).astype(float)
    return pd.DataFrame(data)


@pytest.fixture(scope="session")
def fixture_csv() -> Path:
    return REFERENCE / "fixture.csv"


@pytest.fixture(scope="session")
def fixture_frame(fixture_csv: Path) -> pd.DataFrame:
    return read_responses(fixture_csv)


@pytest.fixture(scope="session")
def r_values() -> dict[str, Any]:
    return json.loads((REFERENCE / "r_values.json").read_text(encoding="utf-8"))
