"""The citizen's form answered by the view alone: the token needs no cookie, every refusal is
worded by the view and stores nothing, odd requests are served, a body over the limit, a
database error and a body cut short are refused cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError

from survey_app.extensions import db
from survey_app.models import Answer, Comment, Response, SurveyCode
from survey_app.services import codes
from tests.support import csrf_token, full_answers, issue_codes


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _form(client, code: str, **kwargs):
    page = client.get(f"/s/{code}", **kwargs)
    assert page.status_code == 200
    return page, csrf_token(page.get_data(as_text=True))


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
def test_every_refusal_is_worded_by_the_view_and_stores_nothing(app, case):
    change, status, phrase = REFUSED[case]
    [code] = issue_codes(app)
    client = app.test_client()
    _, token = _form(client, code)
    data, token, headers = change(app, code, full_answers(), token)
    body = data if token is None else {**data, "csrf_token": token}
    response = client.post(f"/s/{code}", data=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert phrase in response.get_data(as_text=True)
    assert _count(app, Response) == 0


def test_odd_requests_are_served(app):
    [code] = issue_codes(app)
    [poster] = issue_codes(app, kind="counter", procedure=None)
    client = app.test_client()
    _, token = _form(client, code)
    assert client.get(f"/s/{code}?lang=xx").status_code == 200  # an unknown language: Vietnamese
    assert client.get(f"/s/{code.lower().replace('-', ' ')}").status_code == 200
    assert client.get("/s/ABCD-EFGH-JKMN-P").status_code == 404
    assert client.head(f"/s/{code}").status_code == 200
    _, poster_token = _form(client, poster)
    assert client.post(f"/s/{poster}", data={**full_answers(), "csrf_token": poster_token}).status_code == 303
    # A query string on the POST: the view reads its language, and the body is still whole.
    answered = client.post(f"/s/{code}?lang=en", data={**full_answers(), "csrf_token": token})
    assert answered.status_code == 303 and answered.headers["Location"] == "/thanks?lang=en"
    assert _count(app, Response) == 2 and _count(app, Answer) > 0


def test_a_body_over_the_limit_is_413(app):
    [code] = issue_codes(app)
    client = app.test_client()
    _, token = _form(client, code)
    response = client.post(f"/s/{code}", data={**full_answers(comment="x" * 70_000), "csrf_token": token})
    assert response.status_code == 413
    assert _count(app, Response) == 0


def test_a_database_error_is_a_503_page(app, monkeypatch):
    [code] = issue_codes(app)
    client = app.test_client()
    client.get(f"/s/{code}")

    def down(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(codes, "lookup", down)
    response = client.get(f"/s/{code}")
    assert response.status_code == 503 and "bận" in response.get_data(as_text=True)


def test_a_body_cut_short_is_never_stored(app):
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
    b"".join(app.wsgi_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses and statuses[0].startswith("400"), statuses
    assert _count(app, Response) == 0 and _count(app, Comment) == 0
