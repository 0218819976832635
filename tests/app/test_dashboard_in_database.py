"""The dashboard's indices come from the database's aggregates: a fresh worker serves the
overview, criteria, trend and units pages without reading the responses into memory, and
shows what the in-memory analysis of the same rows gives."""

from __future__ import annotations

import pytest

import analysis
import questionnaires
from survey_app.extensions import db
from survey_app.services import dataset
from tests.support import ORG, store_random_answers


@pytest.fixture
def no_frame(monkeypatch):
    """Fail the test if anything loads the response frame."""
    dataset.cache.clear()

    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard read every response into memory")

    monkeypatch.setattr(dataset.analysis, "load_database", refuse)
    yield
    dataset.cache.clear()


@pytest.mark.parametrize("page", ["/analyst/", "/analyst/criteria", "/analyst/trend", "/analyst/units",
                                  "/analyst/expectations",
                                  f"/analyst/units?unit={ORG.department}&channel=single&period=month",
                                  "/api/v1/indices?by=unit&period=quarter"])
def test_pages_of_indices_read_no_rows(app, client, auth, no_frame, page):
    store_random_answers(app, count=12, seed=3)
    store_random_answers(app, unit=ORG.other_section, count=9, seed=4)
    auth.login("analyst")
    response = client.get(page)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]


def test_the_overview_shows_the_in_memory_analysis(app, client, auth):
    store_random_answers(app, count=40, seed=5)
    with app.app_context():
        frame = analysis.load_database(db.engine, questionnaire="sipas-2023")
    expected = analysis.analyze(frame, questionnaires.load("sipas-2023"))
    auth.login("analyst")
    page = client.get("/analyst/").get_data(as_text=True)
    general = expected.groups[0].general
    assert f"{general.value:.1f}".replace(".", ",") in page
    assert f"{len(frame)}" in page
