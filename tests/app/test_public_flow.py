"""The citizen's path through Flask's test client: open, answer, thank-you, and every error."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

import analysis
from survey_app.extensions import db
from survey_app.models import Answer, Comment, Response, SurveyCode
from tests.support import csrf_token, form_steps, full_answers, issue_codes


def open_form(client, code: str, lang: str | None = None):
    page = client.get(f"/s/{code}" + (f"?lang={lang}" if lang else ""))
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return page.get_data(as_text=True)


def submit(client, code: str, data: dict[str, str], lang: str | None = None):
    html = open_form(client, code, lang)
    return client.post(f"/s/{code}", data={**data, "csrf_token": csrf_token(html)})


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_form_names_unit_procedure_and_every_question_in_steps(app, client):
    """The general question first, one step per element, the expectations, then the rest:
    every question on exactly one step, "Bước k/8" on each, the time promise on the first."""
    [code] = issue_codes(app)
    pages = form_steps(client, code)
    html = pages[0]
    assert "Phòng Lãnh sự" in html and "Hợp pháp hóa lãnh sự giấy tờ" in html
    assert 'name="HL"' in html and 'name="TC1"' not in html and "Bước 1/8" in html and "mất khoảng 4 phút" in html
    for name in ["TC1", "TT4", "CC5", "KQ3", "PA1", "PA3", "HL", "MD1", "MD9", "feedback_given",
                 "gender", "age_group", "respondent_type", "comment"]:
        asked = f'<input type="radio" name="{name}"|<select id="{name}"|<textarea id="{name}"'
        shown = [i for i, p in enumerate(pages) if re.search(asked, p)]
        assert len(shown) == 1, (name, shown)
    assert [f"Bước {i + 1}/8" in p for i, p in enumerate(pages)] == [True] * 8
    assert all('name="website"' in p for p in pages)
    assert "Rất không hài lòng" in pages[1] and "Cơ quan cung cấp thông tin" in pages[1]
    assert '<html lang="vi">' in html
    assert max(len(p.encode()) for p in pages) < 30_000


def test_english_switch(app, client):
    [code] = issue_codes(app)
    html = open_form(client, code, "en")
    assert '<html lang="en">' in html and "Very dissatisfied" in html and "Step 1 of 8" in html
    assert "Information about the procedure is offered" in form_steps(client, code, "en")[1]
    assert 'href="/s/' in html and "?lang=vi" in html


def test_submit_stores_response_and_shows_thanks(app, client):
    [code] = issue_codes(app)
    response = submit(client, code, full_answers())
    assert response.status_code == 303
    thanks = client.get(response.headers["Location"])
    assert "Cảm ơn" in thanks.get_data(as_text=True)
    with app.app_context():
        stored = db.session.scalars(select(Response)).one()
        answers = {a.item: a.value for a in stored.answers}
        assert answers["TC1"] == 4 and answers["PA1"] == 4 and answers["HL"] == 4 and answers["MD1"] == 2
        assert stored.channel == "single" and stored.same_day is True and stored.feedback_given == "co"
        assert re.fullmatch(r"[0-9a-f]{32}", stored.id)
        assert db.session.scalar(select(SurveyCode.status)) == "answered"
        assert db.session.scalar(select(Comment.text)) == "Cán bộ nhiệt tình."


def test_code_matched_case_insensitively_and_with_upper_case_path(app, client):
    [code] = issue_codes(app)
    assert client.get(f"/s/{code.lower()}").status_code == 200
    assert client.get(f"/S/{code}").status_code == 200
    assert client.get(f"/s/{code.replace('-', '')}").status_code == 200


def test_type_in_box_redirects_to_the_form(app, client):
    [code] = issue_codes(app)
    page = client.get("/s")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    typed = client.get(f"/s?code={code.lower().replace('-', ' ')}")
    assert typed.status_code == 303 and typed.headers["Location"].endswith(f"/s/{code}")


def test_blank_criteria_are_missing_and_pa_skipped_without_feedback(app, client):
    [code] = issue_codes(app)
    data = full_answers(feedback_given="khong", TC2="")
    assert submit(client, code, data).status_code == 303
    with app.app_context():
        items = set(db.session.scalars(select(Answer.item)))
    assert "TC2" not in items and not {"PA1", "PA2", "PA3"} & items and "TC1" in items


def test_repeat_submission_is_409_and_stores_nothing(app, client):
    [code] = issue_codes(app)
    html = open_form(client, code)
    data = {**full_answers(), "csrf_token": csrf_token(html)}
    assert client.post(f"/s/{code}", data=data).status_code == 303
    again = client.post(f"/s/{code}", data=data)
    assert again.status_code == 409
    assert "đã được nhận" in again.get_data(as_text=True)
    assert count(app, Response) == 1
    assert client.get(f"/s/{code}").status_code == 409


@pytest.mark.parametrize("field,value", [("TC1", "6"), ("TC1", "abc"), ("gender", "robot"), ("HL", "")])
def test_invalid_answers_are_400_and_keep_what_was_given(app, client, field, value):
    [code] = issue_codes(app)
    response = submit(client, code, full_answers(**{field: value}, CC2="2", comment="Giữ lại góp ý"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-err"' in html  # the page opens on the step with the problem
    assert re.search(r'name="CC2" value="2"', html)  # on its step, or carried as a hidden field
    assert "Giữ lại góp ý" in html
    assert count(app, Response) == 0
    with app.app_context():
        assert db.session.scalar(select(SurveyCode.status)) == "issued"


def test_pa_answers_without_feedback_question_is_an_error(app, client):
    [code] = issue_codes(app)
    response = submit(client, code, full_answers(feedback_given=""))
    assert response.status_code == 400 and 'id="feedback_given-err"' in response.get_data(as_text=True)


def test_comment_too_long_is_400(app, client):
    [code] = issue_codes(app)
    response = submit(client, code, full_answers(comment="x" * 2001))
    assert response.status_code == 400 and 'id="comment-err"' in response.get_data(as_text=True)


def test_comment_is_scrubbed(app, client):
    [code] = issue_codes(app)
    text = "Gọi tôi 0912 345 678, email an@vd.vn, CCCD 001203004567"
    assert submit(client, code, full_answers(comment=text)).status_code == 303
    with app.app_context():
        stored = db.session.scalar(select(Comment.text))
    assert "0912" not in stored and "an@vd.vn" not in stored and "001203004567" not in stored
    assert "[số điện thoại]" in stored


def test_unknown_and_mistyped_codes_are_404(app, client):
    [code] = issue_codes(app)
    unknown = client.get("/s/ABCD-EFGH-JKMN-P")
    assert unknown.status_code in (404,)
    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    page = client.get(f"/s/{typo}")
    text = page.get_data(as_text=True)
    assert page.status_code == 404 and "gõ nhầm" in text and 'name="code"' in text


def test_voided_and_expired_codes_are_410(app, client):
    from survey_app.services import codes

    voided, expired = issue_codes(app, count=2)
    with app.app_context():
        records = {r.id: r for r in db.session.scalars(select(SurveyCode))}
        first, second = sorted(records)
        codes.void_codes([records[first]], actor="test")
        records[second].expires_at = records[second].issued_at
        db.session.commit()
    assert client.get(f"/s/{voided}").status_code == 410
    page = client.get(f"/s/{expired}")
    assert page.status_code == 410 and "hết hạn" in page.get_data(as_text=True)


def test_csrf_failure_is_400_with_reload_advice(app, client):
    [code] = issue_codes(app)
    response = client.post(f"/s/{code}", data=full_answers())
    assert response.status_code == 400 and "tải lại trang" in response.get_data(as_text=True)
    assert count(app, Response) == 0


def test_body_over_64k_is_413(app, client):
    [code] = issue_codes(app)
    response = client.post(f"/s/{code}", data={"comment": "x" * 70_000})
    assert response.status_code == 413


def test_honeypot_refuses_and_stores_nothing(app, client):
    [code] = issue_codes(app)
    assert submit(client, code, full_answers(website="http://spam")).status_code == 400
    assert count(app, Response) == 0


def test_counter_code_takes_many_answers_then_says_so_before_the_form(app, client):
    """A poster takes SIPAS_COUNTER_RATE_LIMIT answers per client; the next person on the
    same address learns it before filling the form in (429, in words), not after."""
    [code] = issue_codes(app, kind="counter", procedure=None)
    statuses = [submit(client, code, full_answers()).status_code for _ in range(5)]
    assert statuses == [303] * 5
    page = client.get(f"/s/{code}")
    assert page.status_code == 429
    html = page.get_data(as_text=True)
    assert "Mời Ông/Bà quay lại sau ít phút" in html and "mã dùng một lần" in html and 'name="TC1"' not in html
    assert count(app, Response) == 5
    with app.app_context():
        assert set(db.session.scalars(select(Response.channel))) == {"counter"}
        assert set(db.session.scalars(select(Response.same_day))) == {None}
        assert set(db.session.scalars(select(Response.burst))) == {False}


def test_a_completed_poster_answer_past_the_limit_is_stored_flagged(app, client):
    """Someone who opened the form before the limit filled up and submits after it: the
    answer is kept, flagged (exported as flagged = 1) for analysts to include or not."""
    [code] = issue_codes(app, kind="counter", procedure=None)
    html = client.get(f"/s/{code}").get_data(as_text=True)  # the form, opened first
    for _ in range(5):
        assert submit(client, code, full_answers()).status_code == 303
    late = client.post(f"/s/{code}", data={**full_answers(), "csrf_token": csrf_token(html)})
    assert late.status_code == 303 and late.headers["Location"].endswith("/thanks?lang=vi")
    with app.app_context():
        flags = sorted(db.session.scalars(select(Response.burst)))
        frame = analysis.load_database(db.engine, questionnaire="sipas-2023")
    assert flags == [False] * 5 + [True]
    assert sorted(frame["flagged"].tolist()) == [0.0] * 5 + [1.0]


def test_security_headers_on_public_pages(app, client):
    [code] = issue_codes(app)
    page = client.get(f"/s/{code}")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert page.headers["Cache-Control"] == "no-store"
