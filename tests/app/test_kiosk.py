"""Counter kiosks (issue 16): paired by a one-time code, no staff session on the tablet; a
clerk's one click sends the dossier's code; the kiosk shows the form, stores the answer on
channel ``kiosk`` and starts again; the clerk never sees the answers."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from survey_app.extensions import db
from survey_app.kiosk import service
from survey_app.kiosk.model import Kiosk
from survey_app.models import CodeBatch, Response, SurveyCode, Unit
from tests.support import ORG, PASSWORD, Auth, csrf_token

ANSWERS = {"HL": "3", "DG1": "2", "DG2": "3", "DG3": "2"}


def add_kiosk(auth: Auth, name: str = "Quầy 1", unit: str = ORG.section) -> tuple[int, str]:
    """As the logged-in clerk: a new kiosk and the pairing code the page shows."""
    page = auth.client.get("/staff/kiosks/")
    reply = auth.client.post("/staff/kiosks/", data={"unit": unit, "name": name,
                                                     "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    digits = re.search(r'id="pairing-code">(\d{3}) (\d{3})<', reply.get_data(as_text=True))
    kiosk_id = db.session.scalar(select(Kiosk.id).filter_by(name=name))
    return kiosk_id, digits[1] + digits[2]


def pair(tablet, digits: str):
    page = tablet.get("/k")
    return tablet.post("/k/pair", data={"pairing": digits, "csrf_token": csrf_token(page.get_data(as_text=True))})


def send(auth: Auth, kiosk_id: int, procedure: str = ORG.procedure):
    page = auth.client.get("/staff/")
    return auth.client.post(f"/staff/kiosks/{kiosk_id}/send", data={
        "unit": ORG.section, "procedure": procedure, "csrf_token": csrf_token(page.get_data(as_text=True))})


def a_waiting_form(app, clerk: Auth):
    """A paired kiosk whose clerk has sent it a code: its id, the tablet, the form's path."""
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
    tablet = app.test_client()
    pair(tablet, digits)
    send(clerk, kiosk_id)
    return kiosk_id, tablet, tablet.get("/k").headers["Location"]


def answer_on(tablet, path: str, answers: dict[str, str]):
    page = tablet.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return tablet.post(path, data={**answers, "csrf_token": token, "go": "submit"})


@pytest.fixture
def clerk(app, client) -> Auth:
    auth = Auth(client)
    auth.login("staff", PASSWORD)
    return auth


def test_a_tablet_pairs_once_with_the_code_the_clerk_sees(app, clerk):
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
    tablet = app.test_client()
    assert "Mã ghép (6 chữ số)" in tablet.get("/k").get_data(as_text=True)
    wrong = pair(tablet, "000000" if digits != "000000" else "111111")
    assert wrong.status_code == 400 and "không đúng hoặc đã hết hạn" in wrong.get_data(as_text=True)
    reply = pair(tablet, f"{digits[:3]} {digits[3:]}")  # typed with the space the screen shows
    assert reply.status_code == 303
    cookie = reply.headers["Set-Cookie"]
    assert "sipas_kiosk=" in cookie and "HttpOnly" in cookie and "Path=/k" in cookie
    idle = tablet.get("/k").get_data(as_text=True)
    assert "Mời Ông/Bà đánh giá" in idle and 'http-equiv="refresh"' in idle
    assert pair(app.test_client(), digits).status_code == 400  # used once
    with app.app_context():
        kiosk = db.session.get(Kiosk, kiosk_id)
        assert kiosk.pairing_hash is None and kiosk.key_hash and digits not in (kiosk.key_hash or "")


def test_an_expired_pairing_code_is_refused(app, clerk):
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
        db.session.get(Kiosk, kiosk_id).pairing_expires_at = dt.datetime(2020, 1, 1)
        db.session.commit()
    reply = pair(app.test_client(), digits)
    assert reply.status_code == 400 and "Nhờ cán bộ tạo mã ghép mới" in reply.get_data(as_text=True)


def test_one_click_sends_the_code_and_the_answer_is_stored_as_a_kiosk_answer(app, clerk):
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
    tablet = app.test_client()
    pair(tablet, digits)
    home = clerk.client.get("/staff/").get_data(as_text=True)
    assert f'id="kiosk-{kiosk_id}"' in home and "Mời đánh giá trên “Quầy 1”" in home
    sent = send(clerk, kiosk_id)
    assert sent.status_code == 303
    assert "Máy sẽ hiện phiếu" in clerk.client.get("/staff/").get_data(as_text=True)
    picked = tablet.get("/k")
    assert picked.status_code == 303 and "/k/s/" in picked.headers["Location"]
    path = picked.headers["Location"]
    assert tablet.get("/k").status_code == 200  # the link is forgotten once picked up
    form = tablet.get(path).get_data(as_text=True)
    assert "Đánh giá việc giải quyết thủ tục hành chính" in form  # the short questionnaire
    assert "js/kiosk.js" in form and 'data-kiosk-home="/k"' in form
    stored = answer_on(tablet, path, ANSWERS)
    assert stored.status_code == 303 and stored.headers["Location"].startswith("/k/thanks")
    thanks = tablet.get("/k/thanks").get_data(as_text=True)
    assert "url=/k" in thanks
    with app.app_context():
        response = db.session.scalars(select(Response)).one()
        assert response.channel == "kiosk" and response.same_day is True
        code = db.session.scalars(select(SurveyCode)).one()
        assert code.status == "answered" and code.batch.source == "kiosk"
        assert db.session.get(Kiosk, kiosk_id).waiting_code_id is None
    # The clerk's pages show no answer: only that a code was sent.
    for page in ("/staff/", "/staff/kiosks/", "/staff/batches"):
        assert "DG1" not in clerk.client.get(page).get_data(as_text=True)


def test_a_phone_cannot_answer_as_a_kiosk(app, clerk):
    _, _, path = a_waiting_form(app, clerk)
    phone = app.test_client()
    assert phone.get(path).status_code == 303  # no kiosk cookie: back to the pairing page
    code = path.rsplit("/", 1)[1]
    assert answer_on(phone, f"/s/{code}", ANSWERS).status_code == 303  # on its own page, it is a phone answer
    with app.app_context():
        assert db.session.scalars(select(Response.channel)).one() == "single"


def test_sending_to_an_unpaired_or_revoked_kiosk_says_what_to_do(app, clerk):
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
    assert send(clerk, kiosk_id).status_code == 303
    assert "chưa được ghép" in clerk.client.get("/staff/").get_data(as_text=True)
    tablet = app.test_client()
    pair(tablet, digits)
    page = clerk.client.get("/staff/kiosks/").get_data(as_text=True)
    clerk.client.post(f"/staff/kiosks/{kiosk_id}/revoke", data={"csrf_token": csrf_token(page)})
    assert "Mã ghép (6 chữ số)" in tablet.get("/k").get_data(as_text=True)  # the tablet must pair again
    assert send(clerk, kiosk_id).status_code == 404


def test_another_units_clerk_cannot_use_the_kiosk(app, client):
    clerk = Auth(client)
    clerk.login("staff", PASSWORD)
    with app.app_context():
        kiosk_id, _ = add_kiosk(clerk)
    clerk.logout()
    clerk.login("otherstaff", PASSWORD)
    assert f'id="kiosk-{kiosk_id}"' not in clerk.client.get("/staff/").get_data(as_text=True)
    assert send(clerk, kiosk_id).status_code == 403


def test_kiosk_codes_are_grouped_per_clerk_and_day(app, clerk):
    with app.app_context():
        kiosk_id, digits = add_kiosk(clerk)
    pair(app.test_client(), digits)
    for _ in range(3):
        send(clerk, kiosk_id)
    with app.app_context():
        batches = db.session.scalars(select(CodeBatch)).all()
        assert [(b.source, b.count) for b in batches] == [("kiosk", 3)]


def test_the_channel_takes_kiosk_and_nothing_else(backend_app):
    """Migration 0007 widened the CHECK constraint in place on both backends."""
    with backend_app.app_context():
        row = {"questionnaire_version_id": 1, "unit_id": 1, "submitted_on": dt.date(2026, 12, 7), "burst": False}
        from survey_app.database import sync_questionnaires
        from survey_app.services import catalog

        sync_questionnaires()
        catalog.add_unit("U", "Đơn vị")
        insert = text("INSERT INTO responses (id, questionnaire_version_id, unit_id, submitted_on, burst, channel) "
                      "VALUES (:id, :questionnaire_version_id, :unit_id, :submitted_on, :burst, :channel)")
        unit_id = db.session.scalar(text("SELECT id FROM units WHERE code = 'U'"))
        db.session.execute(insert, {**row, "unit_id": unit_id, "id": "a" * 32, "channel": "kiosk"})
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(insert, {**row, "unit_id": unit_id, "id": "b" * 32, "channel": "fax"})
        db.session.rollback()
        assert db.session.scalar(text("SELECT channel FROM responses")) == "kiosk"


def test_service_refuses_an_empty_name(app):
    with app.app_context():
        unit = db.session.scalar(select(Unit).filter_by(code=ORG.section))
        with pytest.raises(service.KioskError, match="Hãy đặt tên"):
            service.create(unit=unit, name="   ", actor="t")


def test_the_dashboard_tells_kiosk_answers_from_phone_answers(app, clerk):
    _, tablet, path = a_waiting_form(app, clerk)
    answer_on(tablet, path, ANSWERS)
    analyst = Auth(app.test_client())
    analyst.login("analyst", PASSWORD)
    counts = {}
    for channel in ("kiosk", "single"):
        page = analyst.client.get(f"/analyst/?q=tt01-counter&channel={channel}").get_data(as_text=True)
        counts[channel] = re.search(r'id="response-count">(\d+)<', page)
    assert counts["kiosk"] and counts["kiosk"][1] == "1"
    assert counts["single"] is None or counts["single"][1] == "0"
    assert "Máy tính bảng tại quầy" in page


def test_the_overview_sets_kiosk_answers_against_phone_answers(app, clerk):
    """The pressure signal: the same indices on the kiosk and on phones, with the difference."""
    from tests.support import issue_codes

    kiosk_id, tablet, path = a_waiting_form(app, clerk)
    answer_on(tablet, path, ANSWERS)
    send(clerk, kiosk_id)  # the next person at the same counter
    answer_on(tablet, tablet.get("/k").headers["Location"], {**ANSWERS, "HL": "2"})
    for code in issue_codes(app, count=2, questionnaire="tt01-counter"):
        answer_on(app.test_client(), f"/s/{code}", {**ANSWERS, "HL": "1"})
    analyst = Auth(app.test_client())
    analyst.login("analyst", PASSWORD)
    page = analyst.client.get("/analyst/?q=tt01-counter").get_data(as_text=True)
    table = page[page.index('id="kiosk-phone"'):]
    table = table[:table.index("</table>")]
    assert "Máy tính bảng" in table and "Điện thoại" in table
    general = re.search(r"<tr><td>Chỉ số SIPAS</td>(.*?)</tr>", table, re.S)[1]
    cells = re.findall(r'<td class="num">([^<]*)</td>', general)
    assert cells[:4] == ["100,0 %", "2", "0,0 %", "2"], cells  # HL 3 and 2 satisfied on the kiosk, 1 not on phones
    assert 'id="kiosk-phone"' not in analyst.client.get("/analyst/?q=sipas-2023").get_data(as_text=True)


def test_kiosk_codes_are_not_in_the_code_frame(app, clerk):
    """Frame weights are issued/answered over codes handed out to answer later; a kiosk's
    codes are answered there and then, and their answers are not single-use phone answers."""
    import analysis
    from survey_app.extensions import db as database
    from tests.support import issue_codes

    _, tablet, path = a_waiting_form(app, clerk)
    answer_on(tablet, path, ANSWERS)
    issue_codes(app, count=2, questionnaire="tt01-counter")
    with app.app_context():
        issuance = analysis.load_issuance(database.engine, questionnaire="tt01-counter")
    assert issuance.groupby("kind")["issued"].sum().to_dict() == {"kiosk": 1, "single": 2}


def test_a_complaint_on_the_kiosk_shows_its_number_long_enough_to_note(app, clerk):
    _, tablet, path = a_waiting_form(app, clerk)
    stored = answer_on(tablet, path, {**ANSWERS, "comment": "Quầy thiếu bút.", "case_kind": "request"})
    thanks = tablet.get(stored.headers["Location"]).get_data(as_text=True)
    number = re.search(r'id="case-opened">[^<]*(PA-[2-9A-Z]{4}-[2-9A-Z]{4})', thanks)
    assert number and 'data-kiosk-wait="60"' in thanks and "url=/k" in thanks
    with app.app_context():
        from survey_app.feedback.model import FeedbackCase

        case = db.session.scalars(select(FeedbackCase)).one()
        assert case.number == number[1] and case.channel == "kiosk" and case.kind == "request"
