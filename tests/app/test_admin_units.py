"""The admin's unit import and merger pages (issue 16): the same services as `sipas unit
import` and `sipas unit merge`, with every refused line said in Vietnamese."""

from __future__ import annotations

import io

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Unit
from survey_app.successions import UnitSuccession
from tests.support import ORG, Auth, csrf_token


def _admin(app):
    client = app.test_client()
    Auth(client).login("admin")
    return client


def _upload(client, path: str, text: str):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), "units.csv")},
                       content_type="multipart/form-data")


def test_units_import_from_a_csv_all_or_nothing(app):
    client = _admin(app)
    page = client.get("/admin/units/import").get_data(as_text=True)
    assert "Nhập đơn vị từ tệp CSV" in page and "code, name, kind, parent" in page
    refused = _upload(client, "/admin/units/import", "code,name,kind,parent\nX1,Phường Một,phường,NOPE\nX2,,xã,\n")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Chưa nhập đơn vị nào: tệp có 2 lỗi" in body
    assert "dòng 2: cấp trên &#39;NOPE&#39;" in body and "dòng 3: đơn vị &#39;X2&#39; chưa có tên" in body
    done = _upload(client, "/admin/units/import", f"code,name,kind,parent\nX1,Phường Một,phường,{ORG.department}\n")
    assert done.status_code == 303
    assert "Đã nhập: 1 đơn vị mới, 0 đơn vị được cập nhật." in client.get("/admin/units").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Unit.kind).where(Unit.code == "X1")) == "commune"


def test_a_merger_is_recorded_on_the_page_and_shown_in_the_tree(app):
    client = _admin(app)
    form = client.get(f"/admin/units/merge?from={ORG.other_section}").get_data(as_text=True)
    assert f'value="{ORG.other_section}"' in form
    token = csrf_token(form)
    wrong = client.post("/admin/units/merge", data={"csrf_token": token, "predecessors": ORG.section,
                                                    "successor": ORG.section, "effective_on": "2025-07-01"})
    assert wrong.status_code == 400 and "không thể sáp nhập vào chính nó" in wrong.get_data(as_text=True)
    no_day = client.post("/admin/units/merge", data={"csrf_token": token, "predecessors": ORG.other_section,
                                                     "successor": ORG.section})
    assert no_day.status_code == 400 and "Chọn ngày đơn vị tiếp nhận" in no_day.get_data(as_text=True)
    done = client.post("/admin/units/merge", data={"csrf_token": token, "predecessors": f" {ORG.other_section} ,",
                                                   "successor": ORG.section, "effective_on": "2025-07-01",
                                                   "note": "Quyết định 1/QĐ-UBND"})
    assert done.status_code == 303
    tree = client.get("/admin/units").get_data(as_text=True)
    assert f"→ {ORG.section} từ 01/07/2025" in tree and "Số liệu cũ được tính cho đơn vị tiếp nhận" in tree
    with app.app_context():
        succession = db.session.scalars(select(UnitSuccession)).one()
        assert succession.note == "Quyết định 1/QĐ-UBND" and not succession.predecessor.active


def test_only_admins_reach_the_unit_pages(app):
    for user in ("staff", "analyst"):
        client = app.test_client()
        Auth(client).login(user)
        assert client.get("/admin/units/import").status_code == 403
        assert client.get("/admin/units/merge").status_code == 403
