"""Staff pages through the test client: login and lockout, one-click slips, batches, voiding,
response rates, remembered choices, security headers."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEntry, CodeBatch, SurveyCode, User
from survey_app.services import codes
from tests.support import ORG, PASSWORD, csrf_token, full_answers, issue_codes, require_tool


def token(client, path: str = "/staff/") -> str:
    return csrf_token(client.get(path).get_data(as_text=True))


def slip_form(**overrides):
    return {"unit": ORG.section, "procedure": ORG.procedure, "questionnaire": "sipas-2023@1", **overrides}


def test_login_logout_and_session_cookie_flags(app, client, auth):
    response = auth.login("staff")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/staff/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"login", "logout"} <= actions


def _flash(response) -> str:
    return re.search(r'class="flash[^"]*"[^>]*>(.*?)<', response.get_data(as_text=True), re.S).group(1).strip()


def test_wrong_password_then_lockout_answers_as_for_an_unknown_name(app, client, auth):
    unknown = auth.login("nobody-here", "wrong password!")
    assert unknown.status_code == 401 and "tạm khóa" in _flash(unknown)  # says what happens, to everyone
    for _ in range(5):
        assert auth.login("staff", "wrong password!").status_code == 401
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="staff"))
        assert user.locked_until is not None, "five failures lock the account"
        failures = db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(action="login.failed"))
    assert failures == 6
    # Even the right password is refused while locked, in the words an unknown name gets.
    locked = auth.login("staff", PASSWORD)
    assert locked.status_code == unknown.status_code == 401
    assert _flash(locked) == _flash(unknown)
    assert client.get("/staff/").status_code == 302


@pytest.mark.parametrize("target", ["//evil.example/", "/%09/evil.example", "/%5Cevil.example", "/%0d%0aSet-Cookie:x=1",
                                    "https://evil.example/", "/%0a/evil.example", "%2F%2Fevil.example"])
def test_login_never_redirects_off_site(client, auth, target):
    page = client.get(f"/staff/login?next={target}")
    response = client.post(f"/staff/login?next={target}", data={
        "username": "staff", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/staff/"


def test_login_keeps_a_path_on_this_site(client, auth):
    page = client.get("/staff/login?next=/staff/rates%3Fperiod%3Dday")
    response = client.post("/staff/login?next=/staff/rates%3Fperiod%3Dday", data={
        "username": "staff", "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"] == "/staff/rates?period=day"


def test_a_session_ends_hours_after_the_login_however_busy(app, client, auth):
    import datetime as dt

    from survey_app.models import StaffSession, utcnow

    auth.login("staff")
    assert client.get("/staff/").status_code == 200
    with app.app_context():
        (session_row,) = db.session.scalars(select(StaffSession)).all()
        hours = app.config["SIPAS_SESSION_HOURS"]
        session_row.created_at = utcnow() - dt.timedelta(hours=hours, seconds=-30)
        db.session.commit()
    assert client.get("/staff/").status_code == 200  # 30 s left, and requests keep coming
    with app.app_context():
        session_row = db.session.scalars(select(StaffSession)).one()
        session_row.created_at -= dt.timedelta(seconds=31)
        db.session.commit()
    assert client.get("/staff/").status_code == 302


def test_logout_ends_the_session_for_a_copied_cookie(app, client, auth):
    auth.login("staff")
    thief = app.test_client()
    cookie = client.get_cookie("session")
    thief.set_cookie(cookie.key, cookie.value)
    assert thief.get("/staff/").status_code == 200
    auth.logout()
    assert thief.get("/staff/").status_code == 302
    with app.app_context():
        from survey_app.models import StaffSession

        assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0


def test_wrong_current_passwords_count_toward_the_lockout(app, client, auth):
    auth.login("staff")
    for attempt in range(5):
        response = client.post("/staff/password", data={
            "current": f"not it {attempt}", "new": "another new password", "confirm": "another new password",
            "csrf_token": token(client, "/staff/password")})
        assert response.status_code == (400 if attempt < 4 else 302)
    with app.app_context():
        assert db.session.scalar(select(User).filter_by(username="staff")).locked_until is not None
    assert client.get("/staff/").status_code == 302  # the session ended with the lock
    assert auth.login("staff", PASSWORD).status_code == 401


def test_change_password_logs_out_other_sessions(app, auth, client):
    other = app.test_client()
    from tests.support import Auth

    Auth(other).login("staff")
    auth.login("staff")
    response = client.post("/staff/password", data={
        "current": PASSWORD, "new": "a brand new password", "confirm": "a brand new password",
        "csrf_token": token(client, "/staff/password")})
    assert response.status_code == 302
    assert client.get("/staff/").status_code == 200  # this session continues
    assert other.get("/staff/").status_code == 302  # the other one is logged out
    wrong = client.post("/staff/password", data={
        "current": "not it", "new": "another new password", "confirm": "another new password",
        "csrf_token": token(client, "/staff/password")})
    assert wrong.status_code == 400 and "không đúng" in wrong.get_data(as_text=True)


def test_one_click_slip_prints_qr_code_and_text(app, client, auth):
    auth.login("staff")
    response = client.post("/staff/slip", data={**slip_form(), "csrf_token": token(client)})
    assert response.status_code == 303 and "autoprint=1" in response.headers["Location"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    code = re.search(r'<div class="code">([0-9A-Z-]+)</div>', page).group(1)
    assert "<svg" in page and "Quét mã để đánh giá sự hài lòng" in page and "trong 30 ngày" in page
    assert "js/autoprint.js" in page and "<script>" not in page  # no inline script (CSP)
    assert client.get(f"/s/{code}").status_code == 200  # the printed code works
    with app.app_context():
        user = db.session.scalar(select(User).filter_by(username="staff"))
        assert user.last_unit_id is not None and user.last_procedure_id is not None
    home = client.get("/staff/").get_data(as_text=True)
    assert re.search(rf'<option selected value="{ORG.section}"|<option value="{ORG.section}" selected', home)


def test_slip_pdf_scans_and_keeps_diacritics(app, client, auth, tmp_path):
    zbarimg, pdftoppm = require_tool("zbarimg"), require_tool("pdftoppm")
    auth.login("staff")
    location = client.post("/staff/slip", data={**slip_form(), "csrf_token": token(client)}).headers["Location"]
    code_id = re.search(r"/slip/(\d+)", location).group(1)
    pdf = client.get(f"/staff/slip/{code_id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    (tmp_path / "slip.pdf").write_bytes(pdf.data)
    subprocess.run([pdftoppm, "-r", "200", "-png", str(tmp_path / "slip.pdf"), str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    decoded = subprocess.run([zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True).stdout.strip()
    assert decoded.lower().startswith("http://sipas.test/s/")
    assert client.get("/s/" + decoded.rsplit("/", 1)[1]).status_code == 200


def _batch_id(location: str) -> str:
    """The batch of a redirect to its label sheet or poster (``/staff/batches/<id>.pdf``)."""
    assert location.endswith(".pdf"), location
    return location.rsplit("/", 1)[1].removesuffix(".pdf")


def test_batch_of_codes_opens_its_label_sheet(app, client, auth):
    """A shift's batch in two clicks: the form (remembered target, a count) opens the PDF."""
    auth.login("staff")
    response = client.post("/staff/batches", data={**slip_form(count="30"), "csrf_token": token(client)})
    assert response.status_code == 303
    batch_id = _batch_id(response.headers["Location"])
    pdf = client.get(response.headers["Location"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "30" in client.get(f"/staff/batches/{batch_id}").get_data(as_text=True)
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert f'href="/staff/batches/{batch_id}"' in listing
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 30
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).filter_by(action="codes.reprint")) == 1


def test_the_home_page_lists_units_and_procedures_once_for_both_forms(app, client, auth):
    """A province's thousands of units and procedures are on the page once: the batch (its
    count and button) posts the slip form's target to /staff/batches."""
    auth.login("staff")
    home = client.get("/staff/").get_data(as_text=True)
    assert home.count(f'<option value="{ORG.procedure}"') == 1 and home.count(f'<option value="{ORG.section}"') == 1
    assert re.search(r'<input[^>]*form="slip-form"[^>]*name="count"', home)
    assert re.search(r'<button[^>]*form="slip-form"[^>]*formaction="/staff/batches"[^>]*id="issue-batch"', home)
    response = client.post("/staff/batches", data={**slip_form(count="4"), "csrf_token": csrf_token(home)})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 4


def test_the_batch_list_reads_its_units_and_procedures_at_once(app, client, auth):
    """The list's SQL statements do not grow with its rows (a province's admin sees 200 batches
    of as many units: they were two lazy loads a row), and a GET builds no unit choices."""
    from sqlalchemy import event

    from survey_app.services import catalog

    with app.app_context():
        for i in range(6):
            catalog.add_unit(f"X{i}", f"Xã {i}", parent=ORG.department)
            catalog.add_procedure(f"9.00000{i}", f"Thủ tục {i}", field="Thử")
    auth.login("admin")
    statements = []
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def count(path: str) -> int:
        statements.clear()
        page = client.get(path)
        assert page.status_code == 200
        return len(statements)

    issue_codes(app, unit="X0", procedure="9.000000")
    one = count("/staff/batches")
    for i in range(1, 6):
        issue_codes(app, unit=f"X{i}", procedure=f"9.00000{i}")
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert all(f"<td>X{i}</td><td>9.00000{i}</td>" in listing for i in range(6))
    assert count("/staff/batches") == one
    assert not any("FROM units" in sql and "JOIN" not in sql and "IN (" not in sql for sql in statements)


def test_a_poster_is_one_click_and_one_code_everywhere(app, client, auth, runner):
    """The home page's second button prints a poster (its A4 PDF) for the remembered target;
    the command line and the service keep the same rule: one poster, one code."""
    auth.login("staff")
    home = client.get("/staff/").get_data(as_text=True)
    assert 'id="print-poster"' in home and 'formaction="/staff/poster"' in home and 'name="kind"' not in home
    response = client.post("/staff/poster", data={**slip_form(), "csrf_token": token(client)})
    assert response.status_code == 303
    assert client.get(response.headers["Location"]).data.startswith(b"%PDF")
    with app.app_context():
        record = db.session.scalars(select(SurveyCode)).one()
        assert record.kind == "counter" and record.expires_at is None
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert "áp phích" in listing
    refused = runner.invoke(["codes", "issue", "--unit", ORG.section, "--kind", "counter", "--count", "3"])
    assert refused.exit_code == 1 and "Mỗi áp phích tại quầy là một mã" in refused.output
    assert runner.invoke(["codes", "issue", "--unit", ORG.section, "--kind", "counter"]).exit_code == 0


def test_a_clerks_slips_of_a_day_share_one_batch(app, client, auth):
    auth.login("staff")
    for _ in range(3):
        assert client.post("/staff/slip", data={**slip_form(), "csrf_token": token(client)}).status_code == 303
    client.post("/staff/slip", data={**slip_form(procedure=""), "csrf_token": token(client)})  # another target
    with app.app_context():
        batches = db.session.scalars(select(CodeBatch).order_by(CodeBatch.id)).all()
        assert [(b.count, b.source, b.created_by) for b in batches] == [(3, "slip", "staff"), (1, "slip", "staff")]
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 4
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert listing.count("phiếu lẻ trong ngày") == 2


def test_void_batch_and_single_code(app, client, auth):
    auth.login("staff")
    data = {**slip_form(count="3"), "csrf_token": token(client)}
    batch_id = _batch_id(client.post("/staff/batches", data=data).headers["Location"])
    location = f"/staff/batches/{batch_id}"
    response = client.post(f"/staff/batches/{batch_id}/void", data={"csrf_token": token(client, location)})
    assert response.status_code == 303
    assert "Đã hủy 3 mã" in client.get(response.headers["Location"]).get_data(as_text=True)
    [code] = issue_codes(app)
    client.post("/staff/codes/void", data={"code": code.lower(), "csrf_token": token(client)})
    assert client.get(f"/s/{code}").status_code == 410
    typo = client.post("/staff/codes/void", data={"code": code[:-1] + ("1" if code[-1] != "1" else "2"),
                                                  "csrf_token": token(client)}, follow_redirects=True)
    assert "gõ nhầm" in typo.get_data(as_text=True)


def test_staff_cannot_touch_another_units_codes(app, client, auth):
    [code] = issue_codes(app, unit=ORG.other_section)
    auth.login("staff")
    response = client.post("/staff/codes/void", data={"code": code, "csrf_token": token(client)})
    assert response.status_code == 403
    with app.app_context():
        record = db.session.scalars(select(SurveyCode)).one()
    assert client.get(f"/staff/slip/{record.id}").status_code == 403
    assert client.get(f"/staff/batches/{record.batch_id}").status_code == 403
    assert client.get(f"/staff/batches/{record.batch_id}.pdf").status_code == 403
    refused = client.post("/staff/slip", data={**slip_form(unit=ORG.other_section), "csrf_token": token(client)})
    assert refused.status_code == 302  # not a choice for this user: back to the form with a message
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SurveyCode)) == 1


def test_staff_may_issue_for_units_below_their_own(app, client, auth):
    auth.login("staff")
    response = client.post("/staff/slip", data={**slip_form(unit=ORG.counter), "csrf_token": token(client)})
    assert response.status_code == 303


def test_response_rates_page_and_csv(app, client, auth):
    codes = issue_codes(app, count=4)
    issue_codes(app, unit=ORG.counter, count=2)
    client_public = app.test_client()
    html = client_public.get(f"/s/{codes[0]}").get_data(as_text=True)
    client_public.post(f"/s/{codes[0]}", data={**full_answers(), "csrf_token": csrf_token(html)})
    auth.login("staff")
    page = client.get("/staff/rates?period=day").get_data(as_text=True)
    # Every window is still open: no rate yet, and no code counted as a non-response.
    assert "Phòng Lãnh sự" in page and "%" not in page.split("<tbody>", 1)[1]
    _close_windows(app, codes[:3])
    page = client.get("/staff/rates?period=day").get_data(as_text=True)
    row = page.split("Phòng Lãnh sự (SEC)", 1)[1].split("</tr>", 1)[0]
    # 1 answered of the 3 closed; the 3 open (the counter's 2 roll up into SEC) apart.
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == ["6", "0", "3", "1", "33,3 %", "3", "0"], cells
    csv = client.get("/staff/rates?period=month&format=csv")
    assert csv.mimetype == "text/csv" and csv.data.startswith(b"\xef\xbb\xbf")
    text = csv.data.decode("utf-8-sig")
    assert "SEC-Q1" in text and "OTHER" not in text and "DEPT" not in text


def _close_windows(app, codes: list[str]) -> None:
    import datetime as dt

    from survey_app.extensions import db
    from survey_app.models import utcnow
    from survey_app.services import codes as code_service

    with app.app_context():
        for code in codes:
            code_service.find(code).expires_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()


@pytest.mark.parametrize("path", ["/staff/login", "/staff/"])
def test_security_headers_on_staff_pages(client, auth, path):
    auth.login("staff")
    headers = client.get(path).headers
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_forms_without_csrf_are_refused(client, auth):
    auth.login("staff")
    assert client.post("/staff/slip", data=slip_form()).status_code == 400
    assert client.post("/staff/logout").status_code == 400


def test_batches_show_times_on_the_departments_clock(app, client, auth):
    import datetime as dt

    from survey_app.models import CodeBatch

    issue_codes(app, count=2)
    with app.app_context():
        batch = db.session.scalars(select(CodeBatch)).one()
        batch.created_at = dt.datetime(2026, 3, 1, 20, 15)  # UTC: 03:15 on 2 March in Vietnam
        db.session.commit()
    auth.login("staff")
    listing = client.get("/staff/batches").get_data(as_text=True)
    assert "02/03/2026 03:15" in listing and "UTC" not in listing


def test_the_units_usual_procedures_come_first(app, client, auth):
    """Staff see the procedures their unit printed codes for lately first (then the whole
    catalogue), and the last one they chose is selected."""
    from survey_app.services import catalog

    with app.app_context():
        catalog.add_procedure("2.000099", "Thủ tục của đơn vị khác", field="Khác")
    issue_codes(app, unit=ORG.other_section, procedure="2.000099", count=5)  # another unit's habit
    auth.login("staff")
    first = client.get("/staff/").get_data(as_text=True)
    assert "Thủ tục đơn vị hay in mã" not in first  # nothing printed yet by this unit
    client.post("/staff/slip", data={**slip_form(), "csrf_token": token(client)})
    page = client.get("/staff/").get_data(as_text=True)
    usual = page.index('label="Thủ tục đơn vị hay in mã (90 ngày qua)"')
    everything = page.index('label="Các thủ tục khác"')
    mine = page.index(f'<option selected value="{ORG.procedure}">')
    assert usual < mine < everything
    assert page.index('value="2.000099"') > everything  # the other unit's habit: with the others
    assert page.count(f'value="{ORG.procedure}"') == 1  # once: the batch uses the slip form's list


@pytest.mark.parametrize(("questionnaire", "minutes"), [("sipas-2023@1", 4), ("tt01-counter@1", 1)])
def test_the_time_promise_is_the_questionnaires_and_the_same_everywhere(app, client, auth, questionnaire, minutes):
    """Slip, poster and form promise the minutes the questionnaire needs (not a fixed "1 phút")."""
    import questionnaires as qs

    assert qs.load(*questionnaire.split("@")[0:1]).minutes == minutes
    auth.login("staff")
    slip = client.post("/staff/slip", data={**slip_form(questionnaire=questionnaire), "csrf_token": token(client)})
    page = client.get(slip.headers["Location"]).get_data(as_text=True)
    assert f"khoảng {minutes} phút" in page
    with app.app_context():
        code = codes.unseal(db.session.scalars(select(SurveyCode)).one())
    form = app.test_client().get(f"/s/{code}").get_data(as_text=True)
    assert f"khoảng {minutes} phút" in form or f"Khoảng {minutes} phút." in form
    with app.app_context():
        from survey_app.services import printing

        [item] = [codes.describe(r, codes.unseal(r)) for r in db.session.scalars(select(SurveyCode))]
        assert printing.label_of(item).minutes == minutes
