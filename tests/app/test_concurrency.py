"""Exactly once under concurrency, on SQLite and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Answer, Response, SurveyCode
from tests.support import csrf_token, full_answers, issue_codes


def _prepared_post(app, code: str):
    client = app.test_client()
    html = client.get(f"/s/{code}").get_data(as_text=True)
    data = {**full_answers(), "csrf_token": csrf_token(html)}
    return client, data


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        responses = db.session.scalar(select(func.count()).select_from(Response))
        orphans = db.session.scalar(
            select(func.count()).select_from(Answer).where(~Answer.response_id.in_(select(Response.id))))
        answered = db.session.scalar(select(func.count()).select_from(SurveyCode).filter_by(status="answered"))
    return responses, orphans, answered


def test_fifty_threads_one_code_store_exactly_one(backend_app):
    [code] = issue_codes(backend_app)
    prepared = [_prepared_post(backend_app, code) for _ in range(50)]

    def post(item):
        client, data = item
        return client.post(f"/s/{code}", data=data).status_code

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(post, prepared))
    assert statuses.count(303) == 1, statuses
    assert set(statuses) == {303, 409}
    assert _counts(backend_app) == (1, 0, 1)


def test_two_hundred_codes_in_parallel_store_two_hundred(backend_app):
    codes = issue_codes(backend_app, count=200)
    prepared = [(code, *_prepared_post(backend_app, code)) for code in codes]

    def post(item):
        code, client, data = item
        return client.post(f"/s/{code}", data=data).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(post, prepared))
    assert statuses == [303] * 200
    assert _counts(backend_app) == (200, 0, 200)
