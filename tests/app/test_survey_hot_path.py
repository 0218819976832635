"""The citizen's survey path (public view, services, one commit): the rows it stores on both
backends, the per-version copy of the form, and one pooled connection per request."""

from __future__ import annotations

import pytest
from flask import render_template
from sqlalchemy import func, select

import questionnaires
from survey_app.database import stored_questionnaire
from survey_app.extensions import db, login_manager
from survey_app.models import Answer, Comment, Response
from survey_app.public import page
from survey_app.services import catalog, codes
from tests.support import ORG, csrf_token, full_answers, issue_codes

RATED = len(questionnaires.load("sipas-2023").answer_columns)


def _answer(client, code: str, data: dict[str, str]):
    html = client.get(f"/s/{code}").get_data(as_text=True)
    return client.post(f"/s/{code}", data={**data, "csrf_token": csrf_token(html)})


def _stored(app) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(select(
            Response.channel, Response.same_day, Response.burst, Response.feedback_given, Response.gender,
            Response.unit_id, Response.procedure_id)).all()
        answers = db.session.scalar(select(func.count()).select_from(Answer))
        comments = list(db.session.scalars(select(Comment.text)))
    return [tuple(row) for row in rows], answers, comments


def test_single_and_counter_codes_store_the_same_rows_on_both_backends(backend_app):
    backend_app.config["SIPAS_BURST_THRESHOLD"] = 2  # burst memory starts empty (conftest)
    [single] = issue_codes(backend_app)
    [poster] = issue_codes(backend_app, kind="counter", procedure=None)
    client = backend_app.test_client()
    assert _answer(client, single, full_answers(comment="Gọi 0912 345 678")).status_code == 303
    assert _answer(client, poster, full_answers(comment="")).status_code == 303
    assert _answer(client, poster, full_answers(gender="", comment="Tốt")).status_code == 303
    rows, answers, comments = _stored(backend_app)
    unit, procedure = _unit_and_procedure(backend_app)
    assert sorted(rows, key=repr) == sorted([
        ("single", True, False, "co", "nu", unit, procedure),
        ("counter", None, False, "co", "nu", unit, None),
        ("counter", None, True, "co", None, unit, None),  # the second within the window: a burst
    ], key=repr)
    assert answers == 3 * RATED
    assert sorted(comments) == ["Gọi [số điện thoại]", "Tốt"]


def test_public_pages_never_load_the_signed_in_user(app, auth, monkeypatch):
    """A clerk who opens a citizen's link in a signed-in browser costs the survey no user query."""
    [code] = issue_codes(app)
    loads: list[str] = []
    original = login_manager._user_callback
    monkeypatch.setattr(login_manager, "_user_callback", lambda user_id: loads.append(user_id) or original(user_id))
    auth.login("staff")
    assert auth.client.get("/staff/").status_code == 200
    assert loads, "a staff page loads the user"
    loads.clear()
    assert _answer(auth.client, code, full_answers(HL="")).status_code == 400  # the form shown again
    assert _answer(auth.client, code, full_answers()).status_code == 303
    assert auth.client.get("/s/ABCD-EFGH-JKMN-P").status_code == 404
    assert loads == []


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("procedure", [ORG.procedure, None])
def test_the_cached_form_is_the_rendered_form(app, lang, procedure):
    """The page assembled from the per-version copy equals the template rendered in full,
    strings escaped the same way."""
    with app.app_context():
        unit = catalog.unit_by_code(ORG.section)
        unit.name = 'Phòng <Lãnh sự> & "Hộ chiếu"'
        db.session.commit()
    [code] = issue_codes(app, procedure=procedure)
    client = app.test_client()
    served = client.get(f"/s/{code.lower()}?lang={lang}")
    token = csrf_token(served.get_data(as_text=True))
    assert "Phòng &lt;Lãnh sự&gt; &amp; &#34;Hộ chiếu&#34;" in served.get_data(as_text=True)
    with app.test_request_context(f"/s/{code.lower()}?lang={lang}"):
        q = _questionnaire(codes.lookup(code))
        record = codes.lookup(code)
        full = render_template(page.TEMPLATE, q=q, values={}, errors={}, unit_name=record.unit_name,
                               procedure_name=record.procedure_name, token=token, action=f"/s/{code}",
                               here=f"/s/{code.lower()}", question_names=page._names(q), **page.step_context(q, 0))
    assert served.get_data(as_text=True) == full


def test_a_step_moved_on_to_comes_from_its_copy_and_carries_the_answers_exactly(app, monkeypatch):
    """Moving on renders nothing: the step's copy with the other answers spliced in as hidden
    fields, escaped as the template would; they come back unchanged and are stored."""
    [code] = issue_codes(app)
    client = app.test_client()
    token = csrf_token(client.get(f"/s/{code}").get_data(as_text=True))
    rendered = []
    monkeypatch.setattr(page, "render_template", lambda *a, **k: rendered.append(a) or render_template(*a, **k))
    tricky = 'Cán bộ <b>"tận tình"</b> & nhanh'
    moved = client.post(f"/s/{code}", data={"csrf_token": token, "step": "0", "go": "next", "HL": "4",
                                            "comment": tricky})
    html = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "Bước 2/8" in html
    escaped = "Cán bộ &lt;b&gt;&#34;tận tình&#34;&lt;/b&gt; &amp; nhanh"
    assert f'<input type="hidden" name="comment" value="{escaped}">' in html
    assert '<input type="hidden" name="HL" value="4">' in html
    client.post(f"/s/{code}", data={"csrf_token": token, "step": "0", "go": "next", "HL": "5"})  # the copy exists now
    rendered.clear()
    client.post(f"/s/{code}", data={"csrf_token": token, "step": "0", "go": "next", "HL": "3"})
    assert rendered == []  # served from the copy
    back = client.post(f"/s/{code}", data={"csrf_token": token, "step": "1", "go": "back", "HL": "4", "TC1": "2"})
    assert 'value="4" checked' in back.get_data(as_text=True)  # its own answer shown: rendered in full
    assert len(rendered) == 1
    stored = _answer(client, code, full_answers(comment=tricky))
    assert stored.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Comment.text)) == tricky


def test_the_cached_form_refuses_a_template_that_hides_a_slot(app):
    with app.test_request_context("/s/x"), pytest.raises(RuntimeError, match="plain variable"):
        page.Skeleton.render("public/thanks.html", unit_name=page._SLOT)


def test_a_code_voided_or_answered_after_its_form_was_opened_is_refused_at_the_post(app):
    """The form was valid when opened; the burn checks the database at the POST."""
    voided, answered = issue_codes(app, count=2)
    client, other = app.test_client(), app.test_client()
    pages = {code: csrf_token(client.get(f"/s/{code}").get_data(as_text=True)) for code in (voided, answered)}
    with app.app_context():
        codes.void_codes([codes.find(voided)], actor="test")
    assert _answer(other, answered, full_answers()).status_code == 303
    assert client.post(f"/s/{voided}", data={**full_answers(), "csrf_token": pages[voided]}).status_code == 410
    assert client.post(f"/s/{answered}", data={**full_answers(), "csrf_token": pages[answered]}).status_code == 409
    assert _stored(app)[0] == [("single", True, False, "co", "nu", *_unit_and_procedure(app))]


def _questionnaire(record: codes.CodeInfo) -> questionnaires.Questionnaire:
    return stored_questionnaire(record.questionnaire_version_id, record.questionnaire_id,
                                record.questionnaire_number, record.questionnaire_sha256)


def _unit_and_procedure(app) -> tuple[int, int]:
    with app.app_context():
        return catalog.unit_by_code(ORG.section).id, catalog.procedure_by_code(ORG.procedure).id


def test_the_citizens_path_holds_one_pooled_connection_at_a_time(app, make_app, monkeypatch):
    """A second connection per request, taken while the first is held, starves the pool: fifty
    submissions racing for one code timed out into 500s. With a pool of one connection, a
    fresh process (the questionnaire read from the database) and a refused burn still work."""
    from survey_app import database

    one = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1})
    monkeypatch.setattr(database, "_snapshots", {})
    voided, fresh = issue_codes(one, count=2)
    client = one.test_client()
    token = csrf_token(client.get(f"/s/{voided}").get_data(as_text=True))
    with one.app_context():
        codes.void_codes([codes.find(voided)], actor="test")
    assert client.post(f"/s/{voided}", data={**full_answers(), "csrf_token": token}).status_code == 410
    assert _answer(client, fresh, full_answers()).status_code == 303
