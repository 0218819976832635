"""The citizen's fast path (public/fast.py): the fresh form and a valid submission are
answered in front of Flask, byte for byte as the view answers them; everything else is
handed to the view untouched, and nothing is stored twice."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from werkzeug.test import Client

from survey_app.extensions import db
from survey_app.models import Answer, Comment, Response, SurveyCode
from survey_app.public import page
from survey_app.public.fast import FastSurvey
from survey_app.services import codes
from tests.support import csrf_token, full_answers, issue_codes


def _layer(app) -> FastSurvey:
    layer = app.wsgi_app
    assert isinstance(layer, FastSurvey)
    return layer


@pytest.fixture
def views(app, monkeypatch) -> list[str]:
    """The paths the Flask app (not the fast path) answered, from a process that has not
    rendered any form yet."""
    monkeypatch.setattr(page, "_skeletons", {})
    layer = _layer(app)
    seen: list[str] = []
    flask_wsgi = layer.flask_wsgi

    def counted(environ, start_response):
        seen.append(f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')}")
        return flask_wsgi(environ, start_response)

    monkeypatch.setattr(layer, "flask_wsgi", counted)
    return seen


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _form(client, code: str, **kwargs):
    page = client.get(f"/s/{code}", **kwargs)
    assert page.status_code == 200
    return page, csrf_token(page.get_data(as_text=True))


def test_the_fresh_form_and_a_valid_answer_skip_flask(app, views):
    first, second = issue_codes(app, count=2)
    client = app.test_client()
    _form(client, first)
    assert views == [f"GET /s/{first}?"], "the first form of a process is rendered by the view"
    views.clear()
    page, token = _form(client, second)
    answered = client.post(f"/s/{second}", data={**full_answers(), "csrf_token": token})
    assert views == []
    assert answered.status_code == 303 and answered.headers["Location"] == "/thanks?lang=vi"
    assert _count(app, Response) == 1 and _count(app, Comment) == 1
    for response in (page, answered):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Set-Cookie" not in response.headers, "the citizen's pages set no cookie"


@pytest.mark.parametrize("query", ["", "?lang=en", "?lang=vi"])
def test_the_fast_form_is_the_views_form(app, query):
    [warm, code] = issue_codes(app, count=2)
    app.test_client().get(f"/s/{warm}{query}")  # the view renders the page's copy once
    fast = app.test_client().get(f"/s/{code}{query}")
    view = Client(_layer(app).flask_wsgi).get(f"/s/{code}{query}")
    assert fast.status_code == view.status_code == 200
    assert fast.get_data() == view.get_data()
    assert dict(fast.headers) == {name: value for name, value in view.headers.items() if name != "Vary"}


def test_the_fast_path_stores_what_the_view_stores(app):
    fast_code, view_code = issue_codes(app, count=2)
    data = full_answers(comment="Gọi 0912 345 678 nhé")
    client = app.test_client()
    _, token = _form(client, fast_code)
    assert client.post(f"/s/{fast_code}", data={**data, "csrf_token": token}).status_code == 303
    view = Client(_layer(app).flask_wsgi)
    token = csrf_token(view.get(f"/s/{view_code}").get_data(as_text=True))
    assert view.post(f"/s/{view_code}", data={**data, "csrf_token": token}).status_code == 303
    with app.app_context():
        columns = [c for c in Response.__table__.columns if c.name != "id"]
        rows = db.session.execute(select(*columns)).all()
        answers = db.session.execute(
            select(Answer.item, Answer.value, func.count()).group_by(Answer.item, Answer.value)).all()
        comments = list(db.session.scalars(select(Comment.text)))
    assert len(rows) == 2 and rows[0] == rows[1]
    assert answers and all(n == 2 for *_, n in answers)
    assert comments == ["Gọi [số điện thoại] nhé"] * 2


def test_the_token_needs_no_cookie(app):
    """The token is bound to the code, not to a session: a browser that drops cookies between
    the form and the answer (in-app browsers do) still gets its answer stored."""
    [code] = issue_codes(app)
    _, token = _form(app.test_client(), code)
    assert app.test_client().post(f"/s/{code}", data={**full_answers(), "csrf_token": token}).status_code == 303


def _void(app, code: str) -> None:
    with app.app_context():
        codes.void_codes([codes.find(code)], actor="test", reason="test")
        db.session.commit()


def _answered_meanwhile(app, code: str) -> None:
    with app.app_context():
        db.session.execute(update(SurveyCode).where(SurveyCode.id == codes.find(code).id).values(status="answered"))
        db.session.commit()


# name -> (change the request, expected status, a phrase of the page)
REFUSED = {
    "invalid answers": (lambda app, code, data, token: ({**data, "HL": "9"}, token, {}), 400, "HL"),
    "wrong token": (lambda app, code, data, token: (data, ("B" if token[0] == "A" else "A") + token[1:], {}), 400,
                    "tải lại trang"),
    "no token": (lambda app, code, data, token: (data, None, {}), 400, "tải lại trang"),
    "another code's token": (
        lambda app, code, data, token: (data, _form(app.test_client(), issue_codes(app)[0])[1], {}), 400,
        "tải lại trang"),
    "a post from another site": (
        lambda app, code, data, token: (data, token, {"Sec-Fetch-Site": "cross-site"}), 400, "tải lại trang"),
    "the honeypot": (lambda app, code, data, token: ({**data, "website": "http://spam"}, token, {}), 400, ""),
    "voided meanwhile": (lambda app, code, data, token: (_void(app, code), data, token, {})[1:], 410, ""),
    "answered meanwhile": (lambda app, code, data, token: (_answered_meanwhile(app, code), data, token, {})[1:],
                           409, ""),
}


@pytest.mark.parametrize("case", REFUSED)
def test_every_refusal_is_the_views(app, views, case):
    change, status, phrase = REFUSED[case]
    [code] = issue_codes(app)
    client = app.test_client()
    _, token = _form(client, code)
    data, token, headers = change(app, code, full_answers(), token)
    views.clear()
    body = data if token is None else {**data, "csrf_token": token}
    response = client.post(f"/s/{code}", data=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert phrase in response.get_data(as_text=True)
    assert views == [f"POST /s/{code}?"], "the view words every refusal"
    assert _count(app, Response) == 0


def test_requests_off_the_happy_path_reach_the_view_intact(app, views):
    [code] = issue_codes(app)
    [poster] = issue_codes(app, kind="counter", procedure=None)
    client = app.test_client()
    _, token = _form(client, code)
    views.clear()
    assert client.get(f"/s/{code}?lang=xx").status_code == 200  # an unknown language: Vietnamese
    assert client.get(f"/s/{code.lower().replace('-', ' ')}").status_code == 200
    assert client.get("/s/ABCD-EFGH-JKMN-P").status_code == 404
    assert client.head(f"/s/{code}").status_code == 200
    _, poster_token = _form(client, poster)
    assert client.post(f"/s/{poster}", data={**full_answers(), "csrf_token": poster_token}).status_code == 303
    # A query string on the POST: the view reads its language, and the body is still whole.
    answered = client.post(f"/s/{code}?lang=en", data={**full_answers(), "csrf_token": token})
    assert answered.status_code == 303 and answered.headers["Location"] == "/thanks?lang=en"
    assert len(views) == 7 and all("/s/" in seen for seen in views)
    assert _count(app, Response) == 2 and _count(app, Answer) > 0


def test_a_body_over_the_limit_is_the_views_413(app, views):
    [code] = issue_codes(app)
    client = app.test_client()
    _, token = _form(client, code)
    views.clear()
    response = client.post(f"/s/{code}", data={**full_answers(comment="x" * 70_000), "csrf_token": token})
    assert response.status_code == 413
    assert views and _count(app, Response) == 0


def test_a_database_error_on_the_fast_path_is_the_views_503(app, views, monkeypatch):
    [code] = issue_codes(app)
    client = app.test_client()
    client.get(f"/s/{code}")  # the page's copy exists: the next GET would be fast

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(codes, "lookup", down)
    views.clear()
    response = client.get(f"/s/{code}")
    assert response.status_code == 503 and "bận" in response.get_data(as_text=True)
    assert views == [f"GET /s/{code}?"]


def test_a_body_cut_short_is_never_stored(app, views):
    """A phone that loses its connection mid-upload leaves less than its Content-Length
    (gunicorn then hands over what arrived): the view refuses it (400), and a comment cut in
    half is not stored as if it were whole."""
    from urllib.parse import urlencode

    from werkzeug.test import EnvironBuilder

    [code] = issue_codes(app)
    _, token = _form(app.test_client(), code)
    answers = {name: value for name, value in full_answers().items() if name != "comment"}
    body = urlencode({"csrf_token": token, **answers, "comment": "Cán bộ hướng dẫn rất tận tình, chu đáo"}).encode()
    environ = EnvironBuilder(method="POST", path=f"/s/{code}", data=body[:-10],  # the end of the comment
                             content_type="application/x-www-form-urlencoded").get_environ()
    environ["CONTENT_LENGTH"] = str(len(body))
    statuses: list[str] = []
    views.clear()
    b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses and statuses[0].startswith("400"), statuses
    assert views == [f"POST /s/{code}?"]
    assert _count(app, Response) == 0 and _count(app, Comment) == 0
