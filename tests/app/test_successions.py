"""Units of a two-tier province (issue 16): a province's units imported from a CSV, and a
merger whose trend runs on across the change (the analysis groups by the successor, with a
note)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from survey_app.extensions import db
from survey_app.models import Response, Unit
from survey_app.services import catalog, successions
from survey_app.services.catalog import CatalogError, CatalogImportError
from survey_app.services.unit_import import import_units
from tests.support import ORG, PASSWORD, Auth
from tests.support import store_random_answers as answer

MERGED_ON = dt.date(2025, 7, 1)


def _count(html: str) -> int:
    return int(re.search(r'id="response-count">(\d+)<', html)[1])


@pytest.fixture
def merged(app):
    """SEC answered before 1 July 2025, then merged into NEW, which has answered since."""
    with app.app_context():
        catalog.add_unit("NEW", "Văn phòng Sở (sau sáp nhập)", parent=ORG.department)
    answer(app, unit=ORG.section, count=30, seed=1)
    answer(app, unit="NEW", count=25, seed=2)
    with app.app_context():
        section_id = db.session.scalar(select(Unit.id).filter_by(code=ORG.section))
        db.session.execute(update(Response).where(Response.unit_id == section_id)
                           .values(submitted_on=dt.date(2025, 5, 15)))
        db.session.commit()
        successions.record([ORG.section], "NEW", effective_on=MERGED_ON, actor="test",
                           note="Quyết định sáp nhập (ví dụ)")
    return app


def test_a_merged_units_answers_count_under_its_successor_with_a_note(merged):
    analyst = Auth(merged.test_client())
    analyst.login("analyst", PASSWORD)
    for extra in ("", f"&procedure={ORG.procedure}"):  # from the cell tallies, and from the rows
        page = analyst.client.get(f"/analyst/units?period=year{extra}").get_data(as_text=True)
        table = page[page.index('id="units-table"'):]
        assert "Văn phòng Sở (sau sáp nhập)" in table and "Phòng Lãnh sự <" not in table
        assert re.search(r"Văn phòng Sở \(sau sáp nhập\).*?<td class=\"num\">55</td>", table, re.S), extra
        note = page[page.index('id="merged-units"'):]
        assert "gồm cả số liệu của Phòng Lãnh sự (sáp nhập từ 01/07/2025)" in note


def test_the_successors_trend_runs_on_across_the_merger(merged):
    analyst = Auth(merged.test_client())
    analyst.login("analyst", PASSWORD)
    page = analyst.client.get("/analyst/trend?unit=NEW&period=quarter").get_data(as_text=True)
    assert "Quý II/2025" in page and "gồm cả Phòng Lãnh sự (sáp nhập từ 01/07/2025)" in page
    assert _count(analyst.client.get("/analyst/?unit=NEW").get_data(as_text=True)) == 55
    assert _count(analyst.client.get(f"/analyst/?unit={ORG.section}").get_data(as_text=True)) == 30


def test_a_merger_is_refused_when_it_cannot_be(merged):
    with merged.app_context():
        assert db.session.scalar(select(Unit.active).filter_by(code=ORG.section)) is False
        with pytest.raises(CatalogError, match="đã được sáp nhập"):
            successions.record([ORG.section], ORG.other_section, effective_on=MERGED_ON, actor="t")
        with pytest.raises(CatalogError, match="chính nó"):
            successions.record(["NEW"], "NEW", effective_on=MERGED_ON, actor="t")
        with pytest.raises(CatalogError, match="vòng tròn"):
            successions.record(["NEW"], ORG.section, effective_on=MERGED_ON, actor="t")
        successions.record(["NEW"], ORG.other_section, effective_on=dt.date(2026, 1, 1), actor="t")
        assert successions.final_successors() == {ORG.section: ORG.other_section, "NEW": ORG.other_section}


PROVINCE = """code,name,kind,parent
DN-SNV-LS,Phòng Lãnh sự,phòng,DN-SNV
DN,UBND tỉnh Đồng Nai,tỉnh,
DN-SNV,Sở Nội vụ (tiếp nhận nhiệm vụ đối ngoại),sở,DN
DN-TTHCC,Trung tâm Phục vụ hành chính công tỉnh,trung tâm,DN
DN-X-TANPHU,Xã Tân Phú,xã,DN
DN-X-TANPHU-Q1,Quầy 1,quầy,DN-X-TANPHU
"""


def test_a_provinces_units_come_from_a_csv_with_parents_before_or_after(app):
    with app.app_context():
        result = import_units(PROVINCE.encode("utf-8-sig"), actor="test")
        assert (result.added, result.updated) == (6, 0)
        units = {u.code: u for u in db.session.scalars(select(Unit))}
        assert units["DN-SNV-LS"].parent.code == "DN-SNV" and units["DN"].kind == "province"
        assert units["DN-X-TANPHU"].kind == "commune" and units["DN-TTHCC"].kind == "centre"
        again = import_units(PROVINCE.replace("Quầy 1", "Quầy một").encode(), actor="test")
        assert (again.added, again.updated) == (0, 6)


@pytest.mark.parametrize(("csv", "said"), [
    ("code,name,kind,parent\nA,Một,huyện,\n", "dòng 2: loại đơn vị 'huyện' không rõ"),
    ("code,name,kind,parent\nA,Một,xã,KHONGCO\n", "dòng 2: cấp trên 'KHONGCO' của 'A' không có"),
    ("code,name,kind,parent\nA,Một,xã,B\nB,Hai,xã,A\n", "vòng lặp"),
    ("code,name,kind,parent\nA,Một,xã,\nA,Hai,xã,\n", "dòng 3: mã 'A' lặp lại trong tệp (dòng 2)"),
    ("code,name\nA,Một\n", "dòng 1: cần các cột code, name, kind, parent"),
])
def test_a_bad_unit_file_imports_nothing_and_says_which_line(app, csv, said):
    with app.app_context():
        before = db.session.scalar(select(db.func.count()).select_from(Unit))
        with pytest.raises(CatalogImportError) as refused:
            import_units(csv.encode(), actor="test")
        assert said in str(refused.value)
        assert db.session.scalar(select(db.func.count()).select_from(Unit)) == before


def test_the_command_line_imports_and_merges(app, tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(PROVINCE, encoding="utf-8")
    runner = FlaskCliRunner(app)
    imported = runner.invoke(args=["unit", "import", str(path)])
    assert imported.exit_code == 0 and "thêm 6, cập nhật 0" in imported.output
    merged = runner.invoke(args=["unit", "merge", ORG.section, "--into", "DN-SNV-LS", "--on", "2025-07-01"])
    assert merged.exit_code == 0 and "sáp nhập vào DN-SNV-LS từ 01/07/2025" in merged.output
    again = runner.invoke(args=["unit", "merge", ORG.section, "--into", "DN-SNV-LS", "--on", "2025-07-01"])
    assert again.exit_code != 0 and "đã được sáp nhập" in again.output
    listed = runner.invoke(args=["unit", "list"]).output
    assert f"{ORG.section}\tPhòng Lãnh sự\tsection\t(inactive)\t→ DN-SNV-LS từ 01/07/2025" in listed


def test_the_response_rate_counts_the_codes_of_the_questionnaire_in_view(app):
    """Codes of another questionnaire (a commune's one-minute rating) are not in the rate of
    the one the dashboard shows."""
    from tests.support import issue_codes

    issue_codes(app, count=3)
    answer(app, count=1)
    issue_codes(app, count=5, questionnaire="tt01-counter")
    analyst = Auth(app.test_client())
    analyst.login("analyst", PASSWORD)
    page = analyst.client.get("/analyst/?q=sipas-2023").get_data(as_text=True)
    rate = re.search(r'id="response-rate">(.*?)</div>', page, re.S)[1]
    assert "4 mã còn hạn, 1 đã trả lời" in rate, rate


def test_the_analysis_in_the_database_and_the_api_group_by_the_successor_too(merged):
    """One rule everywhere: `sipas analyze --db --by unit` and /api/v1/indices count a merged
    unit's answers under its successor, and selecting the successor takes them with it."""
    import json

    runner = FlaskCliRunner(merged)
    printed = runner.invoke(args=["analyze", "--db", "--by", "unit", "--format", "json"])
    assert printed.exit_code == 0, printed.output
    by_unit = {g["keys"]["unit"]: g["n"] for g in json.loads(printed.output)["groups"]}
    assert by_unit == {"NEW": 55}
    selected = runner.invoke(args=["analyze", "--db", "--unit", "NEW", "--format", "json"])
    assert json.loads(selected.output)["groups"][0]["n"] == 55
    analyst = Auth(merged.test_client())
    analyst.login("analyst", PASSWORD)
    api = analyst.client.get("/api/v1/indices?by=unit").get_json()
    assert {g["keys"]["unit"]: g["n"] for g in api["groups"]} == {"NEW": 55}
