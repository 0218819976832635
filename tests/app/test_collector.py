"""The server process's garbage-collector threshold (survey_app/collector.py)."""

from __future__ import annotations

import gc

import pytest

from survey_app.collector import DEFAULT_FIRST, SERVER_FIRST, tune_collector


@pytest.fixture
def thresholds():
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


def test_the_first_threshold_is_raised_from_the_default_only(app, thresholds):
    gc.set_threshold(DEFAULT_FIRST, 10, 10)
    tune_collector()
    assert gc.get_threshold() == (SERVER_FIRST, 10, 10)
    gc.set_threshold(2_000, 10, 10)  # an operator's (or a library's) own setting stays
    tune_collector()
    assert gc.get_threshold() == (2_000, 10, 10)
