"""Admin pages: units, procedures (with CSV import), users, API keys, the audit log."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import ApiKey, AuditEntry, Procedure, Unit, User
from survey_app.services import audit, catalog
from tests.support import PASSWORD, csrf_token

NEW_PASSWORD = "a new long passphrase"


@pytest.fixture
def admin(client, auth):
    auth.login("admin")
    return client


def submit(client, url: str, data: dict | None = None, *, page: str | None = None, **kwargs):
    """GET the form page (or ``page``) for its CSRF token, then POST ``data`` to ``url``."""
    html = client.get(page or url).get_data(as_text=True)
    return client.post(url, data={"csrf_token": csrf_token(html), **(data or {})}, **kwargs)


def text(response) -> str:
    return response.get_data(as_text=True)


def audited(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).filter_by(action=action).order_by(AuditEntry.id)))


def get(app, model, **filters):
    with app.app_context():
        return db.session.scalars(select(model).filter_by(**filters)).one_or_none()


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


# Units ---------------------------------------------------------------------------------------

class _TreeDepths(HTMLParser):
    """The nesting depth (in <ul>) of each unit list item."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.found = 0, {}

    def handle_starttag(self, tag, attrs):
        if tag == "ul":
            self.depth += 1
        ident = dict(attrs).get("id") or ""
        if tag == "li" and ident.startswith("unit-"):
            self.found[ident[5:]] = self.depth

    def handle_endtag(self, tag):
        if tag == "ul":
            self.depth -= 1


def test_units_page_shows_the_hierarchy_indented(admin):
    page = admin.get("/admin/units")
    assert page.status_code == 200
    parser = _TreeDepths()
    parser.feed(text(page))
    assert parser.found == {"DEPT": 1, "SEC": 2, "OTHER": 2, "SEC-Q1": 3}
    assert "Phòng Lãnh sự" in text(page)


def test_add_unit(app, admin):
    response = submit(admin, "/admin/units/new", {"code": "SEC-Q2", "name": "Quầy 2", "parent": "SEC", "kind": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/units")
    with app.app_context():
        unit = catalog.unit_by_code("SEC-Q2")
        assert unit.kind == "counter" and unit.parent.code == "SEC" and unit.name == "Quầy 2"
    [entry] = audited(app, "unit.add")[-1:]
    assert entry.actor == "admin" and entry.target == "SEC-Q2"
    assert "Đã thêm đơn vị SEC-Q2" in text(admin.get("/admin/units"))


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "", "name": "X"}, "Nhập mã đơn vị."),
    ({"code": "NEW", "name": "  "}, "Nhập tên đơn vị."),
    ({"code": "SEC", "name": "Trùng"}, "Mã đơn vị &#39;SEC&#39; đã tồn tại"),
    ({"code": "bad code!", "name": "X"}, "không hợp lệ"),
    ({"code": "NEW", "name": "X", "parent": "NOPE"}, "Chọn một mục trong danh sách."),
    ({"code": "NEW", "name": "X", "kind": "planet"}, "Chọn một mục trong danh sách."),
    ({"code": "N" * 33, "name": "X"}, "tối đa 32 ký tự"),
])
def test_add_unit_errors(app, admin, data, message):
    before = count(app, Unit)
    response = submit(admin, "/admin/units/new", {"parent": "", "kind": "", **data})
    assert response.status_code == 400
    assert message in text(response)
    assert count(app, Unit) == before


def test_edit_unit(app, admin):
    unit_id = get(app, Unit, code="OTHER").id
    page = admin.get(f"/admin/units/{unit_id}")
    assert 'value="Phòng Hợp tác quốc tế"' in text(page) and '<option selected value="DEPT">' in text(page)
    response = submit(admin, f"/admin/units/{unit_id}", {"name": "Phòng Hợp tác", "parent": "SEC"})
    assert response.status_code == 303
    unit = get(app, Unit, code="OTHER")
    assert unit.name == "Phòng Hợp tác" and unit.parent_id == get(app, Unit, code="SEC").id and not unit.active
    assert audited(app, "unit.update")[-1].actor == "admin"


@pytest.mark.parametrize("parent", ["SEC-Q1", "SEC"])
def test_edit_unit_refuses_cycles(app, admin, parent):
    unit_id = get(app, Unit, code="SEC").id
    response = submit(admin, f"/admin/units/{unit_id}", {"name": "Phòng Lãnh sự", "parent": parent, "active": "y"})
    assert response.status_code == 400
    assert "Không thể đặt đơn vị dưới chính nó" in text(response)
    assert get(app, Unit, code="SEC").parent_id == get(app, Unit, code="DEPT").id
    assert audited(app, "unit.update") == []


def test_edit_unit_errors_and_404(admin):
    assert admin.get("/admin/units/999").status_code == 404
    response = submit(admin, "/admin/units/1", {"name": "", "parent": "", "active": "y"})
    assert response.status_code == 400 and "Nhập tên đơn vị." in text(response)


# Procedures ----------------------------------------------------------------------------------

def test_procedure_list_search_and_pagination(app, admin):
    with app.app_context():
        for i in range(120):
            catalog.add_procedure(f"2.{i:06d}", f"Thủ tục số {i}", field="Đất đai" if i % 2 else "Hộ tịch")
    first = text(admin.get("/admin/procedures"))
    assert "Trang 1 / 3" in first and "1.000001" in first and "2.000048" in first and "2.000049" not in first
    last = text(admin.get("/admin/procedures?page=3"))
    assert "Trang 3 / 3" in last and "2.000119" in last and "1.000001" not in last
    found = text(admin.get("/admin/procedures?q=L%C3%A3nh+s%E1%BB%B1"))
    assert "1.000001" in found and "2.000001" not in found
    by_code = text(admin.get("/admin/procedures?q=2.00011"))
    assert "2.000110" in by_code and "2.000119" in by_code and "2.000109" not in by_code
    assert "Không có thủ tục nào khớp" in text(admin.get("/admin/procedures?q=%25"))
    paged = text(admin.get("/admin/procedures?q=%C4%90%E1%BA%A5t"))  # "Đất": 60 rows, 2 pages
    assert "Trang 1 / 2" in paged and "q=%C4%90%E1%BA%A5t&amp;page=2" in paged
    assert admin.get("/admin/procedures?page=99").status_code == 200


def test_add_and_edit_procedure(app, admin):
    response = submit(admin, "/admin/procedures/new", {"code": "1.000999", "name": "Cấp bản sao", "field": "Hộ tịch"})
    assert response.status_code == 303
    procedure = get(app, Procedure, code="1.000999")
    assert procedure.name == "Cấp bản sao" and procedure.field == "Hộ tịch" and procedure.active
    response = submit(admin, f"/admin/procedures/{procedure.id}", {"name": "Cấp bản sao từ sổ gốc", "field": ""})
    assert response.status_code == 303
    procedure = get(app, Procedure, code="1.000999")
    assert procedure.name == "Cấp bản sao từ sổ gốc" and procedure.field is None and not procedure.active
    assert [e.actor for e in audited(app, "procedure.add")][-1] == "admin"
    assert audited(app, "procedure.update")[-1].target == "1.000999"


@pytest.mark.parametrize(("data", "message"), [
    ({"code": "1.000001", "name": "Trùng"}, "đã tồn tại"),
    ({"code": "mã sai", "name": "X"}, "không hợp lệ"),
    ({"code": "1.2", "name": ""}, "Nhập tên thủ tục."),
    ({"code": "1.2", "name": "x" * 501}, "Tên thủ tục dài tối đa 500 ký tự"),
])
def test_add_procedure_errors(app, admin, data, message):
    response = submit(admin, "/admin/procedures/new", data)
    assert response.status_code == 400 and message in text(response)
    assert count(app, Procedure) == 1


def test_edit_procedure_errors(app, admin):
    procedure_id = get(app, Procedure, code="1.000001").id
    response = submit(admin, f"/admin/procedures/{procedure_id}", {"name": " ", "active": "y"})
    assert response.status_code == 400 and "Nhập tên thủ tục." in text(response)
    assert admin.get("/admin/procedures/999").status_code == 404


def upload(client, data: bytes, filename: str = "danh-muc.csv"):
    html = client.get("/admin/procedures/import").get_data(as_text=True)
    return client.post("/admin/procedures/import", data={
        "csrf_token": csrf_token(html), "file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


CATALOGUE = "code,name,field\n2.000001,Đăng ký khai sinh,Hộ tịch\n1.000001,Hợp pháp hóa lãnh sự (mới),Lãnh sự\n"


@pytest.mark.parametrize("data", [CATALOGUE.encode("utf-8"), CATALOGUE.encode("utf-8-sig"),
                                  CATALOGUE.replace(",", ";").encode("utf-8-sig"),
                                  CATALOGUE.replace(",", "\t").encode("utf-16")],
                         ids=["without-bom", "with-bom", "semicolons", "excel-unicode-text"])
def test_import_csv(app, admin, data):
    response = upload(admin, data)
    assert response.status_code == 303
    assert "1 thủ tục mới, 1 thủ tục được cập nhật" in text(admin.get("/admin/procedures"))
    assert get(app, Procedure, code="2.000001").name == "Đăng ký khai sinh"
    assert get(app, Procedure, code="2.000001").field == "Hộ tịch"
    assert get(app, Procedure, code="1.000001").name == "Hợp pháp hóa lãnh sự (mới)"
    [entry] = audited(app, "procedure.import")
    assert entry.actor == "admin"


def test_import_with_errors_imports_nothing_and_lists_lines(app, admin):
    data = ("code,name,field\n2.000001,Đăng ký khai sinh,Hộ tịch\nmã sai,Tên,X\n2.000003,,X\n"
            "2.000001,Lặp lại,X\n").encode("utf-8-sig")
    response = upload(admin, data)
    assert response.status_code == 400
    page = text(response)
    assert "Chưa nhập thủ tục nào: tệp có 3 lỗi." in page
    assert "dòng 3:" in page and "dòng 4:" in page and "dòng 5:" in page and "dòng 2:" not in page
    assert count(app, Procedure) == 1 and get(app, Procedure, code="2.000001") is None
    assert audited(app, "procedure.import") == []


@pytest.mark.parametrize(("data", "message"), [
    ("code,name\n2.1,Tên\n".encode("cp1258"), "CSV UTF-8"),  # a Windows-1258 export: what to do
    (b"ten,ma\nA,B\n", "dòng 1"),
    (b"code,name,field\n", "không có dòng dữ liệu"),
])
def test_import_bad_files(app, admin, data, message):
    response = upload(admin, data)
    assert response.status_code == 400 and message in text(response)
    assert count(app, Procedure) == 1


def test_import_needs_a_file(admin):
    response = submit(admin, "/admin/procedures/import", {}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Chọn tệp CSV cần nhập." in text(response)


def test_import_over_the_upload_limit_says_so(app, admin):
    app.config["SIPAS_MAX_UPLOAD_BYTES"] = 1024
    data = ("code,name,field\n" + "".join(f"2.{i:06d},Thủ tục {i},X\n" for i in range(100))).encode()
    assert len(data) > 1024
    response = upload(admin, data)
    assert response.status_code == 413
    assert "Tệp lớn hơn giới hạn 1 KB" in text(response) and "tách danh mục" in text(response)
    assert count(app, Procedure) == 1


def test_import_over_the_request_limit_says_so_too(app, admin):
    """A body over MAX_CONTENT_LENGTH is refused before the view runs: the page still explains it."""
    app.config["SIPAS_MAX_UPLOAD_BYTES"] = 2048
    app.config["MAX_CONTENT_LENGTH"] = 4096
    data = ("code,name,field\n" + "".join(f"2.{i:06d},Thủ tục {i},X\n" for i in range(400))).encode()
    response = upload(admin, data)
    assert response.status_code == 413
    assert "Tệp lớn hơn giới hạn 2 KB" in text(response)
    assert 'name="file"' in text(response)
    assert count(app, Procedure) == 1


# Users ---------------------------------------------------------------------------------------

def login_as(app, username: str, password: str):
    client = app.test_client()
    html = client.get("/staff/login").get_data(as_text=True)
    return client, client.post("/staff/login", data={"username": username, "password": password,
                                                     "csrf_token": csrf_token(html)})


def test_users_list(admin):
    page = text(admin.get("/admin/users"))
    for name in ("admin", "analyst", "staff", "otherstaff"):
        assert f">{name}</a>" in page
    assert "Phòng Lãnh sự (SEC)" in page


def test_add_user(app, admin):
    response = submit(admin, "/admin/users/new", {"username": "quay2", "role": "staff", "unit": "SEC-Q1",
                                                  "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 303
    user = get(app, User, username="quay2")
    assert user.role == "staff" and user.unit_id == get(app, Unit, code="SEC-Q1").id
    assert audited(app, "user.add")[-1].actor == "admin"
    assert NEW_PASSWORD not in text(admin.get("/admin/users"))
    _, login = login_as(app, "quay2", NEW_PASSWORD)
    assert login.status_code == 302


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "new", "role": "staff", "unit": ""}, "Nhân viên cần một đơn vị"),
    ({"username": "staff", "role": "analyst"}, "Tên đăng nhập &#39;staff&#39; đã có"),
    ({"username": "Bad Name", "role": "analyst"}, "Tên đăng nhập chỉ gồm chữ thường"),
    ({"username": "new", "role": "analyst", "password": "short", "confirm": "short"}, "Mật khẩu cần từ 10"),
    ({"username": "new", "role": "analyst", "confirm": "something else"}, "Hai lần nhập mật khẩu không khớp"),
    ({"username": "new", "role": "owner"}, "Chọn một mục trong danh sách."),
    ({"username": "", "role": "analyst"}, "Nhập tên đăng nhập."),
])
def test_add_user_errors(app, admin, data, message):
    before = count(app, User)
    response = submit(admin, "/admin/users/new", {"unit": "", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD,
                                                  **data})
    assert response.status_code == 400 and message in text(response)
    assert count(app, User) == before
    assert NEW_PASSWORD not in text(response)


def test_edit_user_role_unit_and_active(app, admin):
    user_id = get(app, User, username="otherstaff").id
    response = submit(admin, f"/admin/users/{user_id}", {"role": "analyst", "unit": "", "active": "y"})
    assert response.status_code == 303
    user = get(app, User, username="otherstaff")
    assert user.role == "analyst" and user.unit_id is None and user.active
    response = submit(admin, f"/admin/users/{user_id}", {"role": "staff", "unit": "SEC-Q1"})
    assert response.status_code == 303
    user = get(app, User, username="otherstaff")
    assert user.role == "staff" and not user.active
    _, login = login_as(app, "otherstaff", PASSWORD)
    assert login.status_code == 401
    assert [e.target for e in audited(app, "user.update")] == ["otherstaff", "otherstaff"]


def test_deactivating_ends_open_sessions(app, admin):
    staff_client, login = login_as(app, "staff", PASSWORD)
    assert staff_client.get("/staff/").status_code == 200
    response = submit(admin, f"/admin/users/{get(app, User, username='staff').id}", {"role": "staff", "unit": "SEC"})
    assert response.status_code == 303
    assert staff_client.get("/staff/").status_code == 302


def test_edit_user_errors(app, admin):
    user_id = get(app, User, username="analyst").id
    response = submit(admin, f"/admin/users/{user_id}", {"role": "staff", "unit": "", "active": "y"})
    assert response.status_code == 400 and "Nhân viên cần một đơn vị" in text(response)
    assert get(app, User, username="analyst").role == "analyst"
    assert admin.get("/admin/users/999").status_code == 404


@pytest.mark.parametrize("data", [{"role": "analyst", "unit": "", "active": "y"},
                                  {"role": "admin", "unit": ""}], ids=["demote", "deactivate"])
def test_the_last_active_admin_cannot_demote_or_deactivate_themselves(app, admin, data):
    admin_id = get(app, User, username="admin").id
    response = submit(admin, f"/admin/users/{admin_id}", data)
    assert response.status_code == 400
    assert "quản trị viên cuối cùng còn hoạt động" in text(response)
    user = get(app, User, username="admin")
    assert user.role == "admin" and user.active
    assert admin.get("/admin/users").status_code == 200


def test_an_admin_may_step_down_when_another_admin_remains(app, admin):
    submit(admin, "/admin/users/new", {"username": "admin2", "role": "admin", "unit": "",
                                       "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    admin_id = get(app, User, username="admin").id
    response = submit(admin, f"/admin/users/{admin_id}", {"role": "analyst", "unit": "", "active": "y"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/")
    assert get(app, User, username="admin").role == "analyst"
    assert admin.get("/admin/users").status_code == 403
    # admin2 is now the last active admin and is protected in turn.
    client2, _ = login_as(app, "admin2", NEW_PASSWORD)
    admin2_id = get(app, User, username="admin2").id
    refused = submit(client2, f"/admin/users/{admin2_id}", {"role": "admin", "unit": ""})
    assert refused.status_code == 400 and get(app, User, username="admin2").active


def test_reset_password(app, admin):
    user = get(app, User, username="staff")
    staff_client, _ = login_as(app, "staff", PASSWORD)
    with app.app_context():
        db.session.get(User, user.id).locked_until = dt.datetime(2999, 1, 1)
        db.session.commit()
    response = submit(admin, f"/admin/users/{user.id}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                      page=f"/admin/users/{user.id}")
    assert response.status_code == 303
    page = text(admin.get(response.headers["Location"]))
    assert "Đã đặt lại mật khẩu cho staff" in page and NEW_PASSWORD not in page
    assert get(app, User, username="staff").locked_until is None
    assert staff_client.get("/staff/").status_code == 302  # the old session ended
    assert login_as(app, "staff", PASSWORD)[1].status_code == 401
    assert login_as(app, "staff", NEW_PASSWORD)[1].status_code == 302
    [entry] = audited(app, "user.password")
    assert entry.actor == "admin" and entry.target == "staff" and NEW_PASSWORD not in (entry.details or "")


def test_a_locked_account_shows_as_locked_and_unlocks_without_a_new_password(app, admin, auth, client):
    """Five wrong passwords lock the account; the admin's list and the account's page say
    until when, and one button lifts the lock (the password stays, as the flash says)."""
    user = get(app, User, username="staff")
    other = app.test_client()
    for _ in range(5):
        login_as_client = other.get("/staff/login").get_data(as_text=True)
        other.post("/staff/login", data={"username": "staff", "password": "wrong password!",
                                         "csrf_token": csrf_token(login_as_client)})
    assert get(app, User, username="staff").locked_until is not None
    listing = text(admin.get("/admin/users"))
    assert re.search(r'<span class="flag">tạm khóa đăng nhập đến \d\d/\d\d/\d{4} \d\d:\d\d', listing), listing
    page = text(admin.get(f"/admin/users/{user.id}"))
    assert "tạm khóa đăng nhập đến" in page and "Mở khóa đăng nhập" in page
    response = submit(admin, f"/admin/users/{user.id}/unlock", page=f"/admin/users/{user.id}")
    assert response.status_code == 303
    after = text(admin.get(response.headers["Location"]))
    assert "Đã mở khóa đăng nhập cho staff (mật khẩu giữ nguyên)" in after and "Mở khóa đăng nhập</button>" not in after
    assert get(app, User, username="staff").locked_until is None
    assert login_as(app, "staff", PASSWORD)[1].status_code == 302
    [entry] = audited(app, "user.unlock")
    assert entry.actor == "admin" and entry.target == "staff"
    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 400  # no CSRF token
    # A lock that has run out is not shown as one.
    with app.app_context():
        db.session.get(User, user.id).locked_until = dt.datetime(2000, 1, 1)
        db.session.commit()
    assert "tạm khóa" not in text(admin.get("/admin/users"))


def test_reset_own_password_keeps_the_session(app, admin):
    admin_id = get(app, User, username="admin").id
    response = submit(admin, f"/admin/users/{admin_id}/password", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
                      page=f"/admin/users/{admin_id}")
    assert response.status_code == 303
    assert admin.get("/admin/users").status_code == 200


@pytest.mark.parametrize(("data", "message"), [
    ({"password": "short", "confirm": "short"}, "Mật khẩu cần từ 10"),
    ({"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"}, "Hai lần nhập mật khẩu không khớp"),
    ({"password": "", "confirm": ""}, "Nhập mật khẩu."),
])
def test_reset_password_errors(app, admin, data, message):
    user_id = get(app, User, username="staff").id
    response = submit(admin, f"/admin/users/{user_id}/password", data, page=f"/admin/users/{user_id}")
    assert response.status_code == 400 and message in text(response)
    assert NEW_PASSWORD not in text(response)
    assert audited(app, "user.password") == []


# API keys ------------------------------------------------------------------------------------

def test_create_api_key_shows_it_once(app, admin):
    response = submit(admin, "/admin/api-keys/new", {"name": "Một cửa Sở", "scopes": ["codes:issue", "indices:read"],
                                                     "unit": "SEC"})
    assert response.status_code == 201
    assert "no-store" in response.headers["Cache-Control"]
    full_key = re.search(r"sipas_([a-z0-9]{8})_[0-9A-Za-z]{43}", text(response))
    assert full_key and "chỉ hiện một lần" in text(response)
    key = get(app, ApiKey, prefix=full_key.group(1))
    assert key.key_hash == hashlib.sha256(full_key.group(0).encode()).hexdigest()
    assert key.scope_set == {"codes:issue", "indices:read"} and key.created_by_id == get(app, User, username="admin").id
    listing = text(admin.get("/admin/api-keys"))
    assert f"sipas_{key.prefix}_…" in listing and full_key.group(0) not in listing
    assert "Một cửa Sở" in listing and "chưa dùng" in listing
    # Scopes and unit in words; the machine names stay in a tooltip.
    assert '<span title="codes:issue">Phát mã khảo sát cho hồ sơ</span>' in listing
    assert "Phòng Lãnh sự (SEC)" in listing
    assert audited(app, "apikey.add")[-1].actor == "admin"


def test_read_only_key_needs_no_unit(app, admin):
    response = submit(admin, "/admin/api-keys/new", {"name": "Báo cáo", "scopes": ["indices:read"], "unit": ""})
    assert response.status_code == 201
    assert get(app, ApiKey, name="Báo cáo").unit_id is None


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "x", "scopes": ["codes:issue"], "unit": ""}, "Khóa có quyền phát mã cần một đơn vị"),
    ({"name": "x", "unit": "SEC"}, "Chọn ít nhất một quyền."),
    ({"name": "", "scopes": ["indices:read"], "unit": ""}, "Nhập tên khóa."),
    ({"name": "x", "scopes": ["root"], "unit": ""}, "Chọn một mục trong danh sách."),
    ({"name": "x", "scopes": ["indices:read"], "unit": "NOPE"}, "Chọn một mục trong danh sách."),
])
def test_create_api_key_errors(app, admin, data, message):
    response = submit(admin, "/admin/api-keys/new", data)
    assert response.status_code == 400 and message in text(response)
    assert count(app, ApiKey) == 0
    assert not re.search(r"sipas_[a-z0-9]{8}_", text(response))


def test_revoke_api_key(app, admin):
    submit(admin, "/admin/api-keys/new", {"name": "Một cửa", "scopes": ["codes:issue"], "unit": "SEC"})
    key = get(app, ApiKey, name="Một cửa")
    response = submit(admin, f"/admin/api-keys/{key.id}/revoke", page="/admin/api-keys")
    assert response.status_code == 303
    assert get(app, ApiKey, name="Một cửa").revoked_at is not None
    listing = text(admin.get("/admin/api-keys"))
    assert "Đã thu hồi khóa" in listing and "đã thu hồi" in listing
    again = submit(admin, f"/admin/api-keys/{key.id}/revoke", page="/admin/api-keys")
    assert again.status_code == 303 and "đã bị thu hồi trước đó" in text(admin.get("/admin/api-keys"))
    assert len(audited(app, "apikey.revoke")) == 1
    assert submit(admin, "/admin/api-keys/999/revoke", page="/admin/api-keys").status_code == 404


def test_revoke_needs_csrf(app, admin):
    submit(admin, "/admin/api-keys/new", {"name": "Một cửa", "scopes": ["codes:issue"], "unit": "SEC"})
    key = get(app, ApiKey, name="Một cửa")
    assert admin.post(f"/admin/api-keys/{key.id}/revoke").status_code == 400
    assert get(app, ApiKey, name="Một cửa").revoked_at is None


# Audit log -----------------------------------------------------------------------------------

def add_entries(app, n: int, *, actor: str = "robot", action: str = "test.entry", at: dt.datetime | None = None):
    with app.app_context():
        for i in range(n):
            entry = audit.record(actor, action, f"target-{i}", n=i)
            if at is not None:
                entry.at = at
        db.session.commit()


def test_audit_newest_first_and_paginated(app, admin):
    add_entries(app, 120)
    page = text(admin.get("/admin/audit?action=test.entry"))
    assert "Trang 1 / 3" in page
    assert page.index("target-119") < page.index("target-118")
    assert "target-69" not in page
    assert "target-0<" in text(admin.get("/admin/audit?action=test.entry&page=3"))
    assert "action=test.entry&amp;page=2" in page


def test_audit_filters(app, admin):
    add_entries(app, 2, actor="robot")
    add_entries(app, 1, actor="old-robot", at=dt.datetime(2020, 1, 15, 12, 0))
    # 2020-01-14 20:00 UTC is already 15 January in Hà Nội (UTC+7).
    add_entries(app, 1, actor="edge", at=dt.datetime(2020, 1, 14, 20, 0))
    by_actor = text(admin.get("/admin/audit?actor=ROBOT"))
    assert by_actor.count("<td>robot</td>") == 2 and "<td>old-robot</td>" in by_actor
    assert "<td>admin</td>" not in by_actor
    by_action = text(admin.get("/admin/audit?action=login"))
    assert "<td>admin</td>" in by_action and "test.entry" not in by_action.split("<tbody>")[1]
    by_date = text(admin.get("/admin/audit?date_from=2020-01-15&date_to=2020-01-15"))
    assert "<td>old-robot</td>" in by_date and "<td>edge</td>" in by_date and "<td>robot</td>" not in by_date
    assert "<td>edge</td>" not in text(admin.get("/admin/audit?date_to=2020-01-14"))
    today = dt.date.today().isoformat()
    assert "<td>old-robot</td>" not in text(admin.get(f"/admin/audit?date_from={today}"))


@pytest.mark.parametrize(("query", "message"), [
    ("date_from=15/01/2020", "Ngày không hợp lệ"),
    ("date_from=2020-02-01&date_to=2020-01-01", "Ngày kết thúc trước ngày bắt đầu"),
    ("action=no.such.action", "Chọn một mục trong danh sách."),
])
def test_audit_filter_errors(admin, query, message):
    response = admin.get(f"/admin/audit?{query}")
    assert response.status_code == 400 and message in text(response)
    assert admin.get(f"/admin/audit.csv?{query}").status_code == 302


def test_audit_csv(app, admin):
    add_entries(app, 3, actor="robot")
    # A typed login name lands in the log: a spreadsheet must not run it as a formula.
    add_entries(app, 1, actor="=HYPERLINK(\"http://evil\")", action="login.failed")
    response = admin.get("/admin/audit.csv?actor=robot")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["at_utc", "actor", "action", "target", "details"]
    assert [r[1] for r in rows[1:]] == ["robot"] * 3
    assert [r[3] for r in rows[1:]] == ["target-2", "target-1", "target-0"]
    assert rows[1][0].endswith("Z") and '"n": 2' in rows[1][4]
    everything = list(csv.reader(io.StringIO(admin.get("/admin/audit.csv").data.decode("utf-8-sig"))))
    assert [r[1] for r in everything if "HYPERLINK" in r[1]] == ["'=HYPERLINK(\"http://evil\")"]
    exports = audited(app, "export.audit")
    assert len(exports) == 2 and exports[0].actor == "admin" and "robot" in exports[0].details


def test_audit_entries_read_in_words(app, admin):
    """The log page names actions and details in Vietnamese (the CSV keeps machine names)."""
    from tests.support import issue_codes

    issue_codes(app, count=2)
    page = text(admin.get("/admin/audit"))
    body = page.split("<tbody>")[1]
    assert "<td>Phát mã</td>" in body and "<td>Đăng nhập</td>" in body
    assert "số lượng: 2 · loại: mã dùng một lần · thủ tục: 1.000001 · phiếu: sipas-2023@1 · nguồn: trang web" in body
    assert "đơn vị cấp trên: —" in body  # the test organisation's units, added at set-up
    assert '{"count"' not in body and "codes.issue" not in body
    assert '<option value="codes.issue">Phát mã</option>' in page
