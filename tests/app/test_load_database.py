"""Every stored answer reaches the analysis, on SQLite and on PostgreSQL (a load once lost the
first answer row of every read on PostgreSQL's server-side cursor)."""

from __future__ import annotations

from sqlalchemy import func, select

from analysis import load_database
from survey_app.extensions import db
from survey_app.models import Answer, Response
from tests.support import store_random_answers


def test_every_answer_is_loaded(backend_app):
    store_random_answers(backend_app, count=7, seed=21)
    with backend_app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        stored_answers = db.session.scalar(select(func.count()).select_from(Answer))
        stored_responses = db.session.scalar(select(func.count()).select_from(Response))
        by_item = dict(db.session.execute(select(Answer.item, func.count()).group_by(Answer.item)).all())
    frame = load_database(url, questionnaire="sipas-2023")
    assert len(frame) == stored_responses == 7
    loaded = {item: int(frame[item].notna().sum()) for item in by_item}
    assert loaded == by_item
    assert sum(loaded.values()) == stored_answers
