"""The dashboard's unit and procedure filters at a province's size (issue 16): past
filters.LIST_LIMIT they are fields to type a code or part of a name in, not drop-downs of
every unit (a province's 3,662 units and 2,000 procedures were ~450 KB a page)."""

from __future__ import annotations

from survey_app.analyst import filters
from tests.support import ORG, Auth, store_random_answers


def _analyst(app):
    client = app.test_client()
    Auth(client).login("analyst")
    return client


def test_small_catalogues_are_listed(app):
    page = _analyst(app).get("/analyst/").get_data(as_text=True)
    assert '<select id="f-unit" name="unit">' in page and '<select id="f-procedure"' in page


def test_large_catalogues_take_a_typed_code_or_name(app, monkeypatch):
    store_random_answers(app, count=3)
    monkeypatch.setattr(filters, "LIST_LIMIT", 0)
    client = _analyst(app)
    page = client.get("/analyst/").get_data(as_text=True)
    assert '<input type="search" id="f-unit" name="unit"' in page and "<option value=\"SEC\"" not in page
    by_name = client.get("/analyst/?unit=lãnh sự")  # part of "Phòng Lãnh sự", in any case
    body = by_name.get_data(as_text=True)
    assert by_name.status_code == 200 and f'name="unit" value="{ORG.section}"' in body
    assert 'id="f-unit-hint">Phòng Lãnh sự<' in body
    assert f"unit={ORG.section}" in body  # the tabs' links carry the code
    several = client.get("/analyst/?unit=Phòng")
    text = several.get_data(as_text=True)
    assert several.status_code == 400 and "Nhiều đơn vị khớp với &#39;Phòng&#39;" in text
    assert "Phòng Lãnh sự (SEC)" in text and "Phòng Hợp tác quốc tế (OTHER)" in text
    none = client.get("/analyst/?unit=Hà Giang")
    assert none.status_code == 400 and "Không có đơn vị nào có mã hay tên chứa" in none.get_data(as_text=True)
    procedure = client.get(f"/analyst/?procedure={ORG.procedure[2:]}").get_data(as_text=True)
    assert f'name="procedure" value="{ORG.procedure}"' in procedure
