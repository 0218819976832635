"""Feedback cases: a comment marked as a complaint or request becomes a case with a deadline
in working days; staff of the unit close it with an answer; the citizen follows it with the
case number or the survey code, anonymously, and rates the handling once."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from survey_app.extensions import db
from survey_app.feedback import deadlines
from survey_app.feedback import service as cases
from survey_app.feedback.model import FeedbackCase
from survey_app.models import Comment, Response
from tests.support import ORG, Auth, csrf_token, full_answers, issue_codes


def _submit(client, code: str, **overrides):
    page = client.get(f"/s/{code}").get_data(as_text=True)
    return client.post(f"/s/{code}", data={**full_answers(**overrides), "csrf_token": csrf_token(page)})


def _only_case(app) -> FeedbackCase:
    with app.app_context():
        found = db.session.scalars(db.select(FeedbackCase)).all()
        assert len(found) == 1
        db.session.expunge(found[0])
        return found[0]


def test_working_days_skip_weekends_and_holidays():
    # Fri 24 Apr 2026 + 5 working days: Mon 27, Tue 28, Wed 29, (Thu 30/4, Fri 1/5 holidays), Mon 4, Tue 5.
    assert deadlines.add_working_days(dt.date(2026, 4, 24), 5) == dt.date(2026, 5, 5)
    tet = deadlines.parse_holidays("2027-02-05, 2027-02-08;2027-02-09")
    # Thu 4 Feb 2027 + 2: (Fri 5 holiday), (Mon 8, Tue 9 holidays), Wed 10, Thu 11.
    assert deadlines.add_working_days(dt.date(2027, 2, 4), 2, tet) == dt.date(2027, 2, 11)
    assert deadlines.working_days_between(dt.date(2026, 5, 5), dt.date(2026, 4, 24)) == -5
    with pytest.raises(deadlines.HolidayError, match="2027-13-01"):
        deadlines.parse_holidays("2027-13-01")


def test_a_bad_holiday_list_stops_the_app_with_a_clear_message(make_app):
    from survey_app.config import ConfigError

    with pytest.raises(ConfigError, match="SIPAS_HOLIDAYS"):
        make_app(SIPAS_HOLIDAYS="Tết")


def test_a_complaint_opens_a_case_with_its_deadline_and_no_link_to_the_response(app, client):
    code = issue_codes(app)[0]
    reply = _submit(client, code, comment="Chờ 2 tiếng, gọi 0912 345 678.", case_kind="complaint")
    assert reply.status_code == 303
    assert re.search(r"/thanks\?.*case=PA-[2-9A-Z]{4}-[2-9A-Z]{4}", reply.headers["Location"])
    case = _only_case(app)
    assert case.kind == "complaint" and case.status == "open" and case.channel == "single"
    assert "0912" not in case.text  # scrubbed like a comment
    with app.app_context():
        assert case.due_on == deadlines.add_working_days(case.received_on, 10, frozenset())
        # The case names no response, and the response row says nothing of a case.
        assert not {c.name for c in FeedbackCase.__table__.columns} & {"response_id", "code_id"}
        assert "case" not in " ".join(c.name for c in Response.__table__.columns)
        assert db.session.query(Comment).count() == 1  # the comment is still analysed as one
    thanks = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert case.number in thanks and case.due_on.strftime("%d/%m/%Y") in thanks


def test_a_case_needs_its_text_and_a_known_kind(app, client):
    code = issue_codes(app)[0]
    empty = _submit(client, code, comment="", case_kind="request")
    assert empty.status_code == 400
    assert "Vui lòng viết nội dung phản ánh, kiến nghị" in empty.get_data(as_text=True)
    odd = _submit(client, code, case_kind="lawsuit")
    assert odd.status_code == 400
    plain = _submit(client, code, comment="Tốt.")
    assert plain.status_code == 303 and "case=" not in plain.headers["Location"]
    with app.app_context():
        assert db.session.query(FeedbackCase).count() == 0


def test_the_citizen_follows_with_the_number_or_the_code_and_rates_once(app, client, auth):
    code = issue_codes(app)[0]
    _submit(client, code, comment="Nên có thêm ghế chờ.", case_kind="request")
    case = _only_case(app)
    by_number = client.get(f"/pa?q={case.number.lower().replace('-', ' ')}")
    assert by_number.status_code == 303 and by_number.headers["Location"].startswith(f"/pa/{case.number}")
    by_code = client.get(f"/pa?q={code}")
    assert by_code.headers["Location"].startswith(f"/pa/{case.number}")
    assert client.get("/pa?q=PA-2222-2222").status_code == 404
    answered = client.get(f"/s/{code}").get_data(as_text=True)  # the receipt's QR again
    assert f"/pa/{case.number}" in answered and "Đang xử lý" in answered
    page = client.get(f"/pa/{case.number}").get_data(as_text=True)
    assert "Đang xử lý" in page and "rate-form" not in page

    auth.login("staff")
    listing = client.get("/staff/cases/").get_data(as_text=True)
    assert case.number in listing and "Còn 10 ngày làm việc" in listing
    form = client.get(f"/staff/cases/{case.number}").get_data(as_text=True)
    empty = client.post(f"/staff/cases/{case.number}", data={"csrf_token": csrf_token(form), "outcome": " "})
    assert empty.status_code == 400 and "Ghi kết quả xử lý" in empty.get_data(as_text=True)
    closed = client.post(f"/staff/cases/{case.number}", data={"csrf_token": csrf_token(form),
                                                              "outcome": "Đã bố trí thêm 10 ghế."})
    assert closed.status_code == 303
    auth.logout()

    page = client.get(f"/pa/{case.number}?lang=en").get_data(as_text=True)
    assert "Đã bố trí thêm 10 ghế." in page and "Answered on" in page
    token = csrf_token(page)
    assert client.post(f"/pa/{case.number}", data={"csrf_token": "x", "rating": "satisfied"}).status_code == 400
    assert client.post(f"/pa/{case.number}", data={"csrf_token": token}).status_code == 400
    assert client.post(f"/pa/{case.number}", data={"csrf_token": token, "rating": "satisfied"}).status_code == 303
    again = client.post(f"/pa/{case.number}", data={"csrf_token": token, "rating": "dissatisfied"})
    assert again.status_code == 409
    with app.app_context():
        stored = db.session.get(FeedbackCase, case.id)
        assert stored.rating == "satisfied" and stored.on_time
        assert stored.closed_on is not None


def test_staff_see_only_their_units_cases_and_analysts_none(app, client):
    code = issue_codes(app, unit=ORG.counter)[0]
    _submit(client, code, comment="Quầy đông.", case_kind="complaint")
    case = _only_case(app)
    assert client.get("/staff/cases/").status_code == 302  # login first
    for user, listed, status in (("otherstaff", False, 403), ("analyst", False, 403),
                                 ("staff", True, 200), ("admin", True, 200)):  # the counter is below the section
        person = app.test_client()
        Auth(person).login(user)
        listing = person.get("/staff/cases/")
        assert (case.number in listing.get_data(as_text=True)) is listed
        assert person.get(f"/staff/cases/{case.number}").status_code == status, user


def test_poster_answers_open_cases_followed_by_number_only(app, client):
    code = issue_codes(app, kind="counter")[0]
    _submit(client, code, comment="Thiếu hướng dẫn.", case_kind="complaint")
    case = _only_case(app)
    assert case.channel == "counter" and case.follow_hash is None
    assert client.get(f"/pa?q={code}").status_code == 404  # a shared code follows nobody's case


def test_case_numbers_are_normalised():
    assert cases.normal_number("pa 7k3f 9q2m") == "PA-7K3F-9Q2M"
    assert cases.normal_number("7K3F-9Q2M") == "PA-7K3F-9Q2M"
    assert cases.normal_number("PA-7K3F-9Q2O") is None  # O is not a symbol
    assert cases.normal_number("") is None


def test_looking_up_unknown_cases_is_limited_like_guessing_codes(make_app):
    app = make_app(SIPAS_CODE_LOOKUP_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.get(f"/pa?q=PA-2222-222{i}").status_code for i in range(2, 7)]
    assert statuses[:3] == [404, 404, 404] and statuses[3:] == [429, 429]


def test_a_poster_answer_delivered_twice_is_stored_once(app, client, runner):
    """A resend after a lost reply (keep-answers.js sends the same body, nonce and all) shows
    "đã nhận" and stores nothing; another person's answer on the same poster is stored."""
    import datetime as dt

    from survey_app.models import AnswerNonce

    code = issue_codes(app, kind="counter")[0]
    page = client.get(f"/s/{code}").get_data(as_text=True)
    body = {**full_answers(), "csrf_token": csrf_token(page), "nonce": "Zm9vYmFyYmF6cXV4MTIzNA"}
    assert client.post(f"/s/{code}", data=body).status_code == 303
    again = client.post(f"/s/{code}", data=body)
    assert again.status_code == 409 and "Đã nhận đánh giá" in again.get_data(as_text=True)
    assert client.post(f"/s/{code}", data={**body, "nonce": "YW5vdGhlcnBlcnNvbjEyMzQ"}).status_code == 303
    assert client.post(f"/s/{code}", data={**body, "nonce": "short"}).status_code == 303  # ignored: no script
    with app.app_context():
        assert db.session.query(Response).count() == 3
        assert db.session.query(AnswerNonce).count() == 2
        db.session.execute(db.update(AnswerNonce).values(seen_on=dt.date.today() - dt.timedelta(days=3)))
        db.session.commit()
    assert runner.invoke(["seal"]).exit_code == 0
    with app.app_context():
        assert db.session.query(AnswerNonce).count() == 0  # forgotten by the night's seal


def test_purging_old_comments_clears_the_words_of_old_answered_cases(app, client, runner):
    import datetime as dt

    for kind in ("complaint", "request"):
        _submit(client, issue_codes(app)[0], comment="Chờ lâu.", case_kind=kind)
    with app.app_context():
        old, recent = db.session.scalars(db.select(FeedbackCase)).all()
        for case, days in ((old, 400), (recent, 10)):
            case.status, case.outcome = "closed", "Đã xử lý."
            case.closed_on = case.received_on = dt.date.today() - dt.timedelta(days=days)
            case.rating = "satisfied"
        db.session.commit()
        number = old.number
    dry = runner.invoke(["purge-comments", "--older-than", "365", "--dry-run"])
    assert dry.exit_code == 0
    done = runner.invoke(["purge-comments", "--older-than", "365", "--yes"])
    assert "Cleared the words of 1 complaint(s)" in done.output
    with app.app_context():
        cleared = {c.number: (c.text, c.outcome, c.rating) for c in db.session.scalars(db.select(FeedbackCase))}
    assert cleared[number] == ("", "", "satisfied")
    assert sorted(v[0] for v in cleared.values()) == ["", "Chờ lâu."]
    assert "đã xóa khi hết thời hạn lưu trữ" in client.get(f"/pa/{number}").get_data(as_text=True)
