"""The receiving unit and the agency competent to decide: both on the code and the response,
and reports cut by either (issue 16). A service centre receives for the departments."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

import analysis
from analysis.indb import analyze_database
from survey_app.extensions import db
from survey_app.models import Procedure, Response, SurveyCode
from survey_app.services import catalog
from tests.support import ORG, cli_runner, store_random_answers


@pytest.fixture
def centre(backend_app):
    """A service centre beside the department; the procedure is the section's to decide."""
    with backend_app.app_context():
        catalog.add_unit("TTHCC", "Trung tâm Phục vụ hành chính công", kind="centre")
        procedure = db.session.scalar(select(Procedure).filter_by(code=ORG.procedure))
        procedure.competent_unit = catalog.unit_by_code(ORG.section)
        db.session.commit()
    return backend_app


def test_codes_and_answers_carry_the_competent_agency_and_reports_cut_by_either(centre):
    store_random_answers(centre, unit="TTHCC", count=4, seed=1)  # the procedure's default: SEC decides
    store_random_answers(centre, unit=ORG.other_section, count=3, seed=2)  # received and decided there
    with centre.app_context():
        received = {c.unit.code: c.competent_unit.code if c.competent_unit else None
                    for c in db.session.scalars(select(SurveyCode))}
        assert received == {"TTHCC": ORG.section, ORG.other_section: ORG.section}  # the procedure names SEC
        assert {r.competent_unit_id is not None for r in db.session.scalars(select(Response))} == {True}
        frame = analysis.load_database(db.engine, questionnaire="sipas-2023")
        assert sorted(frame["competent_unit"]) == [ORG.section] * 7
        by_receiver = analyze_database(db.engine, questionnaire="sipas-2023", by="unit")
        by_decider = analyze_database(db.engine, questionnaire="sipas-2023", by="competent_unit")
    assert sorted((g.keys["unit"], g.n) for g in by_receiver.groups) == [(ORG.other_section, 3), ("TTHCC", 4)]
    assert [(g.keys["competent_unit"], g.n) for g in by_decider.groups] == [(ORG.section, 7)]


def test_a_code_for_the_receiving_units_own_procedure_records_no_other_agency(centre):
    store_random_answers(centre, unit=ORG.section, count=1)
    with centre.app_context():
        assert db.session.scalar(select(SurveyCode.competent_unit_id)) is None  # SEC receives and decides
        frame = analysis.load_database(db.engine, questionnaire="sipas-2023")
    assert list(frame["competent_unit"]) == [ORG.section]  # blank means the receiving unit


def test_the_command_line_and_the_api_name_the_competent_agency(centre):
    runner = cli_runner(centre)
    issued = runner.invoke(["codes", "issue", "--unit", "TTHCC", "--competent", ORG.other_section,
                            "--format", "json"])
    assert issued.exit_code == 0, issued.output
    unknown = runner.invoke(["codes", "issue", "--unit", "TTHCC", "--competent", "NOPE"])
    assert unknown.exit_code == 1 and "NOPE" in unknown.output
    with centre.app_context():
        from survey_app.services import apikeys

        _, secret = apikeys.create("một cửa", scopes=[apikeys.SCOPE_ISSUE], unit="TTHCC",
                                   actor="test")
    client = centre.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    made = client.post("/api/v1/codes", json={"competent_unit": ORG.department, "procedure": ORG.procedure},
                       headers=headers)
    assert made.status_code == 201, made.get_data(as_text=True)
    wrong = client.post("/api/v1/codes", json={"competent_unit": "NOPE"}, headers=headers)
    assert wrong.status_code == 400 and json.loads(wrong.get_data())["error"]["field"] == "competent_unit"
    with centre.app_context():
        named = sorted(c.competent_unit.code for c in db.session.scalars(select(SurveyCode)))
    assert named == [ORG.department, ORG.other_section]  # an explicit agency wins over the procedure's


def test_the_procedure_catalogue_names_the_competent_agency(app):
    bad = "code,name,field,competent_unit\n2.000001,Cấp phép,Lãnh sự,NOPE\n".encode()
    good = "code,name,field,competent_unit\n2.000001,Cấp phép,Lãnh sự,SEC\n2.000002,Xác nhận,,\n".encode()
    with app.app_context():
        with pytest.raises(catalog.CatalogImportError) as refused:
            catalog.import_procedures(bad)
        assert "dòng 2: cơ quan có thẩm quyền 'NOPE'" in str(refused.value)
        catalog.import_procedures(good)
        catalog.import_procedures("code,name\n2.000001,Cấp phép lại\n".encode())  # blank: kept
        competent = {p.code: p.competent_unit.code if p.competent_unit else None
                     for p in db.session.scalars(select(Procedure).where(Procedure.code.like("2.%")))}
    assert competent == {"2.000001": ORG.section, "2.000002": None}
