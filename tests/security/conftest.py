"""Fixtures of the hostile-input battery (helpers in hostile.py)."""

from __future__ import annotations

import pytest

from tests.security.hostile import World, make_world


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """The public pages keep rate-limit hits in process memory, keyed by client address and
    code id, which repeat from test to test: start and leave clean."""
    from survey_app.public import views

    views._limits.storage.reset()
    yield
    views._limits.storage.reset()


@pytest.fixture
def world(app) -> World:
    """Real codes and API keys to aim at (see hostile.World)."""
    return make_world(app)
